"""Export documents as HTML, Markdown and plain text; import them from the same formats.

Both directions speak the content schema (documents/schema.json): imports keep only its formats,
exports write only its formats. Exported HTML is generated here, element by element, with every
text and attribute escaped; exported Markdown escapes text, link targets and code, so no renderer
shows markup from a document. Import parsing is linear in the input (a hand-written HTML scanner
and markdown-it's CommonMark parser), so a hostile file costs no more than a long one.

Images: exports ask an `ImageSource` for each image embed (a data URI for HTML and PDF, an
absolute URL for Markdown); imports turn images inside the file into placeholder embeds
(`import:<n>`) with their checked bytes, which the service stores for the new document, and
never fetch an image from elsewhere (it becomes a link). What an import changes (tables become
lines, remote images links) is said in `Imported.warnings`. Word files go through
`documents/word.py` to HTML first.
"""

import base64
import binascii
import html
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt

from .images import CheckedImage, ImageRefused, check_image
from .ot import CONTENT_SCHEMA
from .ot.errors import InvalidDelta

Ops = list[dict[str, Any]]

INLINE_TAGS = [("bold", "strong"), ("italic", "em"), ("underline", "u"), ("strike", "s"), ("code", "code")]
HEADER_LEVELS = tuple(CONTENT_SCHEMA.line["header"]["values"])
LIST_KINDS = tuple(CONTENT_SCHEMA.line["list"]["values"])
MAX_INDENT = max(CONTENT_SCHEMA.line["indent"]["values"])
DIVIDER = {"divider": True}
# Inline styles written for the palette formats; values are checked against the schema first,
# so only a palette's #rrggbb ever reaches a style attribute.
STYLE_PROPERTIES = [("color", "color"), ("background", "background-color")]
# Comments one imported thread keeps (the rest of a hostile file's list is dropped).
MAX_IMPORTED_COMMENTS = 200


def safe_link(url: Any) -> str | None:
    """A link target the schema allows (so it cannot run script), or None."""
    return url if CONTENT_SCHEMA.value_allowed("link", url) else None


def lines_of(ops: Ops) -> list[tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]]:
    """Split a document into lines: (inline runs, line attributes), as Quill does."""
    lines: list[tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]] = []
    runs: list[tuple[str, dict[str, Any]]] = []
    for op in ops:
        insert = op.get("insert")
        attributes = op.get("attributes") or {}
        if not isinstance(insert, str):
            runs.append(("\ufffc", {"embed": insert}))  # an embed: one character wide, as in Quill
            continue
        parts = insert.split("\n")
        for index, part in enumerate(parts):
            if part:
                runs.append((part, attributes))
            if index < len(parts) - 1:
                lines.append((runs, attributes))
                runs = []
    if runs:
        lines.append((runs, {}))
    return lines


# --- Export -------------------------------------------------------------------------------------


def _is_divider(attributes: dict[str, Any]) -> bool:
    return attributes.get("embed") == DIVIDER


def to_text(ops: Ops) -> str:
    lines = ("".join("---" if _is_divider(a) else text for text, a in runs) for runs, _ in lines_of(ops))
    return "\n".join(lines) + "\n"


def _style(pairs: list[tuple[str, str]]) -> str:
    return ' style="' + ";".join(f"{name}:{value}" for name, value in pairs) + '"' if pairs else ""


def _line_style(line: dict[str, Any], *, indent: bool = True) -> str:
    """A block's alignment (and, outside lists, indent) as a style attribute."""
    pairs = []
    if CONTENT_SCHEMA.value_allowed("align", line.get("align")):
        pairs.append(("text-align", line["align"]))
    if indent and CONTENT_SCHEMA.value_allowed("indent", line.get("indent")):
        pairs.append(("margin-left", f"{3 * line['indent']}em"))
    return _style(pairs)


class _Lists:
    """Open HTML lists, nested by indent: each item's <li> stays open until its next sibling."""

    def __init__(self) -> None:
        self.open: list[str] = []

    def item(self, tag: str, depth: int) -> str:
        out = []
        while len(self.open) > depth + 1:
            out.append(f"</li></{self.open.pop()}>")
        if len(self.open) == depth + 1 and self.open[-1] != tag:
            out.append(f"</li></{self.open.pop()}>")
        if len(self.open) == depth + 1:
            out.append("</li>")
        while len(self.open) < depth + 1:
            out.append(f"<{tag}>")
            self.open.append(tag)
        return "".join(out)

    def close(self) -> str:
        out = "".join(f"</li></{tag}>" for tag in reversed(self.open))
        self.open.clear()
        return out


