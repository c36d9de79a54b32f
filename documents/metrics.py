"""Prometheus metrics: every counter the server keeps, and the scrape that adds them up.

With `PROMETHEUS_MULTIPROC_DIR` set in the environment (read by prometheus-client, not by
settings), each process (daphne or Celery) writes its values to files in that directory and
a scrape of any one process reads every process's files, so two processes behind one balancer
report the same totals. Without it but with Redis (processes on several hosts, as Heroku's
dynos), every process publishes to Redis and a scrape serves the sum (`metrics_redis`). With
neither, the one process reports its own values.

Gauges that describe a process (connections, documents) carry a `pid` label and only count live
processes; the database-wide figures (snapshot lag, connections in use) are read at scrape time.
docs/operations.md lists each metric with the alert worth setting on it.
"""

import glob
import logging
import os
import re
import time
from collections.abc import Iterator
from typing import Any

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client opens its files in this directory as soon as it is imported.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from . import metrics_redis

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

connections = Gauge(
    "collab_websocket_connections", "Open WebSocket connections of the process.", multiprocess_mode="liveall"
)
documents_open = Gauge(
    "collab_documents_subscribed",
    "Documents the process's hub is subscribed to (open in at least one of its connections).",
    multiprocess_mode="liveall",
)
ops_committed = Counter("collab_ops_committed", "Ops committed (resends acknowledged again are not counted).")
submit_latency = Histogram(
    "collab_submit_latency_seconds", "From an op's frame received to its ack queued.", buckets=LATENCY_BUCKETS
)
commit_batch_size = Histogram(
    "collab_commit_batch_size",
    "Ops committed together by one round of a document's commit pipeline.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 100),
)
broadcast_latency = Histogram(
    "collab_broadcast_latency_seconds",
    "From a batch's publish after commit to its arrival at a process's hub.",
    buckets=LATENCY_BUCKETS,
)
gaps_detected = Counter("collab_gaps_detected", "Gaps in the ops a hub heard (lost pub/sub messages).")
gaps_repaired = Counter("collab_gaps_repaired", "Gaps a hub filled from the op log.")
redis_errors = Counter(
    "collab_redis_errors", "Failed pub/sub operations, by where they failed.", labelnames=("where",)
)
refusals = Counter("collab_refusals", "Requests refused, by error code.", labelnames=("code",))
presence_messages = Counter("collab_presence_messages", "Presence (cursor) messages received.")
task_duration = Histogram(
    "collab_celery_task_duration_seconds",
    "Celery task run time, by task.",
    labelnames=("task",),
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 300.0),
)
task_failures = Counter(
    "collab_celery_task_failures", "Celery tasks that raised, by task.", labelnames=("task",)
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def forget_dead_processes() -> None:
    """Drop the live gauges of processes that are gone (killed, not shut down), once at start."""
    directory = multiprocess_dir()
    if directory is None:
        return
    pids = {
        int(m.group(1)) for m in (re.search(r"_(\d+)\.db$", f) for f in glob.glob(f"{directory}/*.db")) if m
    }
    for pid in pids:
        if pid != os.getpid() and not _alive(pid):
            multiprocess.mark_process_dead(pid, directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_exiting() -> None:
    """This process is shutting down: its per-process gauges stop counting."""
    directory = multiprocess_dir()
    if directory is not None:
        multiprocess.mark_process_dead(os.getpid(), directory)
    elif metrics_redis.enabled():
        try:
            metrics_redis.withdraw()
        except Exception:  # Redis away: its `alive` key expires on its own
            logger.warning("could not withdraw metrics from Redis", exc_info=True)


def start_publishing() -> None:
    """Across hosts (Redis, no multiprocess directory): publish this process's samples."""
    metrics_redis.start_publishing()


class DatabaseCollector(Collector):
    """Figures read from the database when scraped: snapshot lag and connections in use."""

    def collect(self) -> Iterator[Metric]:
        from django.db import connection
        from django.db.models import F, Max
        from django.db.models.functions import Coalesce

        from .models import Document

        lag = (
            Document.objects.annotate(lag=F("version") - Coalesce(Max("snapshots__version"), 0))
            .order_by("-lag")
            .values_list("lag", flat=True)
            .first()
        )
        yield GaugeMetricFamily(
            "collab_snapshot_lag_versions",
            "Versions since the last snapshot, for the document furthest behind.",
            value=lag or 0,
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT state, count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " GROUP BY state"
                )
                rows = cursor.fetchall()
            family = GaugeMetricFamily(
                "collab_database_connections",
                "Connections to the application's database, by state (all processes).",
                labels=["state"],
            )
            for state, count in rows:
                family.add_metric([state or "unknown"], count)
            yield family


def render() -> bytes:
    """The text exposition of every process's metrics plus the database figures."""
    directory = multiprocess_dir()
    if directory is None and metrics_redis.enabled():
        return metrics_redis.render(DatabaseCollector())
    if directory is None:
        registry: Any = REGISTRY
        extra = CollectorRegistry()
        extra.register(DatabaseCollector())
        return generate_latest(registry) + generate_latest(extra)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


# --- Celery ----------------------------------------------------------------------------------

_task_started: dict[str, float] = {}


def connect_celery_signals() -> None:
    """Time every task and count its failures (called where the Celery app is made)."""
    from celery import signals

    signals.worker_init.connect(lambda **_: start_publishing(), weak=False)
    signals.worker_process_init.connect(lambda **_: start_publishing(), weak=False)
    signals.worker_process_shutdown.connect(lambda **_: process_exiting(), weak=False)
    signals.task_prerun.connect(_task_prerun, weak=False)
    signals.task_postrun.connect(_task_postrun, weak=False)
    signals.task_failure.connect(_task_failure, weak=False)


def _task_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _task_started[task_id] = time.monotonic()


def _task_postrun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    started = _task_started.pop(task_id or "", None)
    if started is not None and task is not None:
        task_duration.labels(task=task.name).observe(time.monotonic() - started)


def _task_failure(sender: Any = None, **_: Any) -> None:
    task_failures.labels(task=getattr(sender, "name", "unknown")).inc()
