"""Who is in a document now: live connections, refreshed while they last."""

import logging
from typing import Any

from django.utils import timezone

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


def refresh_visits(*, channel_names: list[str]) -> None:
    """Every connection of a server process is still here: one statement for all of them."""
    if channel_names:
        Visitor.objects.filter(channel_name__in=channel_names).update(last_seen=timezone.now())


def end_visits(*, channel_name: str, document_ids: list[str] | None = None) -> None:
    visits = Visitor.objects.filter(channel_name=channel_name)
    if document_ids is not None:
        visits = visits.filter(document_id__in=document_ids)
    visits.delete()
