"""The ``Delta`` class: a port of quill-delta's ``Delta`` to Python.

Semantics follow quill-delta 4.2.2 (the copy bundled with ``rich-text``
4.1.0, which sharedb runs) and 5.1.0, which agree for text, attributes and
atomic embeds.  Where 5.1.0 adds features, this class has them too:

* embed-retains (``{"retain": {"table": ...}}``) with embed handlers
  registered through ``Delta.register_embed`` (5.x only; 4.2.2 mishandles
  them, and the rich-text OT type rejects them in ``validate``);
* ``diff(other, cleanup=True)`` reproduces 5.x's semantic cleanup; the
  default (no cleanup) reproduces 4.2.2 / fast-diff 1.2.0 (what the
  rich-text type's ``diff`` does).

Lengths and indexes are UTF-16 code units (see ``utf16``).  Ops are plain
dicts and are never mutated; results may share them with inputs.
"""

from __future__ import annotations

from typing import (
    Any,
    Callable,
    ClassVar,
    Dict,
    Iterable,
    List,
    Optional,
    Protocol,
    Tuple,
    TypeGuard,
    TypeVar,
    Union,
    cast,
)

from . import attributes as attrs
from . import fastdiff, utf16
from .errors import InvalidDelta
from .iterator import INFINITY, OpIterator
from .op import DELETE, INSERT, AttributeMap, Op, js_equal
from .op import length as op_length

__all__ = ["Delta", "EmbedHandler"]

T = TypeVar("T")
N = TypeVar("N", int, float)  # a JavaScript number: ints stay ints
NULL_CHARACTER = "\x00"  # stands for an embed in diff()


class EmbedHandler(Protocol):
    """Handler for embed-retains of one embed type (quill-delta 5)."""

    def compose(self, a: Any, b: Any, keep_null: bool) -> Any: ...

    def invert(self, a: Any, b: Any) -> Any: ...

    def transform(self, a: Any, b: Any, priority: bool) -> Any: ...


DeltaLike = Union["Delta", List[Op], Dict[str, Any], None]


def _ops_of(value: Any) -> List[Op]:
    """Op list of ``new Delta(value)``: a list, ``{"ops": list}`` or ``[]``."""
    if value.__class__ is list:
        return value
    if isinstance(value, Delta):
        return value.ops
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        ops = value.get("ops")
        if isinstance(ops, list):
            return ops
    return []


def _is_number(value: Any) -> TypeGuard[float]:
    """``typeof value === 'number'`` for JSON values (``int`` or ``float``, not ``bool``)."""
    cls = value.__class__
    return cls is int or cls is float


def _typeof(value: Any) -> str:
    if value is None:
        return "object"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _embed_type_and_data(a: Any, b: Any) -> Tuple[str, Any, Any]:
    if not isinstance(a, dict):
        raise InvalidDelta(f"cannot retain a {_typeof(a) if a is not None else 'undefined'}")
    if not isinstance(b, dict):
        raise InvalidDelta(f"cannot retain a {_typeof(b) if b is not None else 'undefined'}")
    embed_type = next(iter(a), None)
    other_type = next(iter(b), None)
    if not embed_type or embed_type != other_type:
        raise InvalidDelta(f"embed types not matched: {embed_type} != {other_type}")
    return embed_type, a[embed_type], b[embed_type]


def _leading_inserts(ops: List[Op], budget: float) -> Tuple[int, float]:
    """How many leading insert ops fit in ``budget`` units, and what is left.

    Same as stepping an ``OpIterator`` over whole insert ops while
    ``peekLength() <= budget``, without building anything.
    """
    count = 0
    for op in ops:
        if "delete" in op or op.get("retain") is not None:
            break
        insert = op.get("insert")
        if insert.__class__ is str:
            size = len(insert) if insert.isascii() else utf16.length(insert)
        else:
            size = 1
        if size > budget:
            break
        budget -= size
        count += 1
    return count, budget


def _single_edit(ops: List[Op]) -> Optional[Tuple[int, bool, int]]:
    """``(index, is_insert, length)`` if ``ops`` is one text insert or one delete, after at most
    one plain retain (what a keystroke makes); None for anything else."""
    if len(ops) == 1:
        index, edit = 0, ops[0]
    elif len(ops) == 2:
        first, edit = ops
        index = first.get("retain")  # type: ignore[assignment]
        if len(first) != 1 or index.__class__ is not int or index <= 0:
            return None
    else:
        return None
    if "delete" in edit:
        count = edit["delete"]
        if len(edit) != 1 or count.__class__ is not int or count <= 0:
            return None
        return index, False, count
    text = edit.get("insert")
    if text.__class__ is not str or not text or len(edit) != (2 if "attributes" in edit else 1):
        return None
    return index, True, utf16.length(text)


