"""/metrics with two daphne processes sharing one PROMETHEUS_MULTIPROC_DIR, or on two hosts summed
through Redis: a scrape of either reports the same totals, and the per-process gauges add up to
what is really open."""

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Cluster, ServerProcess
from tests.server.sharedb_harness import require_ok, run_driver, servers_spec, setup_document, summary

pytestmark = pytest.mark.integration

TOKEN = "metrics-token-for-tests-0123456789"


def scrape(server: ServerProcess, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(server.url + "/metrics", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: dict[Any, float], name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def per_process(metrics: dict[Any, float], name: str) -> dict[str, float]:
    return {dict(labels)["pid"]: v for (n, labels), v in metrics.items() if n == name}


def authorized(server: ServerProcess) -> dict[Any, float]:
    status, text = scrape(server, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, text
    return samples(text)


@pytest.fixture
def two_servers(cluster: Cluster, tmp_path: Path) -> list[ServerProcess]:
    env = {
        **cluster.env,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "COLLAB_METRICS_TOKEN": TOKEN,
    }
    servers = []
    for name in ("metrics-a", "metrics-b"):
        server = ServerProcess(env, name=name).start()
        cluster.servers.append(server)
        servers.append(server)
    return servers


async def hold_sockets(
    servers: list[ServerProcess], cookie: str, counts: list[int], doc: str, then: Any
) -> Any:
    """Open `counts[i]` subscribed sockets on server i, run `then()` in a thread, close them."""
    sockets = []
    for server, count in zip(servers, counts):
        for _ in range(count):
            ws = await websockets.connect(
                f"ws://127.0.0.1:{server.port}/ws/",
                additional_headers={"Cookie": cookie, "Origin": server.url},
            )
            await ws.send(json.dumps({"a": "hs", "id": None}))
            await ws.recv()
            await ws.send(json.dumps({"a": "s", "c": "documents", "d": doc}))
            while json.loads(await ws.recv()).get("a") != "s":
                pass
            sockets.append(ws)
    try:
        return await asyncio.to_thread(then)
    finally:
        for ws in sockets:
            await ws.close()


def type_twelve_ops(cluster: Cluster, a: ServerProcess, b: ServerProcess) -> tuple[dict[str, Any], Any]:
    """Two clients, one on each process, commit 12 ops in turn."""
    setup = setup_document(
        cluster, users={"ana": "Ana Lima", "ben": "Ben Okafor"}, owner="ana", members={"ben": "editor"}
    )
    cookies = {name: f"sessionid={key}" for name, key in setup["sessions"].items()}
    steps: list[dict[str, Any]] = [
        {"do": "connect", "client": "ana", "server": 0},
        {"do": "connect", "client": "ben", "server": 1},
    ]
    for i in range(6):
        steps.append({"do": "insert", "client": "ana", "index": 0, "text": f"[a{i}]", "wait": True})
        steps.append({"do": "insert", "client": "ben", "index": 0, "text": f"[b{i}]", "wait": True})
    steps.append({"do": "waitDoc", "client": "ana", "version": setup["version"] + 12})
    result = run_driver(
        {
            "collection": "documents",
            "doc": setup["doc"],
            "servers": servers_spec(a, b),
            "clients": {name: {"cookie": cookie} for name, cookie in cookies.items()},
            "steps": steps,
        }
    )
    require_ok(result)
    return {**setup, "cookies": cookies}, result


def test_scrapes_of_either_process_agree(cluster: Cluster, two_servers: list[ServerProcess]) -> None:
    a, b = two_servers
    setup, result = type_twelve_ops(cluster, a, b)
    cookies = setup["cookies"]

    def scrape_both() -> tuple[dict[Any, float], dict[Any, float]]:
        return authorized(a), authorized(b)

    seen_a, seen_b = asyncio.run(hold_sockets([a, b], cookies["ana"], [3, 2], setup["doc"], scrape_both))
    for seen in (seen_a, seen_b):
        assert value(seen, "collab_ops_committed_total") == 12, summary(result)
        assert value(seen, "collab_submit_latency_seconds_count") == 12
        assert value(seen, "collab_commit_batch_size_sum") == 12
        assert value(seen, "collab_broadcast_latency_seconds_count") >= 12  # each process hears each batch
        connections = per_process(seen, "collab_websocket_connections")
        assert sorted(connections.values()) == [2, 3], connections
        assert sorted(per_process(seen, "collab_documents_subscribed").values()) == [1, 1]
        assert value(seen, "collab_snapshot_lag_versions") == setup["version"] + 12
        assert sum(v for (n, _l), v in seen.items() if n == "collab_database_connections") >= 1
    # The same totals, whichever process answered; the open sockets are gone once closed.
    assert value(seen_a, "collab_ops_committed_total") == value(seen_b, "collab_ops_committed_total")
    after = authorized(b)
    assert sum(per_process(after, "collab_websocket_connections").values()) == 0


@pytest.fixture
def two_hosts(cluster: Cluster) -> list[ServerProcess]:
    """Two processes that share no disk (as two Heroku dynos): the sum goes through Redis."""
    env = {**cluster.env, "COLLAB_METRICS_TOKEN": TOKEN, "COLLAB_METRICS_PUBLISH_SECONDS": "0.5"}
    servers = []
    for name in ("host-a", "host-b"):
        server = ServerProcess(env, name=name)
        server.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        cluster.servers.append(server.start())
        servers.append(server)
    return servers


def test_processes_on_two_hosts_agree_through_redis(cluster: Cluster, two_hosts: list[ServerProcess]) -> None:
    a, b = two_hosts
    setup, result = type_twelve_ops(cluster, a, b)

    def scrape_both() -> tuple[dict[Any, float], dict[Any, float]]:
        time.sleep(1.2)  # past a publishing interval: each process's latest values are in Redis
        return authorized(a), authorized(b)

    seen_a, seen_b = asyncio.run(
        hold_sockets([a, b], setup["cookies"]["ana"], [3, 2], setup["doc"], scrape_both)
    )
    for seen in (seen_a, seen_b):
        assert value(seen, "collab_ops_committed_total") == 12, summary(result)
        assert value(seen, "collab_submit_latency_seconds_count") == 12
        assert value(seen, "collab_commit_batch_size_sum") == 12
        assert value(seen, "collab_submit_latency_seconds_bucket", le="+Inf") == 12
        connections = {
            dict(labels)["process"]: v
            for (n, labels), v in seen.items()
            if n == "collab_websocket_connections"
        }
        assert sorted(connections.values()) == [2, 3], connections
        assert value(seen, "collab_snapshot_lag_versions") == setup["version"] + 12
    # A dyno killed outright: its gauges go with it, its counts stay in the totals.
    b.stop(kill=True)
    time.sleep(2.0)  # past its `alive` key's expiry (3 intervals)
    after = authorized(a)
    assert value(after, "collab_ops_committed_total") == 12
    assert value(after, "collab_submit_latency_seconds_count") == 12
    live = [
        dict(labels)["process"] for (n, labels), v in after.items() if n == "collab_websocket_connections"
    ]
    assert len(live) == 1, live


def test_refusals_are_counted_by_code(cluster: Cluster, two_servers: list[ServerProcess]) -> None:
    a, b = two_servers
    setup = setup_document(cluster, users={"ana": "Ana Lima"}, owner="ana")

    async def refused() -> None:
        async with websockets.connect(
            f"ws://127.0.0.1:{a.port}/ws/",
            additional_headers={"Cookie": f"sessionid={setup['sessions']['ana']}", "Origin": a.url},
        ) as ws:
            await ws.send(json.dumps({"a": "hs", "id": None}))
            await ws.recv()
            await ws.send(
                json.dumps({"a": "s", "c": "documents", "d": "0" * 8 + "-0000-0000-0000-" + "0" * 12})
            )
            assert json.loads(await ws.recv())["error"]["code"] == "ERR_DOC_NOT_FOUND"

    asyncio.run(refused())
    assert value(authorized(b), "collab_refusals_total", code="ERR_DOC_NOT_FOUND") == 1


def test_metrics_need_the_token_or_a_staff_session(
    cluster: Cluster, two_servers: list[ServerProcess]
) -> None:
    a, _b = two_servers
    assert scrape(a)[0] == 403
    assert scrape(a, {"Authorization": "Bearer wrong"})[0] == 403
    assert scrape(a, {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    setup = setup_document(cluster, users={"ana": "Ana Lima", "sam": "Sam Staff"}, owner="ana")
    cluster.shell(
        "from django.contrib.auth.models import User; User.objects.filter(username='sam').update(is_staff=True)"
    )
    assert scrape(a, {"Cookie": f"sessionid={setup['sessions']['ana']}"})[0] == 403
    status, text = scrape(a, {"Cookie": f"sessionid={setup['sessions']['sam']}"})
    assert status == 200 and "collab_ops_committed_total" in text
