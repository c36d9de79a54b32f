"""The content schema: which inserts and formats a document may hold.

The schema is data (``documents/schema.json``), read here, by the editor (which registers exactly
these formats) and by import and export, so the server never stores what the editor cannot
render. ``inline`` formats apply to text, ``line`` formats to the newline that ends a line,
``embeds`` lists the atomic embeds: ``divider`` (the horizontal rule) and ``image``, whose value
is the path of an image stored for the document (the submit path also checks that it is *this*
document's, see ``documents/services/images.py``). In an op, ``null`` removes a format, any
format: that is how a document stored before the schema is repaired. Every rule has a ``type``:

* ``true``: the value is ``true``;
* ``enum``: one of ``values`` (compared with their JSON type: ``true`` is not ``1``); a code
  block is ``true`` as the toolbar sets it or ``"plain"`` as Quill reads it back; colours are
  lower-case ``#rrggbb`` from a fixed palette, so no value can carry other CSS;
* ``url``: a string of at most ``max_length`` characters, without whitespace or control
  characters, whose scheme (if it has one) is in ``schemes``;
* ``pattern``: a string matching ``pattern`` whole (a comment thread id, a suggestion's
  ``"<author id>:<epoch ms>"``).

An inline rule with ``"newline": false`` never sits on a newline: Quill keeps only line formats
there, so such a format on a newline is invisible. Comments and suggestion marks may span lines
(the page anchors them over a whole selection). Whether a retain obeys these rules depends on
the text it covers, so the submit path checks it against the document (``check_retained``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

from .errors import InvalidDelta

__all__ = ["CONTENT_SCHEMA", "EMBED_UNIT", "SCHEMA_PATH", "Schema", "load_schema"]

# An embed in a document's text as the submit path keeps it (one UTF-16 unit, as it counts).
EMBED_UNIT = "\ufffc"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.json"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Whitespace and control characters: a link with them is either broken or an attempt to hide a scheme.
_UNSAFE_URL_CHARACTER = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Schema:
    """The formats and embeds a document may hold, with a rule for each value."""

    inline: Mapping[str, Mapping[str, Any]]
    line: Mapping[str, Mapping[str, Any]]
    embeds: Mapping[str, Mapping[str, Any]]

    def rule(self, name: str) -> Optional[Mapping[str, Any]]:
        return self.inline.get(name) or self.line.get(name)

    def value_allowed(self, name: str, value: Any) -> bool:
        """Whether ``value`` is a renderable value of format ``name`` (``None`` is not)."""
        rule = self.rule(name)
        return rule is not None and _matches(rule, value)

    def check_attributes(self, attributes: Dict[str, Any], *, where: str, insert: Any) -> None:
        """Raise ``InvalidDelta`` unless every attribute is a known format with a valid value.

        ``insert`` is the inserted value (``None`` for a retain): a line format may only sit
        on inserted newlines, since the editor shows it nowhere else.
        """
        for name, value in attributes.items():
            if value is None:
                continue  # removing a format is always fine (even one from before the schema)
            rule = self.rule(name)
            if rule is None:
                raise InvalidDelta(f"{where}: unknown format {_quote(name)}")
            if not _matches(rule, value):
                raise InvalidDelta(f"{where}: {_quote(name)} cannot be {_show(value)}")
            if name in self.line and isinstance(insert, str) and insert.strip("\n"):
                raise InvalidDelta(f"{where}: line format {_quote(name)} on text (it belongs on a newline)")
            if rule.get("newline", True) is False and isinstance(insert, str) and "\n" in insert:
                raise InvalidDelta(f"{where}: format {_quote(name)} on a newline (it belongs on text)")

    def check_retained(self, attributes: Dict[str, Any], covered: str, *, where: str) -> None:
        """Raise ``InvalidDelta`` unless a retain's formats fit the characters it covers.

        ``covered`` is the document's text under the retain (UTF-16 units, an embed as
        ``EMBED_UNIT``). A line format may only land on newlines (or embeds), and an inline format whose rule says ``"newline": false`` on none:
        the editor shows neither, so the server's copy would silently differ from every page's.
        """
        lines = None
        for name, value in attributes.items():
            if value is None:
                continue
            if name in self.line:
                if lines is None:  # a line format may also sit on an embed, as in an insert
                    lines = covered.count("\n") + covered.count(EMBED_UNIT)
                if lines != len(covered):
                    raise InvalidDelta(
                        f"{where}: line format {_quote(name)} on text (it belongs on a newline)"
                    )
            elif self.inline.get(name, {}).get("newline", True) is False and "\n" in covered:
                raise InvalidDelta(f"{where}: format {_quote(name)} on a newline (it belongs on text)")

    def checks_retains(self, attributes: Dict[str, Any]) -> bool:
        """Whether a retain with these formats depends on the text it covers (``check_retained``)."""
        return any(
            value is not None
            and (name in self.line or self.inline.get(name, {}).get("newline", True) is False)
            for name, value in attributes.items()
        )

    def check_embed(self, name: str, value: Any, *, where: str) -> None:
        rule = self.embeds.get(name)
        if rule is None:
            raise InvalidDelta(f"{where}: unknown embed {_quote(name)}")
        if not _matches(rule, value):
            raise InvalidDelta(f"{where}: embed {_quote(name)} cannot be {_show(value)}")

    def fit_newlines(self, ops: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """A document (inserts only) without the inline formats its newlines cannot show.

        Quill keeps only line formats on a newline, so dropping the others changes nothing any
        page shows; content stored before the rule (restores, repairs) passes the checks again.
        """
        result: List[Dict[str, Any]] = []
        for op in ops:
            insert, attributes = op.get("insert"), op.get("attributes") or {}
            hidden = [name for name in attributes if self.inline.get(name, {}).get("newline", True) is False]
            if not isinstance(insert, str) or "\n" not in insert or not hidden:
                result.append(op)
                continue
            shown = {name: value for name, value in attributes.items() if name not in hidden}
            for piece in re.split(r"(\n+)", insert):
                if piece:
                    kept = shown if piece[0] == "\n" else attributes
                    result.append({"insert": piece, "attributes": dict(kept)} if kept else {"insert": piece})
        return result

    def sanitize(
        self, ops: List[Dict[str, Any]], keep: Optional[Callable[[str, Any], bool]] = None
    ) -> List[Dict[str, Any]]:
        """A document (inserts only) cut down to the schema: unknown embeds and formats dropped.

        For imports and repairs: what the editor cannot render is left out rather than refused.
        The result ends with a newline, as every document does. ``keep`` may keep other embeds
        (an import's image placeholders, which its caller replaces before submitting).
        """
        result: List[Dict[str, Any]] = []
        for op in ops:
            insert = op.get("insert")
            if isinstance(insert, dict):
                if len(insert) == 1:
                    ((name, value),) = insert.items()
                    if (name in self.embeds and _matches(self.embeds[name], value)) or (
                        keep is not None and keep(name, value)
                    ):
                        kept = {
                            key: value
                            for key, value in (op.get("attributes") or {}).items()
                            if key in self.inline and self.value_allowed(key, value)
                        }
                        result.append({"insert": insert, "attributes": kept} if kept else {"insert": insert})
                continue
            if not isinstance(insert, str) or not insert:
                continue
            kept = {
                name: value
                for name, value in (op.get("attributes") or {}).items()
                if self.value_allowed(name, value) and not (name in self.line and insert.strip("\n"))
            }
            result.append({"insert": insert, "attributes": kept} if kept else {"insert": insert})
        result = self.fit_newlines(result)
        last = result[-1] if result else {}
        if isinstance(last.get("insert"), str) and last["insert"].endswith("\n"):
            return result
        if isinstance(last.get("insert"), str) and "attributes" not in last:
            last["insert"] += "\n"
        else:
            result.append({"insert": "\n"})
        return result


def load_schema(path: Path = SCHEMA_PATH) -> Schema:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Schema(inline=data["inline"], line=data["line"], embeds=data["embeds"])


def _matches(rule: Mapping[str, Any], value: Any) -> bool:
    kind = rule["type"]
    if kind == "true":
        return value is True
    if kind == "enum":
        return any(type(value) is type(allowed) and value == allowed for allowed in rule["values"])
    if kind == "url":
        return _url_allowed(rule, value)
    if kind == "pattern":
        return isinstance(value, str) and re.fullmatch(rule["pattern"], value, re.ASCII) is not None
    raise ValueError(f"unknown schema rule type {kind!r}")


def _url_allowed(rule: Mapping[str, Any], value: Any) -> bool:
    # Lengths in UTF-16 code units, as the editor counts them.
    if (
        not isinstance(value, str)
        or not 0 < len(value.encode("utf-16-le", "surrogatepass")) // 2 <= rule["max_length"]
    ):
        return False
    if _UNSAFE_URL_CHARACTER.search(value):
        return False
    scheme = _SCHEME.match(value)
    if scheme:
        return scheme.group(1).lower() in rule["schemes"]
    # No scheme: a relative link, which must not hide one behind other punctuation.
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    return ":" not in head


def _quote(name: str) -> str:
    return repr(name if len(name) <= 40 else name[:37] + "...")


def _show(value: Any) -> str:
    return _quote(value) if isinstance(value, str) else json.dumps(value)


CONTENT_SCHEMA = load_schema()
