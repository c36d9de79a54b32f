"""Comment anchors and suggestion marks: the role checks, and convergence under concurrent edits.

Suggestions and anchors are formats, so the rich-text transform carries them; these tests show
that a permitted op stays permitted once transformed (so checking before the transform is
checking what is committed), that both orders of concurrent ops converge, and that accepting
or rejecting suggestions leaves exactly the text it should.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents.ot import Delta, rich_text, utf16, validate_op
from documents.ot.suggestions import (
    COMMENT,
    SUGGEST_DELETE,
    SUGGEST_FORMAT,
    SUGGEST_INSERT,
    format_proposal,
    resolve_suggestions,
    review_of,
    role_refusal,
)

from .strategies import FUZZ, FUZZ_EXAMPLES, documents, ops_for, text_chunks

Op = Dict[str, Any]
ME, OTHER = 7, 8
MINE, THEIRS = f"{ME}:1764600000000", f"{OTHER}:1764600000000"
THREAD = "0123456789abcdef0123456789abcdef"
# A quarter of the differential tests' examples: these properties are cheaper to break.
SUGGESTION_FUZZ = settings(FUZZ, max_examples=max(25, FUZZ_EXAMPLES // 4))


@pytest.mark.parametrize(
    ("ops", "may_suggest", "allowed"),
    [
        pytest.param(
            [{"retain": 2}, {"retain": 3, "attributes": {COMMENT: THREAD}}],
            False,
            True,
            id="commenter anchors",
        ),
        pytest.param(
            [{"retain": 3, "attributes": {COMMENT: None}}], False, True, id="commenter removes an anchor"
        ),
        pytest.param([{"insert": "x"}], False, False, id="commenter types"),
        pytest.param([{"retain": 1}, {"delete": 1}], False, False, id="commenter deletes"),
        pytest.param([{"retain": 1, "attributes": {"bold": True}}], False, False, id="commenter formats"),
        pytest.param(
            [{"insert": "x", "attributes": {SUGGEST_INSERT: MINE}}], False, False, id="commenter suggests"
        ),
        pytest.param(
            [{"insert": "x", "attributes": {SUGGEST_INSERT: MINE, "bold": True}}],
            True,
            True,
            id="suggester inserts",
        ),
        pytest.param(
            [{"retain": 1}, {"retain": 2, "attributes": {SUGGEST_DELETE: MINE}}],
            True,
            True,
            id="suggester strikes",
        ),
        pytest.param([{"retain": 2, "attributes": {COMMENT: THREAD}}], True, True, id="suggester comments"),
        pytest.param(
            [{"insert": "x", "attributes": {SUGGEST_INSERT: MINE, SUGGEST_DELETE: MINE}}],
            True,
            True,
            id="suggester types and strikes in one unsent op",
        ),
        pytest.param(
            [{"insert": "x", "attributes": {SUGGEST_INSERT: MINE, SUGGEST_DELETE: THEIRS}}],
            True,
            False,
            id="suggester inserts text struck by another",
        ),
        pytest.param([{"insert": "x"}], True, False, id="suggester types plain text"),
        pytest.param(
            [{"insert": "x", "attributes": {SUGGEST_INSERT: THEIRS}}],
            True,
            False,
            id="suggester forges an author",
        ),
        # Whether over their own suggestion is for content_refusal (tests/ot/test_suggestion_content.py).
        pytest.param([{"delete": 1}], True, True, id="suggester deletes"),
        pytest.param(
            [{"retain": 1, "attributes": {SUGGEST_DELETE: THEIRS}}],
            True,
            False,
            id="suggester strikes as another",
        ),
        pytest.param(
            [{"retain": 1, "attributes": {SUGGEST_INSERT: None}}],
            True,
            False,
            id="suggester accepts an insertion",
        ),
        pytest.param(
            [{"retain": 1, "attributes": {SUGGEST_DELETE: None}}],
            True,
            False,
            id="suggester rejects a deletion",
        ),
        pytest.param([{"retain": 1, "attributes": {"bold": True}}], True, False, id="suggester formats"),
    ],
)
def test_role_refusal(ops: List[Op], may_suggest: bool, allowed: bool) -> None:
    validate_op(ops)
    assert (role_refusal(ops, author_id=ME, may_suggest=may_suggest) is None) is allowed


@st.composite
def suggester_ops(draw: Any, doc_length: int) -> List[Op]:
    """What a suggester's page sends: marked inserts, struck retains, comment anchors."""
    delta = Delta()
    remaining = doc_length
    for _ in range(draw(st.integers(0, 6))):
        if remaining and draw(st.booleans()):
            count = draw(st.integers(1, min(remaining, 6)))
            remaining -= count
            mark = draw(st.sampled_from([None, {SUGGEST_DELETE: MINE}, {COMMENT: THREAD}]))
            delta.retain(count, mark)
        else:
            extra = draw(st.sampled_from([{}, {"bold": True}, {COMMENT: THREAD}]))
            delta.insert(draw(text_chunks), {SUGGEST_INSERT: MINE, **extra})
    return delta.chop().ops


