"""The ShareDB consumer, message by message, through the real ASGI stack (origin, session auth)."""

from typing import Any

import pytest
from channels.db import database_sync_to_async

from documents import broadcast, protocol, selectors, services
from documents.models import Document, Operation, Role

from .conftest import ProtocolClient, connected

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def content_of(document_id: Any) -> Any:
    document = Document.objects.get(pk=document_id)
    return selectors.snapshot_at(document=document).content


@database_sync_to_async
def op_rows(document_id: Any) -> list[tuple[int, str, int]]:
    return list(
        Operation.objects.filter(document_id=document_id)
        .order_by("version")
        .values_list("version", "src", "seq")
    )


# --- Connecting ---------------------------------------------------------------------------------


async def test_anonymous_socket_is_closed_with_session_ended_code() -> None:
    client = ProtocolClient(cookie=None)
    assert await client.connect()
    assert await client.close_code() == 4401


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "null",
        "https://evil.example.com",
        "http://127.0.0.1:8000.evil.com",
        "http://127.0.0.1:8001",
        "https://127.0.0.1:8000",
    ],
)
async def test_foreign_origins_are_refused(cookies: dict[str, str], origin: str | None) -> None:
    client = ProtocolClient(cookies["olga"], origin=origin)
    assert not await client.connect()


async def test_handshake_reply_is_what_the_client_requires(cookies: dict[str, str]) -> None:
    client = ProtocolClient(cookies["olga"])
    reply = await client.handshake()
    assert reply["a"] == "hs" and reply["protocol"] == 1 and reply["protocolMinor"] == 2
    assert reply["type"] == "http://sharejs.org/types/JSONv0"
    assert isinstance(reply["id"], str) and len(reply["id"]) == 32
    # Every hs is answered, and a returning client keeps its own id.
    await client.send({"a": "hs", "id": reply["id"], "protocol": 1, "protocolMinor": 2})
    assert (await client.recv())["id"] == reply["id"]
    await client.disconnect()


async def test_a_connection_id_cannot_be_taken_over_by_another_user(cookies: dict[str, str]) -> None:
    olga = ProtocolClient(cookies["olga"])
    olga_id = (await olga.handshake())["id"]
    ed = ProtocolClient(cookies["ed"])
    await ed.connect()
    await ed.send({"a": "hs", "id": olga_id, "protocol": 1, "protocolMinor": 2})
    assert (await ed.recv())["id"] != olga_id
    await olga.disconnect()
    await ed.disconnect()


# --- Fetch and subscribe ----------------------------------------------------------------------


async def test_subscribe_without_version_returns_typed_snapshot(
    cookies: dict[str, str], document: Any
) -> None:
    client = ProtocolClient(cookies["vera"])
    await client.handshake()
    [reply] = await client.subscribe(str(document.pk))
    assert reply == {
        "a": "s",
        "c": "documents",
        "d": str(document.pk),
        "data": {
            "v": 1,
            "data": {"ops": [{"insert": "Hello\n"}]},
            "type": "http://sharejs.org/types/rich-text/v1",
        },
    }
    await client.disconnect()


async def test_subscribe_with_version_sends_ops_then_bare_reply(
    cookies: dict[str, str], document: Any, users: Any
) -> None:
    await database_sync_to_async(services.submit_operation)(
        user=users["ed"],
        document_id=document.pk,
        src="x" * 32,
        seq=1,
        base_version=1,
        kind="edit",
        data=[{"insert": "A"}],
    )
    client = ProtocolClient(cookies["olga"])
    await client.handshake()
    messages = await client.subscribe(str(document.pk), version=0)
    assert [m.get("v") for m in messages[:-1]] == [0, 1]
    assert messages[0]["create"]["data"] == [{"insert": "Hello\n"}]
    assert (
        messages[1]["op"] == [{"insert": "A"}] and messages[1]["src"] == "x" * 32 and messages[1]["seq"] == 1
    )
    assert messages[-1] == {"a": "s", "c": "documents", "d": str(document.pk)}
    await client.disconnect()


async def test_a_long_catch_up_comes_in_chunks_in_order_and_stays_live(
    cookies: dict[str, str], document: Any, users: Any, settings: Any
) -> None:
    """Catch-up is read a chunk at a time (here 3 ops) through the process's lane; the client
    sees every op once, in order, then the reply, then live ops, as with one read."""
    settings.COLLAB_CATCH_UP_CHUNK = 3
    for seq in range(1, 9):
        await database_sync_to_async(services.submit_operation)(
            user=users["ed"], document_id=document.pk, src="x" * 32, seq=seq, base_version=None,
            kind="edit", data=[{"insert": str(seq)}],
        )  # fmt: skip
    olga, fetcher = ProtocolClient(cookies["olga"]), ProtocolClient(cookies["vera"])
    await olga.handshake()
    await fetcher.handshake()
    messages = await olga.subscribe(str(document.pk), version=1)
    assert [m.get("v") for m in messages[:-1]] == list(range(1, 9))
    assert messages[-1] == {"a": "s", "c": "documents", "d": str(document.pk)}
    await fetcher.send({"a": "f", "c": "documents", "d": str(document.pk), "v": 3})
    fetched = await fetcher.recv_until(lambda m: m.get("a") == "f")
    assert [m.get("v") for m in fetched[:-1]] == list(range(3, 9))
    await database_sync_to_async(services.submit_operation)(
        user=users["ed"], document_id=document.pk, src="x" * 32, seq=9, base_version=None,
        kind="edit", data=[{"insert": "9"}],
    )  # fmt: skip
    live = await olga.recv()
    assert live["v"] == 9 and live["op"] == [{"insert": "9"}]
    await olga.disconnect()
    await fetcher.disconnect()


