"""kill -9 and SIGTERM of one of two daphne processes behind HAProxy while clients type
(reliability catalogue F1, F2).

Clients reconnect through the balancer, as the page does, and resend what was in flight; a cursor
on the killed process (whose disconnect handler never runs) must vanish from the other process's
clients within the presence TTL.
"""

import time

import pytest

from .stack import (
    Stack,
    assert_nothing_lost,
    connect_steps,
    cursor_clients,
    cursor_gone_ms,
    cursor_gone_steps,
    cursor_steps,
    run_with_faults,
    settle_step,
    typing_document,
    typing_step,
    typists,
)

pytestmark = pytest.mark.integration

TYPISTS = 12
TYPING_SECONDS = 34


def test_three_kill_9s_of_a_daphne_process_while_twelve_clients_type(stack: Stack) -> None:
    setup = typing_document(stack.cluster)
    writers = typists(setup, TYPISTS)
    clients = {**writers, **cursor_clients(setup, observer_server=2)}
    steps = [
        *connect_steps(writers),
        # G's cursor lives on process a (server 1), O watches from process b (server 2).
        *cursor_steps(ghost_server=1, observer_server=2),
        {"do": "mark", "name": "typing"},
        {
            "do": "parallel",
            "branches": [
                [typing_step(TYPING_SECONDS, seed=11, clients=list(writers))],
                cursor_gone_steps(),
            ],
        },
        settle_step([*writers, "O"]),
    ]

    def inject(driver):
        assert driver.wait_mark("typing", 90), "the clients never started typing"
        time.sleep(3)
        stack.kill(0)  # G's process: its cursor is never cleared by a disconnect handler
        time.sleep(1.5)
        stack.restart(0)
        driver.wait_mark("cursor-gone", 60)
        for index in (1, 0):
            time.sleep(2)
            stack.kill(index)
            time.sleep(1.5)
            stack.restart(index)
        return {"kills": 3}

    result, verdict, figures = run_with_faults(
        stack, setup, clients, steps, inject, timeout=TYPING_SECONDS + 150, converge=[*writers, "O"]
    )
    figures["cursor_gone_ms"] = cursor_gone_ms(result)
    assert_nothing_lost("kill -9 of a daphne process (x3), 12 typists", result, verdict, figures)
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]
    # Every kill cut clients off: they came back through the balancer and resent their ops.
    assert sum(len(c["reconnects"]) for c in result["clients"].values()) >= 3
    assert verdict.acked_ops >= 150, verdict.figures


def test_sigterm_with_ops_in_flight(stack: Stack) -> None:
    setup = typing_document(stack.cluster)
    writers = typists(setup, 10)
    clients = {**writers, **cursor_clients(setup, observer_server=2)}
    steps = [
        *connect_steps(writers),
        *cursor_steps(ghost_server=1, observer_server=2),
        {"do": "mark", "name": "typing"},
        {
            "do": "parallel",
            "branches": [
                # Fast typing, so that ops are in flight when the signal lands.
                [typing_step(12, seed=12, clients=list(writers), interval_ms=(40, 160))],
                cursor_gone_steps(),
            ],
        },
        settle_step([*writers, "O"]),
    ]

    def inject(driver):
        assert driver.wait_mark("typing", 90), "the clients never started typing"
        time.sleep(3)
        terminated_at = time.monotonic()
        stack.terminate(0)
        stopped_ms = (time.monotonic() - terminated_at) * 1000
        stack.restart(0)
        driver.wait_mark("cursor-gone", 60)
        return {"shutdown_ms": round(stopped_ms)}

    result, verdict, figures = run_with_faults(
        stack, setup, clients, steps, inject, timeout=140, converge=[*writers, "O"]
    )
    resent = [e for c in result["clients"].values() for e in c["history"] if e["sends"] > 1]
    figures["resent_after_sigterm"] = len(resent)
    figures["cursor_gone_ms"] = cursor_gone_ms(result)
    assert_nothing_lost("SIGTERM of a daphne process with ops in flight", result, verdict, figures)
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]
    assert sum(len(c["reconnects"]) for c in result["clients"].values()) >= 1
