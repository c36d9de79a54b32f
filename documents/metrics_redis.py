"""Metrics summed across hosts through Redis, for platforms where processes share no disk.

`PROMETHEUS_MULTIPROC_DIR` adds up the processes of one host; Heroku's dynos are separate hosts.
There (Redis configured, no multiprocess directory) every process publishes its samples to
Redis every `COLLAB_METRICS_PUBLISH_SECONDS`, and a scrape of any process serves the sum:

* counters and histograms: a hash per process, summed over processes. When a process stops
  publishing (its `alive` key expired), its last totals are folded into a `retired` hash, in one
  atomic script, so totals never go down when a dyno restarts;
* gauges (connections, documents subscribed): a key per process with a TTL, labelled with the
  process, so a dead process's gauges vanish with it.

A killed process loses at most its last interval of increments; one shut down publishes first.
"""

import json
import logging
import os
import socket
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

CUMULATIVE = frozenset({"counter", "histogram", "summary"})
# A process that has not published for this many intervals is gone.
ALIVE_INTERVALS = 3
PROCESS = f"{socket.gethostname()}:{os.getpid()}"

# Folds every process whose `alive` key is gone into `retired`, atomically (one scrape does it).
_FOLD = """
local retired = {}
for _, process in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', KEYS[2] .. 'alive:' .. process) == 0 then
    local totals = redis.call('HGETALL', KEYS[2] .. 'totals:' .. process)
    for i = 1, #totals, 2 do
      redis.call('HINCRBYFLOAT', KEYS[2] .. 'retired', totals[i], totals[i + 1])
    end
    redis.call('DEL', KEYS[2] .. 'totals:' .. process, KEYS[2] .. 'gauges:' .. process)
    redis.call('SREM', KEYS[1], process)
    table.insert(retired, process)
  end
end
return retired
"""


def enabled() -> bool:
    return bool(settings.REDIS_URL) and not os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def _prefix() -> str:
    from .broadcast.transport import namespace

    return f"{namespace()}:metrics:"


_client: Any = None
_client_pid: int | None = None


def _redis() -> Any:
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():  # a forked worker needs its own connection
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        _client_pid = os.getpid()
    return _client


def _local_families() -> list[Metric]:
    return [family for family in REGISTRY.collect() if family.name.startswith("collab_")]


def publish() -> None:
    """Write this process's samples to Redis (totals without expiry, gauges and `alive` with)."""
    totals: dict[str, float] = {}
    gauges: list[Any] = []
    for family in _local_families():
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue  # a process's start time: meaningless in a sum
            field = json.dumps([sample.name, sorted(sample.labels.items())])
            if family.type in CUMULATIVE:
                totals[field] = sample.value
            elif family.type == "gauge":
                gauges.append([sample.name, sorted(sample.labels.items()), sample.value])
    prefix, ttl = _prefix(), max(1, int(ALIVE_INTERVALS * settings.COLLAB_METRICS_PUBLISH_SECONDS))
    pipe = _redis().pipeline()
    pipe.sadd(prefix + "processes", PROCESS)
    if totals:
        pipe.hset(prefix + "totals:" + PROCESS, mapping=totals)
    pipe.set(prefix + "gauges:" + PROCESS, json.dumps(gauges), ex=ttl)
    pipe.set(prefix + "alive:" + PROCESS, "1", ex=ttl)
    pipe.execute()


def withdraw() -> None:
    """This process is stopping: publish its last totals, and let its gauges go now."""
    publish()
    pipe = _redis().pipeline()
    pipe.delete(_prefix() + "gauges:" + PROCESS, _prefix() + "alive:" + PROCESS)
    pipe.execute()


class _Sum(Collector):
    """The families of this code base with the values summed over every process in Redis."""

    def collect(self) -> Iterable[Metric]:
        client, prefix = _redis(), _prefix()
        client.eval(_FOLD, 2, prefix + "processes", prefix)
        processes = sorted(p.decode() for p in client.smembers(prefix + "processes"))
        sums: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        sources = [prefix + "retired"] + [prefix + "totals:" + p for p in processes]
        pipe = client.pipeline()
        for key in sources:
            pipe.hgetall(key)
        for process in processes:
            pipe.get(prefix + "gauges:" + process)
        replies = pipe.execute()
        for totals in replies[: len(sources)]:
            for field, value in totals.items():
                name, labels = json.loads(field)
                sums[(name, tuple(tuple(pair) for pair in labels))] += float(value)
        gauges: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for process, stored in zip(processes, replies[len(sources) :]):
            for name, labels, value in json.loads(stored or "[]"):
                gauges[name].append(({**dict(labels), "process": process}, value))
        for local in _local_families():
            family = Metric(local.name, local.documentation, local.type)
            if local.type in CUMULATIVE:
                names = {s.name for s in local.samples} | _sample_names(local)
                for (name, labels), value in sorted(sums.items()):
                    if name in names:
                        family.add_sample(name, dict(labels), value)
            elif local.type == "gauge":
                for labels, value in gauges.get(local.name, []):
                    family.add_sample(local.name, labels, value)
            yield family


def _sample_names(family: Metric) -> set[str]:
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum"),
    }
    return {family.name + suffix for suffix in suffixes.get(family.type, ())}


def render(extra: Collector) -> bytes:
    """Every process's metrics, summed through Redis, plus `extra` (the database figures)."""
    publish()  # this process's own values are current
    registry = CollectorRegistry()
    registry.register(_Sum())
    registry.register(extra)
    return generate_latest(registry)


_started_in: int | None = None


def start_publishing() -> None:
    """Publish every interval from a daemon thread (once per process; a fork starts its own)."""
    global _started_in
    if not enabled() or _started_in == os.getpid():
        return
    _started_in = os.getpid()
    tick = threading.Event()  # never set: its wait is the interval

    def loop() -> None:
        while not tick.wait(settings.COLLAB_METRICS_PUBLISH_SECONDS):
            try:
                publish()
            except Exception:  # Redis away: the next round tries again; metrics never break serving
                logger.warning("could not publish metrics to Redis", exc_info=True)

    threading.Thread(target=loop, name="metrics-publisher", daemon=True).start()
