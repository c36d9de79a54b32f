"""Differential tests: every OT function against quill-delta on Node.

Each Hypothesis example is a batch of cases sent to the oracle in one round
trip; Python results must be JSON-equal to JavaScript's.  Python-only
properties (convergence, compose law, invert, diff) are checked on the same
inputs.  Size: OT_FUZZ_EXAMPLES (default 2000) cases per test.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from documents.ot import Delta, rich_text, utf16
from documents.ot import fastdiff
from documents.ot.delta import transform_single_edits

from .oracle import Oracle, assert_same, canon, dump
from .strategies import (
    FUZZ,
    SEED,
    attribute_maps,
    doc_and_op,
    doc_and_sequential_ops,
    doc_and_two_concurrent_ops,
    doc_and_two_single_edits,
    diff_texts,
    documents,
    edited_text_pairs,
    embeds,
    ops_for,
    text_chunks,
)

Case = Dict[str, Any]


class Raised:
    """Python raised ``InvalidDelta`` (or another ``ValueError``): JS must throw too."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"Raised({self.error!r})"


def attempt(function: Callable[[], Any]) -> Any:
    try:
        return function()
    except ValueError as error:  # InvalidDelta, fastdiff.DiffDoesNotTerminate
        return Raised(error)


def check(oracle: Oracle, cases: List[Case], python: List[Any]) -> None:
    """Run ``cases`` in JS and compare with the Python results, in order."""
    for case, py, js in zip(cases, python, oracle.run(cases)):
        if isinstance(py, Raised) or "error" in js:
            assert isinstance(py, Raised) and "error" in js, (
                f"one side raised: {dump(case)}: py={py!r} js={js!r}"
            )
            continue
        assert_same(py, js["ok"], case)


def differential(oracle: Oracle, strategy: Any, make: Callable[..., Tuple[List[Case], List[Any]]]) -> None:
    """Generate inputs with Hypothesis, then check all their cases in JS at once.

    ``make(inputs)`` returns ``(cases, python_results)`` and may assert
    Python-only properties (those shrink normally).  The JavaScript
    comparison runs afterwards as one pipelined batch, so the oracle is not
    the bottleneck; a mismatch reports the exact case JSON.
    """
    cases: List[Case] = []
    python: List[Any] = []

    @FUZZ
    @given(strategy)
    def collect(inputs: Any) -> None:
        new_cases, new_python = make(inputs)
        cases.extend(new_cases)
        python.extend(new_python)

    if SEED is not None:
        print(f"OT_FUZZ_SEED={SEED}")
        collect = seed(SEED)(collect)
    collect()
    check(oracle, cases, python)


def _apply(doc: List[Any], op: List[Any]) -> List[Any]:
    return rich_text.apply(doc, op)


# ------------------------------------------------------------------ compose


def test_compose_and_apply(oracle: Oracle) -> None:
    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        doc, a, b = inputs
        cases: List[Case] = []
        python: List[Any] = []
        cases += [
            {"cmd": "compose", "a": a, "b": b},
            {"cmd": "apply", "snapshot": doc, "op": a},
            {"cmd": "delta", "lib": "5", "method": "compose", "ops": a, "args": [{"$delta": b}]},
        ]
        python += [rich_text.compose(a, b), rich_text.apply(doc, a), Delta(a).compose(Delta(b)).ops]
        # compose law: (doc . a) . b == doc . (a . b)
        assert canon(_apply(_apply(doc, a), b)) == canon(_apply(doc, rich_text.compose(a, b)))
        return cases, python

    differential(oracle, doc_and_sequential_ops(), make)


# ------------------------------------------------------------------ transform


@st.composite
def transform_inputs(draw: Any) -> Tuple[Any, Any, Any, int, Dict[str, Any]]:
    doc, a, b = draw(doc_and_two_concurrent_ops())
    size = rich_text.length(doc)
    index = draw(st.integers(0, size + 2))
    presence: Dict[str, Any] = {"index": draw(st.integers(0, size)), "length": draw(st.integers(0, 4))}
    if draw(st.booleans()):
        presence["extra"] = "kept"
    return doc, a, b, index, presence


