"""The content schema (documents/schema.json) as the server applies it.

The cases live in schema_cases.json, which the editor's tests (frontend/tests/schema.test.mjs)
read too, so both sides accept and refuse exactly the same ops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from documents.ot import (
    CONTENT_SCHEMA,
    InvalidDelta,
    check_keeps_final_newline,
    validate_document,
    validate_op,
)

CASES = json.loads((Path(__file__).parent / "schema_cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("op", CASES["valid_ops"].values(), ids=CASES["valid_ops"].keys())
def test_accepts(op: Any) -> None:
    validate_op(op)


@pytest.mark.parametrize("op", CASES["invalid_ops"].values(), ids=CASES["invalid_ops"].keys())
def test_rejects(op: Any) -> None:
    with pytest.raises(InvalidDelta):
        validate_op(op)
    with pytest.raises(InvalidDelta):
        validate_document([*op, {"insert": "\n"}])


HIDDEN = CASES["hidden_on_newlines"]["cases"]


@pytest.mark.parametrize("op", HIDDEN.values(), ids=HIDDEN.keys())
def test_refuses_a_format_no_page_shows_on_a_newline(op: Any) -> None:
    with pytest.raises(InvalidDelta, match="on a newline"):
        validate_op(op)
    document = [*op, {"insert": "\n"}]
    with pytest.raises(InvalidDelta, match="on a newline"):
        validate_document(document)
    # Stored before the rule: a restore drops only what no page showed, and passes.
    fitted = CONTENT_SCHEMA.fit_newlines(document)
    validate_document(fitted)
    assert "".join(piece["insert"] for piece in fitted if isinstance(piece["insert"], str)) == "".join(
        piece["insert"] for piece in document if isinstance(piece["insert"], str)
    )
    for before, piece in zip(_characters(document), _characters(fitted)):
        if before[0] != "\n":
            assert before == piece  # text keeps every format
        else:
            assert piece[1] == {k: v for k, v in before[1].items() if k in CONTENT_SCHEMA.line}


def test_sanitize_keeps_text_formats_and_drops_them_from_newlines() -> None:
    content = [{"insert": "ab\ncd", "attributes": {"bold": True, "comment": "0" * 32}}, {"insert": "\n"}]
    assert CONTENT_SCHEMA.sanitize(content) == [
        {"insert": "ab", "attributes": {"bold": True, "comment": "0" * 32}},
        {"insert": "\n", "attributes": {"comment": "0" * 32}},
        {"insert": "cd", "attributes": {"bold": True, "comment": "0" * 32}},
        {"insert": "\n"},
    ]


def _characters(ops: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (character, piece.get("attributes") or {})
        for piece in ops
        if isinstance(piece["insert"], str)
        for character in piece["insert"]
    ]


@pytest.mark.parametrize(("op", "length", "keeps"), CASES["final_newline"]["cases"])
def test_final_newline(op: Any, length: int, keeps: bool) -> None:
    if keeps:
        check_keeps_final_newline(op, length)
        validate_op(op, doc_length=length)
    else:
        with pytest.raises(InvalidDelta, match="newline"):
            check_keeps_final_newline(op, length)
        with pytest.raises(InvalidDelta, match="newline"):
            validate_op(op, doc_length=length)


def test_a_document_ends_with_a_newline() -> None:
    assert validate_document([{"insert": "a\n"}]) == [{"insert": "a\n"}]
    for content in ([], [{"insert": "a"}], [{"insert": "a\nb"}]):
        with pytest.raises(InvalidDelta, match="end with a newline"):
            validate_document(content)


def test_a_document_stores_formats_not_their_removal() -> None:
    assert validate_document([{"insert": "a", "attributes": {"bold": None}}, {"insert": "\n"}]) == [
        {"insert": "a\n"}
    ]


def test_sanitize_keeps_what_the_editor_renders_and_drops_the_rest() -> None:
    hostile = [
        {"insert": "Title", "attributes": {"header": 1, "bold": True, "color": "red"}},
        {"insert": "\n", "attributes": {"header": 99}},
        {"insert": {"image": "javascript:alert(1)"}},
        {"insert": "link", "attributes": {"link": "javascript:alert(1)", "italic": "yes"}},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "tail"},
    ]
    clean = CONTENT_SCHEMA.sanitize(hostile)
    assert clean == [
        {"insert": "Title", "attributes": {"bold": True}},
        {"insert": "\n"},
        {"insert": "link"},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "tail\n"},
    ]
    assert validate_document(clean)
