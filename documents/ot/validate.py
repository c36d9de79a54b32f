"""Validation and normalization of untrusted deltas.

``validate_op`` and ``validate_document`` accept anything (typically the
result of ``json.loads`` on client input) and either return a normalized,
canonical op list or raise ``InvalidDelta`` with a human-readable message.
They never raise anything else and never recurse into client data, so
hostile nesting cannot cause ``RecursionError``.

Accepted shape (the subset of quill-delta the rich-text type handles):

* the delta: a list of ops, or ``{"ops": [...]}`` (no other keys);
* an op: a dict with exactly one of ``insert``/``retain``/``delete`` and
  optionally ``attributes`` (no other keys);
* ``retain``/``delete``: an ``int`` (not ``bool``, not ``float``) in
  ``1 .. 2**53 - 1``.  Object-valued retains (quill-delta 5 embed-retains)
  are rejected: the rich-text type the sharedb client runs (quill-delta
  4.2.2) does not support them;
* ``insert``: a non-empty string without NUL, or an embed.  The op's
  inserted text *as a whole* (inserts concatenated in order) must be
  well-formed UTF-16: one insert may end with half of a surrogate pair if
  the next insert starts with the other half (sharedb clients split an
  emoji that way when a format starts or ends inside it), but no surrogate
  may stay unpaired;
* an embed: a dict with exactly one non-empty string key whose value is a
  JSON scalar other than ``null`` (string, finite number, boolean) or a flat
  dict of such scalars (``null`` allowed there), e.g. ``{"image": "x.png"}``,
  ``{"formula": "e=mc^2"}``, ``{"video": {"src": "v.mp4", "width": 320}}``;
* ``attributes``: a flat dict, non-empty string keys, JSON scalar values
  (string, finite number, boolean, or ``null`` = remove the format); ``{}``
  is accepted and dropped; ``delete`` ops take no attributes.

Attribute and embed strings must be well-formed on their own (no NUL, no
lone surrogate).  Numbers must be finite
and integers must be within +-(2**53 - 1) (JavaScript safe integers).
Sizes are bounded by ``Limits``.

With a ``schema`` (by default ``CONTENT_SCHEMA``, what the editor renders), every attribute
must also be one of its formats with a valid value, every embed one of its embeds, line formats
may only sit on inserted newlines, and a whole document must end with a newline.
``schema=None`` checks the shape alone (for the OT core's own tests and tools).

Normalization: ops are re-pushed through ``Delta`` (merging adjacent ops,
putting inserts before deletes, dropping empty attributes) and a trailing
plain retain is chopped, so the result is quill-delta's canonical form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from . import utf16
from .delta import Delta
from .errors import InvalidDelta
from .op import Op
from .schema import CONTENT_SCHEMA, Schema

__all__ = [
    "Limits",
    "MAX_SAFE_INTEGER",
    "check_formats_fit",
    "check_keeps_final_newline",
    "needs_text",
    "validate_document",
    "validate_op",
]

MAX_SAFE_INTEGER = 2**53 - 1
_OP_KEYS = frozenset(("insert", "retain", "delete", "attributes"))
_ACTIONS = ("insert", "retain", "delete")


@dataclass(frozen=True)
class Limits:
    """Size limits; all lengths are UTF-16 code units."""

    max_ops: int = 10_000
    """Maximum number of ops (components) in one delta."""
    max_attributes: int = 32
    """Maximum number of keys in one op's ``attributes`` (or embed dict)."""
    max_key_length: int = 64
    """Maximum length of an attribute or embed key."""
    max_value_length: int = 4_096
    """Maximum length of a string attribute or embed value."""
    max_insert_length: int = 1_000_000
    """Maximum length of one text insert."""
    max_total_size: int = 2_000_000
    """Maximum total size: inserted text plus attribute/embed keys and values."""


DEFAULT_LIMITS = Limits()


