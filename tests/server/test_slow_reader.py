"""A connection that asks for a lot and reads nothing is closed before it can take the server's
memory, and a well-behaved client on the same process is not held up by it."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.conftest import Cluster, ServerProcess

from .sharedb_harness import setup_document

pytestmark = pytest.mark.integration

DOC_CHARS = 400_000
REQUESTS = 200
LIMIT = 4 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _abuse_and_watch(server: ServerProcess, setup: dict[str, Any]) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}/ws/"
    headers = {"Cookie": f"sessionid={setup['sessions']['slow']}"}
    pid = server.process.pid if server.process else 0
    before = rss_bytes(pid)
    async with connect(
        url, origin=server.url, additional_headers=headers, max_size=None, max_queue=1
    ) as slow:
        await slow.send(json.dumps({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2}))
        await slow.recv()
        for _ in range(REQUESTS):  # ~80 MB of replies asked for; none of it is read for a while
            await slow.send(json.dumps({"a": "f", "c": "documents", "d": setup["doc"], "v": None}))
        peak = before
        async with connect(
            url, origin=server.url, additional_headers={"Cookie": f"sessionid={setup['sessions']['fine']}"}
        ) as fine:
            await fine.send(json.dumps({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2}))
            await fine.recv()
            for _ in range(60):
                peak = max(peak, rss_bytes(pid))
                await fine.send(json.dumps({"a": "pp"}))
                assert json.loads(await asyncio.wait_for(fine.recv(), 10)) == {"a": "pp"}
                await asyncio.sleep(0.25)
        closed = slow.close_code
        try:  # Now read: whatever was sent before the close, then the close itself.
            while True:
                await asyncio.wait_for(slow.recv(), 10)
        except Exception:
            closed = slow.close_code
    return {"before": before, "peak": peak, "closed": closed}


def test_a_slow_reader_is_disconnected_and_the_server_stays_small() -> None:
    cluster = Cluster()
    try:
        setup = setup_document(
            cluster,
            users={"slow": "Slow Reader", "fine": "Fine Reader"},
            owner="slow",
            members={"fine": "viewer"},
        )
        cluster.shell(
            "from django.contrib.auth import get_user_model; from documents import services; "
            f"services.replace_content(user=get_user_model().objects.get(username='slow'), "
            f"document_id={setup['doc']!r}, content=[{{'insert': 'x' * {DOC_CHARS} + chr(10)}}])"
        )
        server = ServerProcess(
            {
                **cluster.env,
                "COLLAB_MAX_QUEUED_BYTES": str(LIMIT),
                "COLLAB_READ_RATE": "1000",
                "COLLAB_READ_BURST": "1000",
            },
            name="daphne-slow-reader",
        ).start()
        cluster.servers.append(server)
        result = asyncio.run(_abuse_and_watch(server, setup))
    finally:
        cluster.close()
    # Closed with the documented code (or dropped when even the close could not be delivered).
    assert result["closed"] in (4429, 1006), result
    grown = result["peak"] - result["before"]
    print(f"slow reader: closed {result['closed']}, server RSS grew {grown / 2**20:.1f} MiB at peak")
    assert grown < REQUESTS * DOC_CHARS // 4, result  # far below the ~80 MB asked for
