"""Export documents as HTML, Markdown and plain text; import them from the same formats.

Exported HTML is generated here, element by element, from an allowlist of formats with every text
and attribute escaped, so a document can never carry script into someone else's browser.
"""

import html
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import markdown as markdown_lib

Ops = list[dict[str, Any]]

SAFE_LINK_SCHEMES = {"http", "https", "mailto", "tel"}
INLINE_TAGS = [("bold", "strong"), ("italic", "em"), ("underline", "u"), ("strike", "s"), ("code", "code")]
HEADER_LEVELS = range(1, 7)


def safe_link(url: Any) -> str | None:
    """A link target that cannot run script, or None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme and scheme not in SAFE_LINK_SCHEMES:
        return None
    if not scheme and re.match(r"^\s*[a-z0-9+.-]*:", url, re.I):
        return None
    return url


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


def to_text(ops: Ops) -> str:
    return "\n".join("".join(text for text, _ in runs) for runs, _ in lines_of(ops)) + "\n"


def _inline_html(runs: list[tuple[str, dict[str, Any]]]) -> str:
    out = []
    for text, attributes in runs:
        if "embed" in attributes:
            embed = attributes["embed"]
            if isinstance(embed, dict) and isinstance(embed.get("image"), str) and safe_link(embed["image"]):
                out.append(f'<img src="{html.escape(safe_link(embed["image"]) or "", quote=True)}" alt="">')
            continue
        piece = html.escape(text)
        for name, tag in INLINE_TAGS:
            if attributes.get(name):
                piece = f"<{tag}>{piece}</{tag}>"
        link = safe_link(attributes.get("link"))
        if link:
            piece = f'<a href="{html.escape(link, quote=True)}" rel="noopener noreferrer">{piece}</a>'
        out.append(piece)
    return "".join(out)


def to_html(ops: Ops, *, title: str | None = None) -> str:
    """A standalone, script-free HTML document."""
    body: list[str] = []
    open_list: str | None = None
    for runs, line in lines_of(ops):
        inner = _inline_html(runs)
        list_kind = line.get("list")
        tag = {"ordered": "ol", "bullet": "ul"}.get(list_kind) if isinstance(list_kind, str) else None
        if tag != open_list:
            if open_list:
                body.append(f"</{open_list}>")
            if tag:
                body.append(f"<{tag}>")
            open_list = tag
        if tag:
            body.append(f"<li>{inner}</li>")
        elif line.get("header") in HEADER_LEVELS:
            level = line["header"]
            body.append(f"<h{level}>{inner}</h{level}>")
        elif line.get("blockquote"):
            body.append(f"<blockquote>{inner}</blockquote>")
        elif line.get("code-block"):
            body.append(f"<pre><code>{inner}</code></pre>")
        else:
            body.append(f"<p>{inner or '<br>'}</p>")
    if open_list:
        body.append(f"</{open_list}>")
    heading = html.escape(title or "Document")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'\">\n"
        f"<title>{heading}</title>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


_MD_ESCAPE = re.compile(r"([\\`*_\[\]#+!|>~-])")


def _inline_markdown(runs: list[tuple[str, dict[str, Any]]], *, raw: bool = False) -> str:
    out = []
    for text, attributes in runs:
        if "embed" in attributes:
            embed = attributes["embed"]
            if isinstance(embed, dict) and isinstance(embed.get("image"), str):
                out.append(f"![]({embed['image']})")
            continue
        if raw:
            out.append(text)
            continue
        piece = _MD_ESCAPE.sub(r"\\\1", text).replace("<", "&lt;")
        if attributes.get("code"):
            piece = f"`{text}`"
        if attributes.get("bold"):
            piece = f"**{piece}**"
        if attributes.get("italic"):
            piece = f"*{piece}*"
        if attributes.get("strike"):
            piece = f"~~{piece}~~"
        link = safe_link(attributes.get("link"))
        if link:
            piece = f"[{piece}]({link})"
        out.append(piece)
    return "".join(out)


def to_markdown(ops: Ops) -> str:
    """CommonMark: blocks separated by blank lines, except within a list or a code block."""
    out: list[str] = []
    previous: str | None = None
    number = 0
    for runs, line in lines_of(ops):
        kind = "code" if line.get("code-block") else str(line.get("list") or "p")
        if kind != previous:
            if previous == "code":
                out.append("```")
            if out:
                out.append("")
            if previous in ("bullet", "ordered") and kind in ("bullet", "ordered"):
                out.extend(["<!-- -->", ""])  # or Markdown would join the two lists
            if kind == "code":
                out.append("```")
            number = 0
        elif kind == "p":
            out.append("")
        previous = kind
        if kind == "code":
            out.append(_inline_markdown(runs, raw=True))
            continue
        inner = _inline_markdown(runs)
        if kind == "ordered":
            number += 1
            out.append(f"{number}. {inner}")
        elif kind == "bullet":
            out.append(f"- {inner}")
        elif line.get("header") in HEADER_LEVELS:
            out.append("#" * line["header"] + " " + inner)
        elif line.get("blockquote"):
            out.append("> " + inner)
        else:
            out.append(inner)
    if previous == "code":
        out.append("```")
    return "\n".join(out) + "\n"


# --- Import -------------------------------------------------------------------------------------


class _DeltaBuilder(HTMLParser):
    """Turn (sanitized-by-construction) HTML into delta ops, keeping only known formats."""

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
    SKIP = {"script", "style", "head", "title", "template", "iframe", "object"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ops: Ops = []
        self.inline: list[tuple[str, Any]] = []
        self.lists: list[str] = []
        self.block: dict[str, Any] = {}
        self.skip = 0
        self.pre = 0
        self.pending_text = False
        # A block element was opened and its line not yet ended (so <p></p> still makes a line).
        self.line_open = False

    def _attrs(self) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        for name, value in self.inline:
            if not name or (name == "code" and self.pre):
                continue
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
        op: dict[str, Any] = {"insert": "\n"}
        if attributes:
            op["attributes"] = attributes
        self.ops.append(op)
        self.pending_text = False
        self.line_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
            return
        if tag in ("ul", "ol"):
            if self.pending_text:
                self._end_line(self.block)
            self.lists.append("bullet" if tag == "ul" else "ordered")
        elif tag in self.BLOCKS:
            if self.pending_text:
                self._end_line(self.block)
            self.line_open = True
            if tag.startswith("h") and tag[1:].isdigit():
                self.block = {"header": int(tag[1:])}
            elif tag == "li":
                self.block = {"list": self.lists[-1] if self.lists else "bullet"}
            elif tag == "blockquote":
                self.block = {"blockquote": True}
            elif tag == "pre":
                self.pre += 1
                self.block = {"code-block": True}
        elif tag == "br":
            self._end_line(self.block)
        elif tag in self.INLINE:
            self.inline.append((self.INLINE[tag], True))
        elif tag == "a":
            href = safe_link(dict(attrs).get("href"))
            self.inline.append(("link", href) if href else ("", None))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
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
        elif tag in self.INLINE or tag == "a":
            for index in range(len(self.inline) - 1, -1, -1):
                name = self.inline[index][0]
                if (tag == "a" and name in ("link", "")) or name == self.INLINE.get(tag):
                    del self.inline[index]
                    break

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
        self._text(text)


def _clean_ops(ops: Ops) -> Ops:
    text_ops = [op for op in ops if op["insert"] != ""]
    if not text_ops or not text_ops[-1]["insert"].endswith("\n"):
        text_ops.append({"insert": "\n"})
    # Merge neighbours with equal attributes, as a delta would.
    merged: Ops = []
    for op in text_ops:
        if merged and merged[-1].get("attributes") == op.get("attributes"):
            merged[-1] = {**merged[-1], "insert": merged[-1]["insert"] + op["insert"]}
        else:
            merged.append(dict(op))
    return merged


def from_html(source: str) -> Ops:
    builder = _DeltaBuilder()
    builder.feed(source)
    builder.close()
    if builder.pending_text:
        builder._end_line(builder.block)
    return _clean_ops(builder.ops)


def from_markdown(source: str) -> Ops:
    return from_html(markdown_lib.markdown(source, extensions=["fenced_code"]))


def from_text(source: str) -> Ops:
    text = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _clean_ops([{"insert": text}])


EXPORTERS = {
    "html": ("text/html; charset=utf-8", "html"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "txt": ("text/plain; charset=utf-8", "txt"),
}


def export(ops: Ops, fmt: str, *, title: str) -> str:
    if fmt == "html":
        return to_html(ops, title=title)
    if fmt == "md":
        return to_markdown(ops)
    if fmt == "txt":
        return to_text(ops)
    raise ValueError(f"unknown export format {fmt!r}")


def import_file(name: str, source: str) -> Ops:
    lowered = name.lower()
    if lowered.endswith((".html", ".htm")):
        return from_html(source)
    if lowered.endswith((".md", ".markdown")):
        return from_markdown(source)
    if lowered.endswith(".txt"):
        return from_text(source)
    raise ValueError("Import a .md, .html or .txt file.")
