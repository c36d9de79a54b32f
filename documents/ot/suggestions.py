"""Comment anchors and suggestion marks: which ops a commenter or a suggester may submit, and
the ops that accept or reject suggestions.

Comments and suggestions live in the text as formats, so they move with concurrent edits
exactly as the text does (the rich-text transform carries them):

* ``comment``: the id of the thread anchored on that text;
* ``suggest-insert``: text a suggester proposed, not yet accepted;
* ``suggest-delete``: text a suggester proposed to remove, still shown (struck through);
* ``suggest-format``: formats a suggester proposed for the text, not applied yet.

A suggestion's value is ``"<author id>:<epoch ms>"``; a format suggestion adds the formats,
``"<author id>:<epoch ms>:bold=1,italic=0"`` (1: set it, 0: remove it).

Two checks: `role_refusal` reads only the op (its shape keeps under transformation, so checking it
before the transform is checking what is committed); `content_refusal` reads the document at the
head against the transformed op, for what depends on the text under it: a suggester deletes only
their own suggested text (withdrawing it) and never overwrites another author's proposal. A
concurrent accept can turn their suggestion into ordinary text, which they may then not delete.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from . import rich_text

__all__ = [
    "COMMENT",
    "SUGGEST_DELETE",
    "SUGGEST_FORMAT",
    "SUGGEST_INSERT",
    "format_proposal",
    "accepted_only",
    "content_refusal",
    "needs_content",
    "resolve_suggestions",
    "review_of",
    "role_refusal",
    "suggestion_author",
]

COMMENT = "comment"
SUGGEST_INSERT = "suggest-insert"
SUGGEST_DELETE = "suggest-delete"
SUGGEST_FORMAT = "suggest-format"


def suggestion_author(value: Any) -> Optional[str]:
    """The author id of a suggestion value, as a string."""
    return value.split(":", 1)[0] if isinstance(value, str) and ":" in value else None


def format_proposal(value: Any) -> Dict[str, Optional[bool]]:
    """The formats a ``suggest-format`` value proposes: {"bold": True, "italic": None (remove)}."""
    if not isinstance(value, str) or value.count(":") != 2:
        return {}
    proposal: Dict[str, Optional[bool]] = {}
    for part in value.split(":", 2)[2].split(","):
        name, _, on = part.partition("=")
        proposal[name] = True if on == "1" else None
    return proposal


def role_refusal(ops: List[Dict[str, Any]], *, author_id: Any, may_suggest: bool) -> Optional[str]:
    """Why a commenter (``may_suggest=False``) or a suggester may not submit ``ops``, or None.

    A commenter may only set or clear comment anchors on existing text. A suggester may also
    insert text marked as their own suggestion, mark existing text as their proposed deletion or
    format, and delete; which text they may delete is for `content_refusal` (it must run on
    their ops). They never reformat or accept anything.
    """
    own = str(author_id)
    retain_formats = {COMMENT, SUGGEST_DELETE, SUGGEST_FORMAT} if may_suggest else {COMMENT}
    for op in ops:
        attributes = op.get("attributes") or {}
        if "delete" in op:
            if may_suggest:
                continue  # Only over their own suggested text: see `content_refusal`.
            return "Commenters can comment but not change the text."
        if "insert" in op:
            if not may_suggest:
                return "Commenters can comment but not change the text."
            # Struck as well is fine: the page composes unsent ops, so typing then striking a
            # character arrives as one insert carrying both marks.
            if (
                suggestion_author(attributes.get(SUGGEST_INSERT)) != own
                or suggestion_author(attributes.get(SUGGEST_DELETE, own + ":")) != own
                or suggestion_author(attributes.get(SUGGEST_FORMAT, own + ":")) != own
            ):
                return "A suggester's insertions must be marked as their own suggestions."
            continue
        for name, value in attributes.items():
            if name not in retain_formats:
                return (
                    "Only editors can change formatting."
                    if may_suggest
                    else ("Commenters can comment but not change the text.")
                )
            if name in (SUGGEST_DELETE, SUGGEST_FORMAT) and suggestion_author(value) != own:
                return "Only editors can accept or reject suggestions."
    return None


def needs_content(ops: List[Dict[str, Any]]) -> bool:
    """Whether `content_refusal` has anything to check in a suggester's ``ops`` (typing never does)."""
    return any(
        "delete" in op
        or SUGGEST_DELETE in (op.get("attributes") or {})
        or SUGGEST_FORMAT in (op.get("attributes") or {})
        for op in ops
        if "insert" not in op
    )


