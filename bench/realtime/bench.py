"""Side-by-side real-time benchmark: collab (1 and 2 daphne processes, the 2 behind HAProxy by
round-robin and by document) against ShareDB 7 (in memory,
and on sharedb-postgres + sharedb-redis-pubsub), real sharedb clients, the same run, alternating.

    make bench-realtime                          # the default run, ~25 minutes on 2 cores
    BENCH_QUICK=1 make bench-realtime            # a smoke run: short windows, fewer subscribers
    BENCH_SYSTEMS=collab-1p,sharedb-mem BENCH_WORKLOADS=W1,W5 make bench-realtime

Environment: BENCH_SECONDS (window, default 20), BENCH_W5_SECONDS (each W5 step, default 10),
BENCH_OUT (directory for the JSON and Markdown table, default artifacts/), BENCH_LABEL (file name
part, default "run"), BENCH_PROFILE=0 (skip the py-spy profile of collab), BENCH_PROFILE_WORKLOAD
(the workload profiled on collab-1p, default W1; e.g. W4-1000), BENCH_PROFILE_GIL=1 (sample only
the thread holding the GIL), BENCH_W5_STEPS (W5's author counts, comma-separated), BENCH_PG_OPTS
(extra settings of the private PostgreSQL, space-separated, e.g. "log_min_duration_statement=0").
See docs/performance.md for what each workload and column means.
"""

import os
import shutil
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
import workloads  # noqa: E402
from processes import PrivatePostgres, PrivateRedis  # noqa: E402
from systems import Collab, ShareDBTarget, Target  # noqa: E402

ROOT = HERE.parent.parent
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "artifacts"))
LABEL = os.environ.get("BENCH_LABEL", "run")
SYSTEMS = os.environ.get("BENCH_SYSTEMS", "collab-1p,collab-2p,collab-2p-doc,sharedb-pg,sharedb-mem").split(
    ","
)
WORKLOADS = os.environ.get("BENCH_WORKLOADS", "W1,W2,W3,W4,W5").split(",")
PROFILE_WORKLOAD = os.environ.get("BENCH_PROFILE_WORKLOAD", "W1")
PROFILE = (
    os.environ.get("BENCH_PROFILE", "1") == "1"
    and shutil.which("py-spy", path=str(Path(sys.executable).parent)) is not None
)
T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.0f} s] {message}", flush=True)


def brief(row: dict[str, Any]) -> str:
    if row.get("fatal"):
        return f"FAILED: {row['fatal'][:300]}"
    return (
        f"{row['ops_per_s']:.0f} ops/s, ack p50/p99 {row['ack_p50'] or 0:.0f}/{row['ack_p99'] or 0:.0f} ms, "
        f"bcast p99 {row['bcast_p99'] or 0:.0f} ms, errors {row['errors']}, converged {row['converged']}"
    )


def run_all(targets: list[Target]) -> list[dict[str, Any]]:
    rows = []
    wanted = [w for w in workloads.standard() if w.name.split("-")[0] in WORKLOADS]
    for workload in wanted:
        for target in targets:
            progress(
                f"{workload.name} on {target.name} ({workload.clients} clients, {workload.seconds:.0f} s)"
            )
            rows.append(workloads.run(target, workload, log_dir=OUT))
            progress(f"  {brief(rows[-1])}")
    if "W5" in WORKLOADS:
        for target in targets:
            for authors in workloads.W5_STEPS:
                progress(f"W5 on {target.name}: {authors} authors at 1 op/s")
                rows.append(workloads.run(target, workloads.w5(authors), log_dir=OUT))
                last = rows[-1]
                progress(f"  {brief(last)}, ack p95 {last.get('ack_p95') or 0:.0f} ms")
                if last.get("fatal") or (last["ack_p95"] or 0) > workloads.W5_P95_LIMIT_MS:
                    break
                if last["loadgen_cpu_pct"] >= 90:
                    progress("  the load generator is CPU-bound: W5 stops here for this system")
                    break
    return rows


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs every finally below
    started = datetime.now(timezone.utc)
    stoppers: list[Any] = []
    try:
        progress("starting a private PostgreSQL and Redis")
        postgres = PrivatePostgres(OUT).start()
        stoppers.append(postgres.stop)
        redis = PrivateRedis(OUT).start()
        stoppers.append(redis.stop)
        targets: list[Target] = []
        chosen = [w for w in workloads.standard() if w.name.split("-")[0] in WORKLOADS]
        if "W5" in WORKLOADS:
            chosen.append(workloads.w5(workloads.W5_STEPS[-1]))
        population = max(w.clients for w in chosen)
        if any(s.startswith("collab") for s in SYSTEMS):
            progress(f"starting collab (2 daphne, HAProxy, Celery) and {population} users with sessions")
            collab = Collab(postgres, redis, OUT, population)
            stoppers.append(collab.close)
            targets += [t for t in collab.targets() if t.name in SYSTEMS]
        if "sharedb-pg" in SYSTEMS:
            progress("starting ShareDB + sharedb-postgres + sharedb-redis-pubsub")
            durable = ShareDBTarget("sharedb-pg", OUT, postgres, redis)
            stoppers.append(durable.close)
            targets.append(durable)
        if "sharedb-mem" in SYSTEMS:
            progress("starting ShareDB in memory")
            memory = ShareDBTarget("sharedb-mem", OUT)
            stoppers.append(memory.close)
            targets.append(memory)
        rows = run_all(targets)
        profile_text = None
        collab_1p = next((t for t in targets if t.name == "collab-1p"), None)
        profiled = next((w for w in workloads.standard() if w.name == PROFILE_WORKLOAD), None)
        if PROFILE and collab_1p and profiled and profiled.name.split("-")[0] in WORKLOADS:
            path = OUT / f"profile-{LABEL}.txt"
            progress(f"{profiled.name} on collab-1p again under py-spy -> {path}")
            workloads.run(collab_1p, profiled, log_dir=OUT, profile=path)
            profile_text = report.profile_summary(path, workloads.SECONDS)
    finally:
        for stop in reversed(stoppers):
            try:
                stop()
            except Exception as exc:  # keep stopping the rest
                print(f"while stopping: {exc!r}", file=sys.stderr)
    header = [title for _, title, _ in report.COLUMNS]
    print()
    print(report.text_table(header, report.table(rows)))
    items = report.ratios(rows, workloads.W4_SIZES)
    print()
    print("Targets (issue 9, point 2), collab / ShareDB from this run:")
    print(report.text_table(["collab", "target", "ratio", ""], report.ratio_lines(items)))
    for system, entry in report.w5_crossings(rows).items():
        bound = " (load generator CPU-bound)" if entry["loadgen_bound"] else ""
        crossed = entry["authors"] or f"> {entry['max_tried']}"
        print(
            f"W5 {system}: ack p95 > 100 ms at {crossed} authors (last below: {entry['last_below']}){bound}"
        )
    if profile_text:
        print()
        print(profile_text)
    meta = {
        "command": " ".join(f"{k}={os.environ[k]}" for k in sorted(os.environ) if k.startswith("BENCH_"))
        + " make bench-realtime",
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}",
        "seconds": workloads.SECONDS,
        "minutes": round((time.monotonic() - T0) / 60, 1),
    }
    json_path, md_path = report.write(OUT, LABEL, meta, rows, items, profile_text)
    print(f"\nwrote {json_path} and {md_path} ({meta['minutes']} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
