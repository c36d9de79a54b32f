"""The direct transform of two single edits (`delta.transform_single_edits`) against the general
algorithm it stands in for: the same ops whenever it answers, and an answer for every pair of
keystrokes but the one it leaves alone (an insert inside a deleted range)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from documents.ot import Delta, rich_text
from documents.ot.delta import _single_edit, transform_single_edits

from .strategies import FUZZ, doc_and_two_single_edits


@FUZZ
@given(doc_and_two_single_edits(), st.booleans())
def test_the_direct_path_agrees_with_the_general_algorithm(inputs: Any, priority: bool) -> None:
    _doc, a, b = inputs
    direct = transform_single_edits(a, b, priority)
    general = Delta(a).transform(Delta(b), priority).ops
    if direct is not None:
        assert direct == general
    simple_a, simple_b = _single_edit(a), _single_edit(b)
    if simple_a is None or simple_b is None:
        assert direct is None
        return
    (a_index, a_inserts, _), (b_index, b_inserts, b_length) = simple_a, simple_b
    splits = a_inserts and not b_inserts and b_index < a_index < b_index + b_length
    assert (direct is None) == splits


def test_keystrokes_take_the_direct_path() -> None:
    typed = [{"retain": 3}, {"insert": "x"}]
    assert transform_single_edits([{"retain": 1}, {"insert": "ab"}], typed, True) == [
        {"retain": 5},
        {"insert": "x"},
    ]
    assert transform_single_edits([{"retain": 3}, {"insert": "y"}], typed, True) == [
        {"retain": 4},
        {"insert": "x"},
    ]
    assert transform_single_edits([{"retain": 3}, {"insert": "y"}], typed, False) == typed
    assert transform_single_edits([{"delete": 5}], [{"retain": 2}, {"delete": 5}], True) == [{"delete": 2}]
    assert transform_single_edits([{"retain": 1}, {"delete": 1}], [{"retain": 1}, {"delete": 1}], True) == []
    # An insert inside a deleted range splits the delete: the general algorithm does that.
    assert (
        transform_single_edits([{"retain": 2}, {"insert": "y"}], [{"retain": 1}, {"delete": 3}], True) is None
    )
    assert rich_text.transform([{"retain": 1}, {"delete": 3}], [{"retain": 2}, {"insert": "y"}], "left") == [
        {"retain": 1},
        {"delete": 1},
        {"retain": 1},
        {"delete": 2},
    ]
    # Not single edits: a formatting retain, an embed, two edits.
    assert transform_single_edits([{"retain": 2, "attributes": {"bold": True}}], typed, True) is None
    assert transform_single_edits([{"insert": {"image": "x"}}], typed, True) is None
    assert transform_single_edits([{"insert": "a"}, {"retain": 1}, {"insert": "b"}], typed, True) is None
