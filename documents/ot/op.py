"""A single delta operation (``Op`` in quill-delta) and JSON value helpers.

An op is a plain ``dict`` with exactly one of ``insert`` (a string, or an
embed ``dict`` counting as length 1), ``retain`` (a positive int, or an
embed-retain ``dict`` as quill-delta 5 allows, counting as length 1) or
``delete`` (a positive int), plus optional ``attributes``.

Op dicts produced by this package may share sub-objects (attribute maps,
embed values) with their inputs, and whole input op dicts may be passed
through untouched.  Treat all op dicts as immutable.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Union

from . import utf16

__all__ = [
    "AttributeMap",
    "DELETE",
    "INSERT",
    "Op",
    "OpKind",
    "RETAIN",
    "js_equal",
    "kind",
    "length",
]

JSON = Any
Op = Dict[str, Any]
AttributeMap = Dict[str, Any]
OpList = List[Op]
OpKind = Literal["insert", "retain", "delete"]

INSERT: OpKind = "insert"
RETAIN: OpKind = "retain"
DELETE: OpKind = "delete"

Embed = Dict[str, Any]
InsertValue = Union[str, Embed]
RetainValue = Union[int, Embed]


def length(op: Op) -> int:
    """``Op.length``: code units for text, 1 for embeds and embed-retains."""
    if "delete" in op:
        return op["delete"]  # type: ignore[no-any-return]
    retain = op.get("retain")
    if retain is not None:
        return retain if retain.__class__ is int else 1
    insert = op.get("insert")
    return utf16.length(insert) if insert.__class__ is str else 1


def kind(op: Optional[Op]) -> OpKind:
    """``OpIterator.peekType`` for one op (``retain`` for ``None``)."""
    if op is None:
        return RETAIN
    if "delete" in op:
        return DELETE
    if op.get("retain") is not None:
        return RETAIN
    return INSERT


def js_equal(a: JSON, b: JSON) -> bool:
    """Deep equality with JavaScript semantics (lodash ``isEqual`` on JSON).

    Unlike Python ``==``, ``True`` is not equal to ``1``.  ``1 == 1.0`` (one
    JavaScript number).  Absent values are passed as ``None`` by callers
    where JavaScript would compare ``undefined``.
    """
    if a is b:
        return True
    if a != b:
        return False
    return _same_kinds(a, b)


def _same_kinds(a: JSON, b: JSON) -> bool:
    ta = a.__class__
    tb = b.__class__
    if ta is bool or tb is bool:
        return ta is tb
    if ta is dict:
        return all(_same_kinds(v, b[k]) for k, v in a.items())
    if ta is list:
        return all(map(_same_kinds, a, b))
    return True


def strict_equal(a: JSON, b: JSON) -> bool:
    """JavaScript ``===`` on JSON values (objects compare by identity)."""
    if a is b:
        return True
    ta = a.__class__
    tb = b.__class__
    if ta is dict or ta is list or tb is dict or tb is list:
        return False
    if ta is bool or tb is bool:
        return ta is tb and a == b
    return a == b  # type: ignore[no-any-return]
