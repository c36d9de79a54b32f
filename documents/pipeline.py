"""The per-document commit pipeline of a server process.

Ops that arrive for one document while a commit is running queue up and are committed together
by the next one (group commit: `services.submit_batch`, one transaction and one lock for the
batch), so a busy document costs a few round trips per batch, not per op. Documents commit in
parallel, each in a thread of the pool, so one busy document never holds back another.

A transient database failure never rejects an op: the batch is held and retried until the
database answers or `COLLAB_SUBMIT_HOLD_SECONDS` pass; then the waiters get `ServerUnavailable`,
on which the connection closes so the client resends its op after reconnecting (a resend of a
committed op is acknowledged, never applied twice).
"""

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from . import handoff, metrics, services
from .errors import CollabError, ServerUnavailable
from .loops import PerLoop
from .services.submit import SubmitRequest, SubmitResult
from .threads import TRANSIENT, in_thread

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
# document's commit wait for a free thread. A broken connection fails the batch with a transient
# error (no retry inside: the pipeline holds the batch and tries again with backoff).
COMMIT_THREADS = ThreadPoolExecutor(
    max_workers=settings.COLLAB_COMMIT_THREADS, thread_name_prefix="commit", initializer=handoff.hand_off_here
)
_commit_in_thread = in_thread(_commit, executor=COMMIT_THREADS, retry=False)


class CommitPipeline:
    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}

    async def submit(self, document_id: str, request: SubmitRequest) -> SubmitResult:
        """Commit one op with whatever else is queued for the document; raise its error."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(request, loop.create_future())
        queue = self.queues.setdefault(document_id, _Queue())
        queue.waiting.append(waiter)
        if not queue.running:
            queue.running = True
            loop.create_task(self._drain(document_id, queue))
        return await asyncio.shield(waiter.future)

    async def _drain(self, document_id: str, queue: _Queue) -> None:
        try:
            while queue.waiting:
                batch, queue.waiting = queue.waiting[:MAX_BATCH], queue.waiting[MAX_BATCH:]
                try:
                    outcomes: list[Any] = await self._commit_held(document_id, [w.request for w in batch])
                    metrics.commit_batch_size.observe(len(batch))
                    metrics.ops_committed.inc(
                        sum(isinstance(o, SubmitResult) and not o.duplicate for o in outcomes)
                    )
                except Exception as error:  # Unavailable for too long, or a bug: every waiter hears it.
                    outcomes = [error] * len(batch)
                for waiter, outcome in zip(batch, outcomes):
                    if waiter.future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        waiter.future.set_exception(outcome)
                    else:
                        waiter.future.set_result(outcome)
        finally:
            queue.running = False
            if not queue.waiting and self.queues.get(document_id) is queue:
                del self.queues[document_id]

    async def _commit_held(self, document_id: str, requests: list[SubmitRequest]) -> list[Any]:
        deadline = time.monotonic() + settings.COLLAB_SUBMIT_HOLD_SECONDS
        delay = 0.1
        while True:
            try:
                return list(await _commit_in_thread(document_id, requests))
            except TRANSIENT:
                if time.monotonic() + delay > deadline:
                    logger.error(
                        "database unavailable for %ss; asking clients to resend",
                        settings.COLLAB_SUBMIT_HOLD_SECONDS,
                    )
                    raise ServerUnavailable() from None
                logger.warning(
                    "database unavailable; holding %d ops for %s", len(requests), document_id, exc_info=True
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)


_pipelines: PerLoop[CommitPipeline] = PerLoop(lambda _loop: CommitPipeline())


def get_pipeline() -> CommitPipeline:
    """The pipeline of the running event loop."""
    return _pipelines.get()
