"""Faults on the client side, through HAProxy in front of two daphne processes (reliability
catalogue F5, F6, F7): a client offline with pending ops for a minute, the same ops resubmitted
through both processes at once, and a client that reads one message a second while the
document takes 50 ops/s.
"""

import os

import pytest

from tests.server.sharedb_harness import ack_latencies

from .stack import (
    RssSampler,
    Stack,
    assert_nothing_lost,
    connect_steps,
    cursor_clients,
    cursor_gone_ms,
    cursor_gone_steps,
    cursor_steps,
    run_with_faults,
    settle_step,
    steps_named,
    typing_document,
    typing_step,
    typists,
)

pytestmark = pytest.mark.integration

# How long the offline client stays away (the catalogue's 60 s; lower it for a quick local run).
OFFLINE_SECONDS = float(os.environ.get("COLLAB_FAULT_OFFLINE_SECONDS", "60"))


def with_cursor(setup: dict, writers: dict, branches: list[list[dict]], *, kill_after_ms: int) -> tuple:
    """Clients and steps: the writers plus a vanishing cursor, running `branches` side by side."""
    clients = {**writers, **cursor_clients(setup, observer_server=2)}
    steps = [
        *connect_steps(writers),
        *cursor_steps(ghost_server=1, observer_server=2),
        {"do": "mark", "name": "typing"},
        {"do": "parallel", "branches": [*branches, cursor_gone_steps(kill_after_ms=kill_after_ms)]},
    ]
    return clients, steps


def wait_typing(driver) -> dict:
    assert driver.wait_mark("typing", 90), "the clients never started typing"
    return {}


def test_a_client_offline_for_a_minute_with_pending_ops(stack: Stack) -> None:
    setup = typing_document(stack.cluster)
    writers = typists(setup, 5)
    offline_ms = int(OFFLINE_SECONDS * 1000)
    clients, steps = with_cursor(
        setup,
        writers,
        [
            [typing_step(OFFLINE_SECONDS + 6, seed=31, clients=list(writers), interval_ms=(300, 800))],
            # T0 keeps typing into its pending queue while its network is gone.
            [{"do": "sleep", "ms": 2000}, {"do": "offline", "client": "T0", "ms": offline_ms, "server": 0}],
        ],
        kill_after_ms=4000,
    )
    steps.append(settle_step([*writers, "O"], timeout_ms=90000))
    result, verdict, figures = run_with_faults(
        stack, setup, clients, steps, wait_typing, timeout=OFFLINE_SECONDS + 150, converge=[*writers, "O"]
    )
    offline = steps_named(result, "offline", "T0")
    figures.update(offline[0] if offline else {})
    figures["cursor_gone_ms"] = cursor_gone_ms(result)
    assert_nothing_lost(
        f"a client offline {OFFLINE_SECONDS:.0f} s with pending ops", result, verdict, figures
    )
    # It really had typed while away, and all of it landed once (the token check above).
    assert offline[0]["pending_ops"] >= 1 and offline[0]["offline_ms"] >= offline_ms, offline
    assert offline[0]["edits_while_offline"] >= 10, offline
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]


