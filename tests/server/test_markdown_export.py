"""The Markdown export shows text, never markup, in real Markdown renderers."""

import re
from typing import Any

import markdown
import pytest
from markdown_it import MarkdownIt

from documents import convert

# Every rendered tag must be one the export means to produce.
EXPECTED_TAGS = {
    "p",
    "strong",
    "em",
    "s",
    "del",
    "code",
    "pre",
    "a",
    "h1",
    "h2",
    "h3",
    "ul",
    "ol",
    "li",
    "blockquote",
}
TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)([^>]*)>")

HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "&lt;script&gt;alert(3)&lt;/script&gt;",
    "[click](javascript:alert(4))",
    "![x](javascript:alert(5))",
    "<javascript:alert(6)>",
    "`code` with ``` fences and \\ backslashes",
    "<!-- comment --> <?php ?> <![CDATA[x]]>",
]
HOSTILE_DOCUMENTS = {
    "text": [{"insert": "\n".join(HOSTILE_TEXT) + "\n"}],
    "formats around text": [
        {"insert": text, "attributes": {"bold": True, "italic": True, "strike": True}}
        for text in HOSTILE_TEXT
    ]
    + [{"insert": "\n"}],
    "inline code with backticks": [
        {"insert": "a ``` b ` c <script>alert(7)</script>", "attributes": {"code": True}},
        {"insert": " ` start", "attributes": {"code": True}},
        {"insert": "\n"},
    ],
    "code block with a closing fence": [
        {"insert": "```\n", "attributes": {"code-block": True}},
        {"insert": "<script>alert(8)</script>"},
        {"insert": "\n", "attributes": {"code-block": True}},
        {"insert": "````"},
        {"insert": "\n", "attributes": {"code-block": True}},
        {"insert": "<img src=x onerror=alert(9)>\n"},
    ],
    "link targets": [
        {"insert": "paren", "attributes": {"link": "https://example.com/a)<script>alert(10)</script>"}},
        {"insert": " angle", "attributes": {"link": "https://example.com/><img/src=x/onerror=alert(11)>"}},
        {"insert": " entity", "attributes": {"link": "/a&#58;b&colon;javascript&#x3a;alert(12)"}},
        {"insert": " backslash", "attributes": {"link": "https://example.com/\\><b>"}},
        {"insert": " unsafe", "attributes": {"link": "javascript:alert(13)"}},
        {"insert": "\n"},
    ],
    "stored before the schema": [
        {"insert": {"image": "javascript:alert(14)"}},
        {"insert": {"image": "https://example.com/x.png)<script>alert(15)</script>"}},
        {"insert": "\n"},
    ],
    "headers, quotes and lists": [
        {"insert": "<b>h</b>"},
        {"insert": "\n", "attributes": {"header": 1}},
        {"insert": "<i>q</i>"},
        {"insert": "\n", "attributes": {"blockquote": True}},
        {"insert": "<u>l</u>"},
        {"insert": "\n", "attributes": {"list": "checked"}},
    ],
}

RENDERERS = {
    "markdown-it (CommonMark, raw HTML on)": MarkdownIt("commonmark", {"html": True})
    .enable("strikethrough")
    .render,
    "Python-Markdown": lambda text: markdown.markdown(text, extensions=["fenced_code"]),
}


def assert_no_markup(rendered: str) -> None:
    assert "<script" not in rendered.lower()
    for closing, name, attributes in TAG.findall(rendered):
        assert name.lower() in EXPECTED_TAGS, (name, rendered)
        if name.lower() == "a" and not closing:
            href = re.search(r'href="([^"]*)"', attributes)
            assert href and not re.match(r"\s*(javascript|data|vbscript):", href.group(1), re.I), rendered
        else:
            assert not attributes.strip() or name.lower() == "code", (name, attributes)


@pytest.mark.parametrize("renderer", RENDERERS.values(), ids=RENDERERS.keys())
@pytest.mark.parametrize("ops", HOSTILE_DOCUMENTS.values(), ids=HOSTILE_DOCUMENTS.keys())
def test_rendered_export_has_no_markup_from_the_document(renderer: Any, ops: Any) -> None:
    assert_no_markup(renderer(convert.to_markdown(ops)))


def test_text_and_code_survive_the_round_trip() -> None:
    """Escaping is not loss: CommonMark shows exactly the document's text."""
    for name in ("text", "inline code with backticks", "code block with a closing fence"):
        ops = HOSTILE_DOCUMENTS[name]
        back = convert.from_markdown(convert.to_markdown(ops))
        assert convert.to_text(back) == convert.to_text(ops), name