async def test_catch_up_past_the_bound_is_refused_unless_unsent_edits_need_it(
    cookies: dict[str, str], document: Any, users: Any, settings: Any
) -> None:
    """Far behind with nothing to rebase, a fetch or subscribe gets ERR_CATCH_UP_TOO_LONG at
    once (the page loads afresh); a connection that resent an op from that far back gets
    every op since, since its unsent edits are rebased on them."""
    settings.COLLAB_MAX_CATCH_UP = 5
    doc_id = str(document.pk)
    for seq in range(1, 9):
        await database_sync_to_async(services.submit_operation)(
            user=users["ed"], document_id=document.pk, src="x" * 32, seq=seq, base_version=None,
            kind="edit", data=[{"insert": str(seq)}],
        )  # fmt: skip
    reader = ProtocolClient(cookies["olga"])
    await reader.handshake()
    for action in ("s", "f"):
        await reader.send({"a": action, "c": "documents", "d": doc_id, "v": 1})
        reply = await reader.recv()
        assert reply["error"]["code"] == "ERR_CATCH_UP_TOO_LONG" and reply["d"] == doc_id, reply
    await reader.send({"a": "bs", "c": "documents", "b": {doc_id: 1}})
    replies = await reader.recv_until(lambda m: m.get("a") == "bs")
    assert replies[0]["error"]["code"] == "ERR_CATCH_UP_TOO_LONG" and replies[-1]["b"] == {}
    # Within the bound, and unversioned: served as usual.
    messages = await reader.subscribe(doc_id, version=4)
    assert [m.get("v") for m in messages[:-1]] == list(range(4, 9))
    await reader.disconnect()

    editor = ProtocolClient(cookies["ed"])
    await editor.handshake()
    await editor.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": [{"insert": "Z"}]})
    answered = await editor.recv_until(lambda m: m.get("a") == "op" and "op" not in m)
    assert [m.get("v") for m in answered[:-1]] == list(range(1, 9)) and answered[-1]["v"] == 9
    messages = await editor.subscribe(doc_id, version=1)
    assert [m.get("v") for m in messages[:-1]] == list(range(1, 10))
    await editor.disconnect()
    assert (await content_of(doc_id)) == [{"insert": "87654321ZHello\n"}]
    # An edit acked at version 10 (its ack lost), then the document moves on by 10 more: the
    # same op resent from a new connection is acked again (not applied twice), and the catch-up
    # its pending edits need is still served in full, though the op itself was only 1 behind.
    again = ProtocolClient(cookies["ed"])
    await again.handshake()
    [ack] = await again.submit(doc_id, 10, 1, [{"insert": "Y"}])
    src = ack["src"]
    await again.disconnect()
    for seq in range(9, 19):
        await database_sync_to_async(services.submit_operation)(
            user=users["ed"], document_id=document.pk, src="x" * 32, seq=seq, base_version=None,
            kind="edit", data=[{"retain": 1}, {"insert": "-"}],
        )  # fmt: skip
    resent = ProtocolClient(cookies["ed"])
    await resent.handshake()
    await resent.send(
        {"a": "op", "c": "documents", "d": doc_id, "v": 10, "src": src, "seq": 1, "op": [{"insert": "Y"}]}
    )
    answered = await resent.recv_until(lambda m: m.get("a") == "op" and "op" not in m)
    assert answered[-1]["v"] == 10
    messages = await resent.subscribe(doc_id, version=10)
    assert [m.get("v") for m in messages[:-1]] == list(range(10, 21))
    await resent.disconnect()
    assert (await content_of(doc_id)) == [{"insert": "Y" + "-" * 10 + "87654321ZHello\n"}]


async def test_missing_and_forbidden_documents_look_the_same(cookies: dict[str, str], document: Any) -> None:
    client = ProtocolClient(cookies["nina"])
    await client.handshake()
    answers = []
    for document_id in (str(document.pk), "6f1c5e0e-5bd5-4c5e-9c55-6b8f5b7d2a11", "not-a-uuid"):
        for action in ("s", "f"):
            await client.send({"a": action, "c": "documents", "d": document_id, "v": None})
            reply = await client.recv()
            assert reply["d"] == document_id
            answers.append(reply["error"])
        await client.send({"a": "nf", "id": 7, "c": "documents", "d": document_id, "v": None})
        answers.append((await client.recv())["error"])
        await client.send({"a": "ps", "ch": f"documents.{document_id}", "seq": 1})
        answers.append((await client.recv())["error"])
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["code"] == "ERR_DOC_NOT_FOUND"
    await client.disconnect()


