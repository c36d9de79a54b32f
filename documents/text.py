"""Checks on short text that people type (titles, searches, usernames), shared by every entry point.

PostgreSQL cannot store NUL, and UTF-8 cannot encode a lone surrogate, so such text would fail
deep in the database driver; it is refused at the edge with the caller's own error instead.
"""

import unicodedata

# Control characters (NUL included) and lone surrogates; tabs and newlines are folded by callers.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs"})


def is_plain(text: str) -> bool:
    """True when the text holds no control character and no lone surrogate."""
    return not any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in text)
