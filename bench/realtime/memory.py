"""Where an idle connection's memory goes: collab's daphne under tracemalloc, before and after N
idle sharedb clients subscribe to one document, the difference per connection grouped by the
code that allocated it.

    make bench-memory                    # N=500 (BENCH_MEMORY_CLIENTS), ~2 minutes

It prints RSS per connection (the figure of the W4 table) beside tracemalloc's per-connection
bytes by allocating file and by allocating line; tracemalloc slows the server and sees only
Python's own allocations, so its total is below RSS: read it as shares, not as a second figure.
"""

import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402
from processes import PrivatePostgres, PrivateRedis, tree_rss_bytes  # noqa: E402
from systems import Collab  # noqa: E402

ROOT = HERE.parent.parent
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "artifacts"))
CLIENTS = int(os.environ.get("BENCH_MEMORY_CLIENTS", "500"))


def snapshot(pid: int, path: Path) -> tracemalloc.Snapshot:
    """Ask the server for a snapshot (memprobe/sitecustomize.py) and load it."""
    before = set(path.parent.glob(path.name + ".*"))
    os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        fresh = [p for p in path.parent.glob(path.name + ".*") if p not in before and p.suffix != ".tmp"]
        if fresh:
            return tracemalloc.Snapshot.load(str(fresh[0]))
        time.sleep(0.5)
    raise RuntimeError("the server wrote no snapshot")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    probe = OUT / "memprobe"
    for old in OUT.glob("memprobe.*"):
        old.unlink()
    postgres = PrivatePostgres(OUT).start()
    redis = PrivateRedis(OUT).start()
    collab = None
    try:
        collab = Collab(postgres, redis, OUT, CLIENTS + 50)
        target = next(t for t in collab.targets() if t.name == "collab-1p")
        server = target.servers[0]
        server.env.update({"PYTHONPATH": str(HERE / "memprobe"), "COLLAB_MEMPROBE": str(probe)})
        server.stop()
        server.start()
        assert server.process is not None
        pid = server.process.pid
        # Warm up (imports, caches, the first sessions), then the baseline with nobody connected.
        warm = workloads.Workload("warm-up", [["rate"] + ["idle"] * 20], 2, idle_memory=False)
        workloads.run(target, warm, log_dir=OUT)
        time.sleep(2)
        baseline = snapshot(pid, probe)
        rss_before = tree_rss_bytes([pid])
        taken: dict[str, tracemalloc.Snapshot] = {}

        def at_ready() -> None:
            taken["loaded"] = snapshot(pid, probe)
            taken["rss"] = tree_rss_bytes([pid])  # type: ignore[assignment]

        idle = workloads.Workload("idle", [["rate"] + ["idle"] * CLIENTS], 2, idle_memory=False)
        workloads.run(target, idle, log_dir=OUT, on_ready=at_ready)
        connections = CLIENTS + 1
        rss = (int(taken["rss"]) - rss_before) / connections  # type: ignore[call-overload]
        print(f"{connections} connections: RSS {rss / 1024:.1f} kB per connection (under tracemalloc)")
        for key in ("filename", "lineno"):
            stats = taken["loaded"].compare_to(baseline, key)
            total = sum(s.size_diff for s in stats)
            print(f"\ntracemalloc: {total / connections / 1024:.1f} kB per connection; by {key}:")
            for stat in stats[:25]:
                if stat.size_diff <= 0:
                    continue
                frame = stat.traceback[0]
                where = f"{frame.filename.split('site-packages/')[-1].split('/work/main/')[-1]}"
                if key == "lineno":
                    where += f":{frame.lineno}"
                print(
                    f"  {stat.size_diff / connections:8.0f} B  {stat.count_diff / connections:6.1f} blocks  {where}"
                )
    finally:
        if collab is not None:
            collab.close()
        redis.stop()
        postgres.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
