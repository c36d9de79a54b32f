"""Hostile WebSocket frames, one named case each: the documented error code (docs/protocol.md),
the socket still answering a ping afterwards, and the document unchanged."""

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async

from documents import protocol, selectors
from documents.models import Document

from tests.server.conftest import ProtocolClient

pytestmark = pytest.mark.django_db(transaction=True)

DOC = "{doc}"  # replaced by the document's id
CH = "documents.{doc}"
BAD_FRAME = "ERR_MESSAGE_BADLY_FORMED"
BAD_OP = "ERR_OT_OP_BADLY_FORMED"
BAD_PRESENCE = "ERR_PRESENCE_BADLY_FORMED"
NOT_FOUND = "ERR_DOC_NOT_FOUND"
REJECTED = "ERR_OP_SUBMIT_REJECTED"
NEWER = "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT"

PRESENCE = {
    "a": "p",
    "ch": CH,
    "id": "c1",
    "p": {"index": 0, "length": 0},
    "pv": 0,
    "c": "documents",
    "d": DOC,
    "v": 1,
    "t": "rich-text",
}
# A valid frame per action, and the code each of its fields answers when it has the wrong type.
VALID = {
    "f": (
        {"a": "f", "c": "documents", "d": DOC, "v": None},
        {"c": BAD_FRAME, "d": BAD_FRAME, "v": BAD_FRAME},
    ),
    "s": (
        {"a": "s", "c": "documents", "d": DOC, "v": None},
        {"c": BAD_FRAME, "d": BAD_FRAME, "v": BAD_FRAME},
    ),
    "u": ({"a": "u", "c": "documents", "d": DOC}, {"c": BAD_FRAME, "d": BAD_FRAME}),
    "bf": ({"a": "bf", "c": "documents", "b": [DOC]}, {"c": BAD_FRAME, "b": BAD_FRAME}),
    "bs": ({"a": "bs", "c": "documents", "b": [DOC]}, {"c": BAD_FRAME, "b": BAD_FRAME}),
    "bu": ({"a": "bu", "c": "documents", "b": [DOC]}, {"c": BAD_FRAME, "b": BAD_FRAME}),
    "op": (
        {"a": "op", "c": "documents", "d": DOC, "v": 1, "seq": 1, "op": [{"insert": "x"}]},
        {"c": BAD_FRAME, "d": BAD_FRAME, "v": BAD_FRAME, "seq": BAD_FRAME, "src": BAD_FRAME, "op": BAD_OP},
    ),
    "create": (
        {
            "a": "op",
            "c": "documents",
            "d": DOC,
            "v": None,
            "seq": 1,
            "create": {"type": "rich-text", "data": [{"insert": "x\n"}]},
        },
        {"create": "ERR_DOC_TYPE_NOT_RECOGNIZED"},
    ),
    "del": ({"a": "op", "c": "documents", "d": DOC, "v": 1, "seq": 1, "del": True}, {"del": BAD_FRAME}),
    "nf": (
        {"a": "nf", "id": 1, "c": "documents", "d": DOC, "v": 1},
        {"c": BAD_FRAME, "d": BAD_FRAME, "v": BAD_FRAME},
    ),
    "nt": (
        {"a": "nt", "id": 1, "c": "documents", "d": DOC, "ts": None},
        {"c": BAD_FRAME, "d": BAD_FRAME, "ts": BAD_FRAME},
    ),
    "p": (PRESENCE, {f: BAD_PRESENCE for f in ("ch", "id", "pv", "v", "t", "p")}),
    "ps": ({"a": "ps", "ch": CH, "seq": 1}, {"ch": BAD_PRESENCE}),
    "pu": ({"a": "pu", "ch": CH, "seq": 1}, {"ch": BAD_PRESENCE}),
    "a": ({"a": "pp"}, {"a": BAD_FRAME}),
}
WRONG_VALUES = {"list": ["op"], "object": {"x": 1}, "number": 7, "boolean": True}
# Integer fields get a numeral string instead of a number (a number there is a real version).
INTEGER_FIELDS = {"v", "seq", "pv", "ts"}
# Where a kind is a valid shape, the field gets these instead: `b` may be a list or a map.
OVERRIDES = {
    ("b", "list"): ("list-of-numbers", [5]),
    ("b", "object"): ("map-to-string", {"x": "1"}),
    ("del", "boolean"): ("false", False),
    ("create", "list"): ("type-list", {"type": ["rich-text"], "data": []}),
    ("create", "object"): ("type-object", {"type": {"x": 1}, "data": []}),
}


