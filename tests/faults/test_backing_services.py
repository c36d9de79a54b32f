"""Redis and PostgreSQL failing under typing clients, each test with its own instance
(reliability catalogue F3, F4).

Redis killed and restarted: broadcasts in flight and every channel-layer group are lost, gaps are
repaired from the op log and every client converges. PostgreSQL restarted (a fast shutdown, then
a crash): nothing is acked without a commit, and what clients typed meanwhile lands exactly once
after recovery. In both, a transient outage must never answer an op with an error that makes the
client drop it.
"""

import time

import pytest

from .stack import (
    OwnPostgres,
    OwnRedis,
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

TYPING_SECONDS = 24


def outage_scenario(stack: Stack, count: int, seed: int) -> tuple[dict, dict, list, list[str]]:
    """`count` typists through the balancer, and a cursor that vanishes during the first outage."""
    setup = typing_document(stack.cluster)
    writers = typists(setup, count)
    clients = {**writers, **cursor_clients(setup, observer_server=2)}
    steps = [
        *connect_steps(writers),
        *cursor_steps(ghost_server=1, observer_server=2),
        {"do": "mark", "name": "typing"},
        {
            "do": "parallel",
            "branches": [
                [typing_step(TYPING_SECONDS, seed=seed, clients=list(writers))],
                # G's network drops half a second into the first outage (the outages start 3 s in).
                cursor_gone_steps(kill_after_ms=3500),
            ],
        },
        settle_step([*writers, "O"], timeout_ms=90000),
    ]
    return setup, clients, steps, [*writers, "O"]


def acks_between(driver, result: dict, windows: list[tuple[float, float]]) -> int:
    """Acks the clients received inside the given (down, up) windows of time.monotonic(), less
    the first half second (an ack of a commit made just before the shutdown may still be on its
    way)."""
    spans = [(driver.driver_ms(down) + 500, driver.driver_ms(up)) for down, up in windows]
    return sum(
        1
        for client in result["clients"].values()
        for entry in client["history"]
        if entry["acked_ms"] is not None and any(lo < entry["acked_ms"] < hi for lo, hi in spans)
    )


def test_redis_killed_and_restarted_twice_mid_edit(redis_stack: Stack, own_redis: OwnRedis) -> None:
    setup, clients, steps, converge = outage_scenario(redis_stack, 10, seed=21)

    def inject(driver):
        assert driver.wait_mark("typing", 90), "the clients never started typing"
        for pause, down_for in ((3, 3), (5, 2)):
            time.sleep(pause)
            own_redis.kill()
            time.sleep(down_for)
            own_redis.start()
        driver.wait_mark("cursor-gone", 60)
        return {"restarts": 2}

    result, verdict, figures = run_with_faults(
        redis_stack, setup, clients, steps, inject, timeout=TYPING_SECONDS + 150, converge=converge
    )
    figures["cursor_gone_ms"] = cursor_gone_ms(result)
    assert_nothing_lost("Redis killed and restarted (x2), 10 typists", result, verdict, figures)
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]


def test_postgres_restarted_twice_mid_edit(postgres_stack: Stack, own_postgres: OwnPostgres) -> None:
    setup, clients, steps, converge = outage_scenario(postgres_stack, 10, seed=22)
    windows = []
    seen = {}

    def inject(driver):
        seen["driver"] = driver
        assert driver.wait_mark("typing", 90), "the clients never started typing"
        for pause, mode, down_for in ((3, "fast", 3), (5, "immediate", 2)):
            time.sleep(pause)
            own_postgres.stop(mode)
            down = time.monotonic()  # stopped: commits in flight were answered before this
            time.sleep(down_for)
            up = time.monotonic()
            own_postgres.start()
            windows.append((down, up))
        driver.wait_mark("cursor-gone", 60)
        return {"restarts": 2}

    result, verdict, figures = run_with_faults(
        postgres_stack, setup, clients, steps, inject, timeout=TYPING_SECONDS + 150, converge=converge
    )
    figures["cursor_gone_ms"] = cursor_gone_ms(result)
    figures["acked_while_down"] = acks_between(seen["driver"], result, windows)
    assert_nothing_lost("PostgreSQL restarted (fast, then a crash), 10 typists", result, verdict, figures)
    # An ack is sent only after the commit: none can arrive while the database is down.
    assert figures["acked_while_down"] == 0, figures
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]