async def test_bulk_subscribe_array_and_map_forms(cookies: dict[str, str], document: Any, users: Any) -> None:
    other = await database_sync_to_async(services.create_document)(owner=users["olga"], title="Two")
    client = ProtocolClient(cookies["olga"])
    await client.handshake()
    ids = [str(document.pk), str(other.pk), "6f1c5e0e-5bd5-4c5e-9c55-6b8f5b7d2a11"]
    await client.send({"a": "bs", "c": "documents", "b": ids})
    reply = await client.recv()
    assert reply["a"] == "bs" and set(reply["data"]) == set(ids)
    assert reply["data"][ids[0]]["v"] == 1 and reply["data"][ids[2]]["error"]["code"] == "ERR_DOC_NOT_FOUND"
    await client.send({"a": "bu", "c": "documents", "b": ids[:2]})
    assert (await client.recv()) == {"a": "bu", "c": "documents", "b": ids[:2]}
    await client.send({"a": "bs", "c": "documents", "b": {ids[0]: 0, ids[1]: 1}})
    messages = await client.recv_until(lambda m: m.get("a") == "bs")
    assert [m["v"] for m in messages[:-1]] == [0]
    assert messages[-1]["b"] == {ids[0]: 0, ids[1]: 1}
    await client.disconnect()


async def test_snapshot_at_version_and_time(cookies: dict[str, str], document: Any) -> None:
    client = ProtocolClient(cookies["olga"])
    await client.handshake()
    doc_id = str(document.pk)
    await client.subscribe(doc_id)
    await client.submit(doc_id, 1, 1, [{"retain": 5}, {"insert": "!"}])
    await client.send({"a": "nf", "id": 3, "c": "documents", "d": doc_id, "v": 1})
    reply = await client.recv()
    assert reply == {
        "a": "nf",
        "id": 3,
        "v": 1,
        "type": "http://sharejs.org/types/rich-text/v1",
        "data": {"ops": [{"insert": "Hello\n"}]},
        "m": None,
    }
    await client.send({"a": "nf", "id": 4, "c": "documents", "d": doc_id, "v": 0})
    assert (await client.recv())["type"] is None
    await client.send({"a": "nf", "id": 5, "c": "documents", "d": doc_id, "v": 9})
    assert (await client.recv())["error"]["code"] == "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT"
    await client.send({"a": "nt", "id": 6, "c": "documents", "d": doc_id, "ts": None})
    reply = await client.recv()
    assert reply["v"] == 2 and reply["data"] == {"ops": [{"insert": "Hello!\n"}]}
    await client.send({"a": "nt", "id": 7, "c": "documents", "d": doc_id, "ts": 0})
    assert (await client.recv())["v"] == 0
    await client.disconnect()


# --- Ops --------------------------------------------------------------------------------------


