"""What a suggester may do to the text under their op: delete only their own suggested text,
never overwrite another author's proposal (`suggestions.content_refusal`, run at the head)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents.ot import Delta, rich_text, validate_op
from documents.ot.suggestions import (
    COMMENT,
    SUGGEST_DELETE,
    SUGGEST_FORMAT,
    SUGGEST_INSERT,
    content_refusal,
    needs_content,
    role_refusal,
    suggestion_author,
)

from .strategies import FUZZ_EXAMPLES
from .test_suggestions import ME, MINE, SUGGESTION_FUZZ, THEIRS, THREAD

Op = Dict[str, Any]
MY_BOLD, THEIR_BOLD = f"{MINE}:bold=1", f"{THEIRS}:italic=1"
# "ab" plain, "cd" my suggested insertion, "ef" theirs, "gh" mine struck by them, "ij" struck by
# them, "kl" their format proposal, "mn" mine struck by me (a withdrawal from before deleting).
CONTENT: List[Op] = [
    {"insert": "ab"},
    {"insert": "cd", "attributes": {SUGGEST_INSERT: MINE}},
    {"insert": "ef", "attributes": {SUGGEST_INSERT: THEIRS}},
    {"insert": "gh", "attributes": {SUGGEST_INSERT: MINE, SUGGEST_DELETE: THEIRS}},
    {"insert": "ij", "attributes": {SUGGEST_DELETE: THEIRS}},
    {"insert": "kl", "attributes": {SUGGEST_FORMAT: THEIR_BOLD}},
    {"insert": "mn", "attributes": {SUGGEST_INSERT: MINE, SUGGEST_DELETE: MINE}},
    {"insert": "op", "attributes": {SUGGEST_INSERT: MINE, SUGGEST_FORMAT: THEIR_BOLD}},
    {"insert": "\n"},
]
STRIKE, PROPOSE = {SUGGEST_DELETE: MINE}, {SUGGEST_FORMAT: MY_BOLD}


@pytest.mark.parametrize(
    ("ops", "allowed"),
    [
        pytest.param([{"retain": 2}, {"delete": 2}], True, id="deletes own suggestion"),
        pytest.param([{"retain": 3}, {"delete": 1}], True, id="deletes part of own suggestion"),
        pytest.param([{"retain": 12}, {"delete": 2}], True, id="deletes own suggestion struck by self"),
        pytest.param([{"delete": 1}], False, id="deletes plain text"),
        pytest.param([{"retain": 2}, {"delete": 3}], False, id="deletes own suggestion and past it"),
        pytest.param([{"retain": 4}, {"delete": 1}], False, id="deletes another's suggestion"),
        pytest.param([{"retain": 6}, {"delete": 2}], False, id="deletes own suggestion struck by another"),
        pytest.param([{"retain": 14}, {"delete": 2}], False, id="deletes own suggestion another reformats"),
        pytest.param([{"retain": 16}, {"delete": 1}], False, id="deletes the last newline"),
        pytest.param([{"retain": 2, "attributes": STRIKE}], True, id="strikes plain text"),
        pytest.param(
            [{"retain": 4}, {"retain": 2, "attributes": STRIKE}], True, id="strikes another's insertion"
        ),
        pytest.param([{"retain": 10}, {"retain": 2, "attributes": STRIKE}], True, id="strikes over a format"),
        pytest.param(
            [{"retain": 12}, {"retain": 2, "attributes": STRIKE}], True, id="strikes own strike again"
        ),
        pytest.param(
            [{"retain": 8}, {"retain": 2, "attributes": STRIKE}], False, id="strikes over another's strike"
        ),
        pytest.param(
            [{"retain": 7}, {"retain": 2, "attributes": STRIKE}], False, id="strikes across another's strike"
        ),
        pytest.param([{"retain": 2, "attributes": PROPOSE}], True, id="proposes a format"),
        pytest.param(
            [{"retain": 8}, {"retain": 2, "attributes": PROPOSE}], True, id="proposes over a strike"
        ),
        pytest.param(
            [{"retain": 10}, {"retain": 1, "attributes": PROPOSE}], False, id="proposes over another's"
        ),
        pytest.param(
            [{"retain": 14}, {"retain": 2, "attributes": PROPOSE}], False, id="proposes over another's too"
        ),
        pytest.param([{"retain": 10}, {"retain": 2, "attributes": {COMMENT: THREAD}}], True, id="comments"),
        pytest.param(
            [{"retain": 8}, {"insert": "x", "attributes": {SUGGEST_INSERT: MINE}}], True, id="types"
        ),
    ],
)
def test_content_refusal(ops: List[Op], allowed: bool) -> None:
    validate_op(ops)
    assert role_refusal(ops, author_id=ME, may_suggest=True) is None
    assert (content_refusal(ops, CONTENT, author_id=ME) is None) is allowed


def test_only_deletions_and_marks_on_existing_text_need_the_content() -> None:
    assert needs_content([{"retain": 1}, {"delete": 1}])
    assert needs_content([{"retain": 1, "attributes": STRIKE}])
    assert needs_content([{"retain": 1, "attributes": PROPOSE}])
    assert not needs_content([{"retain": 1}, {"insert": "x", "attributes": {SUGGEST_INSERT: MINE, **STRIKE}}])
    assert not needs_content([{"retain": 3, "attributes": {COMMENT: THREAD}}])


def test_the_refusals_say_why() -> None:
    assert "only their own suggested text" in str(content_refusal([{"delete": 1}], CONTENT, author_id=ME))
    overwrite = [{"retain": 8}, {"retain": 1, "attributes": STRIKE}]
    assert "another person's suggestion" in str(content_refusal(overwrite, CONTENT, author_id=ME))


MARKS = [
    {},
    {SUGGEST_INSERT: MINE},
    {SUGGEST_INSERT: THEIRS},
    {SUGGEST_DELETE: MINE},
    {SUGGEST_DELETE: THEIRS},
    {SUGGEST_FORMAT: MY_BOLD},
    {SUGGEST_FORMAT: THEIR_BOLD},
    {SUGGEST_INSERT: MINE, "bold": True},
    {SUGGEST_INSERT: MINE, COMMENT: THREAD},
    {SUGGEST_INSERT: MINE, SUGGEST_DELETE: MINE},
    {SUGGEST_INSERT: MINE, SUGGEST_DELETE: THEIRS},
    {SUGGEST_INSERT: MINE, SUGGEST_FORMAT: THEIR_BOLD},
    {SUGGEST_INSERT: THEIRS, SUGGEST_DELETE: MINE},
    {"bold": True, COMMENT: THREAD},
]


@st.composite
def marked_documents(draw: Any) -> List[Op]:
    """Documents whose text carries every mix of suggestions by the suggester and by another."""
    delta = Delta()
    for _ in range(draw(st.integers(2, 8))):
        delta.insert(
            draw(st.sampled_from(["a", "bc", "def", "\U0001f600"])), draw(st.sampled_from(MARKS)) or None
        )
    return delta.insert("\n").ops


@st.composite
def suggester_cases(draw: Any) -> tuple[List[Op], List[Op]]:
    """A document and what a suggester may send on it as far as the op alone tells: deletions,
    strikes, format proposals, anchors and typing, piece by piece (so some delete only their own)."""
    content = draw(marked_documents())
    delta = Delta()
    # Deleting anywhere is mostly refused, which would hide whatever else the op does: some
    # delete nothing, some only suggested insertions (whoever's, whatever else marks them).
    deletes = draw(st.sampled_from(["anywhere", "nowhere", "insertions"]))
    for piece in content:
        size = rich_text.length([piece])
        if draw(st.integers(0, 3)) == 0:
            delta.insert("x", {SUGGEST_INSERT: MINE})
        may_delete = deletes == "anywhere" or (
            deletes == "insertions" and SUGGEST_INSERT in (piece.get("attributes") or {})
        )
        action = draw(st.sampled_from(["keep", "delete", "mark"] if may_delete else ["keep", "mark", "mark"]))
        if action == "delete":
            delta.delete(size)
        else:
            mark = draw(
                st.sampled_from([STRIKE, PROPOSE, {COMMENT: THREAD, **STRIKE}, {COMMENT: THREAD, **PROPOSE}])
            )
            mark = mark if action == "mark" else None
            delta.retain(size, mark)
    return content, delta.chop().ops


def _units(content: List[Op]) -> List[Dict[str, Any]]:
    """The attributes of each UTF-16 unit of a document."""
    return [piece.get("attributes") or {} for piece in content for _ in range(rich_text.length([piece]))]


def _harmless(op: List[Op], content: List[Op]) -> bool:
    """Whether ``op`` deletes only the suggester's own suggested text that carries no one else's
    mark, and leaves every other author's strike and format proposal as it was."""
    units, position = _units(content), 0
    after = rich_text.apply(content, op)
    for component in op:
        if "insert" in component:
            continue
        count = component.get("retain") or component["delete"]
        for attributes in units[position : position + count]:
            marks = {
                name: value for name, value in attributes.items() if name in (SUGGEST_DELETE, SUGGEST_FORMAT)
            }
            if "delete" in component and (
                suggestion_author(attributes.get(SUGGEST_INSERT)) != str(ME)
                or any(suggestion_author(value) != str(ME) for value in marks.values())
            ):
                return False
            changed = {**attributes, **(component.get("attributes") or {})}
            if any(
                suggestion_author(value) != str(ME) and changed.get(name) != value
                for name, value in marks.items()
            ):
                return False
        position += count
    # Nothing else in the document changes: everything outside the op's reach is as it was.
    return rich_text.length(after) == rich_text.length(content) + rich_text.change_length(op)


@settings(SUGGESTION_FUZZ, max_examples=FUZZ_EXAMPLES)  # cheap, and each refusal hides the others
@given(suggester_cases())
def test_an_allowed_suggestion_deletes_only_own_text_and_keeps_others_marks(
    case: tuple[List[Op], List[Op]],
) -> None:
    content, op = case
    assert role_refusal(op, author_id=ME, may_suggest=True) is None
    assert (content_refusal(op, content, author_id=ME) is None) is _harmless(op, content)