def test_transform(oracle: Oracle) -> None:
    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        doc, a, b, index, presence = inputs
        cases: List[Case] = []
        python: List[Any] = []
        for side in ("left", "right"):
            cases.append({"cmd": "transform", "a": a, "b": b, "side": side})
            python.append(rich_text.transform(a, b, side))
        for priority in (True, False):
            cases.append(
                {
                    "cmd": "delta",
                    "lib": "5",
                    "method": "transform",
                    "ops": a,
                    "args": [{"$delta": b}, priority],
                }
            )
            python.append(Delta(a).transform(Delta(b), priority).ops)
            cases.append(
                {
                    "cmd": "delta",
                    "lib": "4",
                    "method": "transformPosition",
                    "ops": a,
                    "args": [index, priority],
                }
            )
            python.append(Delta(a).transform_position(index, priority))
        for own in (True, False):
            cases.append({"cmd": "transformCursor", "cursor": index, "op": a, "isOwn": own})
            python.append(rich_text.transform_cursor(index, a, own))
            cases.append({"cmd": "transformPresence", "range": presence, "op": a, "isOwn": own})
            python.append(rich_text.transform_presence(presence, a, own))
        # convergence (TP1)
        left = _apply(_apply(doc, b), rich_text.transform(a, b, "left"))
        right = _apply(_apply(doc, a), rich_text.transform(b, a, "right"))
        assert canon(left) == canon(right), (doc, a, b)
        return cases, python

    differential(oracle, transform_inputs(), make)


def test_transform_of_single_edits(oracle: Oracle) -> None:
    """Keystrokes take `rich_text.transform`'s direct path: the same results as quill-delta, and
    as the general algorithm, whenever the direct path answers."""

    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        doc, a, b = inputs
        cases: List[Case] = []
        python: List[Any] = []
        for side in ("left", "right"):
            cases.append({"cmd": "transform", "a": a, "b": b, "side": side})
            python.append(rich_text.transform(a, b, side))
            direct = transform_single_edits(b, a, side == "left")
            assert direct is None or direct == Delta(b).transform(Delta(a), side == "left").ops, (a, b)
        left = _apply(_apply(doc, b), rich_text.transform(a, b, "left"))
        right = _apply(_apply(doc, a), rich_text.transform(b, a, "right"))
        assert canon(left) == canon(right), (doc, a, b)
        return cases, python

    differential(oracle, doc_and_two_single_edits(), make)


# ------------------------------------------------------------------ invert


def test_invert(oracle: Oracle) -> None:
    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        doc, op = inputs
        cases: List[Case] = []
        python: List[Any] = []
        inverted = rich_text.invert(op, doc)
        for lib in ("4", "5"):
            cases.append({"cmd": "invert", "op": op, "base": doc, "lib": lib})
            python.append(inverted)
        assert canon(_apply(_apply(doc, op), inverted)) == canon(_apply(doc, [])), (doc, op)
        return cases, python

    differential(oracle, doc_and_op(), make)


# ------------------------------------------------------------------ diff


@st.composite
def diff_inputs(draw: Any) -> Tuple[Any, Any]:
    if draw(st.booleans()):
        doc, op = draw(doc_and_op())
        return doc, _apply(doc, op)
    return draw(documents()), draw(documents())


def test_diff(oracle: Oracle) -> None:
    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        doc1, doc2 = inputs
        cases: List[Case] = []
        python: List[Any] = []
        result = attempt(lambda: rich_text.diff(doc1, doc2))
        cases.append({"cmd": "diff", "a": doc1, "b": doc2})
        python.append(result)
        cases.append({"cmd": "delta", "lib": "5", "method": "diff", "ops": doc1, "args": [{"$delta": doc2}]})
        python.append(attempt(lambda: Delta(doc1).diff(Delta(doc2), cleanup=True).ops))
        if not isinstance(result, Raised):
            assert canon(_apply(doc1, result)) == canon(_apply(doc2, [])), (doc1, doc2)
        return cases, python

    differential(oracle, diff_inputs(), make)