def wrong_type_cases() -> list[Any]:
    cases = []
    for action, (frame, fields) in VALID.items():
        for field, code in fields.items():
            for kind, value in WRONG_VALUES.items():
                if field in INTEGER_FIELDS and kind == "number":
                    kind, value = "numeral-string", "7"
                kind, value = OVERRIDES.get((field, kind), (kind, value))
                cases.append(pytest.param({**frame, field: value}, code, id=f"{action}.{field}={kind}"))
    return cases


DELTAS = {
    "ops-object-of-object": {"ops": {"insert": "x"}},
    "ops-null": {"ops": None},
    "insert-lone-surrogate": [{"insert": "\ud800"}],
    "retain-zero": [{"retain": 0}],
    "retain-2^53": [{"retain": 2**53}],
    "delete-2^70": [{"delete": 2**70}],
    "delete-zero": [{"delete": 0}],
    "delete-negative": [{"delete": -1}],
    "attributes-list": [{"insert": "a", "attributes": ["bold"]}],
    "attributes-deep": [{"insert": "a", "attributes": {"bold": json.loads("[" * 50 + "]" * 50)}}],
    "attributes-on-delete": [{"delete": 1, "attributes": {"bold": True}}],
    "unknown-key": [{"insert": "a", "x": 1}],
    "empty-op": [{}],
    "null-op": [None],
    "retain-then-delete-past-end": [{"retain": 6}, {"delete": 1}],
    "retain-past-end-with-format": [{"retain": 7, "attributes": {"bold": True}}],
    "link-data-url": [{"insert": "a", "attributes": {"link": "data:text/html,<script>x</script>"}}],
    "link-vbscript": [{"insert": "a", "attributes": {"link": "vbscript:msgbox(1)"}}],
    "link-with-space": [{"insert": "a", "attributes": {"link": "java script:alert(1)"}}],
    "link-control-char": [{"insert": "a", "attributes": {"link": "java\tscript:alert(1)"}}],
    "link-too-long": [{"insert": "a", "attributes": {"link": "https://e.com/" + "a" * 3000}}],
    "code-block-language": [{"retain": 5}, {"retain": 1, "attributes": {"code-block": "<script>"}}],
    "embed-video": [{"insert": {"video": "https://example.com/v"}}],
    "embed-empty": [{"insert": {}}],
    "insert-list": [{"insert": ["a"]}],
    "ten-thousand-ops-past-end": [{"retain": 1}] * 10_000 + [{"insert": "x"}],
    "insert-after-final-newline": [{"retain": 6}, {"insert": "x"}],
    "delete-final-newline": [{"retain": 5}, {"delete": 1}],
    # Formats the editor cannot show where they land: known from the document's text, not the op.
    "header-on-retained-text": [{"retain": 1, "attributes": {"header": 1}}],
    "list-over-text-and-newline": [{"retain": 6, "attributes": {"list": "bullet"}}],
    "bold-on-retained-newline": [{"retain": 5}, {"retain": 1, "attributes": {"bold": True}}],
    "link-over-the-final-newline": [{"retain": 6, "attributes": {"link": "https://example.com"}}],
}
VERSIONS = {
    "op-fractional": (
        {"a": "op", "c": "documents", "d": DOC, "v": 1.5, "seq": 1, "op": [{"insert": "x"}]},
        BAD_FRAME,
    ),
    "op-2^53": (
        {"a": "op", "c": "documents", "d": DOC, "v": 2**53, "seq": 1, "op": [{"insert": "x"}]},
        BAD_FRAME,
    ),
    "op-past-head": (
        {"a": "op", "c": "documents", "d": DOC, "v": 2, "seq": 1, "op": [{"insert": "x"}]},
        NEWER,
    ),
    "op-max-safe": (
        {"a": "op", "c": "documents", "d": DOC, "v": 2**53 - 1, "seq": 1, "op": [{"insert": "x"}]},
        NEWER,
    ),
    "op-1e3-float": (
        {"a": "op", "c": "documents", "d": DOC, "v": 1e3, "seq": 1, "op": [{"insert": "x"}]},
        BAD_FRAME,
    ),
    "seq-negative": (
        {"a": "op", "c": "documents", "d": DOC, "v": 1, "seq": -1, "op": [{"insert": "x"}]},
        BAD_FRAME,
    ),
    "seq-fractional": (
        {"a": "op", "c": "documents", "d": DOC, "v": 1, "seq": 1.5, "op": [{"insert": "x"}]},
        BAD_FRAME,
    ),
    "f-negative": ({"a": "f", "c": "documents", "d": DOC, "v": -1}, BAD_FRAME),
    "s-fractional": ({"a": "s", "c": "documents", "d": DOC, "v": 0.5}, BAD_FRAME),
    "s-2^53": ({"a": "s", "c": "documents", "d": DOC, "v": 2**53}, BAD_FRAME),
    "s-past-head": ({"a": "s", "c": "documents", "d": DOC, "v": 99}, NEWER),
    "nf-negative": ({"a": "nf", "id": 1, "c": "documents", "d": DOC, "v": -1}, BAD_FRAME),
    "nf-past-head": ({"a": "nf", "id": 1, "c": "documents", "d": DOC, "v": 99}, NEWER),
    "nf-2^53": ({"a": "nf", "id": 1, "c": "documents", "d": DOC, "v": 2**53}, BAD_FRAME),
    "nt-negative": ({"a": "nt", "id": 1, "c": "documents", "d": DOC, "ts": -1}, BAD_FRAME),
    "nt-year-10000": (
        {"a": "nt", "id": 1, "c": "documents", "d": DOC, "ts": protocol.MAX_TIMESTAMP_MS + 1},
        BAD_FRAME,
    ),
    "nt-2^63": ({"a": "nt", "id": 1, "c": "documents", "d": DOC, "ts": 2**63}, BAD_FRAME),
    "nt-fractional": ({"a": "nt", "id": 1, "c": "documents", "d": DOC, "ts": 1.5}, BAD_FRAME),
    "bs-map-negative": ({"a": "bs", "c": "documents", "b": {DOC: -1}}, BAD_FRAME),
    "p-v-negative": ({**PRESENCE, "v": -1}, BAD_PRESENCE),
    "p-pv-2^53": ({**PRESENCE, "pv": 2**53}, BAD_PRESENCE),
    "p-index-past-limit": ({**PRESENCE, "p": {"index": 2**40, "length": 0}}, BAD_PRESENCE),
    "p-length-negative": ({**PRESENCE, "p": {"index": 0, "length": -1}}, BAD_PRESENCE),
    "p-v-past-head": ({**PRESENCE, "v": 99}, NEWER),
}
ID_SPELLINGS = {
    "braces": "{%s}",
    "urn": "urn:uuid:%s",
    "upper-case": "UPPER",
    "nul": "%s\x00",
    "no-dashes": "HEX",
    "10kB": "x" * 10_000,
    "proto": "__proto__",
    "spaces": " %s ",
}


