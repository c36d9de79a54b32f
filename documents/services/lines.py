"""Each document's text as the submit path needs it: to know where the newlines are.

A format's place depends on the characters under it (a line format only on newlines, see
`Schema.check_retained`), and the row lock tells the length alone. So a process keeps the text
of recent documents (UTF-16 units, an embed as one character) at a committed version, and brings
it forward only when an op needs it: typing costs nothing, a format op pays for the ops since
the last one. It is rebuilt from the nearest snapshot when missing or when the ops are gone.
"""

import threading
from collections import OrderedDict
from typing import Any

from django.db import transaction

from .. import selectors
from ..errors import OpsNotFound
from ..models import Document, OperationKind
from ..ot import utf16
from ..ot.schema import EMBED_UNIT as EMBED
from ..records import OpRecord

# Documents whose text a process keeps; an evicted one is rebuilt from its snapshot when needed.
TEXT_CACHE_SIZE = 256
# Kept text further behind than this many ops is rebuilt from the snapshot instead.
MAX_CATCH_UP = 1000

_texts: "OrderedDict[str, tuple[int, str]]" = OrderedDict()
_lock = threading.Lock()


def units_of(content: list[dict[str, Any]] | None) -> str:
    """A document's text, one character per UTF-16 unit."""
    return "".join(
        utf16.to_units(op["insert"]) if isinstance(op["insert"], str) else EMBED for op in content or []
    )


def apply_units(units: str, delta: list[dict[str, Any]]) -> str:
    """The text after an edit."""
    pieces: list[str] = []
    position = 0
    for component in delta:
        if "retain" in component:
            pieces.append(units[position : position + component["retain"]])
            position += component["retain"]
        elif "delete" in component:
            position += component["delete"]
        else:
            insert = component["insert"]
            pieces.append(utf16.to_units(insert) if isinstance(insert, str) else EMBED)
    pieces.append(units[position:])
    return "".join(pieces)


def advance(units: str, record: OpRecord) -> str:
    if record.kind == OperationKind.CREATE:
        return units_of(record.data)
    if record.kind == OperationKind.DELETE:
        return ""
    return apply_units(units, record.data) if units or record.data else units


class BatchText:
    """The text of one locked document while its batch commits (the batch's ops included)."""

    def __init__(self, document: Document, log: dict[int, OpRecord], committed_head: int) -> None:
        self.document = document
        self.log = log  # every op from the batch's oldest base to the head, and the batch's own
        self.committed_head = committed_head
        self.version: int | None = None
        self.units = ""

    def at_head(self) -> str:
        """The text at the document's current version (inside the batch)."""
        target = self.document.version
        if self.version is None:
            self.version, self.units = self._start(target)
        for version in range(self.version, target):
            record = self.log.get(version)
            if record is None:
                # Committed before this batch and not read by it.
                [record] = selectors.operations_between(
                    document_id=self.document.pk, start=version, end=version + 1
                )
            self.units = advance(self.units, record)
        self.version = target
        key, version, units = str(self.document.pk), target, self.units
        transaction.on_commit(lambda: _remember(key, version, units))
        return self.units

    def _start(self, target: int) -> tuple[int, str]:
        key = str(self.document.pk)
        with _lock:
            cached = _texts.get(key)
            if cached is not None:
                _texts.move_to_end(key)
        if cached is not None and target - MAX_CATCH_UP <= cached[0] <= target:
            version, units = cached
            missing = [v for v in range(version, min(target, self.committed_head)) if v not in self.log]
            if missing:
                try:
                    for record in selectors.operations_between(
                        document_id=self.document.pk, start=missing[0], end=missing[-1] + 1
                    ):
                        self.log.setdefault(record.version, record)
                    return version, units
                except OpsNotFound:
                    pass  # Compacted since: rebuild from the snapshot.
            else:
                return version, units
        # The head before this batch: the newest version the database can build alone.
        state = selectors.snapshot_at(document=self.document, version=self.committed_head)
        return self.committed_head, units_of(state.content)


def kept_version(key: str) -> int | None:
    """The version of the text kept for a document, if any."""
    with _lock:
        cached = _texts.get(key)
    return None if cached is None else cached[0]


def _remember(key: str, version: int, units: str) -> None:
    with _lock:
        cached = _texts.get(key)
        if cached is None or cached[0] <= version:
            _texts[key] = (version, units)
            _texts.move_to_end(key)
        while len(_texts) > TEXT_CACHE_SIZE:
            _texts.popitem(last=False)


def forget_all() -> None:
    """Drop every kept text (tests that rewrite documents behind the submit path)."""
    with _lock:
        _texts.clear()
