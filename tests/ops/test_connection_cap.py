"""The per-document connection cap holds across processes: many newcomers arriving at once on
two daphne processes never get more than the cap between them (the count and the visit are one
transaction under a per-document lock), and a place freed by a leaver is taken again."""

import asyncio
import json
from typing import Any

import pytest
import websockets

from documents import protocol
from tests.conftest import Cluster, ServerProcess
from tests.server.sharedb_harness import setup_document

pytestmark = pytest.mark.integration

CAP = 3
NEWCOMERS = 16


@pytest.fixture
def two_capped_servers(cluster: Cluster) -> list[ServerProcess]:
    env = {**cluster.env, "COLLAB_MAX_CONNECTIONS_PER_DOCUMENT": str(CAP)}
    servers = [ServerProcess(env, name=f"cap-{name}").start() for name in "ab"]
    cluster.servers.extend(servers)
    return servers


async def join(server: ServerProcess, cookie: str, doc: str, start: asyncio.Event) -> Any:
    """Handshake, wait for the others, subscribe: the open socket if admitted, else its close code."""
    ws = await websockets.connect(
        f"ws://127.0.0.1:{server.port}/ws/", additional_headers={"Cookie": cookie, "Origin": server.url}
    )
    await ws.send(json.dumps({"a": "hs", "id": None}))
    await ws.recv()
    await start.wait()
    await ws.send(json.dumps({"a": "s", "c": "documents", "d": doc}))
    try:
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("a") == "s" and "error" not in reply:
                return ws
            if reply.get("a") == "s":
                assert reply["error"]["code"] == "ERR_DOCUMENT_FULL", reply
    except websockets.ConnectionClosed as closed:  # refused: the error, then this close
        return closed.rcvd.code if closed.rcvd else None


def test_the_cap_is_hard_across_two_processes(
    cluster: Cluster, two_capped_servers: list[ServerProcess]
) -> None:
    setup = setup_document(cluster, users={"ana": "Ana Lima"}, owner="ana")
    cookie = f"sessionid={setup['sessions']['ana']}"

    async def scenario() -> tuple[int, list[Any], Any]:
        start = asyncio.Event()
        joins = [
            asyncio.create_task(join(two_capped_servers[i % 2], cookie, setup["doc"], start))
            for i in range(NEWCOMERS)
        ]
        await asyncio.sleep(0.5)  # every socket has shaken hands
        start.set()
        outcomes = await asyncio.gather(*joins)
        admitted = [o for o in outcomes if not isinstance(o, int) and o is not None]
        refused = [o for o in outcomes if o == protocol.CLOSE_DOCUMENT_FULL]
        # One leaves: its place is free again for the next newcomer, on the other process.
        await admitted[0].close()
        await asyncio.sleep(0.5)
        again = await join(two_capped_servers[1], cookie, setup["doc"], start)
        late = await join(two_capped_servers[0], cookie, setup["doc"], start)
        for ws in [*admitted[1:], again]:
            if not isinstance(ws, int):
                await ws.close()
        return len(admitted), refused, (again, late)

    admitted, refused, (again, late) = asyncio.run(scenario())
    assert admitted == CAP, (admitted, refused)
    assert len(refused) == NEWCOMERS - CAP, refused
    assert not isinstance(again, int), again
    assert late == protocol.CLOSE_DOCUMENT_FULL, late
