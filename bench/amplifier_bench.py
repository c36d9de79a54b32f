"""Does one viewer asking for old versions slow down everyone else?

A document with a long history (default 20,000 ops) has a viewer who floods the server with
catch-up requests (`s`/`f` at version 1) and stale cursors (presence at version 1), the requests
that once made the server transform or send every op since, per message. Meanwhile an editor types
into another document on the same daphne process; the benchmark prints that editor's ack latency
without the flood (the anchor) and with it, as a ratio from the same run.

    .venv/bin/python bench/amplifier_bench.py          # needs PostgreSQL and Redis (see README)
    AMP_OPS=5000 AMP_SECONDS=5 AMP_FLOODERS=6 .venv/bin/python bench/amplifier_bench.py

The flood comes from `AMP_FLOODERS` connections of the viewer at once (each connection's catch-up
is paid for from its own bucket, so more connections are how one person makes more work).
"""

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django  # noqa: E402

django.setup()

from websockets.asyncio.client import connect  # noqa: E402

from tests.conftest import Cluster  # noqa: E402
from tests.server.sharedb_harness import setup_document  # noqa: E402

HISTORY = int(os.environ.get("AMP_OPS", "20000"))
SECONDS = float(os.environ.get("AMP_SECONDS", "8"))
FLOOD = int(os.environ.get("AMP_FLOOD", "36"))
# Each connection pays for its own catch-up (a token bucket), so a flood comes from several.
FLOODERS = int(os.environ.get("AMP_FLOODERS", "6"))
# The version the flood fetches from: 1 is past COLLAB_MAX_CATCH_UP (refused at once, the page
# would load afresh); e.g. AMP_FROM=15001 on 20,000 ops asks for 5,000, the most still served.
FROM = int(os.environ.get("AMP_FROM", "1"))

GROW_HISTORY = """
from django.contrib.auth import get_user_model
from documents import services
user = get_user_model().objects.get(username={owner!r})
requests = [services.SubmitRequest(user, "h" * 32, seq, None, "edit", [{{"insert": "x"}}]) for seq in range(1, {n} + 1)]
for start in range(0, len(requests), 500):
    services.submit_batch(document_id={doc!r}, requests=[services.clean_request(r) for r in requests[start:start + 500]])
"""


async def _client(server: Any, session: str) -> Any:
    ws = await connect(
        f"ws://127.0.0.1:{server.port}/ws/",
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={session}"},
        max_size=None,
    )
    await ws.send(json.dumps({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2}))
    await ws.recv()
    return ws


async def _typist(server: Any, session: str, doc: str, seconds: float) -> list[float]:
    """Type one op at a time into `doc`; return each op's send-to-ack time in ms."""
    ws = await _client(server, session)
    await ws.send(json.dumps({"a": "s", "c": "documents", "d": doc, "v": None}))
    version = None
    while version is None:
        message = json.loads(await ws.recv())
        if message.get("a") == "s":
            version = message["data"]["v"]
    latencies, seq, deadline = [], 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        seq += 1
        sent = time.monotonic()
        await ws.send(
            json.dumps(
                {"a": "op", "c": "documents", "d": doc, "v": version, "seq": seq, "op": [{"insert": "k"}]}
            )
        )
        while True:
            message = json.loads(await ws.recv())
            if message.get("a") == "op" and message.get("seq") == seq and "op" not in message:
                break
        latencies.append((time.monotonic() - sent) * 1000)
        version = message["v"] + 1
        await asyncio.sleep(0.05)
    await ws.close()
    return latencies


async def _flood(server: Any, session: str, doc: str, seconds: float) -> int:
    """Ask again and again for everything since `FROM`, and move a cursor at version 1."""
    ws = await _client(server, session)
    channel = f"documents.{doc}"
    await ws.send(json.dumps({"a": "ps", "ch": channel, "seq": 1}))
    sent, deadline = 0, time.monotonic() + seconds

    async def drain() -> None:
        try:
            async for _message in ws:
                pass
        except Exception:
            pass

    reader = asyncio.create_task(drain())
    while time.monotonic() < deadline:
        for _ in range(FLOOD):
            await ws.send(json.dumps({"a": "f", "c": "documents", "d": doc, "v": FROM}))
            presence = {"index": 0, "length": 0}
            await ws.send(
                json.dumps(
                    {
                        "a": "p",
                        "ch": channel,
                        "id": "c",
                        "p": presence,
                        "pv": sent,
                        "c": "documents",
                        "d": doc,
                        "v": 1,
                        "t": "rich-text",
                    }
                )
            )
            sent += 2
        await asyncio.sleep(1)
    await ws.close()
    reader.cancel()
    return sent


def _summary(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


async def _run(server: Any, quiet: dict[str, Any], busy: dict[str, Any]) -> None:
    anchor = await _typist(server, quiet["sessions"]["typist"], quiet["doc"], SECONDS)
    flooded, *sent_each = await asyncio.gather(
        _typist(server, quiet["sessions"]["typist"], quiet["doc"], SECONDS),
        *(_flood(server, busy["sessions"]["viewer"], busy["doc"], SECONDS) for _ in range(FLOODERS)),
    )
    sent = sum(sent_each)
    (a50, a99), (f50, f99) = _summary(anchor), _summary(flooded)
    print(
        f"history of the flooded document: {HISTORY} ops, fetched from version {FROM};"
        f" flood: {sent} messages"
        f" from {FLOODERS} connections in {SECONDS:.0f} s"
    )
    print(f"{'other document, ack ms':28} {'p50':>8} {'p99':>8}")
    print(f"{'anchor (no flood)':28} {a50:8.1f} {a99:8.1f}")
    print(f"{'during the flood':28} {f50:8.1f} {f99:8.1f}")
    print(f"{'ratio':28} {f50 / a50:8.2f} {f99 / a99:8.2f}")


def main() -> None:
    cluster = Cluster()
    try:
        busy = setup_document(
            cluster,
            users={"viewer": "A Viewer", "author": "An Author"},
            owner="author",
            members={"viewer": "viewer"},
        )
        cluster.shell(GROW_HISTORY.format(owner="author", n=HISTORY, doc=busy["doc"]))
        quiet = setup_document(cluster, users={"typist": "A Typist"}, owner="typist")
        server = cluster.start_server("daphne-amplifier")
        asyncio.run(_run(server, quiet, busy))
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
