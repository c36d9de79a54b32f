"""Fixtures for the OT core tests (no Django, no database)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from .oracle import Oracle, node_available  # noqa: E402

_STATS = {"cases": 0, "seconds": 0.0}


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    """The Node quill-delta oracle; Node is required."""
    reason = node_available()
    if reason:
        pytest.fail(f"differential tests need the JS oracle: {reason}")
    started = time.perf_counter()
    instance = Oracle()
    try:
        yield instance
    finally:
        instance.close()
        _STATS["cases"] += instance.cases_run
        _STATS["seconds"] += time.perf_counter() - started


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if _STATS["cases"]:
        terminalreporter.write_line(
            f"ot differential: {_STATS['cases']} cases checked against quill-delta "
            f"in a session of {_STATS['seconds']:.1f}s"
        )


@pytest.fixture(scope="session")
def _end_stray_database_sessions() -> Iterator[None]:
    """Override tests/conftest.py's autouse DB fixture: the OT tests need no
    database (and must run with ``-p no:django``, where it cannot resolve)."""
    yield
