"""The real-time benchmark's harness, end to end on its smallest run: W1 on one collab process
(production settings, private PostgreSQL and Redis, a Celery worker) with real sharedb clients.
Figures are not asserted (they belong to the benchmark); that it runs, converges and reports is."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration
BENCH = ROOT / "bench" / "realtime"


def install_bench_packages() -> None:
    if not (BENCH / "node_modules" / "sharedb").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH, check=True, timeout=300
        )


def test_quick_w1_on_collab_converges_and_prints_the_table(tmp_path: Path) -> None:
    install_bench_packages()
    env = {
        **os.environ,
        "BENCH_QUICK": "1",
        "BENCH_SYSTEMS": "collab-1p",
        "BENCH_WORKLOADS": "W1",
        "BENCH_PROFILE": "0",
        "BENCH_OUT": str(tmp_path),
        "BENCH_LABEL": "smoke",
    }
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench.py")], env=env, capture_output=True, text=True, timeout=170
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "CPU µs/op" in proc.stdout and "every run converged within 1 s" in proc.stdout, proc.stdout
    rows = json.loads((tmp_path / "realtime-smoke.json").read_text())["rows"]
    assert [(r["workload"], r["system"]) for r in rows] == [("W1", "collab-1p")]
    (row,) = rows
    assert row["errors"] == 0, row
    # Every client and a fresh fetch agree, and equal the database (how fast is the benchmark's figure).
    assert row["converge_ms"] is not None and row["stored_matches"], row
    assert row["ops_per_s"] > 0 and row["cpu_us_per_op"] > 0, row
    assert "| W1 | collab-1p | 10 |" in (tmp_path / "realtime-smoke.md").read_text()
