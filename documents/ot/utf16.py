"""String helpers that count in UTF-16 code units, as JavaScript does.

Python strings count code points; JavaScript strings count UTF-16 code
units.  Every length and index in a delta is a JavaScript one, so a
character outside the Basic Multilingual Plane (an emoji, say) has length 2
here, and a retain or delete may cut it in half exactly as ``String#substr``
would, leaving lone surrogates behind.

Canonical form: a Python ``str`` is the *canonical* spelling of a
JavaScript string when no high surrogate code point is immediately followed
by a low surrogate code point (such pairs are always stored as the single
astral code point).  ``json.loads`` produces canonical strings, and every
function in this package keeps strings canonical (``concat`` re-joins a pair
split across two pieces), so ``==`` on canonical strings is JavaScript
string equality.

Speed: ``str.isascii`` is O(1) in CPython, so ASCII strings take the plain
``len``/slice path.  Other strings are measured once through the UTF-16
codec (C speed); strings without astral characters still slice natively.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "HIGH_SURROGATES",
    "LOW_SURROGATES",
    "concat",
    "from_units",
    "has_lone_surrogate",
    "is_bmp",
    "length",
    "slice_units",
    "to_units",
]

HIGH_SURROGATES: Final = ("\ud800", "\udbff")
LOW_SURROGATES: Final = ("\udc00", "\udfff")

_ASTRAL_RE: Final = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")


def length(s: str) -> int:
    """Length of ``s`` in UTF-16 code units (JavaScript ``s.length``)."""
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le", "surrogatepass")) >> 1


def is_bmp(s: str) -> bool:
    """True when ``s`` has no astral code point, i.e. ``len(s) == length(s)``."""
    return s.isascii() or _ASTRAL_RE.search(s) is None


def slice_units(s: str, start: int, end: int | None = None) -> str:
    """``s.substring(start, end)`` in code units, for 0 <= start <= end.

    Cutting through a surrogate pair yields lone surrogates, like JavaScript.
    """
    if s.isascii() or _ASTRAL_RE.search(s) is None:
        return s[start:end]
    data = s.encode("utf-16-le", "surrogatepass")
    stop = None if end is None else end * 2
    return data[start * 2 : stop].decode("utf-16-le", "surrogatepass")


def slice_known(s: str, bmp: bool, start: int, end: int) -> str:
    """``slice_units`` when the caller already knows whether ``s`` is BMP."""
    if bmp:
        return s[start:end]
    data = s.encode("utf-16-le", "surrogatepass")
    return data[start * 2 : end * 2].decode("utf-16-le", "surrogatepass")


def concat(a: str, b: str) -> str:
    """``a + b`` kept canonical: a pair split across the seam is re-joined."""
    if a and b and "\ud800" <= a[-1] <= "\udbff" and "\udc00" <= b[0] <= "\udfff":
        pair = (a[-1] + b[0]).encode("utf-16-le", "surrogatepass")
        return a[:-1] + pair.decode("utf-16-le", "surrogatepass") + b[1:]
    return a + b


def _split_pair(match: re.Match[str]) -> str:
    code = ord(match.group()) - 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


def to_units(s: str) -> str:
    """One Python character per UTF-16 code unit (astral chars become pairs).

    The result is *not* canonical; it is the representation the diff
    algorithm works on so that indexing matches JavaScript exactly.
    """
    if s.isascii():
        return s
    return _ASTRAL_RE.sub(_split_pair, s)


def from_units(u: str) -> str:
    """Inverse of ``to_units``: re-join surrogate pairs (canonical form)."""
    if u.isascii() or _SURROGATE_RE.search(u) is None:
        return u
    return u.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def has_lone_surrogate(s: str) -> bool:
    """True when the canonical string ``s`` holds an unpaired surrogate."""
    if s.isascii():
        return False
    return _SURROGATE_RE.search(from_units(s)) is not None
