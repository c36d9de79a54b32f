"""Graceful restarts of a web process: SIGTERM drains instead of dropping.

A platform restart sends SIGTERM, then SIGKILL after a grace period (30 s on Heroku). On SIGTERM
the process:
1. stops listening, and `/readyz` answers 503, so the balancer sends new connections elsewhere;
2. stops handling new frames (an op not yet received is resent by its client after reconnecting);
3. lets every frame already being handled finish, so each op in the commit pipeline is committed
   and its ack queued;
4. closes every socket with `CLOSE_RESTARTING` behind what is queued, so clients reconnect at
   once (to another process) and resend whatever was not acknowledged;
5. stops the reactor.
A step that outlasts `COLLAB_SHUTDOWN_SECONDS` is cut short; what was not acknowledged is resent.
"""

import asyncio
import logging
import signal
import sys
from typing import Any

from django.conf import settings

from . import metrics

logger = logging.getLogger(__name__)


class _State:
    draining = False


state = _State()


def draining() -> bool:
    return state.draining


def install() -> None:
    """Under daphne, take SIGTERM once Twisted has installed its own handlers."""
    if "twisted.internet.reactor" not in sys.modules:
        return
    from twisted.internet import reactor

    reactor.callWhenRunning(_take_sigterm, reactor)


def _take_sigterm(reactor: Any) -> None:
    metrics.forget_dead_processes()
    loop = reactor._asyncioEventloop

    def on_sigterm(signum: int, frame: Any) -> None:
        loop.call_soon_threadsafe(lambda: loop.create_task(drain(reactor)))

    signal.signal(signal.SIGTERM, on_sigterm)


async def drain(reactor: Any) -> None:
    """Finish what is in flight, tell every client to reconnect now, then stop."""
    if state.draining:
        return
    state.draining = True
    logger.info("SIGTERM: draining connections")
    from twisted.internet import tcp

    for reader in list(reactor.getReaders()):
        if isinstance(reader, tcp.Port):
            reader.stopListening()
    from .broadcast.hub import live_hubs

    connections = [c for hub in live_hubs() for c in hub.connections()]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(c.close_for_restart() for c in connections), return_exceptions=True),
            settings.COLLAB_SHUTDOWN_SECONDS,
        )
    except TimeoutError:
        logger.warning("drain cut short after %ss", settings.COLLAB_SHUTDOWN_SECONDS)
    # What the commit threads handed off (the last batches' broadcasts to other processes).
    from .handoff import HANDOFF

    await asyncio.get_running_loop().run_in_executor(None, HANDOFF.flush, 2.0)
    logger.info("drained %d connections; stopping", len(connections))
    metrics.process_exiting()
    reactor.stop()
