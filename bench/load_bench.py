"""End to end: real sharedb clients (Node) typing into one document through daphne processes that
share PostgreSQL and Redis, as in production.

Runs a baseline (2 clients, 1 process) and heavier runs in the same session, and prints acked ops
per second, the author's send-to-ack latency and the time for an op to reach the other clients,
each next to the baseline as a ratio.

    .venv/bin/python bench/load_bench.py            # needs PostgreSQL and Redis (see README)
    BENCH_SECONDS=20 .venv/bin/python bench/load_bench.py
"""

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django  # noqa: E402

django.setup()

from tests.conftest import Cluster  # noqa: E402
from tests.server.sharedb_harness import (  # noqa: E402
    ack_latencies,
    broadcast_latencies,
    check_converged,
    require_ok,
    run_driver,
    servers_spec,
    setup_document,
)

SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
RUNS = [("baseline", 2, 1), ("12 clients", 12, 2), ("24 clients", 24, 2)]


def run(cluster: Cluster, servers: list[Any], name: str, clients: int, processes: int) -> dict[str, float]:
    prefix = name.split()[0]
    users = {f"{prefix}{i}": f"User {i}" for i in range(clients)}
    names = list(users)
    setup = setup_document(
        cluster,
        users=users,
        owner=names[0],
        members={n: "editor" for n in names[1:]},
        content=[{"insert": "Start~~~~\n"}],
    )
    spec = {f"c{i}": {"cookie": f"sessionid={setup['sessions'][n]}"} for i, n in enumerate(names)}
    steps: list[dict[str, Any]] = [
        {"do": "connect", "client": f"c{i}", "server": i % processes} for i in range(clients)
    ]
    steps += [
        {
            "do": "random",
            "duration_ms": SECONDS * 1000,
            "interval_ms": [40, 200],
            "seed": 11,
            "p_token": 0.5,
            "p_filler": 0.2,
            "p_delete": 0.2,
            "p_emoji": 0.2,
        },
        {"do": "settle", "timeout_ms": 30000, "fresh_client": "c0", "fresh_server": 0},
    ]
    result = run_driver(
        {"doc": setup["doc"], "servers": servers_spec(*servers[:processes]), "clients": spec, "steps": steps},
        timeout=SECONDS + 60,
    )
    require_ok(result)
    state = check_converged(cluster, setup["doc"], result)
    ack, spread = ack_latencies(result), broadcast_latencies(result)
    return {
        "ops_per_s": state["acked_ops"] / SECONDS,
        "ack_p50": ack["p50"],
        "ack_p99": ack["p99"],
        "bcast_p50": spread["p50"],
        "bcast_p99": spread["p99"],
    }


def main() -> None:
    cluster = Cluster()
    try:
        servers = [cluster.start_server("bench-a"), cluster.start_server("bench-b")]
        print(f"{SECONDS} s of random typing per run; every run ends converged and exactly-once (checked)")
        header = f"{'run':<12} {'ops/s':>7} {'ack p50':>8} {'ack p99':>8} {'reach p50':>10} {'reach p99':>10}"
        print(header + "   (ms; ratio to baseline in brackets)")
        baseline: dict[str, float] | None = None
        for name, clients, processes in RUNS:
            figures = run(cluster, servers, name, clients, processes)
            baseline = baseline or figures

            def cell(key: str, width: int) -> str:
                assert baseline is not None
                ratio = f"{figures[key] / baseline[key]:.1f}x" if baseline[key] >= 1 else "-"
                return f"{figures[key]:>{width}.0f} ({ratio:>5})"

            print(
                f"{name:<12} {cell('ops_per_s', 5)} {cell('ack_p50', 4)} {cell('ack_p99', 4)} "
                f"{cell('bcast_p50', 4)} {cell('bcast_p99', 4)}"
            )
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