@st.composite
def concurrent_suggestion(draw: Any) -> tuple[List[Op], List[Op], List[Op]]:
    doc = draw(documents())
    size = rich_text.length(doc)
    return doc, draw(suggester_ops(size)), draw(ops_for(size, canonical_only=True))


@SUGGESTION_FUZZ
@given(concurrent_suggestion(), st.sampled_from(["left", "right"]))
def test_a_permitted_suggestion_stays_permitted_once_transformed(
    case: tuple[List[Op], List[Op], List[Op]], side: str
) -> None:
    _doc, suggestion, edit = case
    assert role_refusal(suggestion, author_id=ME, may_suggest=True) is None
    transformed = rich_text.transform(suggestion, edit, side)
    assert role_refusal(transformed, author_id=ME, may_suggest=True) is None


@SUGGESTION_FUZZ
@given(concurrent_suggestion())
def test_concurrent_suggestions_and_edits_converge(case: tuple[List[Op], List[Op], List[Op]]) -> None:
    doc, suggestion, edit = case
    # The server commits the edit first (left wins ties) or the suggestion first: same result.
    edit_first = rich_text.apply(rich_text.apply(doc, edit), rich_text.transform(suggestion, edit, "left"))
    suggestion_first = rich_text.apply(
        rich_text.apply(doc, suggestion), rich_text.transform(edit, suggestion, "right")
    )
    assert edit_first == suggestion_first


def _text(doc: List[Op], keep: Any = lambda attributes: True) -> str:
    """The document's text (an embed as U+FFFC), normalized so split surrogates compare equal."""
    joined = "".join(
        op["insert"] if isinstance(op["insert"], str) else "\ufffc"
        for op in doc
        if keep(op.get("attributes") or {})
    )
    return utf16.from_units(utf16.to_units(joined))


def _is_subsequence(small: str, big: str) -> bool:
    rest = iter(big)
    return all(char in rest for char in small)


@SUGGESTION_FUZZ
@given(concurrent_suggestion())
def test_accepting_or_rejecting_all_leaves_exactly_the_chosen_text(
    case: tuple[List[Op], List[Op], List[Op]],
) -> None:
    doc, suggestion, edit = case
    marked = rich_text.apply(rich_text.apply(doc, edit), rich_text.transform(suggestion, edit, "left"))
    accepted = rich_text.apply(marked, resolve_suggestions(marked, accept=True))
    rejected = rich_text.apply(marked, resolve_suggestions(marked, accept=False))
    for result in (accepted, rejected):
        assert not any({SUGGEST_INSERT, SUGGEST_DELETE} & set(op.get("attributes") or {}) for op in result)
    assert _text(accepted) == _text(marked, lambda attributes: SUGGEST_DELETE not in attributes)
    assert _text(rejected) == _text(marked, lambda attributes: SUGGEST_INSERT not in attributes)


@SUGGESTION_FUZZ
@given(concurrent_suggestion())
def test_a_comment_anchor_moves_with_the_text(case: tuple[List[Op], List[Op], List[Op]]) -> None:
    doc, _suggestion, edit = case
    size = rich_text.length(doc)
    start, end = size // 3, size - size // 3
    anchor = Delta().retain(start).retain(end - start, {COMMENT: THREAD}).chop().ops
    passage = _text(rich_text.apply(doc, anchor), lambda attributes: COMMENT in attributes)
    # Anchoring while someone edits ends as if the edit had come after the anchor.
    concurrent = rich_text.apply(rich_text.apply(doc, edit), rich_text.transform(anchor, edit, "right"))
    after = rich_text.apply(rich_text.apply(doc, anchor), rich_text.transform(edit, anchor, "left"))
    assert concurrent == after
    anchored = _text(concurrent, lambda attributes: attributes.get(COMMENT) == THREAD)
    # The edit's own inserts carry no anchor: what stays anchored is what is left of the passage.
    assert _is_subsequence(anchored, passage)