class Footnotes:
    """Comment threads as numbered footnotes: a mark after each anchored passage, notes at the end.

    `threads` maps a thread id to its comments as (author, body) pairs; a passage whose thread is
    not there (deleted, or not asked for) gets no mark.
    """

    def __init__(self, threads: dict[str, list[tuple[str, str]]]) -> None:
        self.threads = threads
        self.numbers: dict[str, int] = {}

    def number(self, thread_id: Any) -> int | None:
        """The thread's footnote number (the first asked gets 1), or None if it has no note."""
        if not isinstance(thread_id, str) or thread_id not in self.threads:
            return None
        return self.numbers.setdefault(thread_id, len(self.numbers) + 1)

    def mark(self, thread_id: Any) -> str:
        number = self.number(thread_id)
        if number is None:
            return ""
        return f'<sup class="comment-mark"><a href="#comment-{number}">[{number}]</a></sup>'

    def section(self) -> str:
        if not self.numbers:
            return ""
        items = []
        for thread_id, number in self.numbers.items():
            comments = "".join(
                f"<p><strong>{html.escape(author)}</strong>: {html.escape(body)}</p>"
                for author, body in self.threads[thread_id]
            )
            items.append(f'<li id="comment-{number}">{comments}</li>')
        return '<section class="comments">\n<h2>Comments</h2>\n<ol>' + "".join(items) + "</ol>\n</section>"


ImageSource = Callable[[str], str | None]
"""Turns an image embed's URL into what an export links to (a data: URI, an absolute URL), or None."""


def image_url(embed: Any) -> str | None:
    """The URL of an image embed the schema allows, or None (other embeds are left out)."""
    if isinstance(embed, dict) and CONTENT_SCHEMA.embeds.get("image") is not None:
        value = embed.get("image")
        if len(embed) == 1 and isinstance(value, str):
            try:
                CONTENT_SCHEMA.check_embed("image", value, where="export")
            except InvalidDelta:
                return None
            return value
    return None


def _inline_html(
    runs: list[tuple[str, dict[str, Any]]],
    notes: Footnotes | None = None,
    images: ImageSource | None = None,
) -> str:
    out = []
    for index, (text, attributes) in enumerate(runs):
        if "embed" in attributes:
            if _is_divider(attributes):
                out.append("<hr>")
                continue
            url = image_url(attributes["embed"])
            source = images(url) if images is not None and url else None
            if source:
                out.append(f'<img src="{html.escape(source, quote=True)}" alt="">')
            continue  # an embed outside the schema (stored before it) is left out
        piece = html.escape(text)
        for name, tag in INLINE_TAGS:
            if attributes.get(name):
                piece = f"<{tag}>{piece}</{tag}>"
        colours = [
            (prop, attributes[name])
            for name, prop in STYLE_PROPERTIES
            if CONTENT_SCHEMA.value_allowed(name, attributes.get(name))
        ]
        if colours:
            piece = f"<span{_style(colours)}>{piece}</span>"
        link = safe_link(attributes.get("link"))
        if link:
            piece = f'<a href="{html.escape(link, quote=True)}" rel="noopener noreferrer">{piece}</a>'
        thread = attributes.get("comment")
        number = notes.number(thread) if notes is not None else None
        if number is not None:
            # The passage itself is marked, so an import can anchor the thread on it again.
            piece = f'<span data-comment="{number}">{piece}</span>'
        out.append(piece)
        following = runs[index + 1][1].get("comment") if index + 1 < len(runs) else None
        if notes is not None and thread and thread != following:
            out.append(notes.mark(thread))
    return "".join(out)


def to_html(
    ops: Ops,
    *,
    title: str | None = None,
    notes: Footnotes | None = None,
    images: ImageSource | None = None,
    style: str = "",
) -> str:
    """A standalone, script-free HTML document; with `notes`, comments become footnotes.

    `images` gives each image's source (without it, images are left out); `style` is a
    stylesheet for the page (the PDF export's print styles).
    """
    body: list[str] = []
    lists = _Lists()
    code: list[str] = []
    for runs, line in lines_of(ops):
        inner = _inline_html(runs, notes, images)
        if code and not line.get("code-block"):
            body.append("<pre><code>" + "\n".join(code) + "</code></pre>")
            code = []
        list_kind = line.get("list")
        tag = (
            {"ordered": "ol", "bullet": "ul", "checked": "ul", "unchecked": "ul"}.get(list_kind)
            if isinstance(list_kind, str)
            else None
        )
        if not tag and lists.open:
            body.append(lists.close())
        block_style = _line_style(line, indent=not tag)
        if tag:
            depth = line["indent"] if CONTENT_SCHEMA.value_allowed("indent", line.get("indent")) else 0
            opened = lists.item(tag, depth)
            if list_kind in ("checked", "unchecked"):
                mark = "&#9745;" if list_kind == "checked" else "&#9744;"
                body.append(f'{opened}<li data-list="{list_kind}"{block_style}>{mark} {inner}')
            else:
                body.append(f"{opened}<li{block_style}>{inner}")
        elif len(runs) == 1 and _is_divider(runs[0][1]):
            body.append("<hr>")
        elif line.get("header") in HEADER_LEVELS:
            level = line["header"]
            body.append(f"<h{level}{block_style}>{inner}</h{level}>")
        elif line.get("blockquote"):
            body.append(f"<blockquote{block_style}>{inner}</blockquote>")
        elif line.get("code-block"):
            # Consecutive code lines are one block, as the editor shows them.
            code.append("".join(html.escape(text) for text, attributes in runs if "embed" not in attributes))
        else:
            body.append(f"<p{block_style}>{inner or '<br>'}</p>")
    if code:
        body.append("<pre><code>" + "\n".join(code) + "</code></pre>")
    if lists.open:
        body.append(lists.close())
    if notes is not None and notes.numbers:
        body.append(notes.section())
    heading = html.escape(title or "Document")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'\">\n"
        f"<title>{heading}</title>\n"
        + (f"<style>{style}</style>\n" if style else "")
        + "</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# Characters that are markup anywhere in a line. `-`, `+`, `#`, `>`, `=` and `1.` are markup only
