"""Hostile frames, generated: the consumer answers in the protocol's error shape, never crashes,
and the document stays a valid rich-text document."""

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings, strategies as st

from documents import protocol, selectors
from documents.models import Document
from documents.ot import validate_document

from .conftest import ProtocolClient

pytestmark = pytest.mark.django_db(transaction=True)

# Every action the server knows, plus one it does not.
ACTIONS = sorted(protocol.ACTIONS) + ["zz", "init"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
delta_ops = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "insert": st.one_of(
                    st.text(max_size=6),
                    st.integers(),
                    st.dictionaries(st.text(max_size=4), scalars, max_size=2),
                )
            }
        ),
        st.fixed_dictionaries(
            {
                "retain": st.one_of(
                    st.integers(-3, 12), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
                )
            }
        ),
        st.fixed_dictionaries({"delete": st.one_of(st.integers(-3, 12), st.text(max_size=2))}),
        st.dictionaries(
            st.sampled_from(["insert", "retain", "delete", "attributes", "x"]), json_values, max_size=3
        ),
    ),
    max_size=5,
)


def frames(document_id: str) -> st.SearchStrategy[dict[str, Any]]:
    doc_ids = st.sampled_from(
        [document_id, "not-a-uuid", "__proto__", "6f1c5e0e-5bd5-4c5e-9c55-6b8f5b7d2a11"]
    )
    return st.fixed_dictionaries(
        {"a": st.sampled_from(ACTIONS)},
        optional={
            "c": st.one_of(st.just("documents"), json_values),
            "d": st.one_of(doc_ids, json_values),
            "v": st.one_of(st.integers(-2, 6), st.none(), json_values),
            "seq": st.one_of(st.integers(0, 10**6), json_values),
            "op": st.one_of(delta_ops, st.fixed_dictionaries({"ops": delta_ops}), json_values),
            "create": st.one_of(
                st.fixed_dictionaries({"type": st.sampled_from(["rich-text", "json0"]), "data": delta_ops}),
                json_values,
            ),
            "del": json_values,
            "b": st.one_of(
                st.lists(doc_ids, max_size=3),
                st.dictionaries(doc_ids, st.integers(-1, 5), max_size=3),
                json_values,
            ),
            "ch": st.one_of(doc_ids.map(lambda d: f"documents.{d}"), json_values),
            "id": json_values,
            "p": st.one_of(
                st.fixed_dictionaries({"index": st.integers(-2, 9), "length": st.integers(-2, 9)}),
                json_values,
            ),
            "pv": json_values,
            "t": st.sampled_from(["rich-text", "http://sharejs.org/types/rich-text/v1", "json0"]),
            "ts": json_values,
            "src": st.one_of(st.text(max_size=34), json_values),
        },
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_frames_never_break_the_server(cookies: dict[str, str], document: Any, data: Any) -> None:
    doc_id = str(document.pk)
    batch = data.draw(st.lists(frames(doc_id), min_size=1, max_size=6))

    async def scenario() -> None:
        client = ProtocolClient(cookies["ed"])
        await client.handshake()
        for frame in batch:
            await client.send(frame)
        # Whatever came before, the socket still answers, and every reply is a JSON object.
        await client.send({"a": "pp"})
        while True:
            output = await client.communicator.receive_output(5)
            assert output["type"] == "websocket.send", f"socket closed by {batch}: {output}"
            reply = json.loads(output["text"])
            assert isinstance(reply, dict)
            if "error" in reply:
                assert set(reply["error"]) == {"code", "message"} and reply["error"]["code"].startswith(
                    "ERR_"
                )
            if reply == {"a": "pp"}:
                break
        await client.disconnect()

    asyncio.run(scenario())

    def document_is_valid() -> None:
        state = selectors.snapshot_at(document=Document.objects.get(pk=doc_id))
        assert state.type
        validate_document(state.content)
        assert Document.objects.get(pk=doc_id).length == sum(
            len(op["insert"].encode("utf-16-le", "surrogatepass")) // 2
            if isinstance(op["insert"], str)
            else 1
            for op in state.content
        )

    asyncio.run(database_sync_to_async(document_is_valid)())