def test_fast_diff_raw(oracle: Oracle) -> None:
    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        a, b = inputs
        cases: List[Case] = []
        python: List[Any] = []
        for lib, cleanup in (("1.2", False), ("1.3", False), ("1.3", True)):
            cases.append(
                {
                    "cmd": "fastdiff",
                    "lib": lib,
                    "a": utf16.from_units(a),
                    "b": utf16.from_units(b),
                    "cleanup": cleanup,
                }
            )
            python.append(
                attempt(lambda: [[op, utf16.from_units(t)] for op, t in fastdiff.diff(a, b, cleanup)])
            )
        return cases, python

    differential(oracle, st.one_of(st.tuples(diff_texts, diff_texts), edited_text_pairs()), make)


# ------------------------------------------------------------------ Delta API


@st.composite
def push_steps(draw: Any) -> List[List[Any]]:
    steps: List[List[Any]] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["insert", "insert", "retain", "delete", "push"]))
        attributes = draw(attribute_maps(allow_null=True))
        if kind == "insert":
            value: Any = draw(embeds) if draw(st.integers(0, 5)) == 0 else draw(text_chunks)
            steps.append(["insert", value, attributes])
        elif kind == "retain":
            steps.append(["retain", draw(st.integers(-1, 6)), attributes])
        elif kind == "delete":
            steps.append(["delete", draw(st.integers(-1, 6))])
        else:
            op = draw(
                st.sampled_from(
                    [{"insert": "ab"}, {"delete": 2}, {"retain": 3}, {"insert": {"image": "x.png"}}]
                )
            )
            if attributes and "delete" not in op:
                op = {**op, "attributes": attributes}
            steps.append(["push", op])
    if draw(st.booleans()):
        steps.append(["chop"])
    return steps


def _build(steps: List[List[Any]]) -> Delta:
    delta = Delta()
    for method, *args in steps:
        delta = getattr(delta, method)(*args)
    return delta


def test_delta_methods(oracle: Oracle) -> None:
    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        steps, (doc, op), start, end, other = inputs
        cases: List[Case] = []
        python: List[Any] = []
        cases.append({"cmd": "build", "lib": "4", "steps": steps})
        python.append(_build(steps).ops)
        cases.append({"cmd": "build", "lib": "5", "steps": steps})
        python.append(_build(steps).ops)
        for ops in (doc, op):
            cases.append({"cmd": "delta", "lib": "4", "method": "slice", "ops": ops, "args": [start, end]})
            python.append(Delta(ops).slice(start, end).ops)
            cases.append({"cmd": "delta", "lib": "4", "method": "slice", "ops": ops, "args": [start]})
            python.append(Delta(ops).slice(start).ops)
            cases.append({"cmd": "delta", "lib": "4", "method": "length", "ops": ops, "args": []})
            python.append(Delta(ops).length())
            cases.append({"cmd": "delta", "lib": "4", "method": "changeLength", "ops": ops, "args": []})
            python.append(Delta(ops).change_length())
            cases.append(
                {"cmd": "delta", "lib": "5", "method": "concat", "ops": ops, "args": [{"$delta": other}]}
            )
            python.append(Delta(ops).concat(Delta(other)).ops)
            cases.append(
                {"cmd": "delta", "lib": "4", "method": "concat", "ops": other, "args": [{"$delta": ops}]}
            )
            python.append(Delta(other).concat(Delta(ops)).ops)
        return cases, python

    differential(
        oracle,
        st.tuples(push_steps(), doc_and_op(), st.integers(0, 12), st.integers(0, 14), documents()),
        make,
    )