# where a line starts, so only there are they escaped (`well-known` stays as written).
_MD_ESCAPE = re.compile(r"([\\`*_\[\]!|~])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+#>=])|(\d{1,9})([.)]))")
_LINK_TARGET_UNSAFE = re.compile(r"[\s()<>\\\"'`]")
_BACKTICKS = re.compile(r"`+")


def _md_text(text: str) -> str:
    """Text that every Markdown renderer shows as itself: no emphasis, links, HTML or entities."""
    return _MD_ESCAPE.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")


def _md_line_start(line: str) -> str:
    """Escape what would make a line a list, heading, quote or rule."""
    return _MD_LINE_START.sub(
        lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"),
        line,
        count=1,
    )


def _md_emphasis(piece: str, marker: str) -> str:
    """`marker` around the piece's words; surrounding spaces stay outside, where they are allowed."""
    core = piece.strip(" \t")
    if not core:
        return piece  # bold spaces are just spaces
    start = piece.index(core)
    return f"{piece[:start]}{marker}{core}{marker}{piece[start + len(core) :]}"


def _md_code_span(text: str) -> str:
    """Inline code fenced by more backticks than it contains, so it cannot end early."""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    if text.startswith(("`", " ")) or text.endswith(("`", " ")):
        text = f" {text} "  # renderers strip one space on each side
    return f"{fence}{text}{fence}"


def _md_link_target(url: str) -> str:
    """A link destination no renderer can end early or decode into another scheme.

    Brackets, quotes, backslashes and spaces are percent-encoded; ``&`` is written as an entity
    (which renderers decode back to ``&``), so ``&#58;`` in a target stays literal text.
    """
    encoded = _LINK_TARGET_UNSAFE.sub(lambda match: f"%{ord(match.group()):02X}", url)
    return encoded.replace("&", "&amp;")


def _md_code_fence(lines: list[str]) -> str:
    """A fence longer than any backtick run in the block, so no line of it can close the block."""
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    return "`" * max(3, longest + 1)


def _inline_markdown(runs: list[tuple[str, dict[str, Any]]], images: ImageSource | None = None) -> str:
    out: list[str] = []
    merged: list[tuple[str, dict[str, Any]]] = []
    for text, attributes in runs:
        # Neighbours with the same formats are one span: two code spans side by side would
        # run their fences together.
        if merged and merged[-1][1] == attributes and "embed" not in attributes:
            merged[-1] = (merged[-1][0] + text, attributes)
        else:
            merged.append((text, attributes))
    for text, attributes in merged:
        if "embed" in attributes:
            url = image_url(attributes["embed"])
            source = images(url) if images is not None and url else None
            if source:
                out.append(f"![image]({_md_link_target(source)})")
            continue
        if attributes.get("code"):
            piece = _md_code_span(text)
        else:
            piece = _md_text(text)
            if not out:
                piece = _md_line_start(piece)
        if attributes.get("bold"):
            piece = _md_emphasis(piece, "**")
        if attributes.get("italic"):
            piece = _md_emphasis(piece, "*")
        if attributes.get("strike"):
            piece = _md_emphasis(piece, "~~")
        link = safe_link(attributes.get("link"))
        if link:
            piece = f"[{piece}]({_md_link_target(link)})"
        out.append(piece)
    return "".join(out)


def to_markdown(ops: Ops, *, images: ImageSource | None = None) -> str:
    """CommonMark: blocks separated by blank lines, except within a list or a code block.

    Nested list items are indented to their parent's content; colours, highlights, alignment and
    paragraph indents have no Markdown and are left out.
    """
    out: list[str] = []
    previous: str | None = None
    numbers: list[int] = []
    widths: list[int] = []
    code: list[str] = []
    list_kinds = ("bullet", "ordered", "checked", "unchecked")
    flip = False

    def end_code() -> None:
        fence = _md_code_fence(code)
        out.extend([fence, *code, fence])
        code.clear()

    for runs, line in lines_of(ops):
        kind = "code" if line.get("code-block") else str(line.get("list") or "p")
        if kind == "p" and len(runs) == 1 and _is_divider(runs[0][1]):
            kind = "hr"
        depth = (
            line["indent"]
            if kind in list_kinds and CONTENT_SCHEMA.value_allowed("indent", line.get("indent"))
            else 0
        )
        if depth and previous in list_kinds:
            kind_seen = previous  # a nested item continues the list it is in
        elif kind != previous:
            if previous == "code":
                end_code()
            if out:
                out.append("")
            if kind in list_kinds:
                # A list right after another one takes the other marker, or Markdown joins them.
                flip = not flip if previous in list_kinds else False
            numbers, widths = [], []
            kind_seen = kind
        else:
            if kind in ("p", "hr"):
                out.append("")
            kind_seen = kind
        previous = kind_seen
        if kind == "code":
            code.append("".join(text for text, attributes in runs if "embed" not in attributes))
            continue
        if kind == "hr":
            out.append("---")
            continue
        inner = _inline_markdown(runs, images)
        if kind in list_kinds:
            del numbers[depth + 1 :]
            numbers.extend([0] * (depth + 1 - len(numbers)))
            numbers[depth] += 1
            widths = (widths + [2] * depth)[:depth]
            bullet = "*" if flip and not depth else "-"
            if kind == "ordered":
                marker = f"{numbers[depth]}{')' if flip and not depth else '.'}"
            else:
                marker = bullet
            check = f"[{'x' if kind == 'checked' else ' '}] " if kind in ("checked", "unchecked") else ""
            out.append(" " * sum(widths) + f"{marker} {check}{inner}")
            widths.append(len(marker) + 1)
        elif line.get("header") in HEADER_LEVELS:
            out.append("#" * line["header"] + " " + inner)
        elif line.get("blockquote"):
            out.append("> " + inner)
        else:
            out.append(inner)
    if previous == "code":
        end_code()
    return "\n".join(out) + "\n"


