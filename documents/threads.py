"""Database calls from the event loop, in a thread of a pool.

Channels' `database_sync_to_async` closes "old" connections around every call, and with health
checks on that costs a `SELECT 1` round trip per call: the largest single cost of a busy
connection's reads. Here a pool thread keeps its connection; a call that finds it broken (the
database restarted) closes it and runs once more on a fresh one.
"""

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, reset_queries

P = ParamSpec("P")
R = TypeVar("R")

TRANSIENT = (OperationalError, InterfaceError)


def forget_queries() -> None:
    """With DEBUG on, Django logs every query of a connection until a request starts; a kept
    connection serves no request, so its log would grow to 9,000 queries (~1 MiB per thousand)."""
    if settings.DEBUG:
        reset_queries()


def _on_kept_connection(func: Callable[P, R], retry: bool) -> Callable[P, R]:
    @wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        forget_queries()
        try:
            return func(*args, **kwargs)
        except TRANSIENT:
            connection.close()
            if not retry or connection.in_atomic_block:
                raise
        return func(*args, **kwargs)

    return run


def in_thread(
    func: Callable[P, R], *, executor: ThreadPoolExecutor | None = None, retry: bool = True
) -> Callable[P, Awaitable[R]]:
    """Run `func` in a pool thread that keeps its database connection (see the module's doc)."""
    return SyncToAsync(_on_kept_connection(func, retry), thread_sensitive=False, executor=executor)  # type: ignore[return-value]
