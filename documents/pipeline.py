"""The per-document commit pipeline of a server process.

Ops that arrive for one document while a commit is running queue up and are committed together
by the next one (group commit: `services.submit_batch`, one transaction and one lock for the
batch), so a busy document costs a few round trips per batch, not per op. Documents commit in
parallel, each in a thread of the pool, so one busy document never holds back another. The thread
takes the next batch itself (`CommitPipeline._drain`); the event loop hears the outcomes.

A transient database failure never rejects an op: the batch is held and retried until the
database answers or `COLLAB_SUBMIT_HOLD_SECONDS` pass; then the waiters get `ServerUnavailable`,
on which the connection closes so the client resends its op after reconnecting (a resend of a
committed op is acknowledged, never applied twice).
"""

import asyncio
import contextvars
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from . import handoff, metrics, services
from .errors import CollabError, ServerUnavailable
from .loops import PerLoop
from .services.submit import SubmitRequest, SubmitResult
from .threads import TRANSIENT, forget_queries

logger = logging.getLogger(__name__)

MAX_BATCH = 100


@dataclass
class _Waiter:
    request: SubmitRequest
    future: "asyncio.Future[SubmitResult]"


@dataclass
class _Queue:
    waiting: list[_Waiter] = field(default_factory=list)
    running: bool = False


def _commit(document_id: str, requests: list[SubmitRequest]) -> list[SubmitResult | CollabError]:
    """Clean each request (an invalid one fails alone), then commit the rest as one batch."""
    outcomes: list[SubmitResult | CollabError | None] = []
    valid: list[SubmitRequest] = []
    for request in requests:
        try:
            valid.append(services.clean_request(request))
            outcomes.append(None)
        except CollabError as error:
            outcomes.append(error)
    committed = iter(services.submit_batch(document_id=document_id, requests=valid) if valid else [])
    return [outcome if outcome is not None else next(committed) for outcome in outcomes]


# Commits have threads of their own, so reads (however many a connection asks for) never make a
# document's commit wait for a free thread.
COMMIT_THREADS = ThreadPoolExecutor(
    max_workers=settings.COLLAB_COMMIT_THREADS, thread_name_prefix="commit", initializer=handoff.hand_off_here
)


class _Line:
    """How many documents wait for a commit thread. A drain with others waiting behind it goes
    to the back of the line after its batch, so a few busy documents never hold every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = 0

    def join(self) -> None:
        with self.lock:
            self.waiting += 1

    def leave(self) -> None:
        with self.lock:
            self.waiting -= 1


_line = _Line()


class _Failed(Exception):
    """A batch the database could not take (a transient error): the loop holds it and retries."""

    def __init__(self, batch: list[_Waiter], error: BaseException) -> None:
        super().__init__()
        self.batch, self.error = batch, error


class CommitPipeline:
    """Per document, one commit thread at a time takes every op queued so far and commits them
    as a batch, then takes the next batch itself: going back to the event loop between batches
    would leave the document idle for two thread hops each time (docs/performance.md)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queues: dict[str, _Queue] = {}
        self.lock = threading.Lock()  # the queues, shared by the loop and the commit threads

    async def submit(self, document_id: str, request: SubmitRequest) -> SubmitResult:
        """Commit one op with whatever else is queued for the document; raise its error."""
        waiter = _Waiter(request, self.loop.create_future())
        with self.lock:
            queue = self.queues.setdefault(document_id, _Queue())
            queue.waiting.append(waiter)
            start, queue.running = not queue.running, True
        if start:
            self.loop.create_task(self._run(document_id, queue))
        return await asyncio.shield(waiter.future)

    async def _run(self, document_id: str, queue: _Queue) -> None:
        """Drain the document's queue in a commit thread; hold a batch the database refused."""
        held: list[_Waiter] = []
        deadline = delay = 0.0
        while True:
            context = contextvars.copy_context()
            _line.join()
            try:
                if await self.loop.run_in_executor(
                    COMMIT_THREADS, context.run, self._drain, document_id, queue, held
                ):
                    held = []
                    continue  # it let another document have the thread; more is queued here
                return
            except _Failed as failed:
                held, error = failed.batch, failed.error
            if not deadline:
                deadline, delay = time.monotonic() + settings.COLLAB_SUBMIT_HOLD_SECONDS, 0.1
            if time.monotonic() + delay > deadline:
                logger.error(
                    "database unavailable for %ss; asking clients to resend",
                    settings.COLLAB_SUBMIT_HOLD_SECONDS,
                )
                self._settle(held, [ServerUnavailable()] * len(held))
                held, deadline = [], 0.0
                continue
            logger.warning(
                "database unavailable; holding %d ops for %s", len(held), document_id, exc_info=error
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _take(self, document_id: str, queue: _Queue) -> list[_Waiter]:
        """The next batch, or none: then the queue is idle (the next submit starts it again)."""
        with self.lock:
            batch, queue.waiting = queue.waiting[:MAX_BATCH], queue.waiting[MAX_BATCH:]
            if not batch:
                queue.running = False
                if self.queues.get(document_id) is queue:
                    del self.queues[document_id]
            return batch

    def _drain(self, document_id: str, queue: _Queue, held: list[_Waiter]) -> bool:
        """In a commit thread: commit batch after batch until the queue is empty (False), or
        until another document waits for a thread (True: ops are still queued here)."""
        _line.leave()
        batch = held or self._take(document_id, queue)
        while batch:
            try:
                forget_queries()
                outcomes: list[Any] = _commit(document_id, [w.request for w in batch])
            except TRANSIENT as error:
                connection.close()  # broken: the retry opens a fresh one
                raise _Failed(batch, error) from None
            except CollabError as error:
                outcomes = [error] * len(batch)
            except Exception as error:  # a bug: every waiter of the batch hears it
                logger.exception("commit of %s failed", document_id)
                outcomes = [error] * len(batch)
            else:
                metrics.commit_batch_size.observe(len(batch))
                metrics.ops_committed.inc(
                    sum(isinstance(o, SubmitResult) and not o.duplicate for o in outcomes)
                )
            # (After the broadcast's own call_soon_threadsafe: the hub's delivery comes first.)
            try:
                self.loop.call_soon_threadsafe(self._settle, batch, outcomes)
            except RuntimeError:  # the loop is closed: the process is stopping, nobody waits
                return False
            if _line.waiting and queue.waiting:  # (only this thread takes from the queue)
                return True
            batch = self._take(document_id, queue)
        return False

    @staticmethod
    def _settle(batch: list[_Waiter], outcomes: list[Any]) -> None:
        for waiter, outcome in zip(batch, outcomes):
            if waiter.future.done():
                continue
            if isinstance(outcome, BaseException):
                waiter.future.set_exception(outcome)
            else:
                waiter.future.set_result(outcome)


_pipelines: PerLoop[CommitPipeline] = PerLoop(CommitPipeline)


def get_pipeline() -> CommitPipeline:
    """The pipeline of the running event loop."""
    return _pipelines.get()