def validate_op(
    op: Any,
    *,
    doc_length: Optional[int] = None,
    limits: Limits = DEFAULT_LIMITS,
    schema: Optional[Schema] = CONTENT_SCHEMA,
) -> List[Op]:
    """Validate an untrusted op; return it normalized or raise ``InvalidDelta``.

    With ``doc_length``, also reject ops that retain or delete past the end
    of a document of that length, or that remove its final newline.
    """
    ops = _op_list(op, limits)
    delta = Delta()
    budget = _Budget(limits, schema)
    base = 0
    for position, item in enumerate(ops):
        base += _push_component(delta, item, position, budget, allow_edits=True)
    if doc_length is not None and base > doc_length:
        raise InvalidDelta(
            f"op spans {base} characters but the document has only {doc_length}: "
            "it retains or deletes past the end"
        )
    _check_text(delta.ops)
    result = delta.chop().ops
    if doc_length is not None and schema is not None:
        check_keeps_final_newline(result, doc_length)
    return result


def validate_document(
    doc: Any, *, limits: Limits = DEFAULT_LIMITS, schema: Optional[Schema] = CONTENT_SCHEMA
) -> List[Op]:
    """Validate an untrusted document (insert-only delta); return it normalized."""
    ops = _op_list(doc, limits)
    delta = Delta()
    budget = _Budget(limits, schema)
    for position, item in enumerate(ops):
        _push_component(delta, item, position, budget, allow_edits=False)
    _check_text(delta.ops)
    if schema is not None:
        last = delta.ops[-1]["insert"] if delta.ops else None
        if not isinstance(last, str) or not last.endswith("\n"):
            raise InvalidDelta("a document must end with a newline")
    return delta.ops


def check_keeps_final_newline(op: List[Op], doc_length: int) -> None:
    """Raise ``InvalidDelta`` if ``op`` (normalized) would leave a document not ending in a newline.

    Decided from the op and the length alone, for a document that ends with a newline now: the
    op is fine if it leaves the last character in place and adds no text after it, or if the
    text it puts at the very end ends with a newline. Transformed ops from the editor always
    pass: the editor never deletes its last newline nor types after it, and transforming an op
    never makes it delete or insert anywhere else.
    """
    base = sum(component.get("retain", 0) + component.get("delete", 0) for component in op)
    if base < doc_length or not op:
        return  # the final newline is kept, and every insert lands before it
    deleted_after = False
    for component in reversed(op):
        if "delete" in component:
            deleted_after = True
        elif "insert" in component:
            text = component["insert"]
            if isinstance(text, str) and text.endswith("\n"):
                return
            raise InvalidDelta("the document must keep ending with a newline (the op adds text after it)")
        elif not deleted_after:
            return  # the op's last retain keeps the final newline (and formats it)
        else:
            break
    raise InvalidDelta("the document must keep ending with a newline (the op deletes it)")


def needs_text(op: List[Op], schema: Schema = CONTENT_SCHEMA) -> bool:
    """Whether ``check_formats_fit`` has anything to check in ``op`` (typing never does)."""
    return any("retain" in c and "attributes" in c and schema.checks_retains(c["attributes"]) for c in op)


def check_formats_fit(op: List[Op], units: str, schema: Schema = CONTENT_SCHEMA) -> None:
    """Raise ``InvalidDelta`` if a retain of ``op`` formats characters the editor cannot show so.

    ``units`` is the document's text before the op, one character per UTF-16 unit.
    """
    position = 0
    for index, component in enumerate(op):
        if "retain" in component:
            count = component["retain"]
            if "attributes" in component:
                covered = units[position : position + count]
                schema.check_retained(component["attributes"], covered, where=f"op {index}")
            position += count
        elif "delete" in component:
            position += component["delete"]


