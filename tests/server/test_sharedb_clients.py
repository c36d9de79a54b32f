"""Real sharedb clients (npm sharedb@7 + rich-text, in Node) editing one document concurrently
through two daphne processes that share PostgreSQL and channels-redis (catalogue L1/F9, small).

Asserts the universal invariants I1-I5 over the clients' own observations and the op log:
every client, a fresh fetch and the database end with the same content; every acked
(src, seq) is in documents_operation exactly once, at the version its ack named; versions are
contiguous; each client's ops commit in seq order; every acked token appears exactly once.
"""

import time
from typing import Any

import pytest

from tests.history import assert_clean, check_converged

from .sharedb_harness import (
    ack_latencies,
    assert_server_logs_clean,
    broadcast_latencies,
    require_ok,
    run_driver,
    servers_spec,
    setup_document,
    summary,
)

pytestmark = pytest.mark.integration

USERS = {
    "ana": "Ana Lima",
    "ben": "Ben Okafor",
    "chen": "Chen Wei",
    "dora": "Dora Novak",
    "emil": "Emil Berg",
    "fay": "Fay Moreau",
}
TABS_PER_USER = 2
EDIT_SECONDS = 12


def test_many_sharedb_clients_on_two_processes_converge_exactly_once(cluster: Any) -> None:
    started = time.monotonic()
    first, second = cluster.start_server("daphne-a"), cluster.start_server("daphne-b")
    names = list(USERS)
    setup = setup_document(
        cluster,
        users=USERS,
        owner=names[0],
        members={name: "editor" for name in names[1:]},
        content=[
            {"insert": "Start~~~~~~~~"},
            {"insert": "bold", "attributes": {"bold": True}},
            {"insert": "\n"},
        ],
    )
    doc_id = setup["doc"]

    # 12 clients: every user has a tab on each process.
    clients = {}
    steps = []
    for i, user in enumerate(names):
        for tab in range(TABS_PER_USER):
            name = f"c{i * TABS_PER_USER + tab}"
            clients[name] = {"cookie": f"sessionid={setup['sessions'][user]}"}
            steps.append({"do": "connect", "client": name, "server": tab % 2})
    steps += [
        {
            "do": "random",
            "duration_ms": EDIT_SECONDS * 1000,
            "interval_ms": [20, 160],
            "seed": 7,
            "p_token": 0.45,
            "p_filler": 0.2,
            "p_delete": 0.2,
            "p_emoji": 0.3,
        },
        {"do": "settle", "timeout_ms": 20000, "fresh_client": "c1", "fresh_server": 1},
    ]
    result = run_driver(
        {"doc": doc_id, "servers": servers_spec(first, second), "clients": clients, "steps": steps},
        timeout=EDIT_SECONDS + 40,
    )
    require_ok(result)
    assert_clean(result)

    # Clients == fresh fetch == snapshot_at() == op-log replay; I1-I5 over the history.
    state = check_converged(cluster, doc_id, result)
    counts, tokens, text = state, state["tokens"], state["text"]
    submits = sum(len(c["submits"]) for c in result["clients"].values())
    assert counts["acked_ops"] >= 200, f"too little load to mean anything: {counts['acked_ops']}"
    assert tokens >= 100, tokens
    # Emoji tokens made it through (UTF-16 positions agree between JS and Python).
    assert any(ord(ch) > 0xFFFF for ch in text), "no astral-plane characters in the text"
    # Both processes carried edits from both users' tabs.
    assert {s for c in result["clients"].values() for s in c["servers"]} == {0, 1}
    assert_server_logs_clean(cluster)
    settle = result["steps"][-1]
    latency = ack_latencies(result)
    spread = broadcast_latencies(result)
    print(
        f"\nack latency ms p50={latency['p50']:.0f} p99={latency['p99']:.0f} max={latency['max']:.0f}; "
        f"broadcast (remote apply - author ack) ms p50={spread['p50']:.0f} p99={spread['p99']:.0f} "
        f"max={spread['max']:.0f}; "
        f"{len(clients)} clients, {submits} submitOp calls, {state.figures}, "
        f"{tokens} tokens, {len(text)} chars, "
        f"final v{state['db']['version']}, driver {result['elapsed_ms']} ms (settle {settle['ms']} ms: "
        f"acks {settle['all_acked_ms']} ms, {settle['fetch_rounds']} fetch rounds), "
        f"test {time.monotonic() - started:.1f} s\n{summary(result)}"
    )
