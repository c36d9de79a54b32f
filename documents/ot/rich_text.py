"""The ``rich-text`` OT type (sharedb / ShareJS), JSON in and JSON out.

A Python twin of ``rich-text@4.1.0``'s ``lib/type.js``.  Every function
accepts an op or snapshot as a bare op list or as ``{"ops": [...]}`` (like
``new Delta(x)``) and returns a plain op list.  Inputs are assumed to be
well formed; run untrusted input through ``validate.validate_op`` /
``validate.validate_document`` first.

Results may share op dicts with the inputs: treat ops as immutable.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypeGuard

from .delta import Delta, _ops_of, transform_position, transform_single_edits
from .errors import InvalidDelta
from .op import Op
from .op import length as op_length

__all__ = [
    "NAME",
    "URI",
    "apply",
    "base_length",
    "change_length",
    "compose",
    "create",
    "deserialize",
    "diff",
    "invert",
    "is_noop",
    "length",
    "normalize",
    "serialize",
    "transform",
    "transform_cursor",
    "transform_presence",
]

NAME = "rich-text"
URI = "http://sharejs.org/types/rich-text/v1"

OpsLike = Any  # list of op dicts, {"ops": [...]}, a Delta, or None
Range = Dict[str, Any]


def create(initial: OpsLike = None) -> List[Op]:
    """A new snapshot (``[]`` when ``initial`` is ``None``)."""
    return list(_ops_of(initial))


def apply(snapshot: OpsLike, op: OpsLike) -> List[Op]:
    """The document after applying ``op`` to ``snapshot`` (their composition)."""
    return Delta(snapshot).compose(Delta(op)).ops


def compose(op1: OpsLike, op2: OpsLike) -> List[Op]:
    """One op equivalent to ``op1`` followed by ``op2``."""
    return Delta(op1).compose(Delta(op2)).ops


def transform(op1: OpsLike, op2: OpsLike, side: str) -> List[Op]:
    """``op1`` rewritten to apply after concurrent ``op2``.

    ``side == "left"`` means ``op1`` wins ties (its inserts go first), as in
    sharedb: ``new Delta(op2).transform(op1, side === 'left')``.
    """
    if side != "left" and side != "right":
        raise InvalidDelta(f'side must be "left" or "right", not {side!r}')
    if op1.__class__ is list and op2.__class__ is list:
        simple = transform_single_edits(op2, op1, side == "left")
        if simple is not None:
            return simple
    return Delta(op2).transform(Delta(op1), side == "left").ops


def transform_cursor(cursor: int, op: OpsLike, is_own_op: bool) -> int:
    """Cursor index after ``op`` (``op.transformPosition(cursor, !isOwnOp)``)."""
    return transform_position(_ops_of(op), cursor, not is_own_op)


def transform_presence(range_: object, op: OpsLike, is_own_op: bool) -> Optional[Range]:
    """Transform a ``{"index", "length", ...}`` selection; other keys are kept.

    Falsy input (``None``, ``0``, ``""``, ``False``) gives ``None``, as in
    JavaScript (``{}`` is truthy there and so is transformed here too, but
    it lacks an index and is reported as invalid).
    """
    if range_ is None or range_ is False or range_ == 0 or range_ == "":
        return None
    if not isinstance(range_, dict):
        raise InvalidDelta("presence range must be an object")
    index = range_.get("index")
    size = range_.get("length")
    if not _is_count(index) or not _is_count(size):
        raise InvalidDelta("presence range needs numeric index and length")
    ops = _ops_of(op)
    start = transform_position(ops, index, not is_own_op)
    end = transform_position(ops, index + size, not is_own_op)
    result = dict(range_)
    result["index"] = start
    result["length"] = end - start
    return result


def _is_count(value: Any) -> TypeGuard[float]:
    """A JSON number (``int`` or ``float``, not ``bool``) other than NaN."""
    return (value.__class__ is int or value.__class__ is float) and value == value


def normalize(op: OpsLike) -> List[Op]:
    """Identity, like the JavaScript type (quill-delta ops are canonical).

    Use ``validate.validate_op`` to canonicalize untrusted input.
    """
    return _ops_of(op)


def serialize(snapshot: OpsLike) -> List[Op]:
    """JSON form of a snapshot: its op list."""
    return _ops_of(snapshot)


def deserialize(data: OpsLike) -> List[Op]:
    """Snapshot from its JSON form (snapshots *are* op lists here)."""
    return _ops_of(data)


def diff(doc1: OpsLike, doc2: OpsLike) -> List[Op]:
    """Op turning document ``doc1`` into ``doc2`` (fast-diff 1.2.0 semantics)."""
    return Delta(doc1).diff(Delta(doc2)).ops


def invert(op: OpsLike, base: OpsLike) -> List[Op]:
    """Op undoing ``op`` once it has been applied to document ``base``."""
    return Delta(op).invert(Delta(base)).ops


# ------------------------------------------------------------- server helpers


def length(doc_or_op: OpsLike) -> int:
    """Total length in UTF-16 units (the document length for a document)."""
    return sum(op_length(op) for op in _ops_of(doc_or_op))


def change_length(op: OpsLike) -> int:
    """How much ``op`` grows (or shrinks) the document, in UTF-16 units."""
    return Delta(op).change_length()


def base_length(op: OpsLike) -> int:
    """Retained plus deleted units: the minimum document length ``op`` needs."""
    total = 0
    for item in _ops_of(op):
        if "delete" in item:
            total += item["delete"]
        elif item.get("retain") is not None:
            retain = item["retain"]
            total += 1 if retain.__class__ is dict else retain
    return total


def is_noop(op: OpsLike) -> bool:
    """True when ``op`` changes nothing: only attribute-less retains (or empty)."""
    for item in _ops_of(op):
        if item.get("retain") is None or item.get("attributes"):
            return False
    return True
