"""Who is in a document now: live connections, refreshed while they last."""

import logging
import threading
from contextlib import nullcontext
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .. import selectors
from ..errors import DocumentFull
from ..models import Visitor

logger = logging.getLogger(__name__)


def record_visits(*, user: Any, channel_name: str, document_ids: list[str]) -> None:
    """Mark this connection as present in these documents now (on subscribe), in one statement."""
    now = timezone.now()
    Visitor.objects.bulk_create(
        [
            Visitor(document_id=document_id, channel_name=channel_name, user=user, last_seen=now)
            for document_id in document_ids
        ],
        update_conflicts=True,
        unique_fields=["document", "channel_name"],
        update_fields=["user", "last_seen"],
    )


# SQLite serves one process (the embedded mode): a process lock makes the claim atomic there.
_claim_lock = threading.Lock()


def claim_visit(*, user: Any, channel_name: str, document_id: str, cap: int) -> None:
    """Take one of the document's `cap` places for this connection, or raise `DocumentFull`.

    A hard cap across processes: the count and the visit row are one transaction, serialized
    per document by an advisory lock (never the document row, so commits never wait on it).
    """
    with _claim_lock if connection.vendor != "postgresql" else nullcontext(), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 4409))", [str(document_id)])
        if selectors.live_connections(document_id=document_id, excluding=channel_name) >= cap:
            raise DocumentFull()
        record_visits(user=user, channel_name=channel_name, document_ids=[document_id])


def refresh_visits(*, channel_names: list[str]) -> None:
    """Every connection of a server process is still here: one statement for all of them."""
    if channel_names:
        Visitor.objects.filter(channel_name__in=channel_names).update(last_seen=timezone.now())


def end_visits(*, channel_name: str, document_ids: list[str] | None = None) -> None:
    visits = Visitor.objects.filter(channel_name=channel_name)
    if document_ids is not None:
        visits = visits.filter(document_id__in=document_ids)
    visits.delete()
