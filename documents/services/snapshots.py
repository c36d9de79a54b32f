"""Snapshots (a cache of the op log) and the retention policy that folds old ops into them."""

import logging
from typing import Any

from django.db import IntegrityError, transaction

from ..models import Document, Operation, Snapshot
from ..selectors import snapshot_at
from .search import index_document

logger = logging.getLogger(__name__)


def take_snapshot(*, document_id: Any, version: int | None = None) -> Snapshot | None:
    """Materialize and store the document at `version`, and bring its search text up to it;
    safe to run twice or concurrently."""
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return None
    state = snapshot_at(document=document, version=version, with_authorship=True)
    index_document(document=document, state=state)
    existing = Snapshot.objects.filter(document=document, version=state.version).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Snapshot.objects.create(
                document=document,
                version=state.version,
                type=state.type,
                content=state.content,
                authorship=state.authorship,
            )
    except IntegrityError:
        return Snapshot.objects.filter(document=document, version=state.version).first()


# --- Retention --------------------------------------------------------------------------------


def compact_document(*, document_id: Any, cutoff: Any) -> int:
    """Fold ops committed before `cutoff` into a snapshot and delete them; return how many went.

    Only ops older than the retention window go, so every op a reconnecting client inside the
    window may resend is still there to de-duplicate it, and to transform it and catch it up.
    """
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return 0
    keep_from = (
        Operation.objects.filter(document=document, created_at__gte=cutoff)
        .order_by("version")
        .values_list("version", flat=True)
        .first()
    )
    if keep_from is None:
        keep_from = document.version
    if keep_from == 0 or not Operation.objects.filter(document=document, version__lt=keep_from).exists():
        return 0
    take_snapshot(document_id=document.pk, version=keep_from)
    deleted, _ = Operation.objects.filter(document=document, version__lt=keep_from).delete()
    logger.info("compacted %s ops of %s below v%s", deleted, document.pk, keep_from)
    return deleted