def content_refusal(
    ops: List[Dict[str, Any]], content: List[Dict[str, Any]], *, author_id: Any
) -> Optional[str]:
    """Why a suggester may not apply ``ops`` to ``content`` (the document they apply to), or None.

    They may delete only text that is their own suggested insertion and carries no one else's
    mark, and may not set ``suggest-delete`` or ``suggest-format`` over another author's.
    `role_refusal` must have allowed ``ops`` already.
    """
    own = str(author_id)
    for component, attributes, _units in _covered(content, ops):
        if "delete" in component:
            others = [
                m
                for m in (SUGGEST_DELETE, SUGGEST_FORMAT)
                if m in attributes and suggestion_author(attributes[m]) != own
            ]
            if suggestion_author(attributes.get(SUGGEST_INSERT)) != own or others:
                return "A suggester can delete only their own suggested text; other text is struck through instead."
            continue
        for mark in (SUGGEST_DELETE, SUGGEST_FORMAT):
            if (
                mark in (component.get("attributes") or {})
                and suggestion_author(attributes.get(mark, own + ":")) != own
            ):
                return "That text already carries another person's suggestion; only editors can replace it."
    return None


def resolve_suggestions(
    content: List[Dict[str, Any]], *, accept: bool, selected: Optional[set[int]] = None
) -> List[Dict[str, Any]]:
    """The op that accepts (or rejects) the suggestions of a document (inserts only).

    ``selected`` holds the UTF-16 offsets where the chosen suggestion runs start (None: all),
    as the editor lists them (``frontend/src/lib/suggesting.mjs``).
    Accepting an insertion drops its mark and accepting a deletion deletes the text; rejecting
    does the opposite. A suggested insertion struck again goes either way: a suggester's backspace
    deletes their own suggestion outright, so that is someone else's strike on it, or text from
    before suggesters could withdraw their own. Other formats are left alone.
    """
    ops: List[Dict[str, Any]] = []
    offset = 0
    run_start, run_key = 0, None
    format_start, format_key = 0, None
    for op in content:
        insert = op.get("insert")
        length = _utf16_length(insert) if isinstance(insert, str) else 1
        attributes = op.get("attributes") or {}
        # A run is adjacent text with the same suggestion, however many formats split it.
        key = (
            attributes.get(SUGGEST_DELETE),
            attributes.get(SUGGEST_INSERT) if SUGGEST_DELETE not in attributes else None,
        )
        if key != run_key:
            run_start, run_key = offset, key
        # A format suggestion is a run of its own, over whatever other marks the text has.
        if attributes.get(SUGGEST_FORMAT) != format_key:
            format_start, format_key = offset, attributes.get(SUGGEST_FORMAT)
        chosen = selected is None or run_start in selected
        ops.append(_resolve_piece(attributes, length, accept=accept, chosen=chosen))
        if "retain" in ops[-1] and format_key and (selected is None or format_start in selected):
            formats = format_proposal(format_key) if accept else {}
            ops[-1] = {
                "retain": length,
                "attributes": {**ops[-1].get("attributes", {}), **formats, SUGGEST_FORMAT: None},
            }
        offset += length
    return _chop(_merge(ops))


def _resolve_piece(attributes: Dict[str, Any], length: int, *, accept: bool, chosen: bool) -> Dict[str, Any]:
    """The op for one piece's insertion or deletion mark (a plain retain when there is none)."""
    if chosen and SUGGEST_INSERT in attributes and SUGGEST_DELETE in attributes:
        return {"delete": length}  # A suggestion its author struck again: gone either way.
    if chosen and SUGGEST_INSERT in attributes:
        return {"retain": length, "attributes": {SUGGEST_INSERT: None}} if accept else {"delete": length}
    if chosen and SUGGEST_DELETE in attributes:
        return {"delete": length} if accept else {"retain": length, "attributes": {SUGGEST_DELETE: None}}
    return {"retain": length}


