"""What a commit thread hands off once its transaction is committed.

After each batch the commit pipeline's threads (`documents.pipeline`) publish the ops to the
other server processes and, now and then, send a snapshot task. Neither changes what was
committed, and both are at-most-once already (a process that misses a broadcast repairs the gap
from the op log; a lost snapshot task is made up by the beat task). So in those threads they go
to the hand-off thread, which does them in order, while the commit thread takes the document's
next batch. Everywhere else (requests, the admin, tasks, commands) they run before the call
returns, as before.
"""

import logging
import os
import queue
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

_here = threading.local()


def hand_off_here() -> None:
    """A thread initializer: this thread's after-commit work goes to the hand-off thread."""
    _here.on = True


def handing_off() -> bool:
    return getattr(_here, "on", False)


class HandOff:
    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.pending = 0

    def put(self, work: Callable[[], None]) -> None:
        with self.lock:
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                self.pid = os.getpid()  # (a fork starts its own)
                self.queue = queue.SimpleQueue()
                self.pending = 0
                self.thread = threading.Thread(
                    target=self._run, args=(self.queue,), name="handoff", daemon=True
                )
                self.thread.start()
            self.pending += 1
            self.queue.put(work)

    def _run(self, work_queue: "queue.SimpleQueue[Callable[[], None]]") -> None:
        while True:
            work = work_queue.get()
            try:
                work()
            except Exception:  # Each piece handles its own failures; this is the last guard.
                logger.exception("after-commit work failed")
            finally:
                with self.lock:
                    self.pending -= 1

    def flush(self, timeout: float) -> bool:
        """Wait until everything handed off so far is done (a graceful shutdown); True if it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.pending <= 0 or self.pid != os.getpid():
                    return True
            time.sleep(0.01)
        return False


HANDOFF = HandOff()


def run_or_hand_off(work: Callable[[], None]) -> None:
    """Run `work` now, or on the hand-off thread when called from a commit thread."""
    if handing_off():
        HANDOFF.put(work)
    else:
        work()
