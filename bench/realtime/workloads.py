"""The workloads (W1-W5) and one run of the load generator against one target, with the server's
CPU time over the window and its memory per connection."""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

from processes import tree_cpu_seconds, tree_rss_bytes
from systems import INITIAL, Target

HERE = Path(__file__).resolve().parent
QUICK = os.environ.get("BENCH_QUICK") == "1"
SECONDS = float(os.environ.get("BENCH_SECONDS", "3" if QUICK else "20"))
W5_SECONDS = float(os.environ.get("BENCH_W5_SECONDS", "3" if QUICK else "10"))
W4_SIZES = [100, 200] if QUICK else [1000, 2000]
# Above 80 authors the steps are a quarter to a half apart, not doubled: with doubling, two
# systems a step apart could differ by anything from 1.0x to 4x (docs/performance.md, Round 8).
W5_STEPS = [
    int(n)
    for n in os.environ.get(
        "BENCH_W5_STEPS", "5,10,20,40" if QUICK else "2,5,10,20,40,80,120,160,200,250,320,400,500,640"
    ).split(",")
]
W5_P95_LIMIT_MS = 100.0
# Unmeasured ops per document before each window (0: measure from the first, cold op).
WARMUP_OPS = int(os.environ.get("BENCH_WARMUP_OPS", "3"))


@dataclass
class Workload:
    """A layout: one list of client modes per document ("inflight", "rate" at `rate` ops/s, "idle")."""

    name: str
    layout: list[list[str]]
    seconds: float
    rate: float = 1.0
    idle_memory: bool = False
    authors: int = 0

    @property
    def clients(self) -> int:
        return sum(len(modes) for modes in self.layout)


def standard() -> list[Workload]:
    return [
        Workload("W1", [["inflight"] * 10], SECONDS),
        Workload("W2", [["rate"] * 50], SECONDS, rate=2),
        # Issue 9's W3: W1's clients (one op in flight each), 5 on each of 20 documents.
        Workload("W3", [["inflight"] * 5 for _ in range(20)], SECONDS),
        *(Workload(f"W4-{n}", [["rate"] + ["idle"] * n], SECONDS, idle_memory=True) for n in W4_SIZES),
    ]


def w5(authors: int) -> Workload:
    return Workload(f"W5-{authors}", [["rate"] * authors], W5_SECONDS, authors=authors)


def run(
    target: Target,
    workload: Workload,
    *,
    log_dir: Path,
    profile: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run the load generator once; return the row for the table (`on_ready`: called once every
    client is connected and subscribed, before the window)."""
    if workload.idle_memory:
        target.restart()  # memory per connection is measured on a fresh process
    specs = target.prepare(workload.layout)
    for spec in specs:
        spec["rate"] = workload.rate
    config = {
        "url": target.ws_url,
        "affinity": target.affinity,
        "origin": target.origin,
        "seconds": workload.seconds,
        "clients": specs,
        "create": target.create,
        "initial": INITIAL,
        "warmup_ops": WARMUP_OPS,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, prefix="collab-bench-") as file:
        json.dump(config, file)
    rss_before = tree_rss_bytes(target.rss_pids())
    log = open(log_dir / "loadgen.log", "ab")
    proc = subprocess.Popen(
        ["node", str(HERE / "loadgen.js"), file.name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        cwd=HERE,
        text=True,
        start_new_session=True,
    )
    # A run that hangs is ended: connect, window, drain and convergence all have their own limits.
    watchdog = threading.Timer(workload.seconds + 300, lambda: os.killpg(proc.pid, signal.SIGKILL))
    watchdog.start()
    marks: dict[str, float] = {}
    result: dict[str, Any] = {"fatal": "no result"}
    spy: subprocess.Popen[bytes] | None = None
    try:
        assert proc.stdout and proc.stdin
        for line in proc.stdout:
            if line.startswith("@@ready"):
                marks["rss"] = tree_rss_bytes(target.rss_pids())
                if on_ready:
                    on_ready()
                proc.stdin.write("go\n")
                proc.stdin.flush()
            elif line.startswith("@@start"):
                marks["cpu0"], marks["t0"] = tree_cpu_seconds(target.cpu_pids()), time.monotonic()
                if profile:
                    spy = start_profile(target.rss_pids()[0], workload.seconds, profile)
            elif line.startswith("@@end"):
                marks["cpu1"], marks["t1"] = tree_cpu_seconds(target.cpu_pids()), time.monotonic()
            elif line.startswith("@@result "):
                result = json.loads(line[len("@@result ") :])
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if spy:
            spy.wait(timeout=60)
        os.unlink(file.name)
    return row(target, workload, result, marks, rss_before)


def row(
    target: Target, workload: Workload, result: dict[str, Any], marks: dict[str, float], rss_before: int
) -> dict[str, Any]:
    base = {"workload": workload.name, "system": target.name, "clients": workload.clients}
    if "fatal" in result or "cpu1" not in marks:
        return {
            **base,
            "fatal": result.get("fatal", "no window"),
            "errors": result.get("errors", 1),
            "error_samples": result.get("error_samples"),
            "converged": False,
        }
    acked = result["acked_in_window"]
    cpu = marks["cpu1"] - marks["cpu0"]
    stored = target.stored_state_matches(result["docs"])
    idle = workload.clients - 1
    return {
        **base,
        "ops_per_s": acked / workload.seconds,
        "ack_p50": result["ack"]["p50"],
        "ack_p95": result["ack"]["p95"],
        "ack_p99": result["ack"]["p99"],
        "bcast_p50": result["broadcast"]["p50"],
        "bcast_p99": result["broadcast"]["p99"],
        "bcast_samples": result["broadcast"]["n"],
        "per_op": result.get("per_op"),
        "window_epoch_ms": result.get("window_epoch_ms"),
        "cpu_us_per_op": cpu / acked * 1e6 if acked else None,
        "server_cpu_pct": cpu / (marks["t1"] - marks["t0"]) * 100,
        "rss_kb_per_idle": (marks["rss"] - rss_before) / idle / 1024 if workload.idle_memory else None,
        "errors": result["errors"],
        "error_samples": result["error_samples"],
        "converged": bool(result["converged"] and stored),
        "converge_ms": result["converge_ms"],
        "stored_matches": stored,
        "drain_ms": result["drain_ms"],
        "connect_ms": result["connect_ms"],
        "loadgen_cpu_pct": result["loadgen_cpu"] * 100,
    }


def start_profile(pid: int, seconds: float, path: Path) -> subprocess.Popen[bytes]:
    """py-spy, sampling every thread of the process for the window, as collapsed stacks (with
    BENCH_PROFILE_GIL=1 only the thread holding the GIL: where the process's Python time goes)."""
    spy = Path(os.environ.get("VIRTUAL_ENV", HERE.parent.parent / ".venv")) / "bin" / "py-spy"
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "100",
            "--format",
            "raw",
            "--threads",
            *(["--gil"] if os.environ.get("BENCH_PROFILE_GIL") == "1" else []),
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
