"""UTF-16 helpers and JSON round trips with surrogates."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from documents.ot import Delta, rich_text, utf16

from .strategies import FUZZ


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("abc", 3),
        ("é", 1),
        ("e\u0301", 2),
        ("中文", 2),
        ("😀", 2),
        ("a😀b", 4),
        ("👨‍👩‍👧", 8),
        ("🇫🇷", 4),
        ("\ud83d", 1),
    ],
)
def test_length(text: str, units: int) -> None:
    assert utf16.length(text) == units
    assert rich_text.length([{"insert": text}] if text else []) == units


def test_slicing_splits_pairs_like_javascript() -> None:
    assert utf16.slice_units("a😀b", 0, 2) == "a\ud83d"
    assert utf16.slice_units("a😀b", 2, 4) == "\ude00b"
    assert utf16.slice_units("a😀b", 1, 3) == "😀"
    assert utf16.concat("a\ud83d", "\ude00b") == "a😀b"
    assert utf16.to_units("😀") == "\ud83d\ude00"
    assert utf16.from_units("\ud83d\ude00") == "😀"
    assert utf16.has_lone_surrogate("a\ud83d") and not utf16.has_lone_surrogate("a😀")


def test_split_and_rejoin_through_ops() -> None:
    doc = [{"insert": "a😀b"}]
    half = rich_text.apply(doc, [{"retain": 2, "attributes": {"bold": True}}])
    assert half == [{"insert": "a\ud83d", "attributes": {"bold": True}}, {"insert": "\ude00b"}]
    # the JSON form is exactly what JSON.stringify produces for lone surrogates
    assert (
        json.dumps(half) == '[{"insert": "a\\ud83d", "attributes": {"bold": true}}, {"insert": "\\ude00b"}]'
    )
    whole = rich_text.apply(half, [{"retain": 2, "attributes": {"bold": None}}])
    assert whole == [{"insert": "a😀b"}]  # re-joined into one canonical code point
    assert Delta(whole).length() == 4


@FUZZ
@given(
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(["\ud83d", "\ude00"]), max_size=12),
    st.data(),
)
def test_slice_matches_code_unit_model(text: str, data: st.DataObject) -> None:
    text = utf16.from_units(utf16.to_units(text))
    units = utf16.to_units(text)
    assert utf16.length(text) == len(units)
    start = data.draw(st.integers(0, len(units)))
    end = data.draw(st.integers(start, len(units)))
    piece = utf16.slice_units(text, start, end)
    assert utf16.to_units(piece) == units[start:end]
    left, right = utf16.slice_units(text, 0, start), utf16.slice_units(text, start, len(units))
    assert utf16.concat(left, right) == text
    assert json.loads(json.dumps(piece)) == piece