def spell(kind: str, doc_id: str) -> str:
    template = ID_SPELLINGS[kind]
    return {"UPPER": doc_id.upper(), "HEX": doc_id.replace("-", "")}.get(
        template, template.replace("%s", doc_id)
    )


def id_cases() -> list[Any]:
    cases = []
    for kind in ID_SPELLINGS:
        code = BAD_FRAME if kind == "10kB" else NOT_FOUND
        for action, frame in (
            ("s", {"a": "s", "c": "documents", "d": "{id}", "v": None}),
            ("op", {"a": "op", "c": "documents", "d": "{id}", "v": 1, "seq": 1, "op": [{"insert": "x"}]}),
            ("nf", {"a": "nf", "id": 1, "c": "documents", "d": "{id}", "v": 1}),
            ("ps", {"a": "ps", "ch": "documents.{id}", "seq": 1}),
        ):
            expected = BAD_PRESENCE if action == "ps" and kind == "10kB" else code
            cases.append(pytest.param(frame, kind, expected, id=f"{action}-{kind}"))
    return cases


def fill(value: Any, doc_id: str) -> Any:
    """The frame with the document's id in place of {doc}."""
    return json.loads(json.dumps(value).replace("{doc}", doc_id))


@database_sync_to_async
def content_of(doc_id: str) -> Any:
    return selectors.snapshot_at(document=Document.objects.get(pk=doc_id)).content


