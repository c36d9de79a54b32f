"""Import and export carry colour, highlight, alignment, nested lists, checklists and the rule.

Each format goes where the file format has it (HTML: all of them; Markdown: nested lists,
checklists and the rule; text: the rule as ``---``), and nothing outside the schema comes in:
an imported colour off the palette, or any other CSS, is dropped.
"""

import re
from typing import Any

import pytest

from documents import convert
from documents.ot import validate_document

PALETTE_RED = "#c92a2a"
HIGHLIGHT_YELLOW = "#fff3bf"

RICH = [
    {"insert": "Plan"},
    {"insert": "\n", "attributes": {"header": 1, "align": "center"}},
    {"insert": "red", "attributes": {"color": PALETTE_RED}},
    {"insert": " and "},
    {"insert": "marked", "attributes": {"background": HIGHLIGHT_YELLOW, "bold": True}},
    {"insert": "\n", "attributes": {"align": "justify"}},
    {"insert": "indented paragraph"},
    {"insert": "\n", "attributes": {"indent": 2}},
    {"insert": "one"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "one.a"},
    {"insert": "\n", "attributes": {"list": "bullet", "indent": 1}},
    {"insert": "one.a.i"},
    {"insert": "\n", "attributes": {"list": "ordered", "indent": 2}},
    {"insert": "two"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "done"},
    {"insert": "\n", "attributes": {"list": "checked"}},
    {"insert": "to do"},
    {"insert": "\n", "attributes": {"list": "unchecked", "indent": 1}},
    {"insert": {"divider": True}},
    {"insert": "\nafter the rule\n"},
]


def test_html_round_trip_keeps_every_format() -> None:
    exported = convert.to_html(RICH, title="Plan")
    assert convert.from_html(exported) == RICH
    assert f'<span style="color:{PALETTE_RED}">red</span>' in exported
    assert '<h1 style="text-align:center">' in exported
    assert '<p style="margin-left:6em">indented paragraph</p>' in exported
    assert "<hr>" in exported
    # Nested lists are real nested lists: the sublist sits inside its parent's item.
    assert re.search(r"<ol><li>one\s*<ul><li>one\.a\s*<ol><li>one\.a\.i", exported), exported


def test_markdown_round_trip_keeps_lists_checklists_and_the_rule() -> None:
    exported = convert.to_markdown(RICH)
    lines = exported.splitlines()
    assert lines[lines.index("1. one") :][:7] == [
        "1. one",
        "   - one.a",
        "     1. one.a.i",
        "2. two",
        "",
        "* [x] done",
        "  - [ ] to do",
    ]
    assert "\n---\n" in exported
    back = convert.from_markdown(exported)
    wanted = [
        (
            op["insert"],
            {k: v for k, v in (op.get("attributes") or {}).items() if k in ("list", "indent", "header")},
        )
        for op in RICH
    ]
    got = [(op["insert"], op.get("attributes") or {}) for op in back]
    # Colours, highlights, alignment and paragraph indents have no Markdown; the rest comes back.
    assert convert.to_text(back) == convert.to_text(RICH)
    assert [a for _, a in got if a.get("list")] == [a for _, a in wanted if a.get("list")]
    assert {"insert": {"divider": True}} in back


def test_text_export_shows_the_rule() -> None:
    assert convert.to_text(RICH).splitlines()[-2:] == ["---", "after the rule"]


def test_imported_colours_are_held_to_the_palette() -> None:
    source = (
        '<p><span style="color: rgb(201, 42, 42)">rgb on the palette</span> '
        '<span style="color:#C92A2A;background-color:#FFF3BF">hex upper case</span> '
        '<span style="color:#123456">off the palette</span> '
        '<span style="color: red; background: url(javascript:alert(1))">named and a url</span> '
        '<font color="#c92a2a">font tag</font> <mark>marked</mark></p>'
        '<p align="right">right</p><p style="text-align: left">left is the default</p>'
        '<p class="ql-align-center ql-indent-3">Quill classes</p>'
    )
    ops = convert.from_html(source)
    validate_document(ops)
    formats = {op["insert"]: op.get("attributes") for op in ops if isinstance(op["insert"], str)}
    assert formats["rgb on the palette"] == {"color": PALETTE_RED}
    assert formats["hex upper case"] == {"color": PALETTE_RED, "background": HIGHLIGHT_YELLOW}
    assert formats["font tag"] == {"color": PALETTE_RED}
    assert formats["marked"] == {"background": HIGHLIGHT_YELLOW}
    plain = "".join(op["insert"] for op in ops if not op.get("attributes"))
    assert "off the palette" in plain and "named and a url" in plain
    lines = [line for _, line in convert.lines_of(ops)]
    assert lines == [{}, {"align": "right"}, {}, {"align": "center", "indent": 3}]


def test_imported_checklists_from_markdown_and_html() -> None:
    ops = convert.from_markdown("- [ ] open\n- [x] closed\n- [y] not a task\n")
    assert [(op["insert"], op.get("attributes")) for op in ops] == [
        ("open", None),
        ("\n", {"list": "unchecked"}),
        ("closed", None),
        ("\n", {"list": "checked"}),
        ("[y] not a task", None),
        ("\n", {"list": "bullet"}),
    ]
    html_ops = convert.from_html(
        '<ul><li><input type="checkbox" checked> shipped</li><li><input type="checkbox"> next</li></ul>'
    )
    assert [op.get("attributes") for op in html_ops if op["insert"] == "\n"] == [
        {"list": "checked"},
        {"list": "unchecked"},
    ]


def test_deep_nesting_is_capped_at_the_schema_indent() -> None:
    source = "<ul>" * 12 + "<li>deep</li>" + "</ul>" * 12
    ops = convert.from_html(source)
    assert ops[-1] == {"insert": "\n", "attributes": {"list": "bullet", "indent": 8}}
    validate_document(ops)


@pytest.mark.parametrize(
    "ops",
    [
        [{"insert": "x", "attributes": {"color": "red;background:url(x)"}}, {"insert": "\n"}],
        [{"insert": "x"}, {"insert": "\n", "attributes": {"align": "left;position:fixed"}}],
        [{"insert": "x"}, {"insert": "\n", "attributes": {"indent": "1em;x:y", "list": "bullet"}}],
    ],
)
def test_export_writes_no_style_from_a_value_outside_the_schema(ops: Any) -> None:
    """Stored before the schema or not, only schema values ever reach a style attribute."""
    exported = convert.to_html(ops, title="t")
    assert "url(" not in exported and "position" not in exported and "x:y" not in exported
