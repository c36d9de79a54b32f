"""A format lands only where the editor shows it: line formats on newlines, text formats on text.

Whether a retain obeys that depends on the document's text, which the submit path keeps per
document (`services/lines.py`); these tests check it against the database's own text, also when
the kept text is stale (another process committed) or its ops were compacted away.
"""

from typing import Any

import pytest
from django.utils import timezone

from documents import errors, selectors, services
from documents.models import Document, Role
from documents.services import lines

pytestmark = pytest.mark.django_db(transaction=True)

SRC_A, SRC_B = "a" * 32, "b" * 32


def submit(user: Any, document: Any, seq: int, base: int, op: Any, src: str = SRC_A) -> Any:
    return services.submit_operation(
        user=user, document_id=document.pk, src=src, seq=seq, base_version=base, kind="edit", data=op
    )


def content(document: Any) -> Any:
    return selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content


@pytest.fixture
def two_lines(users: Any) -> Any:
    lines.forget_all()
    document = services.create_document(owner=users["olga"], content=[{"insert": "ab\ncd\n"}])
    services.add_member(actor=users["olga"], document_id=document.pk, identifier="ed", role=Role.EDITOR)
    return document


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("header-on-text", [{"retain": 1, "attributes": {"header": 1}}]),
        ("header-on-text-and-newline", [{"retain": 1}, {"retain": 2, "attributes": {"header": 2}}]),
        ("list-on-both-lines", [{"retain": 6, "attributes": {"list": "bullet"}}]),
        ("bold-on-newline", [{"retain": 2}, {"retain": 1, "attributes": {"bold": True}}]),
        ("italic-across-lines", [{"retain": 1}, {"retain": 3, "attributes": {"italic": True}}]),
        ("link-on-final-newline", [{"retain": 5}, {"retain": 1, "attributes": {"link": "https://e.com"}}]),
    ],
)
def test_a_format_where_the_editor_cannot_show_it_is_refused(
    users: Any, two_lines: Any, name: str, op: Any
) -> None:
    with pytest.raises(errors.OpBadlyFormed, match="newline"):
        submit(users["ed"], two_lines, 1, 1, op)
    assert content(two_lines) == [{"insert": "ab\ncd\n"}]


def test_formats_where_the_editor_puts_them_are_committed(users: Any, two_lines: Any) -> None:
    submit(users["ed"], two_lines, 1, 1, [{"retain": 2}, {"retain": 1, "attributes": {"header": 1}}])
    submit(users["ed"], two_lines, 2, 2, [{"retain": 2, "attributes": {"bold": True}}])
    # Removing a format is fine anywhere; a comment may span lines (the page anchors a selection).
    submit(users["ed"], two_lines, 3, 3, [{"retain": 6, "attributes": {"italic": None, "header": None}}])
    submit(users["ed"], two_lines, 4, 4, [{"retain": 6, "attributes": {"comment": "c" * 32}}])
    comment = {"comment": "c" * 32}
    assert content(two_lines) == [
        {"insert": "ab", "attributes": {"bold": True, **comment}},
        {"insert": "\ncd\n", "attributes": comment},
    ]


def test_a_stale_format_is_checked_where_it_lands_after_transformation(users: Any, two_lines: Any) -> None:
    submit(users["olga"], two_lines, 1, 1, [{"insert": "xy"}], src=SRC_B)  # "xyab\ncd\n"
    # Written for version 1 on "ab\n"'s newline; at head it is still that newline, at 4.
    submit(users["ed"], two_lines, 1, 1, [{"retain": 2}, {"retain": 1, "attributes": {"header": 3}}])
    # Written for version 1 on "c"; the insert moved it, and it lands on text again: refused.
    with pytest.raises(errors.OpBadlyFormed):
        submit(users["ed"], two_lines, 2, 1, [{"retain": 3}, {"retain": 1, "attributes": {"header": 1}}])
    assert content(two_lines) == [
        {"insert": "xyab"},
        {"insert": "\n", "attributes": {"header": 3}},
        {"insert": "cd\n"},
    ]


def test_kept_text_is_brought_forward_by_ops_committed_elsewhere(users: Any, two_lines: Any) -> None:
    submit(users["ed"], two_lines, 1, 1, [{"retain": 2}, {"retain": 1, "attributes": {"header": 1}}])
    kept = dict(lines.TEXTS.entries)
    # Another process's commits: the ops are in the database, the kept text is one version old.
    submit(users["olga"], two_lines, 1, 2, [{"delete": 3}, {"insert": "line\n"}], src=SRC_B)
    lines.TEXTS.entries.clear()
    lines.TEXTS.entries.update(kept)
    with pytest.raises(errors.OpBadlyFormed):
        submit(users["ed"], two_lines, 2, 3, [{"retain": 1, "attributes": {"header": 2}}])
    submit(users["ed"], two_lines, 3, 3, [{"retain": 4}, {"retain": 1, "attributes": {"header": 2}}])
    assert content(two_lines)[0:2] == [{"insert": "line"}, {"insert": "\n", "attributes": {"header": 2}}]


def test_kept_text_whose_ops_were_compacted_is_rebuilt_from_the_snapshot(users: Any, two_lines: Any) -> None:
    submit(users["ed"], two_lines, 1, 1, [{"retain": 2}, {"retain": 1, "attributes": {"header": 1}}])
    kept = dict(lines.TEXTS.entries)
    submit(users["olga"], two_lines, 1, 2, [{"insert": "\n"}], src=SRC_B)  # "\nab\ncd\n"
    services.compact_document(document_id=two_lines.pk, cutoff=timezone.now())
    lines.TEXTS.entries.clear()
    lines.TEXTS.entries.update(kept)
    submit(users["ed"], two_lines, 2, 3, [{"retain": 1, "attributes": {"list": "ordered"}}])
    with pytest.raises(errors.OpBadlyFormed):
        submit(users["ed"], two_lines, 3, 4, [{"retain": 2, "attributes": {"list": "ordered"}}])


def test_a_line_format_may_sit_on_an_embed_as_in_an_insert(users: Any) -> None:
    lines.forget_all()
    document = services.create_document(
        owner=users["olga"], content=[{"insert": "ab\n"}, {"insert": {"divider": True}}, {"insert": "cd\n"}]
    )
    submit(users["olga"], document, 1, 1, [{"retain": 3}, {"retain": 1, "attributes": {"align": "center"}}])
    with pytest.raises(errors.OpBadlyFormed):
        submit(
            users["olga"], document, 2, 2, [{"retain": 4}, {"retain": 1, "attributes": {"align": "right"}}]
        )
    assert content(document)[1] == {"insert": {"divider": True}, "attributes": {"align": "center"}}
