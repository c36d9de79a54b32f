"""A balancer that routes by document (docs/operations.md): every socket whose URL names one
document reaches the same process, and the documents are spread over both."""

import asyncio
import uuid

import pytest
import websockets

from tests.conftest import Cluster
from tests.haproxy import LoadBalancer

pytestmark = pytest.mark.integration


def handshakes(log: str) -> int:
    """The WebSocket handshakes a daphne process logged (each one, accepted or refused)."""
    return sum(1 for line in log.splitlines() if "WSCONNECTING /ws/" in line)


async def knock(url: str, origin: str) -> None:
    """Open a socket and wait until the server is done with it (anonymous: closed with 4401)."""
    try:
        async with websockets.connect(url, origin=origin, proxy=None, open_timeout=10) as socket:
            await asyncio.wait_for(socket.wait_closed(), 10)
    except websockets.InvalidStatus:
        pass


def test_the_sockets_of_one_document_reach_one_process(cluster: Cluster) -> None:
    balancer = LoadBalancer([], affinity=True)
    servers = [cluster.start_server(name, extra_origins=(balancer.origin,)) for name in ("aff-a", "aff-b")]
    balancer.backend_ports = [server.port for server in servers]
    balancer.start()
    try:
        placed: dict[str, list[int]] = {}
        for _ in range(16):
            document_id = str(uuid.uuid4())
            before = [handshakes(server.log()) for server in servers]
            for _ in range(3):
                asyncio.run(knock(f"{balancer.ws_url}?doc={document_id}", balancer.origin))
            placed[document_id] = [handshakes(s.log()) - b for s, b in zip(servers, before)]
        # Each document's three sockets went to one process; both processes got documents.
        assert all(sorted(counts) == [0, 3] for counts in placed.values()), placed
        assert {counts.index(3) for counts in placed.values()} == {0, 1}, placed
    finally:
        balancer.stop()