def test_the_same_ops_resubmitted_through_both_processes_at_once(stack: Stack) -> None:
    """A client that reconnected to process b while process a still handles its ops: 30 ops (one
    src, based on a stale version) go to both at once, twice, while others type."""
    setup = typing_document(stack.cluster)
    writers = typists(setup, 6)
    burst = {"do": "rawBurst", "names": ["first", "second"], "src_of": "first", "v": setup["version"]}
    clients, steps = with_cursor(
        setup,
        writers,
        [
            [typing_step(14, seed=32, clients=list(writers), interval_ms=(80, 300))],
            [
                {"do": "sleep", "ms": 3000},
                {"do": "rawConnect", "name": "first", "client": "T1", "server": 1},
                {"do": "rawConnect", "name": "second", "client": "T1", "server": 2, "hs_id_of_raw": "first"},
                {**burst, "count": 30, "timeout_ms": 40000},
                # The same frames once more, after they were committed: acked, not applied.
                {**burst, "count": 30, "timeout_ms": 40000},
            ],
        ],
        kill_after_ms=5000,
    )
    steps.append(settle_step([*writers, "O"]))
    result, verdict, figures = run_with_faults(
        stack, setup, clients, steps, wait_typing, timeout=150, converge=[*writers, "O"]
    )
    bursts = steps_named(result, "rawBurst")
    committed = {
        row["seq"]: row["version"] for row in verdict.log if bursts and row["src"] == bursts[0]["src"]
    }
    copies = [f for b in bursts for replies in b["replies"] for f in replies]
    figures.update(
        resubmitted_ops=30,
        copies_sent=len(copies),
        commits_of_them=sum(1 for row in verdict.log if bursts and row["src"] == bursts[0]["src"]),
        copy_errors=sum(1 for f in copies if f.get("error")),
        cursor_gone_ms=cursor_gone_ms(result),
    )
    assert_nothing_lost("the same 30 ops through two processes at once (x2)", result, verdict, figures)
    assert sorted(committed) == bursts[0]["seqs"] and figures["commits_of_them"] == 30, figures
    assert figures["copy_errors"] == 0, [f for f in copies if f.get("error")][:3]
    # Every copy, on either process, in either round, is acked at the version of the one commit.
    assert all(f["v"] == committed[f["seq"]] for f in copies), copies[:5]
    assert len(copies) == 4 * 30
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]


# One client reads a frame a second for this long; a daphne process may grow at most this much.
SLOW_SECONDS = 20
RSS_BOUND_MB = 120


def test_a_slow_reader_while_the_document_takes_50_ops_a_second(stack: Stack) -> None:
    setup = typing_document(stack.cluster)
    writers = typists(setup, 5)  # 5 clients, one op every ~100 ms each: ~50 ops/s
    clients, steps = with_cursor(
        setup,
        {**writers, "S": {"cookie": setup["cookies"][3], "auto_reconnect": {"server": 1}}},
        [
            [typing_step(SLOW_SECONDS, seed=33, clients=list(writers), interval_ms=(60, 140))],
            [{"do": "slowRead", "client": "S", "ms": SLOW_SECONDS * 1000, "interval_ms": 1000}],
        ],
        kill_after_ms=6000,
    )
    steps[len(writers)]["server"] = 1  # S reads from process a directly
    converge = [*writers, "S", "O"]
    steps.append(settle_step(converge, timeout_ms=90000))
    with RssSampler(stack.servers) as rss:
        result, verdict, figures = run_with_faults(
            stack, setup, clients, steps, wait_typing, timeout=170, converge=converge
        )
    slow = steps_named(result, "slowRead", "S")
    acked_during = sum(
        1
        for name in writers
        for e in result["clients"][name]["history"]
        if slow and e["acked_ms"] and slow[0]["t"] < e["acked_ms"] < slow[0]["t"] + SLOW_SECONDS * 1000
    )
    edits_during = sum(
        1
        for name in writers
        for e in result["clients"][name]["submits"]
        if slow and slow[0]["t"] < e["t"] < slow[0]["t"] + SLOW_SECONDS * 1000
    )
    writers_only = {"clients": {n: result["clients"][n] for n in writers}}
    figures.update(
        (slow[0] if slow else {})
        | {
            # Edits typed, and wire ops committed (sharedb folds edits typed while one is in flight).
            "edits_per_s_during": round(edits_during / SLOW_SECONDS, 1),
            "ops_per_s_during": round(acked_during / SLOW_SECONDS, 1),
            "rss_growth_mb": [round(mb, 1) for mb in rss.growth_mb()],
            "writers_ack_ms": ack_latencies(writers_only),
            "slow_closes": [c["code"] for c in result["clients"]["S"]["closes"]],
            "cursor_gone_ms": cursor_gone_ms(result),
        }
    )
    assert_nothing_lost("a slow reader (1 message/s) at 50 ops/s", result, verdict, figures)
    assert max(figures["rss_growth_mb"]) < RSS_BOUND_MB, figures
    # The document really moved far faster than S read it.
    assert acked_during > 10 * slow[0]["delivered"], (acked_during, slow)
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]