def _check_text(ops: List[Op]) -> None:
    """The inserted text, read in order, must be well-formed UTF-16 (split pairs must rejoin)."""
    inserts = [op["insert"] for op in ops if "insert" in op]
    if all(isinstance(text, str) and text.isascii() for text in inserts if isinstance(text, str)):
        return
    # An embed stands between characters too: it must not sit inside a pair.
    text = "".join(item if isinstance(item, str) else "\ufffc" for item in inserts)
    if utf16.has_lone_surrogate(text):
        raise InvalidDelta("the inserted text contains an unpaired surrogate (malformed UTF-16)")


# ------------------------------------------------------------------ helpers


class _Budget:
    """Running total of the op size against ``Limits.max_total_size``."""

    __slots__ = ("limits", "schema", "used")

    def __init__(self, limits: Limits, schema: Optional[Schema]) -> None:
        self.limits = limits
        self.schema = schema
        self.used = 0

    def spend(self, amount: int) -> None:
        self.used += amount
        if self.used > self.limits.max_total_size:
            raise InvalidDelta(f"delta is too large (more than {self.limits.max_total_size} characters)")


def _op_list(value: Any, limits: Limits) -> List[Any]:
    if isinstance(value, dict):
        if set(value) != {"ops"}:
            raise InvalidDelta('a delta must be a list of ops or an object with only an "ops" key')
        value = value["ops"]
    if not isinstance(value, list):
        raise InvalidDelta(f"a delta must be a list of ops, not {_describe(value)}")
    if len(value) > limits.max_ops:
        raise InvalidDelta(f"delta has {len(value)} ops; at most {limits.max_ops} are allowed")
    return value


def _push_component(delta: Delta, item: Any, position: int, budget: _Budget, *, allow_edits: bool) -> int:
    """Validate one op, push it onto ``delta``; return its base length."""
    where = f"op #{position}"
    if not isinstance(item, dict):
        raise InvalidDelta(f"{where} must be an object, not {_describe(item)}")
    for key in item:
        if key not in _OP_KEYS:
            raise InvalidDelta(f"{where} has an unknown key {_short(key)}")
    actions = [key for key in _ACTIONS if key in item]
    if len(actions) != 1:
        raise InvalidDelta(f"{where} must have exactly one of insert, retain, delete (has {len(actions)})")
    action = actions[0]
    if not allow_edits and action != "insert":
        raise InvalidDelta(f"{where}: a document may only contain inserts, not {action}")
    attributes = _attributes(item, where, action, budget)
    value = item[action]
    if action == "insert":
        insert = _insert_value(value, where, budget)
        if budget.schema is not None and attributes:
            budget.schema.check_attributes(attributes, where=where, insert=insert)
            if not allow_edits:
                # A document stores formats, not their removal.
                attributes = {name: attr for name, attr in attributes.items() if attr is not None} or None
        delta.insert(insert, attributes)
        return 0
    count = _count(value, where, action)
    if action == "delete":
        delta.delete(count)
    else:
        if budget.schema is not None and attributes:
            budget.schema.check_attributes(attributes, where=where, insert=None)
        delta.retain(count, attributes)
    return count


def _count(value: Any, where: str, action: str) -> int:
    if action == "retain" and isinstance(value, dict):
        raise InvalidDelta(f"{where}: object retains (embed changes) are not supported")
    if value.__class__ is not int:
        raise InvalidDelta(f"{where}: {action} must be a positive integer, not {_describe(value)}")
    if value <= 0:
        raise InvalidDelta(f"{where}: {action} must be positive, not {value}")
    if value > MAX_SAFE_INTEGER:
        raise InvalidDelta(f"{where}: {action} is too large")
    return value


def _insert_value(value: Any, where: str, budget: _Budget) -> Any:
    if isinstance(value, str):
        if not value:
            raise InvalidDelta(f"{where}: insert must not be an empty string")
        # Half of a surrogate pair is allowed here: sharedb splits an emoji between two inserts
        # when a format starts or ends inside it. The op's text as a whole is checked instead.
        text = _string(value, f"{where}: insert", budget.limits.max_insert_length, allow_split=True)
        budget.spend(utf16.length(text))
        return text
    if isinstance(value, dict):
        return _embed(value, where, budget)
    raise InvalidDelta(f"{where}: insert must be a string or an embed object, not {_describe(value)}")


