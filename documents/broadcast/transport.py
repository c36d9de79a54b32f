"""Pub/sub between server processes: Redis when `REDIS_URL` is set, else within this process.

Every event reaches this process's own hubs directly (scheduled on their loops the moment it is
published), and other processes through Redis; a hub drops the Redis copy of an event it was
handed directly by its origin mark, so a local commit never waits a Redis round trip, nor the
fan-out of whatever arrived from Redis meanwhile, before its connections hear of it.

A channel name is namespaced by `COLLAB_PUBSUB_PREFIX`, so two deployments (or two test
databases) sharing one Redis never hear each other: Redis pub/sub ignores database numbers.
"""

import asyncio
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings

from .. import handoff, metrics
from ..loops import PerLoop

logger = logging.getLogger(__name__)

# Hubs (one per event loop: daphne has one; tests make one per test) that hear local publishes.
_local_receivers: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[str, str], None]]] = {}
_local_lock = threading.Lock()
_sync_client: Any = None
# Marks this process's publishes, so its subscribers skip their Redis copies (a fork gets a new one).
_origin: tuple[int, str] = (0, "")


def _origin_mark() -> str:
    global _origin
    if _origin[0] != os.getpid():
        _origin = (os.getpid(), uuid.uuid4().hex[:16] + "|")
    return _origin[1]


def _prefix() -> str:
    if settings.COLLAB_PUBSUB_PREFIX:
        return str(settings.COLLAB_PUBSUB_PREFIX)
    database = settings.DATABASES["default"]
    name = f"{database.get('HOST')}:{database.get('PORT')}/{database.get('NAME')}"
    return "collab:" + hashlib.sha256(name.encode()).hexdigest()[:12]


def namespace() -> str:
    """This deployment's prefix for shared Redis names (pub/sub channels, metrics keys)."""
    return _prefix()


def _full(channel: str) -> str:
    return f"{_prefix()}:{channel}"


def _short(full: str) -> str:
    return full.split(":", 2)[2] if not settings.COLLAB_PUBSUB_PREFIX else full[len(_prefix()) + 1 :]


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def _redis_sync() -> Any:
    global _sync_client
    if _sync_client is None:
        import redis

        _sync_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )
    return _sync_client


def _deliver_locally(channel: str, data: str) -> None:
    with _local_lock:
        receivers = list(_local_receivers.values())
    for loop, receive in receivers:
        if not loop.is_closed():
            loop.call_soon_threadsafe(receive, channel, data)


def publish_sync(channel: str, data: str) -> None:
    """Publish from synchronous code (services, after commit, in any thread or process).

    This process's hubs have it at once; from a commit thread, Redis gets it from the hand-off thread."""
    _deliver_locally(channel, data)
    if not uses_redis():
        return
    message = _origin_mark() + data
    if handoff.handing_off():
        handoff.HANDOFF.put(lambda: _publish_remote(channel, message))
    else:
        _redis_sync().publish(_full(channel), message)


def _publish_remote(channel: str, message: str) -> None:
    try:
        _redis_sync().publish(_full(channel), message)
    except Exception:  # As `broadcast._publish`: other processes repair the gap from the database.
        metrics.redis_errors.labels(where="publish").inc()
        logger.warning("publish to %s failed", channel, exc_info=True)


def _async_client(_loop: asyncio.AbstractEventLoop) -> Any:
    from redis import asyncio as aioredis

    return aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


_async_clients: PerLoop[Any] = PerLoop(_async_client)


async def publish(channel: str, data: str) -> None:
    """Publish from the event loop without blocking it (one Redis client per loop)."""
    _deliver_locally(channel, data)
    if not uses_redis():
        return
    await _async_clients.get().publish(_full(channel), _origin_mark() + data)


class Subscriber:
    """This process's one subscription to the channels its hub watches.

    With Redis it is one connection for every channel, re-established (and every channel
    re-subscribed) after Redis goes away; `on_reset` then tells the hub that events may have
    been lost meanwhile.
    """

    def __init__(
        self,
        receive: Callable[[str, str], None],
        on_reset: Callable[[], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.receive = receive
        self.on_reset = on_reset
        self.loop = loop
        self.channels: set[str] = set()
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        if uses_redis():
            self._task = loop.create_task(self._run())
        with _local_lock:
            _local_receivers[id(loop)] = (loop, self._receive_local)

    def _receive_local(self, channel: str, data: str) -> None:
        if channel in self.channels:
            self.receive(channel, data)

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(_full(channel))
            except Exception:  # The run loop reconnects and subscribes to every channel again.
                logger.info("subscribe to %s failed; will resubscribe", channel, exc_info=True)
        self._wake.set()

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(_full(channel))
            except Exception:
                logger.info("unsubscribe from %s failed", channel, exc_info=True)

    async def _run(self) -> None:
        from redis import asyncio as aioredis

        delay = 0.1
        first = True
        while True:
            client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                if not self.channels:
                    self._wake.clear()
                    await self._wake.wait()
                initial = set(self.channels)
                await pubsub.subscribe(*[_full(c) for c in initial])
                self._pubsub = pubsub
                late = self.channels - initial  # watched while the subscription was being made
                if late:
                    await pubsub.subscribe(*[_full(c) for c in late])
                if not first:
                    self.on_reset()
                first, delay = False, 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is None:
                        if not self.channels:
                            break  # Idle: drop the connection until a channel is watched again.
                        continue
                    if message.get("type") == "message":
                        data = message["data"].decode()
                        mark = _origin_mark()
                        if not data.startswith(mark):  # (our own were delivered directly)
                            self.receive(_short(message["channel"].decode()), data[len(mark) :])
            except asyncio.CancelledError:
                raise
            except Exception:
                metrics.redis_errors.labels(where="subscribe").inc()
                logger.warning("pub/sub connection lost; reconnecting in %.1fs", delay, exc_info=True)
                first = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                self._pubsub = None
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:
                    pass

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        with _local_lock:
            _local_receivers.pop(id(self.loop), None)
