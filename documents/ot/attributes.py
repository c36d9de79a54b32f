"""Attribute maps (``AttributeMap`` in quill-delta): compose/diff/invert/transform.

``None`` stands for "no attributes" (JavaScript ``undefined``) both as an
argument and as a result; a ``None`` *value* inside a map is JSON ``null``,
which means "remove this format".
"""

from __future__ import annotations

from typing import Optional

from .op import AttributeMap, js_equal, strict_equal

__all__ = ["compose", "diff", "invert", "transform"]

Attrs = Optional[AttributeMap]


def compose(a: Attrs, b: Attrs, keep_null: bool = False) -> Attrs:
    """Attributes of ``b`` applied over ``a``; nulls are kept only if ``keep_null``."""
    if a.__class__ is not dict:
        a = {}
    if b.__class__ is not dict:
        b = {}
    if keep_null:
        attributes = dict(b)
    else:
        attributes = {k: v for k, v in b.items() if v is not None}
    for key, value in a.items():
        if key not in b:
            attributes[key] = value
    return attributes or None


def diff(a: Attrs, b: Attrs) -> Attrs:
    """Attributes turning ``a`` into ``b`` (removed keys map to ``None``)."""
    if a.__class__ is not dict:
        a = {}
    if b.__class__ is not dict:
        b = {}
    attributes: AttributeMap = {}
    for key in (*a, *b):
        # isEqual(undefined, null) is false: a key present on one side only
        # is always a change, and maps to null when it is missing from b.
        if key in a and key in b and js_equal(a[key], b[key]):
            continue
        attributes[key] = b.get(key)
    return attributes or None


def invert(attr: Attrs, base: Attrs) -> AttributeMap:
    """Attributes undoing ``attr`` applied on top of ``base`` (always a dict)."""
    if not attr:
        attr = {}
    if base is None:
        base = {}
    inverted: AttributeMap = {}
    for key, value in base.items():
        if key in attr and not strict_equal(value, attr[key]):
            inverted[key] = value
    for key in attr:
        if key not in base:
            inverted[key] = None
    return inverted


def transform(a: Attrs, b: Attrs, priority: bool = False) -> Attrs:
    """``b`` transformed against concurrent ``a`` (``a`` wins if ``priority``)."""
    if a.__class__ is not dict:
        return b
    if b.__class__ is not dict:
        return None
    if not priority:
        return b
    attributes = {k: v for k, v in b.items() if k not in a}
    return attributes or None
