"""``OpIterator``: walks an op list, chopping ops into pieces of a given length.

Same contract as quill-delta's ``OpIterator`` but tuned for CPython: the
current op's kind and length are cached in slots (computed once per op, not
per call), ``has_next``/``peek_type``/``peek_length`` have attribute
equivalents (``op is not None``, ``kind``, ``op_len - offset``) for hot loops,
and ``next()`` returns the original op dict (no allocation) when a whole op
is consumed.
"""

from __future__ import annotations

import math
from typing import List, Optional

from . import utf16
from .op import DELETE, INSERT, RETAIN, Op, OpKind

__all__ = ["INFINITY", "OpIterator"]

INFINITY: float = math.inf


class OpIterator:
    """Iterator over ``ops`` yielding (possibly chopped) ops."""

    __slots__ = ("ops", "index", "offset", "op", "kind", "op_len", "bmp", "_count")

    def __init__(self, ops: List[Op]) -> None:
        self.ops = ops
        self.index = 0
        self.offset = 0
        self._count = len(ops)
        self.op: Optional[Op] = None
        self.kind: OpKind = RETAIN
        self.op_len: float = INFINITY
        self.bmp = True
        self._load()

    def _load(self) -> None:
        """Cache kind/length of ``ops[index]`` (or the exhausted state)."""
        if self.index >= self._count:
            self.op = None
            self.kind = RETAIN
            self.op_len = INFINITY
            return
        op = self.ops[self.index]
        self.op = op
        if "delete" in op:
            self.kind = DELETE
            self.op_len = op["delete"]
            return
        retain = op.get("retain")
        if retain is not None:
            self.kind = RETAIN
            self.op_len = 1 if retain.__class__ is dict else retain
            return
        self.kind = INSERT
        insert = op.get("insert")
        if insert.__class__ is str:
            if insert.isascii():
                self.op_len = len(insert)
                self.bmp = True
            else:
                n = utf16.length(insert)
                self.op_len = n
                self.bmp = n == len(insert)
        else:
            self.op_len = 1

    def has_next(self) -> bool:
        return self.op is not None

    def peek(self) -> Optional[Op]:
        return self.op

    def peek_length(self) -> float:
        """Remaining length of the current op (``inf`` when exhausted)."""
        return self.op_len - self.offset

    def peek_type(self) -> OpKind:
        return self.kind

    def seek(self, index: int) -> None:
        """Jump to the start of op ``index`` (which must be >= the current one)."""
        self.index = index
        self.offset = 0
        self._load()

    def skip(self) -> None:
        """Consume the rest of the current op without building it."""
        if self.op is not None:
            self.index += 1
            self.offset = 0
            self._load()

    def next(self, length: Optional[float] = None) -> Op:
        """Consume up to ``length`` units (all of the current op if falsy)."""
        op = self.op
        if op is None:
            return {"retain": INFINITY}
        offset = self.offset
        remaining = self.op_len - offset
        kind = self.kind
        bmp = self.bmp
        if not length or length >= remaining:
            length = remaining
            self.index += 1
            self.offset = 0
            self._load()
            if offset == 0:
                return op
        else:
            # JSON number: an int for valid ops (validate.py); fractions kept, as in quill-delta
            self.offset = offset + length  # type: ignore[assignment]
        return _piece(op, kind, bmp, offset, int(length))

    def rest(self) -> List[Op]:
        """All remaining ops (the current one chopped at ``offset``)."""
        if self.op is None:
            return []
        if self.offset == 0:
            return self.ops[self.index :]
        piece = _piece(self.op, self.kind, self.bmp, self.offset, int(self.op_len - self.offset))
        return [piece, *self.ops[self.index + 1 :]]


def _piece(op: Op, kind: OpKind, bmp: bool, offset: int, length: int) -> Op:
    """The part ``[offset, offset + length)`` of ``op`` as a new op dict."""
    if kind is DELETE:
        return {"delete": length}
    piece: Op
    if kind is RETAIN:
        retain = op["retain"]
        piece = {"retain": retain if retain.__class__ is dict else length}
    else:
        insert = op["insert"]
        if insert.__class__ is str:
            piece = {"insert": utf16.slice_known(insert, bmp, offset, offset + length)}
        else:
            piece = {"insert": insert}
    attributes = op.get("attributes")
    if attributes is not None:
        piece["attributes"] = attributes
    return piece