def _embed(value: Dict[Any, Any], where: str, budget: _Budget) -> Dict[str, Any]:
    limits = budget.limits
    if len(value) != 1:
        raise InvalidDelta(f"{where}: an embed must have exactly one key (its type), not {len(value)}")
    ((key, inner),) = value.items()
    name = _key(key, f"{where}: embed type", budget)
    if budget.schema is not None:
        budget.schema.check_embed(name, inner, where=where)
    if inner is None:
        raise InvalidDelta(f"{where}: embed {_short(name)} has a null value")
    if isinstance(inner, dict):
        if len(inner) > limits.max_attributes:
            raise InvalidDelta(f"{where}: embed {_short(name)} has too many keys")
        flat = {}
        for inner_key, inner_value in inner.items():
            checked_key = _key(inner_key, f"{where}: embed {_short(name)} key", budget)
            flat[checked_key] = _scalar(
                inner_value, f"{where}: embed {_short(name)}.{_short(checked_key)}", budget
            )
        return {name: flat}
    return {name: _scalar(inner, f"{where}: embed {_short(name)}", budget)}


def _attributes(item: Dict[str, Any], where: str, action: str, budget: _Budget) -> Optional[Dict[str, Any]]:
    if "attributes" not in item:
        return None
    value = item["attributes"]
    if not isinstance(value, dict):
        raise InvalidDelta(f"{where}: attributes must be an object, not {_describe(value)}")
    if not value:
        return None
    if action == "delete":
        raise InvalidDelta(f"{where}: a delete cannot have attributes")
    if len(value) > budget.limits.max_attributes:
        raise InvalidDelta(f"{where}: too many attributes ({len(value)} > {budget.limits.max_attributes})")
    result: Dict[str, Any] = {}
    for key, attr in value.items():
        name = _key(key, f"{where}: attribute name", budget)
        result[name] = _scalar(attr, f"{where}: attribute {_short(name)}", budget)
    return result


def _key(key: Any, what: str, budget: _Budget) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidDelta(f"{what} must be a non-empty string")
    text = _string(key, what, budget.limits.max_key_length)
    budget.spend(len(text))
    return text


def _scalar(value: Any, what: str, budget: _Budget) -> Any:
    """A JSON scalar: str, finite number, bool or None (no nesting)."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        text = _string(value, what, budget.limits.max_value_length)
        budget.spend(utf16.length(text))
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise InvalidDelta(f"{what}: number is too large")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidDelta(f"{what}: number must be finite")
        return float(value)
    if isinstance(value, (dict, list, tuple)):
        raise InvalidDelta(f"{what} must be a string, number, boolean or null (no nesting)")
    raise InvalidDelta(f"{what} must be a JSON scalar, not {_describe(value)}")


def _string(value: str, what: str, max_length: int, *, allow_split: bool = False) -> str:
    """Check length, NUL and lone surrogates; return the canonical string."""
    if len(value) > max_length * 2 + 2 or utf16.length(value) > max_length:
        # (the first test avoids encoding absurdly long strings)
        raise InvalidDelta(f"{what} is too long (more than {max_length} characters)")
    text = str(value)
    if "\x00" in text:
        raise InvalidDelta(f"{what} contains a NUL character")
    if not text.isascii():
        text = utf16.from_units(text)
        if not allow_split and utf16.has_lone_surrogate(text):
            raise InvalidDelta(f"{what} contains an unpaired surrogate (malformed UTF-16)")
    return text


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number" if not isinstance(value, float) or math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _short(text: Any) -> str:
    """Quote a client-supplied name for a message, truncated."""
    shown = str(text) if isinstance(text, str) else _describe(text)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return repr(shown)
