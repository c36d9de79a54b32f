"""Each document's text and content as the submit path needs them, kept at a committed version.

A format's place depends on the characters under it (a line format only on newlines, see
`Schema.check_retained`), and what a suggester may delete on the marks under it
(`suggestions.content_refusal`); the row lock tells the length alone. So a process keeps, for
recent documents, the text (UTF-16 units, an embed as one character) and, for documents a
suggester deletes in, the content (the delta with its attributes) at a committed version, and
brings them forward only when an op needs them: typing costs nothing, a format op pays for the
ops since the last one. Each is rebuilt from the nearest snapshot when missing or when the ops
are gone.
"""

import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, TypeVar, cast

from django.db import transaction

from .. import selectors
from ..errors import OpsNotFound
from ..models import Document, OperationKind
from ..ot import rich_text, utf16
from ..ot.schema import EMBED_UNIT as EMBED
from ..records import OpRecord

# Kept further behind than this many ops, a document's state is rebuilt from the snapshot instead.
MAX_CATCH_UP = 1000

Content = list[dict[str, Any]]
State = TypeVar("State")


def units_of(content: Content | None) -> str:
    """A document's text, one character per UTF-16 unit."""
    return "".join(
        utf16.to_units(op["insert"]) if isinstance(op["insert"], str) else EMBED for op in content or []
    )


def apply_units(units: str, delta: Content) -> str:
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


class Kept(Generic[State]):
    """One kind of per-document state a process keeps, at a committed version, for its most
    recently used documents (an evicted one is rebuilt from its snapshot when needed)."""

    def __init__(
        self, *, build: Callable[[Content | None], State], edit: Callable[[State, Content], State], size: int
    ) -> None:
        self.build = build  # the state of a whole document (None: a deleted one)
        self.edit = edit  # the state after an edit
        self.size = size
        self.entries: "OrderedDict[str, tuple[int, State]]" = OrderedDict()
        self._lock = threading.Lock()

    def advance(self, state: State, record: OpRecord) -> State:
        if record.kind == OperationKind.CREATE:
            return self.build(record.data)
        if record.kind == OperationKind.DELETE:
            return self.build(None)
        return self.edit(state, record.data)

    def get(self, key: str) -> tuple[int, State] | None:
        with self._lock:
            cached = self.entries.get(key)
            if cached is not None:
                self.entries.move_to_end(key)
        return cached

    def version(self, key: str) -> int | None:
        """The version kept for a document, if any."""
        with self._lock:
            cached = self.entries.get(key)
        return None if cached is None else cached[0]

    def remember(self, key: str, version: int, state: State) -> None:
        with self._lock:
            cached = self.entries.get(key)
            if cached is None or cached[0] <= version:
                self.entries[key] = (version, state)
                self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


# Every format op needs the text; only a suggester's deletions and marks need the content.
TEXTS: Kept[str] = Kept(build=units_of, edit=apply_units, size=256)
CONTENTS: Kept[Content] = Kept(build=lambda content: list(content or []), edit=rich_text.apply, size=64)


class BatchText:
    """The text and content of one locked document while its batch commits (its ops included)."""

    def __init__(self, document: Document, log: dict[int, OpRecord], committed_head: int) -> None:
        self.document = document
        self.log = log  # every op from the batch's oldest base to the head, and the batch's own
        self.committed_head = committed_head
        self._states: dict[Kept[Any], tuple[int, Any]] = {}  # each kind's version and state

    def at_head(self) -> str:
        """The text at the document's current version (inside the batch)."""
        return self._at_head(TEXTS)

    def content_at_head(self) -> Content:
        """The content at the document's current version (inside the batch); do not change it."""
        return self._at_head(CONTENTS)

    def _at_head(self, kept: Kept[State]) -> State:
        target = self.document.version
        version, state = cast(tuple[int, State], self._states.get(kept) or self._start(kept, target))
        for at in range(version, target):
            record = self.log.get(at)
            if record is None:
                # Committed before this batch and not read by it.
                [record] = selectors.operations_between(document_id=self.document.pk, start=at, end=at + 1)
            state = kept.advance(state, record)
        self._states[kept] = (target, state)
        key = str(self.document.pk)
        transaction.on_commit(lambda: kept.remember(key, target, state))
        return state

    def _start(self, kept: Kept[State], target: int) -> tuple[int, State]:
        cached = kept.get(str(self.document.pk))
        if cached is not None and target - MAX_CATCH_UP <= cached[0] <= target:
            version, state = cached
            missing = [v for v in range(version, min(target, self.committed_head)) if v not in self.log]
            if not missing:
                return version, state
            try:
                for record in selectors.operations_between(
                    document_id=self.document.pk, start=missing[0], end=missing[-1] + 1
                ):
                    self.log.setdefault(record.version, record)
                return version, state
            except OpsNotFound:
                pass  # Compacted since: rebuild from the snapshot.
        # The head before this batch: the newest version the database can build alone.
        snapshot = selectors.snapshot_at(document=self.document, version=self.committed_head)
        return self.committed_head, kept.build(snapshot.content)


def kept_version(key: str) -> int | None:
    """The version of the text kept for a document, if any."""
    return TEXTS.version(key)


def forget_all() -> None:
    """Drop everything kept (tests that rewrite documents behind the submit path)."""
    TEXTS.clear()
    CONTENTS.clear()
