"""A real Celery worker (prefork, beat embedded) killed with SIGKILL in the middle of a snapshot
while clients type through HAProxy (reliability catalogue F8).

The test holds an exclusive lock on the snapshot table, so the worker is provably inside
`take_snapshot` (waiting on it) when it dies. After a restart the snapshot is taken again
(redelivery or the idle-snapshot schedule), exactly one row per version, equal to a replay of the
op log, and the typing clients never noticed.
"""

import time

import psycopg
import pytest

from tests.conftest import ARTIFACTS
from tests.history import verify

from .stack import (
    OwnRedis,
    Stack,
    assert_nothing_lost,
    connect_steps,
    cursor_clients,
    cursor_gone_ms,
    cursor_gone_steps,
    cursor_steps,
    end_group,
    run_with_faults,
    settle_step,
    typing_document,
    typing_step,
    typists,
)

pytestmark = pytest.mark.integration

WAITING_SNAPSHOT = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%documents_snapshot%'
"""


def wait_until(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.2)
    return time.monotonic() - start


def worker_starts() -> int:
    """How many times the worker has said it is ready (its log is kept across restarts)."""
    log = ARTIFACTS / "celery-worker.log"
    return log.read_text(errors="replace").count(" ready.") if log.exists() else 0


def test_a_celery_worker_killed_mid_snapshot(redis_stack: Stack, own_redis: OwnRedis) -> None:
    stack = redis_stack
    (ARTIFACTS / "celery-worker.log").unlink(missing_ok=True)
    setup = typing_document(stack.cluster)
    doc = setup["doc"]
    writers = typists(setup, 6)
    clients = {**writers, **cursor_clients(setup, observer_server=2)}
    steps = [
        *connect_steps(writers),
        *cursor_steps(ghost_server=1, observer_server=2),
        {"do": "mark", "name": "typing"},
        {
            "do": "parallel",
            "branches": [
                [typing_step(14, seed=41, clients=list(writers), interval_ms=(100, 300))],
                cursor_gone_steps(kill_after_ms=6000),
            ],
        },
        settle_step([*writers, "O"]),
    ]

    def inject(driver):
        stack.start_worker()
        wait_until(lambda: worker_starts() >= 1, 60, "the Celery worker")
        assert driver.wait_mark("typing", 90), "the clients never started typing"
        time.sleep(3)
        with psycopg.connect(stack.cluster.database_url) as lock:
            lock.execute("LOCK TABLE documents_snapshot IN ACCESS EXCLUSIVE MODE")
            stack.cluster.shell(f"from documents.tasks import take_snapshot; take_snapshot.delay({doc!r})")
            with psycopg.connect(stack.cluster.database_url, autocommit=True) as probe:
                waited = wait_until(
                    lambda: probe.execute(WAITING_SNAPSHOT).fetchone()[0] > 0,
                    30,
                    "the worker to be inside a snapshot",
                )
                end_group(stack.worker)  # SIGKILL to the worker and its pool child, mid-snapshot
            # (Read through the connection holding the lock: any other one would wait for it.)
            rows_at_kill = lock.execute(
                "SELECT count(*) FROM documents_snapshot WHERE document_id = %s", (doc,)
            ).fetchone()
            lock.rollback()
        stack.start_worker()
        wait_until(lambda: worker_starts() >= 2, 60, "the restarted Celery worker")
        return {"in_snapshot_after_s": round(waited, 1), "snapshot_rows_at_kill": rows_at_kill[0]}

    result, verdict, figures = run_with_faults(
        stack, setup, clients, steps, inject, timeout=170, converge=[*writers, "O"]
    )
    head = verdict.db["version"]
    with psycopg.connect(stack.cluster.database_url, autocommit=True) as conn:
        snapshot_of_head = lambda: conn.execute(  # noqa: E731
            "SELECT count(*) FROM documents_snapshot WHERE document_id = %s AND version = %s", (doc, head)
        ).fetchone()[0]
        figures["snapshot_after_restart_s"] = round(
            wait_until(lambda: snapshot_of_head() == 1, 60, "a snapshot"), 1
        )
        per_version = conn.execute(
            "SELECT version, count(*) FROM documents_snapshot WHERE document_id = %s GROUP BY version", (doc,)
        ).fetchall()
    # Checked again now that the restarted worker has stored its snapshot: it equals the replay.
    verdict = verify(stack.cluster, doc, result, [*writers, "O"])
    figures["snapshots"] = len(per_version)
    figures["cursor_gone_ms"] = cursor_gone_ms(result)
    assert_nothing_lost("a Celery worker killed mid-snapshot", result, verdict, figures)
    assert all(count == 1 for _version, count in per_version), per_version
    assert isinstance(figures["cursor_gone_ms"], int), figures["cursor_gone_ms"]
