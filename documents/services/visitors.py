"""Who is in a document now: live connections, refreshed while they last."""

import logging
from typing import Any

from django.utils import timezone

from ..models import Visitor

logger = logging.getLogger(__name__)


def record_visits(*, user: Any, channel_name: str, document_ids: list[str]) -> None:
    """Mark this connection as present in these documents now (called on subscribe and each tick)."""
    now = timezone.now()
    for document_id in document_ids:
        Visitor.objects.update_or_create(
            document_id=document_id,
            channel_name=channel_name,
            defaults={"user": user, "last_seen": now},
        )


def end_visits(*, channel_name: str, document_ids: list[str] | None = None) -> None:
    visits = Visitor.objects.filter(channel_name=channel_name)
    if document_ids is not None:
        visits = visits.filter(document_id__in=document_ids)
    visits.delete()
