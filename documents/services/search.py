"""The search index: each document's title and plain text, written when its content is known.

Called by the snapshot service (so the index follows the document as snapshots are taken), by
create and by rename. A trashed document keeps its row (search never shows it, and a restore
brings back the same text); purging the document removes the row with it.
"""

from typing import Any

from django.db import IntegrityError, transaction

from ..models import Document, SearchText
from ..records import SnapshotData
from ..search import plain_text


def index_document(*, document: Document, state: SnapshotData) -> bool:
    """Store the document's text at `state` unless the index already has it (or newer)."""
    if not state.type:
        return False  # Deleted at that version: keep the text it had, for a restore.
    body = plain_text(state.content)
    with transaction.atomic():
        row = SearchText.objects.select_for_update().filter(document_id=document.pk).first()
        if row is None:
            try:
                with transaction.atomic():
                    SearchText.objects.create(
                        document=document, version=state.version, title=document.title, body=body
                    )
            except IntegrityError:
                return False  # Another worker indexed it first.
            return True
        if row.version >= state.version and row.title == document.title:
            return False
        if row.version < state.version:
            row.version, row.body = state.version, body
        row.title = document.title
        row.save()
    return True


def index_title(*, document_id: Any, title: str) -> None:
    """A rename reaches search at once (the text waits for the next snapshot)."""
    SearchText.objects.filter(document_id=document_id).update(title=title)