# --- Import -------------------------------------------------------------------------------------

MAX_INLINE_DEPTH = 64
MAX_IMPORT_IMAGES = 200
"""Images one imported file may bring; more are left out, with a warning."""
IMPORT_IMAGE_PREFIX = "import:"
"""An imported image's placeholder embed, until the service stores it and knows its URL."""
_DATA_IMAGE = re.compile(r"data:image/[a-z0-9.+-]+;base64,", re.IGNORECASE)
"""Open inline tags tracked at once; deeper ones are ignored (keeps every tag O(1))."""
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# One attribute; a quoted value runs to its closing quote, or (unclosed) to the end of the input.
_ATTRIBUTE = re.compile(r"""[\s/]*([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)("?)|'([^']*)('?)|([^\s>]*)))?""")
_TAG_END = re.compile(r"[\s/]*>")
# Elements whose content is text up to their end tag, never markup.
RAW_TEXT = frozenset(
    ("script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript")
)


def _html_events(source: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Yield ("start" | "end" | "data", tag or text, attributes) for HTML, in one linear pass.

    Every step moves forward and nothing is rescanned: an unclosed tag, quote or comment ends
    the input, as it does in a browser. Raw-text elements (script, style, ...) are skipped.
    """
    lower = source.translate(_ASCII_LOWER)  # same length, so positions carry over
    position, size = 0, len(source)
    while position < size:
        start = source.find("<", position)
        if start < 0:
            yield "data", html.unescape(source[position:]), {}
            return
        if start > position:
            yield "data", html.unescape(source[position:start]), {}
        following = source[start + 1 : start + 2]
        if following in ("!", "?"):
            closer = "-->" if source.startswith("<!--", start) else ">"
            end = source.find(closer, start + 2)
            if end < 0:
                return
            position = end + len(closer)
            continue
        closing = following == "/"
        name = _TAG_NAME.match(source, start + 1 + closing)
        if name is None:
            yield "data", "<", {}
            position = start + 1
            continue
        tag = name.group().translate(_ASCII_LOWER)
        position = name.end()
        attributes: dict[str, str] = {}
        while (attribute := _ATTRIBUTE.match(source, position)) is not None:
            key, double, double_end, single, single_end, bare = attribute.groups()
            if (double is not None and not double_end) or (single is not None and not single_end):
                return  # an unclosed quote swallows the rest of the input
            value = double if double is not None else single if single is not None else bare or ""
            attributes.setdefault(key.translate(_ASCII_LOWER), html.unescape(value))
            position = attribute.end()
        tag_end = _TAG_END.match(source, position)
        if tag_end is None:
            return  # an unclosed tag
        position = tag_end.end()
        if closing:
            yield "end", tag, {}
        elif tag in RAW_TEXT:
            close = lower.find("</" + tag, position)
            if close < 0:
                return
            end_of_close = source.find(">", close)
            if end_of_close < 0:
                return
            position = end_of_close + 1
        else:
            yield "start", tag, attributes


_STYLE_DECLARATION = re.compile(r"([a-z-]+)\s*:\s*([^;]+)")
_HEX_COLOR = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})")
_RGB_COLOR = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*1(?:\.0+)?\s*)?\)")
_EM_LENGTH = re.compile(r"(\d{1,3}(?:\.\d{1,3})?)em")
_QUILL_CLASS = re.compile(r"ql-(align|indent)-([a-z0-9]+)")
# A Markdown task item as markdown-it (without the task-list plugin) leaves it, or our HTML's mark.
_TASK_MARK = re.compile(r"\[([ xX])\]\s|([\u2610\u2611])\s?")


def _styles(attrs: dict[str, str]) -> dict[str, str]:
    return {name: value.strip() for name, value in _STYLE_DECLARATION.findall(attrs.get("style", "").lower())}


def _palette_color(name: str, value: str | None) -> str | None:
    """A CSS colour as the schema's palette value for format `name`, or None if it is not one."""
    value = (value or "").strip().lower()
    if match := _HEX_COLOR.fullmatch(value):
        digits = match.group(1)
        value = "#" + ("".join(d * 2 for d in digits) if len(digits) == 3 else digits)
    elif match := _RGB_COLOR.fullmatch(value):
        parts = [int(part) for part in match.groups()]
        if max(parts) > 255:
            return None
        value = "#" + "".join(f"{part:02x}" for part in parts)
    return value if CONTENT_SCHEMA.value_allowed(name, value) else None


def _inline_colors(tag: str, attrs: dict[str, str]) -> dict[str, str]:
    styles = _styles(attrs)
    found = {
        "color": _palette_color(
            "color", styles.get("color") or (attrs.get("color") if tag == "font" else None)
        ),
        "background": _palette_color(
            "background", styles.get("background-color") or styles.get("background")
        ),
    }
    if tag == "mark" and not found["background"]:
        found["background"] = CONTENT_SCHEMA.inline["background"]["values"][0]
    return {name: value for name, value in found.items() if value}


def _block_formats(attrs: dict[str, str]) -> dict[str, Any]:
    """Alignment and indent of a block, from a style, an `align` attribute or Quill's classes."""
    formats: dict[str, Any] = {}
    align = _styles(attrs).get("text-align") or attrs.get("align", "").lower()
    for name, value in _QUILL_CLASS.findall(attrs.get("class", "")):
        if name == "align":
            align = value
        elif value.isdigit():
            formats["indent"] = min(int(value), MAX_INDENT)
    margin = _EM_LENGTH.fullmatch(_styles(attrs).get("margin-left", ""))
    if margin and "indent" not in formats and round(float(margin.group(1)) / 3) > 0:
        formats["indent"] = min(round(float(margin.group(1)) / 3), MAX_INDENT)  # as the export writes it
    if CONTENT_SCHEMA.value_allowed("align", align):
        formats["align"] = align
    return formats


class _DeltaBuilder:
    """Turn HTML events into delta ops, keeping only the schema's formats."""

    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"}
    INLINE = {
        "strong": "bold",
        "b": "bold",
        "em": "italic",
        "i": "italic",
        "u": "underline",
        "s": "strike",
        "strike": "strike",
        "del": "strike",
        "code": "code",
    }
    INLINE |= {"kbd": "code", "samp": "code", "tt": "code", "ins": "underline"}
    # Inline tags that carry colours (a format map each); they, and inline tags with a style,
    # push what they carry as one span, popped whole by their end tag.
    COLOURED = {"span", "font", "mark"}
    SKIP = {"head", "template", "object", "svg", "math"}
    # Inline formats a `style` attribute can carry (word processors and Google Docs write spans).
    STYLES = (
        ("bold", re.compile(r"font-weight\s*:\s*(bold|bolder|[6-9]00)\b")),
        ("italic", re.compile(r"font-style\s*:\s*(italic|oblique)")),
        ("underline", re.compile(r"text-decoration[a-z-]*\s*:[^;]*underline")),
        ("strike", re.compile(r"text-decoration[a-z-]*\s*:[^;]*line-through")),
        ("code", re.compile(r"font-family\s*:[^;]*(mono|courier|consolas|menlo)")),
    )
    NOT_BOLD = re.compile(r"font-weight\s*:\s*(normal|lighter|[1-5]00)\b")

    def __init__(self) -> None:
        # Comments as the HTML export writes them: passages in <span data-comment="N"> (read
        # with the span's other formats by `_push_styles`), the
        # marks after them in <sup class="comment-mark"> (skipped), and a <section
        # class="comments"> of <li id="comment-N"> notes, one <p> per comment.
        self.comment_ids: dict[str, str] = {}  # footnote number -> the new thread's id
        self.marks = 0  # open <sup class="comment-mark">
        self.notes_depth = 0  # open <section class="comments">
        self.note: str | None = None  # the number of the <li> being read there
        self.note_text: list[str] | None = None  # the <p> being read there
        self.notes: dict[str, list[str]] = {}
        self.ops: Ops = []
        # Raw bytes of images embedded in the file (data: URIs), by their placeholder.
        self.images: dict[str, bytes] = {}
        self.remote_images = 0
        self.tables = 0
        self.cells = 0
        # Inside a table row, only text in its cells counts (not the whitespace between them).
        self.row_open = False
        self.cell_open = False
        # What each open <span> pushed, so its end tag pops exactly that.
        self.spans: list[list[str]] = []
        self.inline: list[tuple[str, Any]] = []
        # Opening tags past MAX_INLINE_DEPTH, by format, so their end tags are ignored too.
        self.ignored: dict[str, int] = {}
        self.lists: list[str] = []
        self.block: dict[str, Any] = {}
        self.skip = 0
        self.pre = 0
        self.pending_text = False
        # A block element was opened and its line not yet ended (so <p></p> still makes a line).
        self.line_open = False
        # A list item whose text has not started: "[ ] " there makes it a checklist item.
        self.task_mark = False

    def feed(self, source: str) -> None:
        for kind, value, attributes in _html_events(source):
            if kind == "data":
                self.handle_data(value)
            elif kind == "start":
                self.handle_starttag(value, attributes)
            else:
                self.handle_endtag(value)

    def _attrs(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        for name, value in self.inline:
            if not name or (name == "code" and self.pre):
                continue
            if isinstance(value, dict):
                attributes.update(value)
            else:
                attributes[name] = value
        return attributes

    def _text(self, text: str) -> None:
        if not text:
            return
        op: dict[str, Any] = {"insert": text}
        attributes = self._attrs()
        if attributes:
            op["attributes"] = attributes
        self.ops.append(op)
        self.pending_text = True

    def _end_line(self, attributes: dict[str, Any] | None = None) -> None:
        # Spaces before a line break are layout (markup's own line breaks), not text.
        while self.ops and isinstance(last := self.ops[-1].get("insert"), str) and last != "\n":
            if not last.endswith(" ") or self.pre:
                break
            if last.rstrip(" "):
                self.ops[-1] = {**self.ops[-1], "insert": last.rstrip(" ")}
                break
            self.ops.pop()
        op: dict[str, Any] = {"insert": "\n"}
        if attributes:
            op["attributes"] = attributes
        self.ops.append(op)
        self.pending_text = False
        self.line_open = False

    def _push_inline(self, name: str, value: Any) -> None:
        if len(self.inline) >= MAX_INLINE_DEPTH:
            self.ignored[name] = self.ignored.get(name, 0) + 1
        else:
            self.inline.append((name, value))

    def _pop_inline(self, name: str) -> None:
        if self.ignored.get(name):
            self.ignored[name] -= 1
            return
        for index in range(len(self.inline) - 1, -1, -1):
            if self.inline[index][0] == name:
                del self.inline[index]
                return

    def _comment_tag(self, tag: str, attrs: dict[str, str], *, start: bool) -> bool:
        """Handle the tags that carry comments; True when the tag is done with."""
        classes = (attrs.get("class") or "").split()
        if tag == "section" and (self.notes_depth or "comments" in classes):
            self.notes_depth += 1 if start else -1
            return True
        if self.notes_depth:
            if tag == "li":
                number = (attrs.get("id") or "").removeprefix("comment-")
                self.note = number if start and number.isdigit() and len(number) <= 6 else None
            elif tag == "p" and self.note is not None:
                if start:
                    self.note_text = []
                elif self.note_text is not None:
                    body = re.sub(r"\s+", " ", "".join(self.note_text)).strip()
                    if body and len(self.notes.setdefault(self.note, [])) < MAX_IMPORTED_COMMENTS:
                        self.notes[self.note].append(body)
                    self.note_text = None
            return True
        if tag == "sup" and (self.marks or "comment-mark" in classes):
            self.marks += 1 if start else -1
            return True
        return False

    def handle_starttag(self, tag: str, attrs: dict[str, str]) -> None:
        if self._comment_tag(tag, attrs, start=True):
            return
        if tag in self.SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag in ("ul", "ol"):
            if self.pending_text:
                self._end_line(self.block)
            self.lists.append("bullet" if tag == "ul" else "ordered")
        elif tag in self.BLOCKS:
            if self.pending_text:
                self._end_line(self.block)
            self.line_open = True
            if tag[0] == "h" and tag[1:].isdigit():
                self.block = {"header": min(int(tag[1:]), max(HEADER_LEVELS))}
            elif tag == "li":
                kind = attrs.get("data-list")
                self.block = {
                    "list": kind if kind in LIST_KINDS else self.lists[-1] if self.lists else "bullet"
                }
                if len(self.lists) > 1:
                    self.block["indent"] = min(len(self.lists) - 1, MAX_INDENT)
                self.task_mark = True
            elif tag == "blockquote":
                self.block = {"blockquote": True}
            elif tag == "pre":
                self.pre += 1
                self.block = {"code-block": True}
            if tag != "pre":
                self.block = {**_block_formats(attrs), **self.block}
        elif tag == "hr":
            if self.pending_text:
                self._end_line(self.block)
            self.ops.append({"insert": dict(DIVIDER)})
            self._end_line()
        elif tag == "input" and attrs.get("type", "").lower() == "checkbox" and self.block.get("list"):
            self.block["list"] = "checked" if "checked" in attrs else "unchecked"
            self.task_mark = False
        elif tag == "br":
            self._end_line(self.block)
        elif tag == "table":
            self.tables += 1
        elif tag == "tr":
            if self.pending_text:
                self._end_line(self.block)
            self.line_open = self.row_open = True
            self.cells = 0
        elif tag in ("td", "th"):
            # A table becomes one line per row, its cells separated by a bar (the editor has no tables).
            if self.cells:
                self._text(" | ")
            self.cells += 1
            self.cell_open = True
        elif tag == "img":
            self._image(attrs)
        elif tag in self.COLOURED or (tag in self.INLINE and "style" in attrs):
            self.spans.append(self._push_styles(tag, attrs))
        elif tag in self.INLINE:
            self._push_inline(self.INLINE[tag], True)
        elif tag == "a":
            # An unsafe or missing href still opens the tag, so its end tag pairs up.
            self._push_inline("link", safe_link(attrs.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if self._comment_tag(tag, {}, start=False):
            return
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
        elif tag in self.BLOCKS:
            if self.pending_text or (self.line_open and tag != "pre"):
                self._end_line(self.block)
            self.line_open = False
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self.block = {}
        elif tag == "tr":
            if self.pending_text or self.line_open:
                self._end_line(self.block)
            self.cells = 0
            self.row_open = self.cell_open = False
        elif tag in ("td", "th"):
            self.cell_open = False
            if self.ops and isinstance(self.ops[-1]["insert"], str):
                self.ops[-1]["insert"] = self.ops[-1]["insert"].rstrip(" ")
        elif tag in self.COLOURED or (
            tag in self.INLINE and self.spans and self.spans[-1][:1] == [f"<{tag}>"]
        ):
            for name in reversed(self.spans.pop() if self.spans else []):
                if not name.startswith("<"):
                    self._pop_inline(name)
        elif tag in self.INLINE:
            self._pop_inline(self.INLINE[tag])
        elif tag == "a":
            self._pop_inline("link")

    def _push_styles(self, tag: str, attrs: dict[str, str]) -> list[str]:
        """Push the formats of an element with a style or colours; return what to pop at its end tag."""
        style = attrs.get("style", "").lower()
        pushed = [f"<{tag}>"]  # marks whose span this is
        number = (attrs.get("data-comment") or "") if tag == "span" else ""
        if number.isdigit() and len(number) <= 6:
            self._push_inline("comment", self.comment_ids.setdefault(number, uuid.uuid4().hex))
            pushed.append("comment")
        colours = _inline_colors(tag, attrs)
        if colours:
            self._push_inline("colours", colours)
            pushed.append("colours")
        names = [self.INLINE[tag]] if tag in self.INLINE else []
        if tag in ("b", "strong") and self.NOT_BOLD.search(style):
            names = []  # Google Docs wraps a whole paste in <b style="font-weight:normal">
        names += [name for name, pattern in self.STYLES if pattern.search(style) and name not in names]
        for name in names:
            self._push_inline(name, True)
            pushed.append(name)
        return pushed

    def _image(self, attrs: dict[str, str]) -> None:
        """An image embedded in the file becomes a placeholder embed; a remote one, a link."""
        source = attrs.get("src", "")
        match = _DATA_IMAGE.match(source)
        if match and len(self.images) < MAX_IMPORT_IMAGES:
            try:
                data = base64.b64decode(source[match.end() :], validate=False)
            except (ValueError, binascii.Error):
                data = b""
            placeholder = f"{IMPORT_IMAGE_PREFIX}{len(self.images)}"
            self.images[placeholder] = data
            self.ops.append({"insert": {"image": placeholder}, "attributes": self._attrs()})
            self.pending_text = True
            return
        # Never fetched: the server does not load addresses a file names (they may be internal).
        self.remote_images += 1
        link = safe_link(source)
        label = attrs.get("alt") or "image"
        self.inline.append(("link", link))
        self._text(f"[{label}]")
        self.inline.pop()

    def handle_data(self, data: str) -> None:
        if self.notes_depth:
            if self.note_text is not None:
                self.note_text.append(data)
            return
        if self.skip or self.marks or (self.row_open and not self.cell_open):
            return
        if self.pre:
            lines = data.split("\n")
            for index, line in enumerate(lines):
                self._text(line)
                if index < len(lines) - 1:
                    self._end_line(self.block)
            return
        text = re.sub(r"\s+", " ", data)
        if not self.pending_text:
            text = text.lstrip()
            if self.task_mark and text and (mark := _TASK_MARK.match(text)):
                # "[ ] task", "[x] task" or our export's ballot box: a checklist item.
                self.block["list"] = (
                    "checked"
                    if (mark.group(1) or "").lower() == "x" or mark.group(2) == "\u2611"
                    else "unchecked"
                )
                text = text[mark.end() :]
        if text:
            self.task_mark = False
        self._text(text)


def _clean_ops(ops: Ops, *, placeholders: frozenset[str] = frozenset()) -> Ops:
    """Merge neighbours with equal attributes (in linear time) and cut the result to the schema.

    Image embeds named in `placeholders` are kept for the service to replace with stored images.
    """
    merged: Ops = []
    pieces: list[str] = []

    def flush() -> None:
        if pieces:
            merged[-1]["insert"] = "".join(pieces)
            pieces.clear()

    for op in ops:
        if not op["insert"]:
            continue
        if not isinstance(op["insert"], str):  # an embed stands alone
            flush()
            merged.append(op)
            continue
        attributes = {
            name: value for name, value in (op.get("attributes") or {}).items() if value is not None
        }
        if pieces and merged[-1].get("attributes") == (attributes or None):
            pieces.append(op["insert"])
            continue
        flush()
        pieces.append(op["insert"])
        merged.append({"insert": "", "attributes": attributes} if attributes else {"insert": ""})
    flush()
    return CONTENT_SCHEMA.sanitize(merged, keep=lambda name, value: name == "image" and value in placeholders)


@dataclass
class Imported:
    """A parsed upload: its content, the images it brought (by placeholder), what was not kept,
    its title (its first heading), and the comment threads it carried (id -> comment bodies),
    each anchored in `ops` by its id in the `comment` format."""

    ops: Ops
    images: dict[str, CheckedImage] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    title: str | None = None
    threads: dict[str, list[str]] = field(default_factory=dict)


def _parse_html(source: str) -> _DeltaBuilder:
    builder = _DeltaBuilder()
    builder.feed(source)
    if builder.pending_text:
        builder._end_line(builder.block)
    return builder


def _threads(builder: _DeltaBuilder) -> dict[str, list[str]]:
    """The comment threads a parsed file carried, by the id anchoring each passage in its ops.

    An anchor without a note (or a note without an anchor) is dropped: no empty threads."""
    threads = {
        builder.comment_ids[number]: bodies
        for number, bodies in builder.notes.items()
        if number in builder.comment_ids and bodies
    }
    for op in builder.ops:
        if (op.get("attributes") or {}).get("comment") not in threads:
            (op.get("attributes") or {}).pop("comment", None)
    return threads


def parse_html(source: str) -> Imported:
    """An HTML file's content with the comment threads an HTML export carried (no images)."""
    builder = _parse_html(source)
    threads = _threads(builder)
    return Imported(ops=_clean_ops(builder.ops), threads=threads)


def from_html(source: str) -> Ops:
    """The content of an HTML file, comment anchors left out."""
    return without_comments(parse_html(source).ops)


def without_comments(ops: Ops) -> Ops:
    stripped = []
    for op in ops:
        attributes = {k: v for k, v in (op.get("attributes") or {}).items() if k != "comment"}
        stripped.append({"insert": op["insert"], **({"attributes": attributes} if attributes else {})})
    return _clean_ops(stripped)


# CommonMark with strikethrough (which the Markdown export writes) and tables; raw HTML in a
# Markdown file is shown as text, as the export escapes it.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])


def from_markdown(source: str) -> Ops:
    return from_html(_MARKDOWN.render(source))


def from_text(source: str) -> Ops:
    text = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _clean_ops([{"insert": text}])


def first_heading(ops: Ops) -> str | None:
    """The text of the document's first heading: an imported file's title, as people expect."""
    for runs, line in lines_of(ops):
        if line.get("header"):
            text = " ".join("".join(t for t, a in runs if "embed" not in a).split())
            if text:
                return text[:200]
    return None


EXPORTERS = {
    "html": ("text/html; charset=utf-8", "html"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "txt": ("text/plain; charset=utf-8", "txt"),
}


def export(
    ops: Ops, fmt: str, *, title: str, notes: Footnotes | None = None, images: ImageSource | None = None
) -> str:
    if fmt == "html":
        return to_html(ops, title=title, notes=notes, images=images)
    if fmt == "md":
        return to_markdown(ops, images=images)
    if fmt == "txt":
        return to_text(ops)
    raise ValueError(f"unknown export format {fmt!r}")


# The largest file of each kind, in characters (bytes for .docx): parsing is linear, and these
# bound it to a few seconds on adversarial input (bench/import_bench.py; docs/reliability.md).
MAX_IMPORT_CHARACTERS = {"md": 128 * 1024, "html": 1024 * 1024, "txt": 2 * 1024 * 1024}
IMPORTERS = {".html": ("html", from_html), ".htm": ("html", from_html), ".md": ("md", from_markdown)}
IMPORTERS |= {".markdown": ("md", from_markdown), ".txt": ("txt", from_text)}
IMPORT_EXTENSIONS = (*IMPORTERS, ".docx")


def _extension(name: str) -> str:
    return "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""


def import_file(name: str, source: str) -> Ops:
    """Parse an uploaded text file by its extension; ValueError says what is wrong with it."""
    extension = _extension(name)
    if extension not in IMPORTERS:
        raise ValueError("Import a .docx, .md, .html or .txt file.")
    kind, parse = IMPORTERS[extension]
    limit = MAX_IMPORT_CHARACTERS[kind]
    if len(source) > limit:
        raise ValueError(f"A .{kind} file can be at most {limit // 1024} kB.")
    return parse(source)


def import_upload(name: str, data: bytes, max_image_bytes: int = 10 << 20) -> Imported:
    """Parse an uploaded file of any importable kind, images included; ValueError if it cannot be."""
    extension = _extension(name)
    if extension == ".docx":
        from . import word

        source, kind = word.docx_to_html(data), "html"
    else:
        if extension not in IMPORTERS:
            raise ValueError("Import a .docx, .md, .html or .txt file.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("The file must be UTF-8 text.") from None
        kind, _parse = IMPORTERS[extension]
        if len(text) > MAX_IMPORT_CHARACTERS[kind]:
            raise ValueError(f"A .{kind} file can be at most {MAX_IMPORT_CHARACTERS[kind] // 1024} kB.")
        if kind == "txt":
            ops = from_text(text)
            return Imported(ops=ops)
        source = _MARKDOWN.render(text) if kind == "md" else text
    builder = _parse_html(source)
    result = Imported(ops=[], threads=_threads(builder))
    refused = 0
    for placeholder, raw in builder.images.items():
        try:
            result.images[placeholder] = check_image(raw, max_bytes=max_image_bytes)
        except ImageRefused:
            refused += 1
    result.ops = _clean_ops(builder.ops, placeholders=frozenset(result.images))
    result.title = first_heading(result.ops)
    if builder.tables:
        result.warnings.append("Tables were imported as text, one row per line with | between cells.")
    if builder.remote_images:
        result.warnings.append(
            f"{builder.remote_images} image(s) from other sites were kept as links; download and insert them."
        )
    if refused:
        result.warnings.append(f"{refused} image(s) could not be read and were left out.")
    if len(builder.images) >= MAX_IMPORT_IMAGES:
        result.warnings.append(f"Only the first {MAX_IMPORT_IMAGES} images were imported.")
    return result
