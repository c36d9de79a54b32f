"""Export documents as HTML, Markdown and plain text; import them from the same formats.

Both directions speak the content schema (documents/schema.json): imports keep only its formats,
exports write only its formats. Exported HTML is generated here, element by element, with every
text and attribute escaped; exported Markdown escapes text, link targets and code, so no renderer
shows markup from a document. Import parsing is linear in the input (a hand-written HTML scanner
and markdown-it's CommonMark parser), so a hostile file costs no more than a long one.
"""

import html
import re
from collections.abc import Iterator
from typing import Any

from markdown_it import MarkdownIt

from .ot import CONTENT_SCHEMA

Ops = list[dict[str, Any]]

INLINE_TAGS = [("bold", "strong"), ("italic", "em"), ("underline", "u"), ("strike", "s"), ("code", "code")]
HEADER_LEVELS = tuple(CONTENT_SCHEMA.line["header"]["values"])
LIST_KINDS = tuple(CONTENT_SCHEMA.line["list"]["values"])
MAX_INDENT = max(CONTENT_SCHEMA.line["indent"]["values"])
DIVIDER = {"divider": True}
# Inline styles written for the palette formats; values are checked against the schema first,
# so only a palette's #rrggbb ever reaches a style attribute.
STYLE_PROPERTIES = [("color", "color"), ("background", "background-color")]


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
            runs.append(("\ufffc", {"embed": insert}))  # an embed; exported as a placeholder
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

    def mark(self, thread_id: Any) -> str:
        if not isinstance(thread_id, str) or thread_id not in self.threads:
            return ""
        number = self.numbers.setdefault(thread_id, len(self.numbers) + 1)
        return f'<sup><a href="#comment-{number}">[{number}]</a></sup>'

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


def _inline_html(runs: list[tuple[str, dict[str, Any]]], notes: Footnotes | None = None) -> str:
    out = []
    for index, (text, attributes) in enumerate(runs):
        if "embed" in attributes:
            if _is_divider(attributes):
                out.append("<hr>")
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
        out.append(piece)
        thread = attributes.get("comment")
        following = runs[index + 1][1].get("comment") if index + 1 < len(runs) else None
        if notes is not None and thread and thread != following:
            out.append(notes.mark(thread))
    return "".join(out)


def to_html(ops: Ops, *, title: str | None = None, notes: Footnotes | None = None) -> str:
    """A standalone, script-free HTML document; with `notes`, comments become footnotes."""
    body: list[str] = []
    lists = _Lists()
    for runs, line in lines_of(ops):
        inner = _inline_html(runs, notes)
        list_kind = line.get("list")
        tag = (
            {"ordered": "ol", "bullet": "ul", "checked": "ul", "unchecked": "ul"}.get(list_kind)
            if isinstance(list_kind, str)
            else None
        )
        if not tag and lists.open:
            body.append(lists.close())
        style = _line_style(line, indent=not tag)
        if tag:
            depth = line["indent"] if CONTENT_SCHEMA.value_allowed("indent", line.get("indent")) else 0
            opened = lists.item(tag, depth)
            if list_kind in ("checked", "unchecked"):
                mark = "&#9745;" if list_kind == "checked" else "&#9744;"
                body.append(f'{opened}<li data-list="{list_kind}"{style}>{mark} {inner}')
            else:
                body.append(f"{opened}<li{style}>{inner}")
        elif len(runs) == 1 and _is_divider(runs[0][1]):
            body.append("<hr>")
        elif line.get("header") in HEADER_LEVELS:
            level = line["header"]
            body.append(f"<h{level}{style}>{inner}</h{level}>")
        elif line.get("blockquote"):
            body.append(f"<blockquote{style}>{inner}</blockquote>")
        elif line.get("code-block"):
            body.append(f"<pre><code>{inner}</code></pre>")
        else:
            body.append(f"<p{style}>{inner or '<br>'}</p>")
    if lists.open:
        body.append(lists.close())
    if notes is not None and notes.numbers:
        body.append(notes.section())
    heading = html.escape(title or "Document")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'\">\n"
        f"<title>{heading}</title>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


_MD_ESCAPE = re.compile(r"([\\`*_\[\]#+!|>~-])")
_LINK_TARGET_UNSAFE = re.compile(r"[\s()<>\\\"'`]")
_BACKTICKS = re.compile(r"`+")