def transform_single_edits(this: List[Op], other: List[Op], priority: bool) -> Optional[List[Op]]:
    """``Delta(this).transform(Delta(other), priority).ops`` when both are single edits (see
    ``_single_edit``), computed directly; None otherwise, and when ``this`` inserts inside the
    range ``other`` deletes (which splits the delete). The general algorithm stays the reference:
    tests/ot check this against it and against quill-delta."""
    a = _single_edit(this)
    if a is None:
        return None
    b = _single_edit(other)
    if b is None:
        return None
    a_index, a_inserts, a_length = a
    b_index, b_inserts, b_length = b
    if a_inserts:
        if b_inserts:
            moved = a_index < b_index or (a_index == b_index and priority)
        elif a_index <= b_index:
            moved = True
        elif a_index >= b_index + b_length:
            moved = False
        else:
            return None
        index, length = (b_index + a_length if moved else b_index), b_length
    elif b_inserts:
        index, length = (b_index if b_index <= a_index else max(a_index, b_index - a_length)), b_length
    else:
        a_end, b_end = a_index + a_length, b_index + b_length
        overlap = max(0, min(a_end, b_end) - max(a_index, b_index))
        length = b_length - overlap
        if length == 0:
            return []
        index = b_index if b_index <= a_index else max(a_index, b_index - a_length)
    edit = other[-1] if length == b_length else {"delete": length}
    return [{"retain": index}, edit] if index else [edit]


def transform_position(ops: List[Op], index: N, priority: bool = False) -> N:
    """``Delta.transformPosition`` on an op list (whole ops, no iterator)."""
    offset = 0
    for op in ops:
        if offset > index:
            break
        if "delete" in op:
            index -= min(op["delete"], index - offset)
            continue
        retain = op.get("retain")
        if retain is not None:
            offset += 1 if retain.__class__ is dict else retain
            continue
        insert = op.get("insert")
        if insert.__class__ is str:
            length = len(insert) if insert.isascii() else utf16.length(insert)
        else:
            length = 1
        if offset < index or not priority:
            index += length
        offset += length
    return index


