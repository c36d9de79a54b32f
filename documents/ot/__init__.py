"""Pure-Python operational transformation core for collab's rich text.

A faithful port of quill-delta (``Delta``) and of sharedb's ``rich-text``
OT type, counting lengths in UTF-16 code units like JavaScript.  No Django
imports here: this package must stay importable on its own.

Modules:

* ``op`` - op length/kind and JavaScript-equality helpers
* ``attributes`` - compose/diff/invert/transform of attribute maps
* ``iterator`` - ``OpIterator`` (chops ops to lengths)
* ``delta`` - the ``Delta`` class
* ``fastdiff`` - the ``fast-diff`` text diff used by ``Delta.diff``
* ``utf16`` - UTF-16 code unit lengths and slicing
* ``rich_text`` - the OT type as JSON-in/JSON-out functions
* ``validate`` - validation/normalization of untrusted ops and documents
* ``schema`` - the content schema (``documents/schema.json``): formats and embeds a document may hold
* ``suggestions`` - comment anchors and suggestion marks: role checks, accept and reject
* ``errors`` - ``InvalidDelta``
"""

from __future__ import annotations

from . import rich_text, suggestions
from .delta import Delta, EmbedHandler
from .errors import InvalidDelta
from .iterator import OpIterator
from .schema import CONTENT_SCHEMA, Schema
from .validate import (
    Limits,
    check_formats_fit,
    check_keeps_final_newline,
    needs_text,
    validate_document,
    validate_op,
)

__all__ = [
    "CONTENT_SCHEMA",
    "Delta",
    "EmbedHandler",
    "InvalidDelta",
    "Limits",
    "OpIterator",
    "Schema",
    "check_formats_fit",
    "check_keeps_final_newline",
    "needs_text",
    "rich_text",
    "suggestions",
    "validate_document",
    "validate_op",
]