def _md_text(text: str) -> str:
    """Text that every Markdown renderer shows as itself: no emphasis, links, HTML or entities."""
    return _MD_ESCAPE.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")


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


def _inline_markdown(runs: list[tuple[str, dict[str, Any]]]) -> str:
    out = []
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
            continue  # the schema has no embeds; a stored one (from before it) is left out
        piece = _md_code_span(text) if attributes.get("code") else _md_text(text)
        if attributes.get("bold"):
            piece = f"**{piece}**"
        if attributes.get("italic"):
            piece = f"*{piece}*"
        if attributes.get("strike"):
            piece = f"~~{piece}~~"
        link = safe_link(attributes.get("link"))
        if link:
            piece = f"[{piece}]({_md_link_target(link)})"
        out.append(piece)
    return "".join(out)


def to_markdown(ops: Ops) -> str:
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
        inner = _inline_markdown(runs)
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
    # Inline tags that carry colours (a format map each, popped whole by their end tag).
    COLOURED = {"span", "font", "mark"}
    SKIP = {"head", "template", "object", "svg", "math"}

    def __init__(self) -> None:
        self.ops: Ops = []
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

    def handle_starttag(self, tag: str, attrs: dict[str, str]) -> None:
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
        elif tag in self.COLOURED:
            self._push_inline(tag, _inline_colors(tag, attrs))
        elif tag == "br":
            self._end_line(self.block)
        elif tag in self.INLINE:
            self._push_inline(self.INLINE[tag], True)
        elif tag == "a":
            # An unsafe or missing href still opens the tag, so its end tag pairs up.
            self._push_inline("link", safe_link(attrs.get("href")))

    def handle_endtag(self, tag: str) -> None:
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
        elif tag in self.INLINE:
            self._pop_inline(self.INLINE[tag])
        elif tag in self.COLOURED:
            self._pop_inline(tag)
        elif tag == "a":
            self._pop_inline("link")

    def handle_data(self, data: str) -> None:
        if self.skip:
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


def _clean_ops(ops: Ops) -> Ops:
    """Merge neighbours with equal attributes (in linear time) and cut the result to the schema."""
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
    return CONTENT_SCHEMA.sanitize(merged)


def from_html(source: str) -> Ops:
    builder = _DeltaBuilder()
    builder.feed(source)
    if builder.pending_text:
        builder._end_line(builder.block)
    return _clean_ops(builder.ops)


# CommonMark with strikethrough (which the Markdown export writes); raw HTML in a Markdown file
# is shown as text, as the export escapes it.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")


def from_markdown(source: str) -> Ops:
    return from_html(_MARKDOWN.render(source))


def from_text(source: str) -> Ops:
    text = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _clean_ops([{"insert": text}])


EXPORTERS = {
    "html": ("text/html; charset=utf-8", "html"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "txt": ("text/plain; charset=utf-8", "txt"),
}


def export(ops: Ops, fmt: str, *, title: str, notes: Footnotes | None = None) -> str:
    if fmt == "html":
        return to_html(ops, title=title, notes=notes)
    if fmt == "md":
        return to_markdown(ops)
    if fmt == "txt":
        return to_text(ops)
    raise ValueError(f"unknown export format {fmt!r}")


# The largest file of each kind, in characters: parsing is linear, and these bound it to a few
# seconds on adversarial input (bench/import_bench.py; docs/reliability.md).
MAX_IMPORT_CHARACTERS = {"md": 128 * 1024, "html": 1024 * 1024, "txt": 2 * 1024 * 1024}
IMPORTERS = {".html": ("html", from_html), ".htm": ("html", from_html), ".md": ("md", from_markdown)}
IMPORTERS |= {".markdown": ("md", from_markdown), ".txt": ("txt", from_text)}


def import_file(name: str, source: str) -> Ops:
    """Parse an uploaded file by its extension; ValueError says what is wrong with it."""
    extension = "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if extension not in IMPORTERS:
        raise ValueError("Import a .md, .html or .txt file.")
    kind, parse = IMPORTERS[extension]
    limit = MAX_IMPORT_CHARACTERS[kind]
    if len(source) > limit:
        raise ValueError(f"A .{kind} file can be at most {limit // 1024} kB.")
    return parse(source)
