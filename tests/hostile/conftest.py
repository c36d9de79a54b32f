"""The hostile-input catalogue: shared fixtures, and a count of its named cases.

Users and documents are the consumer tests' (olga owns "Plan"; ed edits, vera views, nina is not
a member). Every case is a parametrized id, so `pytest tests/hostile --collect-only -q` reads as
the list, and the run ends with the catalogue's size per class.
"""

from collections import Counter
from typing import Any

import pytest
from django.test import Client

from tests.conftest import ARTIFACTS
from tests.server.conftest import cookies, document, users  # noqa: F401  (fixtures)

__all__ = ["signed_in"]

_outcomes: Counter[str] = Counter()


def signed_in(user: Any, *, csrf: bool = False) -> Client:
    """A test client with the user's session; `csrf=True` enforces the token like a browser."""
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def _case_class(item: Any) -> str:
    return str(item.path.stem).removeprefix("test_")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and "tests/hostile/" in item.nodeid:
        _outcomes[(_case_class(item), report.outcome)] += 1  # type: ignore[index]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _outcomes:
        return
    classes = sorted({name for name, _ in _outcomes})
    lines = [
        f"{name}: {sum(n for (c, _), n in _outcomes.items() if c == name)} cases,"
        f" {_outcomes[(name, 'passed')]} passed"
        for name in classes
    ]
    total = sum(_outcomes.values())
    lines.append(
        f"hostile-input catalogue: {total} cases, {sum(n for (_, o), n in _outcomes.items() if o == 'passed')} passed"
    )
    terminalreporter.write_sep("-", "hostile-input catalogue")
    for line in lines:
        terminalreporter.write_line(line)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "hostile-catalogue.txt").write_text("\n".join(lines) + "\n")