# ------------------------------------------------------------------ embed-retains (quill-delta 5)


class NestedDeltaHandler:
    """Same handler the oracle registers for embed type "delta"."""

    def compose(self, a: Any, b: Any, keep_null: bool) -> Any:
        return Delta(a).compose(Delta(b)).ops

    def invert(self, a: Any, b: Any) -> Any:
        return Delta(a).invert(Delta(b)).ops

    def transform(self, a: Any, b: Any, priority: bool) -> Any:
        return Delta(a).transform(Delta(b), priority).ops


@pytest.fixture()
def nested_delta_embed() -> Any:
    Delta.register_embed("delta", NestedDeltaHandler())
    yield
    Delta.unregister_embed("delta")


@st.composite
def embed_retain_inputs(draw: Any) -> Tuple[Any, Any, Any]:
    """A document with nested-delta embeds and two ops retaining into them."""
    inner_docs = [draw(documents(max_ops=2)) for _ in range(3)]
    doc: List[Any] = []
    for inner in inner_docs:
        doc.append({"insert": draw(text_chunks)})
        doc.append({"insert": {"delta": inner}})
    doc = Delta(doc).compose(Delta()).ops  # canonical

    def edit() -> List[Any]:
        ops: List[Any] = []
        for item in doc:
            if isinstance(item["insert"], dict):
                inner = item["insert"]["delta"]
                change = draw(ops_for(rich_text.length(inner), max_steps=3, canonical_only=True))
                entry: Dict[str, Any] = {"retain": {"delta": change}}
                attributes = draw(attribute_maps())
                if attributes:
                    entry["attributes"] = attributes
                ops.append(entry)
            else:
                ops.append({"retain": utf16.length(item["insert"])})
        return ops

    return doc, edit(), edit()


def test_embed_retains(oracle: Oracle, nested_delta_embed: Any) -> None:
    def make(inputs: Any) -> Tuple[List[Case], List[Any]]:
        doc, a, b = inputs
        cases: List[Case] = []
        python: List[Any] = []
        cases.append({"cmd": "delta", "lib": "5", "method": "compose", "ops": doc, "args": [{"$delta": a}]})
        python.append(Delta(doc).compose(Delta(a)).ops)
        cases.append({"cmd": "delta", "lib": "5", "method": "compose", "ops": a, "args": [{"$delta": b}]})
        python.append(Delta(a).compose(Delta(b)).ops)
        for priority in (True, False):
            cases.append(
                {
                    "cmd": "delta",
                    "lib": "5",
                    "method": "transform",
                    "ops": a,
                    "args": [{"$delta": b}, priority],
                }
            )
            python.append(Delta(a).transform(Delta(b), priority).ops)
        cases.append({"cmd": "invert", "lib": "5", "op": a, "base": doc})
        python.append(Delta(a).invert(Delta(doc)).ops)
        return cases, python

    differential(oracle, embed_retain_inputs(), make)


# ------------------------------------------------------------------ trivial type functions


def test_type_identity_functions(oracle: Oracle) -> None:
    ops = [{"insert": "a😀", "attributes": {"bold": True}}, {"insert": {"image": "x.png"}}]
    cases: List[Case] = [
        {"cmd": "create", "initial": None},
        {"cmd": "create", "initial": ops},
        {"cmd": "create", "initial": {"ops": ops}},
        {"cmd": "normalize", "op": ops},
        {"cmd": "serialize", "doc": ops},
        {"cmd": "deserialize", "ops": ops},
        {"cmd": "transformPresence", "range": None, "op": ops, "isOwn": False},
    ]
    python = [
        rich_text.create(),
        rich_text.create(ops),
        rich_text.create({"ops": ops}),
        rich_text.normalize(ops),
        rich_text.serialize(ops),
        rich_text.deserialize(ops),
        rich_text.transform_presence(None, ops, False),
    ]
    check(oracle, cases, python)
