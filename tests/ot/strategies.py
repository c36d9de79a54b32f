"""Hypothesis strategies: documents and concurrent ops valid against them."""

from __future__ import annotations

import os
import random
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from documents.ot import Delta, rich_text, utf16

Op = Dict[str, Any]

# ------------------------------------------------------------ settings

#: Hypothesis examples per differential test (each yields several cases).
FUZZ_EXAMPLES = int(os.environ.get("OT_FUZZ_EXAMPLES", "400"))
_SEED = os.environ.get("OT_FUZZ_SEED")

FUZZ = settings(
    max_examples=max(1, FUZZ_EXAMPLES),
    derandomize=_SEED is None,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
"""Derandomized by default so failures reproduce on every run; set
OT_FUZZ_SEED=<int> to explore other inputs (the seed is printed)."""

SEED: Optional[int] = int(_SEED) if _SEED is not None else None

# ------------------------------------------------------------ text

_CHARS = [
    "a",
    "b",
    "c",
    "x",
    " ",
    "\n",
    "é",
    "ß",
    "e\u0301",  # combining acute
    "中",
    "文",
    "字",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "🇫🇷",
    "𝄞",
    "\ud83d",  # lone high surrogate (can appear after JS-style slicing)
    "\ude00",  # lone low surrogate
    "\t",
    "1",
]

text_chunks = st.lists(st.sampled_from(_CHARS), min_size=1, max_size=8).map(
    lambda parts: utf16.from_units(utf16.to_units("".join(parts)))
)
"""Non-empty canonical strings mixing ASCII, combining marks, CJK, emoji."""

diff_texts = st.lists(
    st.sampled_from(["a", "b", "c", "ab", " ", "\n", "😀", "😁", "\ud83d", "中", "\x00"]), max_size=14
).map(lambda parts: utf16.to_units("".join(parts)))
"""Unit strings (one char per UTF-16 unit) for raw fast-diff comparisons."""

# ------------------------------------------------------------ attributes

_ATTR_VALUES: Dict[str, List[Any]] = {
    "bold": [True],
    "italic": [True],
    "header": [1, 2, 3],
    "color": ["red", "#00f"],
    "link": ["https://example.com/😀"],
    "size": [1, True],  # True vs 1 must not compare equal
}


@st.composite
def attribute_maps(draw: Any, allow_null: bool = False, max_size: int = 3) -> Optional[Dict[str, Any]]:
    if draw(st.integers(0, 2)) == 0:
        return None
    keys = draw(st.lists(st.sampled_from(sorted(_ATTR_VALUES)), min_size=1, max_size=max_size, unique=True))
    result = {}
    for key in keys:
        values = list(_ATTR_VALUES[key]) + ([None] if allow_null else [])
        result[key] = draw(st.sampled_from(values))
    return result


embeds = st.sampled_from(
    [
        {"image": "x.png"},
        {"image": "y.png"},
        {"formula": "e=mc^2"},
        {"video": {"src": "v.mp4", "width": 320}},
    ]
)


def _with_attributes(op: Op, attributes: Optional[Dict[str, Any]]) -> Op:
    if attributes:
        op["attributes"] = attributes
    return op


# ------------------------------------------------------------ documents


@st.composite
def documents(draw: Any, max_ops: int = 6, canonical: bool = True) -> List[Op]:
    """Insert-only deltas; canonical (pushed through Delta) by default."""
    count = draw(st.integers(0, max_ops))
    ops: List[Op] = []
    for _ in range(count):
        insert: Any = draw(embeds) if draw(st.integers(0, 5)) == 0 else draw(text_chunks)
        ops.append(_with_attributes({"insert": insert}, draw(attribute_maps())))
    if draw(st.booleans()):
        ops.append({"insert": "\n"})
    if not canonical:
        return ops
    delta = Delta()
    for op in ops:
        delta.insert(op["insert"], op.get("attributes"))
    return delta.ops


@st.composite
def ops_for(draw: Any, doc_length: int, max_steps: int = 6, canonical_only: bool = False) -> List[Op]:
    """A change valid against a document of ``doc_length`` units.

    Mostly canonical (built with Delta.insert/retain/delete); sometimes a
    raw, non-canonical op list (adjacent mergeable ops, delete before
    insert, trailing retain) to check that both sides agree on those too.
    """
    raw = not canonical_only and draw(st.integers(0, 4)) == 0
    remaining = doc_length
    ops: List[Op] = []
    for _ in range(draw(st.integers(0, max_steps))):
        kind = draw(st.sampled_from(["retain", "retain", "delete", "insert", "insert"]))
        if kind != "insert" and remaining == 0:
            kind = "insert"
        if kind == "insert":
            insert: Any = draw(embeds) if draw(st.integers(0, 6)) == 0 else draw(text_chunks)
            ops.append(_with_attributes({"insert": insert}, draw(attribute_maps())))
            continue
        count = draw(st.integers(1, min(remaining, 8)))
        remaining -= count
        if kind == "delete":
            ops.append({"delete": count})
        else:
            ops.append(_with_attributes({"retain": count}, draw(attribute_maps(allow_null=True))))
    if raw:
        return ops
    delta = Delta()
    for op in ops:
        if "insert" in op:
            delta.insert(op["insert"], op.get("attributes"))
        elif "delete" in op:
            delta.delete(op["delete"])
        else:
            delta.retain(op["retain"], op.get("attributes"))
    return delta.chop().ops


@st.composite
def single_edits(draw: Any, doc_length: int) -> List[Op]:
    """What a keystroke makes: one insert or one delete after at most one plain retain; now and
    then something close to that but not it (a retain with attributes, an embed, a second edit),
    which the single-edit path must leave to the general algorithm."""
    index = draw(st.integers(0, doc_length))
    shape = draw(st.sampled_from(["insert", "insert", "delete", "delete", "near"]))
    if shape == "delete" and index < doc_length:
        edit: Op = {"delete": draw(st.integers(1, doc_length - index))}
    elif shape == "near":
        return draw(ops_for(doc_length, max_steps=2))
    else:
        edit = _with_attributes({"insert": draw(text_chunks)}, draw(attribute_maps()))
    return [{"retain": index}, edit] if index else [edit]


@st.composite
def doc_and_two_single_edits(draw: Any) -> Tuple[List[Op], List[Op], List[Op]]:
    doc = draw(documents())
    size = rich_text.length(doc)
    return doc, draw(single_edits(size)), draw(single_edits(size))


@st.composite
def doc_and_op(draw: Any) -> Tuple[List[Op], List[Op]]:
    doc = draw(documents())
    return doc, draw(ops_for(rich_text.length(doc)))


@st.composite
def doc_and_two_concurrent_ops(draw: Any) -> Tuple[List[Op], List[Op], List[Op]]:
    doc = draw(documents())
    size = rich_text.length(doc)
    return doc, draw(ops_for(size)), draw(ops_for(size))


@st.composite
def doc_and_sequential_ops(draw: Any) -> Tuple[List[Op], List[Op], List[Op]]:
    """``(doc, a, b)`` with ``a`` valid on ``doc`` and ``b`` valid on ``doc`` + ``a``."""
    doc = draw(documents())
    a = draw(ops_for(rich_text.length(doc)))
    b = draw(ops_for(rich_text.length(doc) + rich_text.change_length(a)))
    return doc, a, b


def shuffled(items: List[Any], seed: int) -> List[Any]:
    copy = list(items)
    random.Random(seed).shuffle(copy)
    return copy


_WORDS = [
    "the ",
    "cat ",
    "sat ",
    "on ",
    "mat",
    ". ",
    "\n",
    "\n\n",
    "a",
    "b",
    "ab",
    "😀",
    "😁",
    "中文",
    "é",
    "e\u0301",
    "\ud83d",
    " ",
]


@st.composite
def edited_text_pairs(draw: Any) -> Tuple[str, str]:
    """Two longer unit strings, the second an edited copy of the first.

    Long enough (up to a few hundred units) to reach fast-diff's half-match
    and bisection code paths.
    """
    words = draw(st.lists(st.sampled_from(_WORDS), min_size=2, max_size=60))
    edited = list(words)
    for _ in range(draw(st.integers(1, 5))):
        where = draw(st.integers(0, len(edited)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action != "insert" and where < len(edited):
            del edited[where : where + draw(st.integers(1, 6))]
        if action != "delete":
            edited[where:where] = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4))
    return utf16.to_units("".join(words)), utf16.to_units("".join(edited))
