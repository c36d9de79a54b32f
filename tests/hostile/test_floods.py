"""Floods and forged identities on one socket: ops and reads over their rates are delayed, never
dropped; presence over its rate is dropped (documented); a cursor always carries the sender's own
name, user and src, whatever the frame claims."""

from typing import Any

import pytest

from tests.server.conftest import ProtocolClient, connected

pytestmark = pytest.mark.django_db(transaction=True)

READS = {
    "f": lambda doc, i: {"a": "f", "c": "documents", "d": doc, "v": None},
    "s": lambda doc, i: {"a": "s", "c": "documents", "d": doc, "v": None},
    "bf": lambda doc, i: {"a": "bf", "c": "documents", "b": [doc]},
    "nf": lambda doc, i: {"a": "nf", "id": i, "c": "documents", "d": doc, "v": 1},
    "nt": lambda doc, i: {"a": "nt", "id": i, "c": "documents", "d": doc, "ts": None},
}


@pytest.mark.parametrize("action", sorted(READS))
async def test_read_floods_are_delayed_not_dropped(
    cookies: dict[str, str], document: Any, settings: Any, action: str
) -> None:
    settings.COLLAB_READ_RATE, settings.COLLAB_READ_BURST = 200, 2
    doc_id = str(document.pk)
    client = ProtocolClient(cookies["vera"])
    await client.handshake()
    for i in range(30):
        await client.send(READS[action](doc_id, i))
    await client.send({"a": "pp"})
    replies = await client.recv_until(lambda m: m == {"a": "pp"}, timeout=10)
    answered = [m for m in replies if m.get("a") == action]
    assert len(answered) == 30 and not any("error" in m for m in answered)
    await client.disconnect()


@pytest.mark.parametrize("count", [30, 250], ids=["30-ops", "250-ops-over-the-burst"])
async def test_op_floods_are_delayed_not_dropped(
    cookies: dict[str, str], document: Any, settings: Any, count: int
) -> None:
    settings.COLLAB_OP_RATE, settings.COLLAB_OP_BURST = 500, 5
    doc_id = str(document.pk)
    ed, vera = await connected(cookies, "ed", "vera")
    await vera.subscribe(doc_id)
    for seq in range(1, count + 1):
        await ed.send(
            {"a": "op", "c": "documents", "d": doc_id, "v": seq, "seq": seq, "op": [{"insert": "x"}]}
        )
    acks = await ed.recv_until(lambda m: m.get("seq") == count, timeout=30)
    assert [(m["seq"], m["v"], "error" in m) for m in acks] == [(s, s, False) for s in range(1, count + 1)]
    relayed = await vera.recv_until(lambda m: m.get("seq") == count, timeout=30)
    assert [m["v"] for m in relayed] == list(range(1, count + 1))
    await ed.disconnect()
    await vera.disconnect()


async def test_presence_floods_are_dropped_and_the_socket_stays(
    cookies: dict[str, str], document: Any, settings: Any
) -> None:
    settings.COLLAB_PRESENCE_RATE, settings.COLLAB_PRESENCE_BURST = 1, 3
    doc_id = str(document.pk)
    channel = f"documents.{doc_id}"
    client = ProtocolClient(cookies["ed"])
    await client.handshake()
    await client.send({"a": "ps", "ch": channel, "seq": 1})
    await client.recv()
    for pv in range(100):
        await client.send(presence(doc_id, {"index": 0, "length": 0}, pv=pv))
    await client.send({"a": "pp"})
    echoed = [m["pv"] for m in await client.recv_until(lambda m: m == {"a": "pp"}) if m.get("a") == "p"]
    assert echoed == [0, 1, 2]
    await client.disconnect()


def presence(doc_id: str, value: Any, pv: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "a": "p",
        "ch": f"documents.{doc_id}",
        "id": "c1",
        "p": value,
        "pv": pv,
        "c": "documents",
        "d": doc_id,
        "v": 1,
        "t": "rich-text",
        **extra,
    }


FORGERIES = {
    "name": ({"index": 0, "length": 1, "name": "Olga Owner"}, {}),
    "user": ({"index": 0, "length": 1, "user": "{olga}"}, {}),
    "inner-src": ({"index": 0, "length": 1, "src": "{olga_src}"}, {}),
    "outer-src": ({"index": 0, "length": 1}, {"src": "{olga_src}"}),
    "colour-and-html": ({"index": 0, "length": 1, "color": "<img src=x onerror=alert(1)>"}, {}),
    "everything": (
        {"index": 0, "length": 1, "name": "Olga", "user": "{olga}", "src": "{olga_src}"},
        {"src": "{olga_src}"},
    ),
}


@pytest.mark.parametrize(("value", "extra"), list(FORGERIES.values()), ids=list(FORGERIES))
async def test_presence_cannot_claim_another_identity(
    cookies: dict[str, str], document: Any, users: Any, value: Any, extra: Any
) -> None:
    doc_id = str(document.pk)
    channel = f"documents.{doc_id}"
    olga, ed = await connected(cookies, "olga", "ed")
    for client in (olga, ed):
        await client.send({"a": "ps", "ch": channel, "seq": 1})
        await client.recv()
    await olga.recv()  # olga is asked to re-send hers when ed joins

    def forged(item: Any) -> Any:
        return {k: {"{olga}": users["olga"].pk, "{olga_src}": olga.src}.get(v, v) for k, v in item.items()}

    await ed.send(presence(doc_id, forged(value), **forged(extra)))
    relayed = await olga.recv()
    assert relayed["src"] == ed.src
    assert relayed["p"] == {"index": 0, "length": 1, "name": "ed", "user": users["ed"].pk}
    await olga.disconnect()
    await ed.disconnect()