def test_resolving_only_selected_suggestions() -> None:
    doc = [
        {"insert": "a"},
        {"insert": "bb", "attributes": {SUGGEST_INSERT: MINE}},
        {"insert": "c"},
        {"insert": "dd", "attributes": {SUGGEST_DELETE: THEIRS}},
        {"insert": "\n"},
    ]
    assert resolve_suggestions(doc, accept=True, selected={4}) == [{"retain": 4}, {"delete": 2}]
    assert resolve_suggestions(doc, accept=False, selected={1}) == [{"retain": 1}, {"delete": 2}]
    assert resolve_suggestions(doc, accept=True) == [
        {"retain": 1},
        {"retain": 2, "attributes": {SUGGEST_INSERT: None}},
        {"retain": 1},
        {"delete": 2},
    ]


def test_review_of_says_whose_suggestions_an_op_accepted_and_rejected() -> None:
    sam = f"{OTHER}:1764600060000"
    doc: List[Op] = [
        {"insert": "Ship "},
        {"insert": "new ", "attributes": {SUGGEST_INSERT: MINE}},
        {"insert": "old ", "attributes": {SUGGEST_DELETE: MINE}},
        {"insert": "x", "attributes": {SUGGEST_INSERT: MINE, SUGGEST_DELETE: MINE}},
        {"insert": "plans", "attributes": {SUGGEST_INSERT: sam, "bold": True}},
        {"insert": " now", "attributes": {SUGGEST_DELETE: sam}},
        {"insert": "\n"},
    ]
    accept_all = resolve_suggestions(doc, accept=True)
    assert review_of(doc, accept_all) == {"accepted": {str(ME): 2, str(OTHER): 2}, "rejected": {}}
    reject_all = resolve_suggestions(doc, accept=False)
    assert review_of(doc, reject_all) == {"accepted": {}, "rejected": {str(ME): 2, str(OTHER): 2}}
    # Only Sam's insertion, accepted; the struck "x" is its author's own withdrawal, not a review.
    only = resolve_suggestions(doc, accept=True, selected={14})
    assert review_of(doc, only) == {"accepted": {str(OTHER): 1}, "rejected": {}}
    assert review_of(doc, [{"retain": 13}, {"delete": 1}]) is None
    # Ordinary edits review nothing: typing, formatting, deleting plain text.
    assert (
        review_of(doc, [{"insert": "A"}, {"retain": 4, "attributes": {"bold": True}}, {"delete": 1}]) is None
    )
    # One suggestion split by a format is still one.
    split = [
        {"insert": "ab", "attributes": {SUGGEST_INSERT: MINE}},
        {"insert": "c", "attributes": {SUGGEST_INSERT: MINE, "italic": True}},
    ]
    assert review_of(split + [{"insert": "\n"}], [{"retain": 3, "attributes": {SUGGEST_INSERT: None}}]) == {
        "accepted": {str(ME): 1},
        "rejected": {},
    }


def test_a_suggester_proposes_formats_and_an_editor_accepts_or_rejects_them() -> None:
    proposal = f"{MINE}:bold=1,italic=0"
    mine = [{"retain": 2}, {"retain": 3, "attributes": {SUGGEST_FORMAT: proposal}}]
    assert role_refusal(mine, author_id=ME, may_suggest=True) is None
    theirs = [{"retain": 3, "attributes": {SUGGEST_FORMAT: f"{THEIRS}:bold=1"}}]
    assert (
        role_refusal(theirs, author_id=ME, may_suggest=True)
        == "Only editors can accept or reject suggestions."
    )
    assert role_refusal(mine, author_id=ME, may_suggest=False) is not None  # commenters never
    assert (
        role_refusal([{"retain": 3, "attributes": {"bold": True}}], author_id=ME, may_suggest=True)
        is not None
    )
    doc: List[Op] = [
        {"insert": "Hi "},
        {"insert": "there", "attributes": {SUGGEST_FORMAT: proposal, "italic": True}},
        {"insert": "\n"},
    ]
    accept = resolve_suggestions(doc, accept=True)
    assert accept == [
        {"retain": 3},
        {"retain": 5, "attributes": {"bold": True, "italic": None, SUGGEST_FORMAT: None}},
    ]
    assert rich_text.apply(doc, accept) == [
        {"insert": "Hi "},
        {"insert": "there", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]
    reject = resolve_suggestions(doc, accept=False)
    assert rich_text.apply(doc, reject) == [
        {"insert": "Hi "},
        {"insert": "there", "attributes": {"italic": True}},
        {"insert": "\n"},
    ]
    assert review_of(doc, accept) == {"accepted": {str(ME): 1}, "rejected": {}}
    assert review_of(doc, reject) == {"accepted": {}, "rejected": {str(ME): 1}}
    assert format_proposal(proposal) == {"bold": True, "italic": None}
