"""Named example cases from tests/ot/cases.json (also checked in JS)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

from documents.ot import Delta, rich_text

from .oracle import FRONTEND, canon, node_available

CASES: Dict[str, Any] = json.loads((Path(__file__).with_name("cases.json")).read_text(encoding="utf-8"))


def named(group: str) -> Any:
    items: List[Dict[str, Any]] = CASES[group]
    return pytest.mark.parametrize("case", items, ids=[c["name"] for c in items])


def same(actual: Any, expected: Any) -> None:
    assert canon(actual) == canon(expected), f"got {actual!r}, expected {expected!r}"


@named("compose")
def test_compose(case: Dict[str, Any]) -> None:
    same(Delta(case["a"]).compose(Delta(case["b"])).ops, case["expected"])
    same(rich_text.compose(case["a"], case["b"]), case["expected"])


@named("transform")
def test_transform(case: Dict[str, Any]) -> None:
    same(Delta(case["a"]).transform(Delta(case["b"]), case["priority"]).ops, case["expected"])


@named("transform_position")
def test_transform_position(case: Dict[str, Any]) -> None:
    same(Delta(case["delta"]).transform_position(case["index"], case["priority"]), case["expected"])


@named("invert")
def test_invert(case: Dict[str, Any]) -> None:
    inverted = Delta(case["delta"]).invert(Delta(case["base"]))
    same(inverted.ops, case["expected"])
    base = Delta(case["base"])
    same(base.compose(Delta(case["delta"])).compose(inverted).ops, base.ops)


@named("diff")
def test_diff(case: Dict[str, Any]) -> None:
    result = rich_text.diff(case["a"], case["b"])
    same(result, case["expected"])
    same(rich_text.apply(case["a"], result), Delta(case["b"]).compose(Delta()).ops)


@named("length")
def test_length(case: Dict[str, Any]) -> None:
    assert Delta(case["ops"]).length() == case["length"] == rich_text.length(case["ops"])
    assert Delta(case["ops"]).change_length() == case["change_length"] == rich_text.change_length(case["ops"])


@named("slice")
def test_slice(case: Dict[str, Any]) -> None:
    end = case["end"] if case["end"] is not None else float("inf")
    same(Delta(case["ops"]).slice(case["start"], end).ops, case["expected"])


@named("rich_text_transform")
def test_rich_text_transform(case: Dict[str, Any]) -> None:
    same(rich_text.transform(case["op1"], case["op2"], case["side"]), case["expected"])


@named("transform_presence")
def test_transform_presence(case: Dict[str, Any]) -> None:
    same(rich_text.transform_presence(case["range"], case["op"], case["is_own"]), case["expected"])


def test_cases_hold_in_quill_delta() -> None:
    """The same file, checked by frontend/tools/check-ot-cases.js in Node."""
    reason = node_available()
    if reason:
        pytest.fail(f"the OT cases must be checked in Node: {reason}")
    result = subprocess.run(
        ["node", "tools/check-ot-cases.js"], cwd=FRONTEND, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
