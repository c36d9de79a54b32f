"""The garbage collector's settings for a web process.

A server process keeps many long-lived objects (Django's modules, URL patterns and settings; per
connection a protocol, a consumer, buckets and queues) and allocates short-lived ones at a high
rate (frames, deltas, records). CPython's default (a young collection every 700 net
allocations) makes the collector walk the young objects again and again under load, and every full
collection walks everything alive. So once the application is built, what exists is frozen (moved
to a generation the collector never walks), and young collections run less often
(`COLLAB_GC_THRESHOLD`, CPython's three thresholds; `700,10,10` restores its default). Garbage
without cycles is freed by reference counting either way; only cycles wait for a collection.
"""

import gc
import logging
import sys

from django.conf import settings

logger = logging.getLogger(__name__)


def install() -> None:
    """Under daphne, once the reactor runs (everything of start-up exists by then)."""
    if "twisted.internet.reactor" not in sys.modules or not settings.COLLAB_GC_THRESHOLD:
        return
    from twisted.internet import reactor

    reactor.callWhenRunning(_tune)


def _tune() -> None:
    thresholds = tuple(settings.COLLAB_GC_THRESHOLD)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    logger.debug("gc: %d objects frozen, thresholds %s", gc.get_freeze_count(), thresholds)
