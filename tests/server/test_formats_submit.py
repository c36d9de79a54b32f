"""The new formats on the submit path: stale ops carrying them transform and land; values outside
the schema are refused whole and the document is untouched."""

from typing import Any

import pytest

from documents import errors
from documents.models import Document

from .test_services import SRC_A, SRC_B, content, submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_ops_with_the_new_formats_converge(users: Any, document: Any) -> None:
    # Both based on version 1 ("Hello\n"): Ed nests the line in a checklist and centres it,
    # Olga puts a rule above it and colours and highlights the word.
    submit(
        users["ed"],
        document,
        SRC_A,
        1,
        1,
        [{"retain": 5}, {"retain": 1, "attributes": {"list": "unchecked", "indent": 2, "align": "center"}}],
    )
    result = submit(
        users["olga"],
        document,
        SRC_B,
        1,
        1,
        [
            {"insert": {"divider": True}},
            {"insert": "\n"},
            {"retain": 5, "attributes": {"color": "#c92a2a", "background": "#fff3bf"}},
        ],
    )
    assert result.version == 2 and [r.version for r in result.missing] == [1]
    assert content(document) == [
        {"insert": {"divider": True}},
        {"insert": "\n"},
        {"insert": "Hello", "attributes": {"color": "#c92a2a", "background": "#fff3bf"}},
        {"insert": "\n", "attributes": {"list": "unchecked", "indent": 2, "align": "center"}},
    ]
    assert Document.objects.get(pk=document.pk).length == 8


@pytest.mark.parametrize(
    "op",
    [
        [{"retain": 5, "attributes": {"color": "#123456"}}],
        [{"retain": 5, "attributes": {"background": "yellow"}}],
        [{"retain": 5, "attributes": {"color": "#c92a2a;background:url(https://x.example/)"}}],
        [{"insert": "x", "attributes": {"align": "center"}}],
        [{"retain": 5}, {"retain": 1, "attributes": {"indent": 9}}],
        [{"insert": {"divider": False}}],
        [{"insert": {"rule": True}}],
    ],
    ids=[
        "colour off the palette",
        "named highlight",
        "CSS in a colour",
        "alignment on text",
        "indent 9",
        "divider false",
        "unknown embed",
    ],
)
def test_values_outside_the_schema_are_refused(users: Any, document: Any, op: Any) -> None:
    with pytest.raises(errors.OpBadlyFormed):
        submit(users["ed"], document, SRC_A, 1, 1, op)
    assert content(document) == [{"insert": "Hello\n"}]
    assert Document.objects.get(pk=document.pk).version == 1