async def test_op_is_acked_and_broadcast_with_src_and_seq(cookies: dict[str, str], document: Any) -> None:
    doc_id = str(document.pk)
    ed, olga = await connected(cookies, "ed", "olga")
    await ed.subscribe(doc_id)
    await olga.subscribe(doc_id)
    [ack] = await ed.submit(doc_id, 1, 1, [{"retain": 5}, {"insert": " world", "attributes": {"bold": True}}])
    assert ack == {"a": "op", "c": "documents", "d": doc_id, "src": ed.src, "seq": 1, "v": 1}
    remote = await olga.recv()
    assert remote == {
        "a": "op",
        "c": "documents",
        "d": doc_id,
        "v": 1,
        "src": ed.src,
        "seq": 1,
        "op": [{"retain": 5}, {"insert": " world", "attributes": {"bold": True}}],
    }
    assert await ed.nothing_more()  # no echo of one's own op besides the ack
    assert await content_of(doc_id) == [
        {"insert": "Hello"},
        {"insert": " world", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]
    for client in (ed, olga):
        await client.disconnect()


async def test_concurrent_ops_are_transformed_and_missing_ops_precede_the_ack(
    cookies: dict[str, str], document: Any
) -> None:
    doc_id = str(document.pk)
    ed, olga = await connected(cookies, "ed", "olga")
    await ed.subscribe(doc_id)
    await olga.subscribe(doc_id)
    await olga.submit(doc_id, 1, 1, [{"insert": "AA"}])
    # ed has not seen olga's op yet and submits against version 1.
    messages = await ed.submit(doc_id, 1, 1, [{"retain": 3}, {"insert": "BB"}])
    assert messages[0]["v"] == 1 and messages[0]["src"] == olga.src  # olga's op first ...
    assert messages[-1] == {
        "a": "op",
        "c": "documents",
        "d": doc_id,
        "src": ed.src,
        "seq": 1,
        "v": 2,
    }  # ... then the ack
    remote = await olga.recv()
    assert remote["op"] == [{"retain": 5}, {"insert": "BB"}] and remote["v"] == 2
    assert await content_of(doc_id) == [{"insert": "AAHelBBlo\n"}]
    for client in (ed, olga):
        await client.disconnect()


async def test_resent_op_is_acked_again_and_applied_once(cookies: dict[str, str], document: Any) -> None:
    doc_id = str(document.pk)
    ed = ProtocolClient(cookies["ed"])
    await ed.handshake()
    [ack] = await ed.submit(doc_id, 1, 5, [{"insert": "Z"}])
    # A reconnect: a new socket resends the same op with its src, as the client does.
    await ed.disconnect()
    again = ProtocolClient(cookies["ed"])
    await again.connect()
    await again.send({"a": "hs", "id": ed.src, "protocol": 1, "protocolMinor": 2})
    assert (await again.recv())["id"] == ed.src
    messages = await again.submit(doc_id, 1, 5, [{"insert": "Z"}], src=ed.src)
    assert messages[-1] == ack
    assert all("error" not in m for m in messages)
    rows = await op_rows(doc_id)
    assert [(version, seq) for version, _src, seq in rows] == [(0, 1), (1, 5)] and rows[1][1] == ed.src
    assert await content_of(doc_id) == [{"insert": "ZHello\n"}]
    await again.disconnect()


async def test_resent_op_behind_other_ops_gets_them_before_its_ack(
    cookies: dict[str, str], document: Any, users: Any
) -> None:
    doc_id = str(document.pk)
    ed = ProtocolClient(cookies["ed"])
    await ed.handshake()
    await database_sync_to_async(services.replace_content)(
        user=users["olga"], document_id=doc_id, content=[{"insert": "Hi\n"}]
    )
    [*missing, ack] = await ed.submit(doc_id, 1, 1, [{"insert": "Z"}])
    assert ack["v"] == 2 and [m["v"] for m in missing] == [1]
    [*missing, again] = await ed.submit(doc_id, 1, 1, [{"insert": "Z"}])
    assert again == ack and [m["v"] for m in missing] == [1]
    assert len(await op_rows(doc_id)) == 3
    await ed.disconnect()


async def test_someone_elses_src_is_rejected(cookies: dict[str, str], document: Any) -> None:
    doc_id = str(document.pk)
    ed, olga = await connected(cookies, "ed", "olga")
    await olga.send(
        {"a": "op", "c": "documents", "d": doc_id, "v": 1, "src": ed.src, "seq": 1, "op": [{"insert": "X"}]}
    )
    reply = await olga.recv()
    assert reply["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    # The victim's real op with that seq still lands.
    [ack] = await ed.submit(doc_id, 1, 1, [{"insert": "E"}])
    assert ack["v"] == 1 and await content_of(doc_id) == [{"insert": "EHello\n"}]
    for client in (ed, olga):
        await client.disconnect()


async def test_viewer_cannot_edit_and_editor_cannot_delete(cookies: dict[str, str], document: Any) -> None:
    doc_id = str(document.pk)
    vera, ed = await connected(cookies, "vera", "ed")
    await vera.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": [{"insert": "X"}]})
    assert (await vera.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    await ed.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "del": True})
    assert (await ed.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    await vera.send(
        {
            "a": "op",
            "c": "documents",
            "d": doc_id,
            "v": None,
            "seq": 2,
            "create": {"type": "rich-text", "data": [{"insert": "\n"}]},
        }
    )
    assert (await vera.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    assert len(await op_rows(doc_id)) == 1
    for client in (vera, ed):
        await client.disconnect()


async def test_owner_deletes_and_subscribers_see_it(cookies: dict[str, str], document: Any) -> None:
    doc_id = str(document.pk)
    olga, vera = await connected(cookies, "olga", "vera")
    await vera.subscribe(doc_id)
    await olga.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "del": True})
    assert (await olga.recv()) == {
        "a": "op",
        "c": "documents",
        "d": doc_id,
        "src": olga.src,
        "seq": 1,
        "v": 1,
    }
    assert (await vera.recv())["del"] is True
    # Deleted is not found, for its owner too (tests/server/test_deleted_documents.py).
    await olga.send({"a": "f", "c": "documents", "d": doc_id, "v": None})
    assert (await olga.recv())["error"]["code"] == "ERR_DOC_NOT_FOUND"
    for client in (olga, vera):
        await client.disconnect()


@pytest.mark.parametrize(
    "op",
    [
        [{"retain": -1}],
        [{"retain": 1.5}],
        [{"retain": True}],
        [{"retain": 99}, {"insert": "x"}],
        [{"delete": 7}],
        [{"insert": ""}],
        [{"insert": 5}],
        [{"insert": "a", "delete": 1}],
        [{"insert": "a", "attributes": {"bold": {"nested": True}}}],
        [{"retain": {"image": "x"}}],
        [{"insert": "\u0000"}],
        "not a delta",
        {"ops": "nope"},
        # What the editor cannot render (documents/schema.json): every class of it.
        [{"insert": {"image": "https://example.com/x.png"}}],
        [{"insert": {"formula": "e=mc^2"}}],
        [{"insert": {"x-unknown": {"a": 1}}}],
        [{"insert": "a", "attributes": {"color": "#ff0000"}}],
        [{"retain": 1, "attributes": {"align": "sideways"}}],
        [{"retain": 5}, {"insert": "\n", "attributes": {"header": 99}}],
        [{"retain": 5}, {"retain": 1, "attributes": {"list": "dashed"}}],
        [{"insert": "a", "attributes": {"bold": "<b>"}}],
        [{"insert": "a", "attributes": {"link": 5}}],
        [{"insert": "a", "attributes": {"link": "javascript:alert(1)"}}],
        [{"insert": "Title", "attributes": {"header": 1}}],
        # A text format on an inserted newline: Quill would drop it, the server would keep it.
        [{"retain": 5}, {"insert": "\n", "attributes": {"bold": True}}],
        [{"insert": "a\nb", "attributes": {"link": "https://example.com/"}}],
    ],
)
async def test_invalid_deltas_are_refused_and_change_nothing(
    cookies: dict[str, str], document: Any, op: Any
) -> None:
    doc_id = str(document.pk)
    ed = ProtocolClient(cookies["ed"])
    await ed.handshake()
    await ed.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": op})
    reply = await ed.recv()
    assert reply["error"]["code"] == "ERR_OT_OP_BADLY_FORMED" and reply["seq"] == 1 and reply["d"] == doc_id
    assert await content_of(doc_id) == [{"insert": "Hello\n"}]
    # The socket stays usable.
    [ack] = await ed.submit(doc_id, 1, 2, [{"insert": "ok "}])
    assert ack["v"] == 1
    await ed.disconnect()


@pytest.mark.parametrize(
    "message, code",
    [
        ({"a": "op", "c": "documents", "d": "x", "v": -1, "seq": 1, "op": []}, "ERR_MESSAGE_BADLY_FORMED"),
        ({"a": "op", "c": "documents", "d": "x", "v": "3", "seq": 1, "op": []}, "ERR_MESSAGE_BADLY_FORMED"),
        ({"a": "op", "c": "documents", "d": "x", "v": True, "seq": 1, "op": []}, "ERR_MESSAGE_BADLY_FORMED"),
        (
            {"a": "op", "c": "documents", "d": "x", "v": 1, "seq": 2**53, "op": []},
            "ERR_CONNECTION_SEQ_INTEGER_OVERFLOW",
        ),
        ({"a": "op", "c": "documents", "d": 5, "v": 1, "seq": 1, "op": []}, "ERR_MESSAGE_BADLY_FORMED"),
        ({"a": "op", "c": "documents", "d": "x", "v": 1, "seq": 1}, "ERR_MESSAGE_BADLY_FORMED"),
        (
            {
                "a": "op",
                "c": "documents",
                "d": "x",
                "v": 1,
                "seq": 1,
                "create": {"type": "json0", "data": {}},
            },
            "ERR_DOC_TYPE_NOT_RECOGNIZED",
        ),
        ({"a": "zz"}, "ERR_MESSAGE_BADLY_FORMED"),
        ({"a": "init"}, "ERR_MESSAGE_BADLY_FORMED"),
        ({"no": "action"}, "ERR_MESSAGE_BADLY_FORMED"),
        ({"a": "qs", "id": 1, "c": "documents", "q": {}}, "ERR_NOT_SUPPORTED"),
        ({"a": "s", "c": "documents", "d": "__proto__", "v": None}, "ERR_DOC_NOT_FOUND"),
        (
            {"a": "s", "c": "users", "d": "6f1c5e0e-5bd5-4c5e-9c55-6b8f5b7d2a11", "v": None},
            "ERR_DOC_NOT_FOUND",
        ),
        ({"a": "bs", "c": "users", "b": ["x", "y"]}, "ERR_DOC_NOT_FOUND"),
        (
            {"a": "p", "ch": "documents.x", "id": "p", "pv": 0, "v": 0, "p": {"index": -1}},
            "ERR_PRESENCE_BADLY_FORMED",
        ),
    ],
)
async def test_bad_messages_get_protocol_errors_and_the_socket_survives(
    cookies: dict[str, str], message: Any, code: str
) -> None:
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send(message)
    reply = await client.recv()
    assert reply["error"]["code"] == code
    await client.send({"a": "pp"})
    assert await client.recv() == {"a": "pp"}
    await client.disconnect()


@pytest.mark.parametrize("frame", ["{not json", "[]", '"x"', "1", "null", "", '{"a": NaN}', "[" * 100000])
async def test_unparsable_frames_close_with_the_bad_frame_code(cookies: dict[str, str], frame: str) -> None:
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send_raw(frame)
    assert (await client.recv())["error"]["code"] == "ERR_MESSAGE_BADLY_FORMED"
    assert await client.close_code() == protocol.CLOSE_BAD_FRAME == 4400


async def test_binary_frames_close_with_the_unsupported_data_code(cookies: dict[str, str]) -> None:
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.communicator.send_to(bytes_data=b"\x00\x01")
    assert await client.close_code() == protocol.CLOSE_UNSUPPORTED_DATA == 4415


async def test_oversized_op_is_soft_rejected_so_it_is_not_resent(
    cookies: dict[str, str], document: Any, settings: Any
) -> None:
    settings.COLLAB_MAX_MESSAGE_BYTES = 1000
    doc_id = str(document.pk)
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send(
        {"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": [{"insert": "x" * 2000}]}
    )
    reply = await client.recv()
    assert reply["error"]["code"] == "ERR_OP_SUBMIT_REJECTED" and reply["seq"] == 1 and "op" not in reply
    await client.disconnect()


async def test_document_length_limit(cookies: dict[str, str], document: Any, settings: Any) -> None:
    settings.COLLAB_MAX_DOCUMENT_LENGTH = 10
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send(
        {
            "a": "op",
            "c": "documents",
            "d": str(document.pk),
            "v": 1,
            "seq": 1,
            "op": [{"insert": "0123456789"}],
        }
    )
    assert (await client.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    await client.disconnect()


async def test_subscription_limit(cookies: dict[str, str], document: Any, settings: Any) -> None:
    settings.COLLAB_MAX_SUBSCRIPTIONS = 0
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    [reply] = await client.subscribe(str(document.pk))
    assert reply["error"]["code"] == "ERR_TOO_MANY_SUBSCRIPTIONS"
    await client.disconnect()


async def test_a_dropped_broadcast_is_repaired_from_the_op_log(
    cookies: dict[str, str], document: Any, users: Any, monkeypatch: Any
) -> None:
    doc_id = str(document.pk)
    olga = ProtocolClient(cookies["olga"])
    await olga.handshake()
    await olga.subscribe(doc_id)
    real_publish = broadcast.publish_ops
    # Pub/sub loses the first broadcast, as it does while Redis is away.
    dropped = []
    monkeypatch.setattr(broadcast, "publish_ops", lambda records: dropped.extend(records))
    await database_sync_to_async(services.submit_operation)(
        user=users["ed"],
        document_id=doc_id,
        src="e" * 32,
        seq=1,
        base_version=1,
        kind="edit",
        data=[{"insert": "1"}],
    )
    monkeypatch.setattr(broadcast, "publish_ops", real_publish)
    await database_sync_to_async(services.submit_operation)(
        user=users["ed"],
        document_id=doc_id,
        src="e" * 32,
        seq=2,
        base_version=2,
        kind="edit",
        data=[{"insert": "2"}],
    )
    first, second = await olga.recv(), await olga.recv()
    assert len(dropped) == 1 and (first["v"], second["v"]) == (1, 2)
    assert first["op"] == [{"insert": "1"}] and second["op"] == [{"insert": "2"}]
    await olga.disconnect()


# --- Presence ---------------------------------------------------------------------------------


async def test_presence_relay_echo_request_transform_and_clear(
    cookies: dict[str, str], document: Any
) -> None:
    doc_id = str(document.pk)
    channel = f"documents.{doc_id}"
    olga, ed = await connected(cookies, "olga", "ed")
    for client in (olga, ed):
        await client.subscribe(doc_id)
    await olga.send({"a": "ps", "ch": channel, "seq": 1})
    assert await olga.recv() == {"a": "ps", "ch": channel, "seq": 1}
    await ed.send({"a": "ps", "ch": channel, "seq": 1})
    assert await ed.recv() == {"a": "ps", "ch": channel, "seq": 1}
    assert await olga.recv() == {"a": "pr", "ch": channel}  # olga is asked to re-send hers
    # ed types at the front; olga's cursor, sent for version 1, is transformed to version 2.
    await ed.submit(doc_id, 1, 1, [{"insert": "ab"}])
    await olga.recv()
    presence = {
        "a": "p",
        "ch": channel,
        "id": "olga-1",
        "p": {"index": 1, "length": 2, "name": "Mallory"},
        "pv": 0,
        "c": "documents",
        "d": doc_id,
        "v": 1,
        "t": "http://sharejs.org/types/rich-text/v1",
    }
    await olga.send(presence)
    echo = await olga.recv()
    relayed = await ed.recv()
    assert echo == relayed
    assert relayed["src"] == olga.src and relayed["v"] == 2 and relayed["pv"] == 0
    assert relayed["p"]["index"] == 3 and relayed["p"]["length"] == 2
    assert relayed["p"]["name"] == "olga"  # identity comes from the session, not the client
    await olga.disconnect()
    cleared = await ed.recv()
    assert cleared["p"] is None and cleared["id"] == "olga-1" and cleared["src"] == olga.src
    await ed.disconnect()


async def test_a_departed_cursor_is_cleared_again_when_the_client_asks(
    cookies: dict[str, str], document: Any
) -> None:
    """A clear the client could not place (its document had moved on) is answered by the server
    when the client asks for everyone's presence, since the cursor's owner is gone."""
    doc_id = str(document.pk)
    channel = f"documents.{doc_id}"
    olga, ed = await connected(cookies, "olga", "ed")
    for client in (olga, ed):
        await client.subscribe(doc_id)
        await client.send({"a": "ps", "ch": channel, "seq": 1})
        assert await client.recv() == {"a": "ps", "ch": channel, "seq": 1}
    assert await olga.recv() == {"a": "pr", "ch": channel}
    await olga.send(
        {"a": "p", "ch": channel, "id": "olga-1", "p": {"index": 0, "length": 0}, "pv": 3}
        | {"c": "documents", "d": doc_id, "v": 1, "t": "http://sharejs.org/types/rich-text/v1"}
    )
    await olga.recv()
    assert (await ed.recv())["p"]["index"] == 0
    await olga.disconnect()
    assert (await ed.recv())["p"] is None
    # ed's document moves on (its own op), then its client asks for presence.
    assert (await ed.submit(doc_id, 1, 1, [{"insert": "ab"}]))[-1]["v"] == 1
    await ed.send({"a": "pr", "ch": channel})
    again = await ed.recv()
    assert again["a"] == "p" and again["id"] == "olga-1" and again["p"] is None
    assert again["v"] == 2 and again["pv"] == 3  # at the version ed's client has reached
    # A cursor that comes back replaces its clear: nothing is sent for it any more.
    await ed.send({"a": "pr", "ch": channel})
    await ed.send({"a": "pp"})
    assert (await ed.recv())["id"] == "olga-1"
    assert await ed.recv() == {"a": "pp"}
    olga = (await connected(cookies, "olga"))[0]
    await olga.subscribe(doc_id)
    await olga.send({"a": "ps", "ch": channel, "seq": 1})
    assert await olga.recv() == {"a": "ps", "ch": channel, "seq": 1}
    assert await ed.recv() == {"a": "pr", "ch": channel}
    await olga.send(
        {"a": "p", "ch": channel, "id": "olga-1", "p": {"index": 1, "length": 0}, "pv": 4}
        | {"c": "documents", "d": doc_id, "v": 2, "t": "http://sharejs.org/types/rich-text/v1"}
    )
    assert (await ed.recv())["p"]["index"] == 1
    await ed.send({"a": "pr", "ch": channel})
    await ed.send({"a": "pp"})
    assert (await ed.recv())["a"] == "pp"
    await olga.disconnect()
    await ed.disconnect()


async def test_presence_needs_a_presence_subscription(cookies: dict[str, str], document: Any) -> None:
    doc_id = str(document.pk)
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send(
        {
            "a": "p",
            "ch": f"documents.{doc_id}",
            "id": "x",
            "p": {"index": 0, "length": 0},
            "pv": 0,
            "c": "documents",
            "d": doc_id,
            "v": 1,
            "t": "rich-text",
        }
    )
    assert (await client.recv())["error"]["code"] == "ERR_PRESENCE_BADLY_FORMED"
    await client.disconnect()


# --- Session and access -----------------------------------------------------------------------


async def test_logging_out_closes_the_users_sockets(cookies: dict[str, str], users: Any) -> None:
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await database_sync_to_async(broadcast.publish_session_end)(user_id=users["ed"].pk)
    assert (await client.recv()) == {"a": "x-session", "reason": "signed-out"}
    assert await client.close_code() == 4401


async def test_losing_access_is_announced_and_stops_updates(
    cookies: dict[str, str], document: Any, users: Any
) -> None:
    doc_id = str(document.pk)
    vera = ProtocolClient(cookies["vera"])
    await vera.handshake()
    await vera.subscribe(doc_id)
    await database_sync_to_async(services.remove_member)(
        actor=users["olga"], document_id=doc_id, username="vera"
    )
    assert await vera.recv() == {"a": "x-access", "c": "documents", "d": doc_id, "role": None}
    await database_sync_to_async(services.submit_operation)(
        user=users["ed"],
        document_id=doc_id,
        src="e" * 32,
        seq=1,
        base_version=1,
        kind="edit",
        data=[{"insert": "secret"}],
    )
    assert await vera.nothing_more(0.5)
    await vera.disconnect()


async def test_role_change_is_announced(cookies: dict[str, str], document: Any, users: Any) -> None:
    doc_id = str(document.pk)
    ed = ProtocolClient(cookies["ed"])
    await ed.handshake()
    await ed.subscribe(doc_id)
    await database_sync_to_async(services.set_member_role)(
        actor=users["olga"], document_id=doc_id, username="ed", role=Role.VIEWER
    )
    assert await ed.recv() == {"a": "x-access", "c": "documents", "d": doc_id, "role": "viewer"}
    await ed.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": [{"insert": "X"}]})
    assert (await ed.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    await ed.disconnect()


async def test_ping_pong(cookies: dict[str, str]) -> None:
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send({"a": "pp"})
    assert await client.recv() == {"a": "pp"}
    await client.disconnect()


async def test_a_changed_password_ends_the_socket_at_the_next_tick(
    cookies: dict[str, str], users: Any, settings: Any
) -> None:
    settings.COLLAB_SYNC_INTERVAL_SECONDS = 0.2
    client = ProtocolClient(cookies["ed"])
    await client.handshake()

    def change_password() -> None:
        users["ed"].set_password("a new secret")
        users["ed"].save()

    await database_sync_to_async(change_password)()
    assert (await client.recv(timeout=3)) == {"a": "x-session", "reason": "signed-out"}
    assert await client.close_code() == 4401


async def test_visitors_are_listed_while_connected(cookies: dict[str, str], document: Any) -> None:
    doc_id = str(document.pk)
    visitors = database_sync_to_async(selectors.visitors_of)
    ed = ProtocolClient(cookies["ed"])
    await ed.handshake()
    await ed.subscribe(doc_id)
    listed = await visitors(document_ids=[doc_id], within_seconds=60)
    assert [v["username"] for v in listed[doc_id]] == ["ed"]
    await ed.disconnect()
    assert await visitors(document_ids=[doc_id], within_seconds=60) == {}


async def test_a_deleted_session_ends_the_socket_at_the_next_tick(
    cookies: dict[str, str], settings: Any
) -> None:
    from django.contrib.sessions.models import Session

    settings.COLLAB_SYNC_INTERVAL_SECONDS = 0.2
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    session_key = cookies["ed"].split("=", 1)[1]
    await database_sync_to_async(Session.objects.filter(session_key=session_key).delete)()
    assert (await client.recv(timeout=3)) == {"a": "x-session", "reason": "signed-out"}
    assert await client.close_code() == 4401


async def test_presence_over_the_rate_is_dropped_and_ops_over_it_are_delayed_not_lost(
    cookies: dict[str, str], document: Any, settings: Any
) -> None:
    settings.COLLAB_PRESENCE_RATE, settings.COLLAB_PRESENCE_BURST = 1, 2
    settings.COLLAB_OP_RATE, settings.COLLAB_OP_BURST = 50, 2
    doc_id = str(document.pk)
    channel = f"documents.{doc_id}"
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.subscribe(doc_id)
    await client.send({"a": "ps", "ch": channel, "seq": 1})
    await client.recv()
    for pv in range(5):
        await client.send(
            {
                "a": "p",
                "ch": channel,
                "id": "c",
                "p": {"index": 0, "length": 0},
                "pv": pv,
                "c": "documents",
                "d": doc_id,
                "v": 1,
                "t": "rich-text",
            }
        )
    await client.send({"a": "pp"})
    echoed = [m["pv"] for m in await client.recv_until(lambda m: m == {"a": "pp"}) if m.get("a") == "p"]
    assert echoed == [0, 1]
    for seq in range(1, 6):
        await client.send(
            {"a": "op", "c": "documents", "d": doc_id, "v": seq, "seq": seq, "op": [{"insert": str(seq)}]}
        )
    acks = await client.recv_until(lambda m: m.get("seq") == 5)
    assert [(m["seq"], m["v"], "error" in m) for m in acks] == [(s, s, False) for s in range(1, 6)]
    await client.disconnect()


async def test_cursors_of_a_dead_server_process_expire(
    cookies: dict[str, str], document: Any, settings: Any
) -> None:
    """A process killed with -9 never sends p:null; its cursors must still disappear."""
    settings.COLLAB_SYNC_INTERVAL_SECONDS = 0.2  # presence TTL = 3 * 0.2 + 5 s
    doc_id = str(document.pk)
    channel = f"documents.{doc_id}"
    olga, ed = await connected(cookies, "olga", "ed")
    for client in (olga, ed):
        await client.subscribe(doc_id)
        await client.send({"a": "ps", "ch": channel, "seq": 1})
        await client.recv_until(lambda m: m.get("a") == "ps")
    await olga.recv_until(lambda m: m.get("a") == "pr")
    # ed's cursor is alive: olga keeps it for longer than the TTL.
    await ed.send(
        {
            "a": "p",
            "ch": channel,
            "id": "ed-1",
            "p": {"index": 1, "length": 0},
            "pv": 3,
            "c": "documents",
            "d": doc_id,
            "v": 1,
            "t": "rich-text",
        }
    )
    await ed.recv()
    assert (await olga.recv())["p"]["index"] == 1
    # A cursor from a connection on a process that then died: nobody will ever clear it.
    ghost = {
        "a": "p",
        "ch": channel,
        "src": "f" * 32,
        "id": "ghost",
        "p": {"index": 0, "length": 0, "name": "x", "user": 0},
        "pv": 7,
        "c": "documents",
        "d": doc_id,
        "v": 1,
        "t": "http://sharejs.org/types/rich-text/v1",
    }
    await broadcast.publish_presence(document_id=doc_id, message=ghost, sender="gone")
    assert (await olga.recv())["id"] == "ghost"
    cleared = await olga.recv(timeout=10)
    assert cleared == {**ghost, "p": None, "v": 1}
    assert await olga.nothing_more(1.0)  # ed's live cursor is not cleared
    for client in (olga, ed):
        await client.disconnect()


@pytest.mark.parametrize("op", [[{"retain": 5}, {"delete": 1}], [{"retain": 6}, {"insert": "x"}]])
async def test_an_op_cannot_remove_the_final_newline(cookies: dict[str, str], document: Any, op: Any) -> None:
    doc_id = str(document.pk)
    ed = ProtocolClient(cookies["ed"])
    await ed.handshake()
    await ed.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": op})
    reply = await ed.recv()
    try:
        assert reply.get("error", {}).get("code") == "ERR_OT_OP_BADLY_FORMED"
        assert await content_of(doc_id) == [{"insert": "Hello\n"}]
    finally:
        await ed.disconnect()
