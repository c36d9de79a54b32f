"""Loaded by Python at start-up when this folder is on PYTHONPATH (bench/realtime/memory.py puts
it there for the daphne it starts): with COLLAB_MEMPROBE set, trace allocations and write a
tracemalloc snapshot to COLLAB_MEMPROBE.<n> on each SIGUSR2."""

import itertools
import os
import signal
import tracemalloc

if os.environ.get("COLLAB_MEMPROBE"):
    tracemalloc.start(int(os.environ.get("COLLAB_MEMPROBE_FRAMES", "1")))
    _count = itertools.count()

    def _dump(_signum: int, _frame: object) -> None:
        import gc

        gc.collect()
        path = f"{os.environ['COLLAB_MEMPROBE']}.{next(_count)}"
        tracemalloc.take_snapshot().dump(path + ".tmp")
        os.replace(path + ".tmp", path)

    signal.signal(signal.SIGUSR2, _dump)