async def answer(
    cookies: dict[str, str], doc_id: str, frame: Any, *, presence: bool = False
) -> dict[str, Any]:
    """Send one frame as the editor and return the reply; the socket must still answer a ping."""
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    if presence:
        await client.send({"a": "ps", "ch": f"documents.{doc_id}", "seq": 1})
        await client.recv()
    await client.send(frame) if not isinstance(frame, str) else await client.send_raw(frame)
    reply = await client.recv()
    await client.send({"a": "pp"})
    assert (await client.recv_until(lambda m: m == {"a": "pp"}))[-1] == {"a": "pp"}
    await client.disconnect()
    assert await content_of(doc_id) == [{"insert": "Hello\n"}]
    return reply


@pytest.mark.parametrize(("frame", "code"), wrong_type_cases())
async def test_wrong_types(cookies: dict[str, str], document: Any, frame: Any, code: str) -> None:
    doc_id = str(document.pk)
    reply = await answer(cookies, doc_id, fill(frame, doc_id), presence=frame.get("a") == "p")
    assert reply["error"]["code"] == code, reply


DELTA_CASES = [pytest.param(op, id=name) for name, op in DELTAS.items()]


@pytest.mark.parametrize("op", DELTA_CASES)
async def test_deltas(cookies: dict[str, str], document: Any, op: Any) -> None:
    doc_id = str(document.pk)
    reply = await answer(
        cookies, doc_id, {"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": op}
    )
    assert reply["error"]["code"] == BAD_OP and reply["seq"] == 1, reply


@pytest.mark.parametrize(("frame", "code"), list(VERSIONS.values()), ids=list(VERSIONS))
async def test_versions(cookies: dict[str, str], document: Any, frame: Any, code: str) -> None:
    doc_id = str(document.pk)
    reply = await answer(cookies, doc_id, fill(frame, doc_id), presence=frame["a"] == "p")
    assert reply["error"]["code"] == code, reply


@pytest.mark.parametrize(("frame", "kind", "code"), id_cases())
async def test_ids(cookies: dict[str, str], document: Any, frame: Any, kind: str, code: str) -> None:
    doc_id = str(document.pk)
    text = json.dumps(frame).replace("{id}", json.dumps(spell(kind, doc_id))[1:-1])
    reply = await answer(cookies, doc_id, json.loads(text))
    assert reply["error"]["code"] == code, reply


FRAMES_KEPT_OPEN = {
    "over-message-limit": ('{"a":"f","c":"documents","d":"x","pad":"%s"}' % ("x" * (300 * 1024)), BAD_FRAME),
    "op-over-message-limit": (
        '{"a":"op","c":"documents","d":"{doc}","v":1,"seq":1,"op":[{"insert":"%s"}]}' % ("x" * (300 * 1024)),
        REJECTED,
    ),
    "action-list": ('{"a":["op"]}', BAD_FRAME),
    "action-null": ('{"a":null}', BAD_FRAME),
    "action-lone-surrogate": ('{"a":"\\ud800"}', BAD_FRAME),
    "duplicate-keys": ('{"a":"zz","a":"qq"}', BAD_FRAME),
    "thousands-of-keys": ("{" + ",".join(f'"k{i}":{i}' for i in range(20_000)) + ',"a":"zz"}', BAD_FRAME),
}


@pytest.mark.parametrize(("text", "code"), list(FRAMES_KEPT_OPEN.values()), ids=list(FRAMES_KEPT_OPEN))
async def test_frames_answered_on_an_open_socket(
    cookies: dict[str, str], document: Any, text: str, code: str
) -> None:
    doc_id = str(document.pk)
    reply = await answer(cookies, doc_id, text.replace("{doc}", doc_id))
    assert reply["error"]["code"] == code, reply


FRAMES_THAT_CLOSE = {
    "deep-inside-object": '{"a":"pp","x":' + "[" * 100_000 + "]" * 100_000 + "}",
    "deep-objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "bom-prefixed": "\ufeff" + '{"a":"pp"}',
    "infinity": '{"a":"pp","x":Infinity}',
    "trailing-garbage": '{"a":"pp"} {}',
    "single-quotes": "{'a':'pp'}",
}


@pytest.mark.parametrize("text", list(FRAMES_THAT_CLOSE.values()), ids=list(FRAMES_THAT_CLOSE))
async def test_frames_that_close_with_the_bad_frame_code(
    cookies: dict[str, str], document: Any, text: str
) -> None:
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send_raw(text)
    assert (await client.recv())["error"]["code"] == BAD_FRAME
    assert await client.close_code() == protocol.CLOSE_BAD_FRAME
    assert await content_of(str(document.pk)) == [{"insert": "Hello\n"}]