def review_of(content: List[Dict[str, Any]], op: List[Dict[str, Any]]) -> Optional[Dict[str, Dict[str, int]]]:
    """Which suggestions an op (applied to ``content``) accepted and rejected, by their authors.

    ``{"accepted": {author id: suggestions}, "rejected": {...}}``, or None when it resolved none.
    Clearing ``suggest-insert`` or deleting ``suggest-delete`` text accepts; deleting
    ``suggest-insert`` text or clearing ``suggest-delete`` rejects. Text its own author struck
    again is withdrawn, not reviewed. A suggestion is a run of adjacent text with one mark,
    resolved one way: it counts once, however many formats split it.
    """
    review: Dict[str, Dict[str, int]] = {"accepted": {}, "rejected": {}}
    last: Optional[tuple[str, bool, str, int]] = None  # the run counted: outcome, insertion?, mark, its end
    position = 0  # in the document before the op
    for component, attributes, step in _covered(content, op):
        cleared = component.get("attributes") or {}
        deleting = "delete" in component
        inserted, struck = attributes.get(SUGGEST_INSERT), attributes.get(SUGGEST_DELETE)
        outcome, value, insertion = None, None, False
        if deleting and struck and not inserted:
            outcome, value = "accepted", struck
        elif deleting and inserted and not struck:
            outcome, value, insertion = "rejected", inserted, True
        elif not deleting and inserted and SUGGEST_INSERT in cleared and cleared[SUGGEST_INSERT] is None:
            outcome, value, insertion = "accepted", inserted, True
        elif not deleting and struck and SUGGEST_DELETE in cleared and cleared[SUGGEST_DELETE] is None:
            outcome, value = "rejected", struck
        elif not deleting and attributes.get(SUGGEST_FORMAT) and cleared.get(SUGGEST_FORMAT, "") is None:
            # Accepting applies the formats with the clearing; rejecting only clears.
            applied = set(cleared) - {SUGGEST_FORMAT, SUGGEST_INSERT, SUGGEST_DELETE}
            outcome, value = ("accepted" if applied else "rejected"), attributes[SUGGEST_FORMAT]
        author = suggestion_author(value)
        if outcome is not None and isinstance(value, str) and author is not None:
            key = (outcome, insertion, value)
            if last is None or last[:3] != key or last[3] != position:
                review[outcome][author] = review[outcome].get(author, 0) + 1
            last = (*key, position + step)
        position += step
    return review if review["accepted"] or review["rejected"] else None


def accepted_only(content: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The document without its pending suggestions: what exports show (comment anchors stay)."""
    return rich_text.apply(content, resolve_suggestions(content, accept=False))


def _covered(
    content: List[Dict[str, Any]], op: List[Dict[str, Any]]
) -> Iterator[tuple[Dict[str, Any], Dict[str, Any], int]]:
    """Each stretch of ``content`` under a retain or delete of ``op``: (that component, the
    stretch's attributes, its length in UTF-16 units)."""
    pieces = iter(content)
    attributes: Dict[str, Any] = {}
    size, offset = 0, 0
    for component in op:
        if "insert" in component:
            continue
        retain = component.get("retain")
        length = 1 if isinstance(retain, dict) else int(retain or component.get("delete") or 0)
        while length > 0:
            if offset >= size:
                piece = next(pieces, None)
                if piece is None:
                    return
                insert = piece.get("insert")
                size = _utf16_length(insert) if isinstance(insert, str) else 1
                attributes, offset = piece.get("attributes") or {}, 0
                continue
            step = min(length, size - offset)
            yield component, attributes, step
            length -= step
            offset += step


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _merge(ops: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    merged: List[Dict[str, Any]] = []
    for op in ops:
        last = merged[-1] if merged else None
        if last is not None and last.keys() == op.keys() and last.get("attributes") == op.get("attributes"):
            key = "delete" if "delete" in op else "retain"
            merged[-1] = {**last, key: last[key] + op[key]}
        else:
            merged.append(op)
    return merged


def _chop(ops: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    while ops and "retain" in ops[-1] and "attributes" not in ops[-1]:
        ops.pop()
    return ops
