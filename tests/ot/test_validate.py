"""validate_op / validate_document: every rejection class, and fuzzed hostility."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from documents.ot import InvalidDelta, Limits, rich_text, validate_document, validate_op

from .strategies import FUZZ, doc_and_op, documents

BAD_OPS = {
    "not a list": "insert",
    "null": None,
    "number": 3,
    "ops object with extra key": {"ops": [], "x": 1},
    "ops not a list": {"ops": {"insert": "a"}},
    "op not a dict": ["a"],
    "op is a list": [[{"insert": "a"}]],
    "unknown key": [{"insert": "a", "bold": True}],
    "no action": [{"attributes": {"bold": True}}],
    "empty op": [{}],
    "two actions": [{"insert": "a", "delete": 1}],
    "three actions": [{"insert": "a", "retain": 1, "delete": 1}],
    "retain string": [{"retain": "1"}],
    "retain float": [{"retain": 1.5}],
    "retain integral float": [{"retain": 2.0}],
    "retain zero": [{"retain": 0}],
    "retain negative": [{"retain": -1}],
    "retain bool": [{"retain": True}],
    "retain NaN": [{"retain": math.nan}],
    "retain infinity": [{"retain": math.inf}],
    "retain huge": [{"retain": 2**53}],
    "retain null": [{"retain": None}],
    "delete zero": [{"delete": 0}],
    "delete bool": [{"delete": False}],
    "delete huge": [{"delete": 10**400}],
    "delete float": [{"delete": 1.0}],
    "object retain": [{"retain": {"delta": [{"insert": "x"}]}}],
    "empty insert": [{"insert": ""}],
    "insert number": [{"insert": 5}],
    "insert null": [{"insert": None}],
    "insert list": [{"insert": ["a"]}],
    "insert bool": [{"insert": True}],
    "insert with NUL": [{"insert": "a\x00b"}],
    "insert lone high surrogate": [{"insert": "a\ud83d"}],
    "insert lone low surrogate": [{"insert": "\ude00b"}],
    "embed with two keys": [{"insert": {"image": "x", "video": "y"}}],
    "embed with no key": [{"insert": {}}],
    "embed with empty key": [{"insert": {"": "x"}}],
    "embed with null value": [{"insert": {"image": None}}],
    "embed with nested value": [{"insert": {"video": {"src": {"url": "x"}}}}],
    "embed with list value": [{"insert": {"image": ["x"]}}],
    "embed with NUL": [{"insert": {"image": "x\x00"}}],
    "embed with non-string key": [{"insert": {1: "x"}}],
    "attributes not a dict": [{"insert": "a", "attributes": ["bold"]}],
    "attributes null": [{"insert": "a", "attributes": None}],
    "attributes nested": [{"insert": "a", "attributes": {"link": {"href": "x"}}}],
    "attributes list value": [{"insert": "a", "attributes": {"list": ["a"]}}],
    "attributes empty key": [{"insert": "a", "attributes": {"": True}}],
    "attributes non-string key": [{"insert": "a", "attributes": {1: True}}],
    "attributes NaN": [{"insert": "a", "attributes": {"size": math.nan}}],
    "attributes huge int": [{"insert": "a", "attributes": {"size": 2**60}}],
    "attributes lone surrogate": [{"insert": "a", "attributes": {"link": "\ud800"}}],
    "attributes NUL in key": [{"insert": "a", "attributes": {"b\x00": True}}],
    "attributes object value": [{"insert": "a", "attributes": {"x": object()}}],
    "delete with attributes": [{"delete": 1, "attributes": {"bold": True}}],
    "non-str insert type": [{"insert": b"bytes"}],
}


@pytest.mark.parametrize("op", list(BAD_OPS.values()), ids=list(BAD_OPS))
def test_rejects(op: Any) -> None:
    with pytest.raises(InvalidDelta) as info:
        validate_op(op)
    message = str(info.value)
    assert message and len(message) < 300


@pytest.mark.parametrize(
    "doc",
    [
        [{"retain": 1}],
        [{"insert": "a"}, {"delete": 1}],
        [{"insert": "a", "attributes": {"bold": True}}, {"retain": 1, "attributes": {"bold": True}}],
        {"ops": [{"delete": 3}]},
        "abc",
        [{"insert": "\x00"}],
    ],
)
def test_document_rejects_non_inserts(doc: Any) -> None:
    with pytest.raises(InvalidDelta):
        validate_document(doc)


def test_limits() -> None:
    limits = Limits(
        max_ops=3,
        max_attributes=2,
        max_key_length=5,
        max_value_length=4,
        max_insert_length=6,
        max_total_size=20,
    )
    ok = [{"insert": "abc", "attributes": {"bold": True}}, {"retain": 2}]
    assert validate_op(ok, limits=limits) == [{"insert": "abc", "attributes": {"bold": True}}]
    too_long_cases = [
        [{"insert": "a"}] * 4,  # max_ops
        [{"insert": "a", "attributes": {"a": 1, "b": 2, "c": 3}}],  # max_attributes
        [{"insert": "a", "attributes": {"toolong": 1}}],  # max_key_length
        [{"insert": "a", "attributes": {"link": "https://"}}],  # max_value_length
        [{"insert": "abcdefg"}],  # max_insert_length
        [{"insert": "😀😀😀😀"}],  # 8 UTF-16 units > max_insert_length
        [
            {"insert": "abcdef"},
            {"insert": "abcdef"},
            {"insert": "abcdef", "attributes": {"bold": True}},
        ],  # total
        [{"insert": {"image": "x.png"}}],  # embed value too long
    ]
    for op in too_long_cases:
        with pytest.raises(InvalidDelta):
            validate_op(op, limits=limits)


def test_doc_length() -> None:
    """The shape checks alone (the content schema has its own tests in test_schema.py)."""
    assert validate_op([{"retain": 3}, {"insert": "x"}], doc_length=3, schema=None) == [
        {"retain": 3},
        {"insert": "x"},
    ]
    assert validate_op([{"retain": 2}, {"delete": 1}], doc_length=3, schema=None) == [
        {"retain": 2},
        {"delete": 1},
    ]
    with pytest.raises(InvalidDelta, match="past the end"):
        validate_op([{"retain": 4}], doc_length=3, schema=None)
    with pytest.raises(InvalidDelta, match="past the end"):
        validate_op([{"retain": 2}, {"delete": 2}], doc_length=3, schema=None)
    with pytest.raises(InvalidDelta):
        validate_op([{"delete": 1}], doc_length=0, schema=None)


def test_normalizes() -> None:
    op = {
        "ops": [
            {"retain": 1},
            {"retain": 2},
            {"delete": 1},
            {"insert": "a", "attributes": {}},
            {"insert": "b"},
            {"insert": "😀"[0]},  # whole emoji, one code point
            {"retain": 4, "attributes": {"bold": None}},
            {"retain": 5},
        ]
    }
    assert validate_op(op, schema=None) == [
        {"retain": 3},
        {"insert": "ab😀"},
        {"delete": 1},
        {"retain": 4, "attributes": {"bold": None}},
    ]
    # a surrogate pair given as two code points is well-formed: re-joined
    assert validate_op([{"insert": "\ud83d\ude00"}], schema=None) == [{"insert": "😀"}]
    assert validate_document([{"insert": "a"}, {"insert": "b", "attributes": {}}], schema=None) == [
        {"insert": "ab"}
    ]
    assert validate_document([], schema=None) == []
    assert validate_document({"ops": [{"insert": {"image": "x.png"}}]}, schema=None) == [
        {"insert": {"image": "x.png"}}
    ]
    assert validate_op(
        [{"insert": {"video": {"src": "v.mp4", "width": 320, "auto": None}}}], schema=None
    ) == [{"insert": {"video": {"src": "v.mp4", "width": 320, "auto": None}}}]


def test_deep_nesting_is_rejected_without_recursion_error() -> None:
    nested: Any = "x"
    for _ in range(100_000):
        nested = {"a": nested}
    with pytest.raises(InvalidDelta):
        validate_op([{"insert": "a", "attributes": nested}])
    with pytest.raises(InvalidDelta):
        validate_op([{"insert": nested}])


@FUZZ
@given(doc_and_op())
def test_accepts_generated_valid_ops(pair: Any) -> None:
    doc, op = pair
    clean = [o for o in op]  # generated ops may contain lone surrogates: those are rejected
    text = json.dumps(clean)
    try:
        normalized = validate_op(json.loads(text), doc_length=rich_text.length(doc), schema=None)
    except InvalidDelta as error:
        assert "surrogate" in str(error)
        return
    assert rich_text.apply(doc, normalized) == rich_text.apply(doc, op)


@FUZZ
@given(documents())
def test_accepts_generated_documents(doc: Any) -> None:
    try:
        assert validate_document(doc, schema=None) == doc
    except InvalidDelta as error:
        assert "surrogate" in str(error)


def _containers(children: Any) -> Any:
    return st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    _containers,
    max_leaves=20,
)
op_like = st.dictionaries(
    st.sampled_from(["insert", "retain", "delete", "attributes", "x"]), json_values, max_size=3
)


@FUZZ
@given(
    st.one_of(json_values, st.lists(st.one_of(op_like, json_values), max_size=5)),
    st.none() | st.integers(0, 20),
)
def test_hostile_input_only_raises_invalid_delta(value: Any, doc_length: Any) -> None:
    for function in (lambda: validate_op(value, doc_length=doc_length), lambda: validate_document(value)):
        try:
            result = function()
        except InvalidDelta:
            continue
        assert isinstance(result, list)