class Delta:
    """A rich-text document or change: a normalized list of ops."""

    __slots__ = ("ops",)

    handlers: ClassVar[Dict[str, EmbedHandler]] = {}

    def __init__(self, ops: DeltaLike = None) -> None:
        # Like quill-delta, assume well-formed ops (see validate.py).
        self.ops: List[Op] = _ops_of(ops)

    # ---------------------------------------------------------- embeds

    @classmethod
    def register_embed(cls, embed_type: str, handler: EmbedHandler) -> None:
        cls.handlers[embed_type] = handler

    @classmethod
    def unregister_embed(cls, embed_type: str) -> None:
        cls.handlers.pop(embed_type, None)

    @classmethod
    def get_handler(cls, embed_type: str) -> EmbedHandler:
        handler = cls.handlers.get(embed_type)
        if handler is None:
            raise InvalidDelta(f'no handlers for embed type "{embed_type}"')
        return handler

    # ---------------------------------------------------------- dunder

    def __repr__(self) -> str:
        return f"Delta({self.ops!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Delta):
            return js_equal(self.ops, other.ops)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return self.length()

    # ---------------------------------------------------------- building

    def insert(self, arg: Union[str, Dict[str, Any]], attributes: Optional[AttributeMap] = None) -> "Delta":
        if arg.__class__ is str and not arg:
            return self
        new_op: Op = {"insert": arg}
        if attributes.__class__ is dict and attributes:
            new_op["attributes"] = attributes
        return self.push(new_op)

    def delete(self, length: float) -> "Delta":
        if length <= 0:
            return self
        return self.push({"delete": length})

    def retain(
        self, length: Union[float, Dict[str, Any]], attributes: Optional[AttributeMap] = None
    ) -> "Delta":
        if _is_number(length) and length <= 0:
            return self
        new_op: Op = {"retain": length}
        if attributes.__class__ is dict and attributes:
            new_op["attributes"] = attributes
        return self.push(new_op)

    def push(self, new_op: Op) -> "Delta":
        """Append ``new_op``, merging/reordering exactly like quill-delta."""
        ops = self.ops
        index = len(ops)
        if index:
            last = ops[index - 1]
            if "delete" in new_op:
                if "delete" in last:
                    ops[index - 1] = {"delete": last["delete"] + new_op["delete"]}
                    return self
            elif "delete" in last and new_op.get("insert") is not None:
                # Insert before a delete at the same index: prefer inserting first.
                index -= 1
                if index == 0:
                    ops.insert(0, new_op)
                    return self
                last = ops[index - 1]
            new_attributes = new_op.get("attributes")
            last_attributes = last.get("attributes")
            if new_attributes is last_attributes or js_equal(new_attributes, last_attributes):
                insert = new_op.get("insert")
                if insert.__class__ is str:
                    last_insert = last.get("insert")
                    if last_insert.__class__ is str:
                        merged: Op = {"insert": utf16.concat(last_insert, insert)}
                        if new_attributes is not None:
                            merged["attributes"] = new_attributes
                        ops[index - 1] = merged
                        return self
                else:
                    retain = new_op.get("retain")
                    last_retain = last.get("retain")
                    if _is_number(retain) and _is_number(last_retain):
                        merged = {"retain": last_retain + retain}
                        if new_attributes is not None:
                            merged["attributes"] = new_attributes
                        ops[index - 1] = merged
                        return self
        if index == len(ops):
            ops.append(new_op)
        else:
            ops.insert(index, new_op)
        return self

    def chop(self) -> "Delta":
        """Drop a trailing plain retain (it changes nothing)."""
        ops = self.ops
        if ops:
            last = ops[-1]
            if _is_number(last.get("retain")) and last.get("attributes") is None:
                ops.pop()
        return self

    # ---------------------------------------------------------- queries

    def filter(self, predicate: Callable[[Op, int], bool]) -> List[Op]:
        return [op for i, op in enumerate(self.ops) if predicate(op, i)]

    def for_each(self, predicate: Callable[[Op, int], None]) -> None:
        for i, op in enumerate(self.ops):
            predicate(op, i)

    def map(self, predicate: Callable[[Op, int], T]) -> List[T]:
        return [predicate(op, i) for i, op in enumerate(self.ops)]

    def partition(self, predicate: Callable[[Op], bool]) -> Tuple[List[Op], List[Op]]:
        passed: List[Op] = []
        failed: List[Op] = []
        for op in self.ops:
            (passed if predicate(op) else failed).append(op)
        return passed, failed

    def reduce(self, predicate: Callable[[T, Op, int], T], initial: T) -> T:
        accum = initial
        for i, op in enumerate(self.ops):
            accum = predicate(accum, op, i)
        return accum

    def change_length(self) -> int:
        """Document length change: inserted minus deleted units."""
        total = 0
        for op in self.ops:
            insert = op.get("insert")
            if insert is not None and insert != "":
                total += op_length(op)
            elif op.get("delete"):
                total -= op["delete"]
        return total

    def length(self) -> int:
        """Sum of all op lengths (document length for a document)."""
        return sum(op_length(op) for op in self.ops)

    def slice(self, start: float = 0, end: float = INFINITY) -> "Delta":
        """Ops covering ``[start, end)`` (units), chopping at the ends."""
        ops: List[Op] = []
        it = OpIterator(self.ops)
        index: float = 0
        while index < end and it.op is not None:
            remaining = it.op_len - it.offset
            if index < start:
                step = min(start - index, remaining)
                it.next(step)
            else:
                step = min(end - index, remaining)
                ops.append(it.next(step))
            index += step
        return Delta(ops)

    # ---------------------------------------------------------- OT

    def compose(self, other: "Delta") -> "Delta":  # noqa: C901 - mirrors quill-delta
        """The delta equivalent to applying ``self`` then ``other``."""
        this_iter = OpIterator(self.ops)
        other_iter = OpIterator(other.ops)
        ops: List[Op] = []
        first_other = other_iter.op
        if first_other is not None:
            first_retain = first_other.get("retain")
            if _is_number(first_retain) and first_other.get("attributes") is None:
                # Fast path: leading inserts of self untouched by other's first retain.
                count, first_left = _leading_inserts(self.ops, first_retain)
                if count:
                    ops = self.ops[:count]
                    this_iter.seek(count)
                if first_retain - first_left > 0:
                    other_iter.next(first_retain - first_left)
        delta = Delta(ops)
        push = delta.push
        while this_iter.op is not None or other_iter.op is not None:
            if other_iter.kind is INSERT:
                push(other_iter.next())
                continue
            if this_iter.kind is DELETE:
                push(this_iter.next())
                continue
            length = min(this_iter.op_len - this_iter.offset, other_iter.op_len - other_iter.offset)
            this_op = this_iter.next(length)
            other_op = other_iter.next(length)
            other_retain = other_op.get("retain")
            this_retain = this_op.get("retain")
            if other_retain is not None and (other_retain.__class__ is dict or other_retain):
                new_op: Op = {}
                if _is_number(this_retain):
                    new_op["retain"] = length if _is_number(other_retain) else other_retain
                elif _is_number(other_retain):
                    if this_retain is None:
                        new_op["insert"] = this_op["insert"]
                    else:
                        new_op["retain"] = this_retain
                else:
                    action = "insert" if this_retain is None else "retain"
                    embed_type, this_data, other_data = _embed_type_and_data(
                        this_op.get(action), other_retain
                    )
                    handler = Delta.get_handler(embed_type)
                    new_op[action] = {embed_type: handler.compose(this_data, other_data, action == "retain")}
                this_attributes = this_op.get("attributes")
                other_attributes = other_op.get("attributes")
                if this_attributes is None and other_attributes is None:
                    composed = None
                else:
                    composed = attrs.compose(this_attributes, other_attributes, _is_number(this_retain))
                if composed:
                    new_op["attributes"] = composed
                push(new_op)
                # Optimization if the rest of other is just retain
                if other_iter.op is None and js_equal(delta.ops[-1], new_op):
                    rest = Delta(this_iter.rest())
                    return delta.concat(rest).chop()
            elif "delete" in other_op and (_is_number(this_retain) or this_retain.__class__ is dict):
                # other deletes what self retained; insert + delete cancels out
                push(other_op)
        return delta.chop()

    def concat(self, other: "Delta") -> "Delta":
        delta = Delta(self.ops[:])
        if other.ops:
            delta.push(other.ops[0])
            delta.ops.extend(other.ops[1:])
        return delta

    def diff(self, other: "Delta", cleanup: bool = False) -> "Delta":
        """Delta turning document ``self`` into document ``other``.

        ``cleanup=False`` is quill-delta 4.2.2 (rich-text); ``True`` is 5.x.
        Raises ``InvalidDelta`` if either is not a document, or where
        quill-delta overflows its stack (some texts with lone surrogates).
        """
        if self.ops is other.ops:
            return Delta()
        texts = [self._diff_text(other, "with"), other._diff_text(other, "on")]
        try:
            components = fastdiff.diff(texts[0], texts[1], cleanup)
        except fastdiff.DiffDoesNotTerminate as error:
            # quill-delta throws RangeError here (texts with lone surrogates)
            raise InvalidDelta(f"cannot diff these documents: {error}") from error
        ret = Delta()
        this_iter = OpIterator(self.ops)
        other_iter = OpIterator(other.ops)
        for kind, text in components:
            length: float = len(text)
            while length > 0:
                if kind == fastdiff.INSERT:
                    op_len = min(other_iter.op_len - other_iter.offset, length)
                    ret.push(other_iter.next(op_len))
                elif kind == fastdiff.DELETE:
                    op_len = min(length, this_iter.op_len - this_iter.offset)
                    this_iter.next(op_len)
                    ret.delete(op_len)
                else:
                    op_len = min(
                        this_iter.op_len - this_iter.offset, other_iter.op_len - other_iter.offset, length
                    )
                    this_op = this_iter.next(op_len)
                    other_op = other_iter.next(op_len)
                    if js_equal(this_op.get("insert"), other_op.get("insert")):
                        ret.retain(op_len, attrs.diff(this_op.get("attributes"), other_op.get("attributes")))
                    else:
                        ret.push(other_op).delete(op_len)
                length -= op_len
        return ret.chop()

    def _diff_text(self, other: "Delta", prep: str) -> str:
        parts: List[str] = []
        for op in self.ops:
            insert = op.get("insert")
            if insert is None:
                raise InvalidDelta(f"diff() called {prep} non-document")
            parts.append(insert if insert.__class__ is str else NULL_CHARACTER)
        return utf16.to_units("".join(parts))

    def each_line(
        self, predicate: Callable[["Delta", AttributeMap, int], Optional[bool]], newline: str = "\n"
    ) -> None:
        """Call ``predicate(line, line_attributes, index)`` for each line."""
        it = OpIterator(self.ops)
        line = Delta()
        i = 0
        while it.op is not None:
            if it.kind is not INSERT:
                return
            this_op = it.op
            start = it.offset
            insert = this_op.get("insert")
            if insert.__class__ is str:
                found = utf16.to_units(insert).find(newline, start)
                index = found - start if found >= 0 else -1
            else:
                index = -1
            if index < 0:
                line.push(it.next())
            elif index > 0:
                line.push(it.next(index))
            else:
                if predicate(line, it.next(1).get("attributes") or {}, i) is False:
                    return
                i += 1
                line = Delta()
        if line.length() > 0:
            predicate(line, {}, i)

    def invert(self, base: "Delta") -> "Delta":
        """The delta undoing ``self`` when ``self`` is applied to ``base``."""
        inverted = Delta()
        base_index: float = 0
        for op in self.ops:
            insert = op.get("insert")
            retain = op.get("retain")
            delete = op.get("delete")
            if insert is not None and insert != "":
                inverted.delete(op_length(op))
            elif _is_number(retain) and op.get("attributes") is None:
                inverted.retain(retain)
                base_index += retain
            elif delete or _is_number(retain):
                # ``delete`` if truthy, else ``retain``, a number by the test above
                length = cast(float, delete or retain)
                op_attributes = op.get("attributes")
                for base_op in base.slice(base_index, base_index + length).ops:
                    if delete:
                        inverted.push(base_op)
                    elif retain and op_attributes is not None:
                        inverted.retain(
                            op_length(base_op), attrs.invert(op_attributes, base_op.get("attributes"))
                        )
                base_index += length
            elif retain.__class__ is dict:
                base_op = OpIterator(base.slice(base_index, base_index + 1).ops).next()
                embed_type, op_data, base_data = _embed_type_and_data(retain, base_op.get("insert"))
                handler = Delta.get_handler(embed_type)
                inverted.retain(
                    {embed_type: handler.invert(op_data, base_data)},
                    attrs.invert(op.get("attributes"), base_op.get("attributes")),
                )
                base_index += 1
        return inverted.chop()

    def transform(self, other: "Delta", priority: bool = False) -> "Delta":
        """``other`` transformed against ``self`` (``self`` first if ``priority``)."""
        priority = bool(priority)
        this_iter = OpIterator(self.ops)
        other_iter = OpIterator(other.ops)
        delta = Delta()
        ops = delta.ops
        push = delta.push
        while this_iter.op is not None or other_iter.op is not None:
            if this_iter.kind is INSERT and (priority or other_iter.kind is not INSERT):
                length = this_iter.op_len - this_iter.offset
                this_iter.skip()
                last = ops[-1] if ops else None
                if (
                    last is not None
                    and "retain" in last
                    and "attributes" not in last
                    and last["retain"].__class__ is not dict
                ):
                    ops[-1] = {"retain": last["retain"] + length}
                else:
                    push({"retain": length})
            elif other_iter.kind is INSERT:
                push(other_iter.next())
            else:
                length = min(this_iter.op_len - this_iter.offset, other_iter.op_len - other_iter.offset)
                this_op = this_iter.next(length)
                other_op = other_iter.next(length)
                if this_op.get("delete"):
                    # Our delete makes their delete redundant or removes their retain
                    continue
                if other_op.get("delete"):
                    push(other_op)
                    continue
                this_data = this_op.get("retain")
                other_data = other_op.get("retain")
                transformed: Union[float, Dict[str, Any]] = (
                    other_data if other_data.__class__ is dict else length
                )
                if this_data.__class__ is dict and other_data.__class__ is dict:
                    embed_type = next(iter(this_data), None)
                    if embed_type is not None and embed_type == next(iter(other_data), None):
                        handler = Delta.get_handler(embed_type)
                        transformed = {
                            embed_type: handler.transform(
                                this_data[embed_type], other_data[embed_type], priority
                            )
                        }
                delta.retain(
                    transformed,
                    attrs.transform(this_op.get("attributes"), other_op.get("attributes"), priority),
                )
        return delta.chop()

    def transform_position(self, index: int, priority: bool = False) -> int:
        """Where ``index`` moves to once ``self`` is applied."""
        return transform_position(self.ops, index, bool(priority))

    # ---------------------------------------------------------- JSON

    def to_json(self) -> List[Op]:
        """The op list (the JSON form of a delta)."""
        return self.ops

    @classmethod
    def from_ops(cls, ops: Iterable[Op]) -> "Delta":
        return cls(list(ops))
