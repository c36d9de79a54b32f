"""Celery tasks: a thin, idempotent interface onto services."""

from celery import shared_task
from django.db import OperationalError
from django.db.models import F

from . import services
from .models import Document


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def take_snapshot(document_id: str, version: int | None = None) -> int | None:
    """Materialize a document at a version (default: now); running it twice is harmless."""
    snapshot = services.take_snapshot(document_id=document_id, version=version)
    return None if snapshot is None else snapshot.version


@shared_task(acks_late=True)
def snapshot_idle_documents(limit: int = 500) -> int:
    """Snapshot documents whose newest ops are not yet covered by a snapshot."""
    from django.db.models import Max

    stale = (
        Document.objects.annotate(last_snapshot=Max("snapshots__version"))
        .exclude(last_snapshot=F("version"))
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for document_id in stale:
        take_snapshot.delay(str(document_id))
        count += 1
    return count


@shared_task
def ping(value: str) -> str:
    """Round-trip check for deploys and tests: proves a worker is consuming the broker."""
    return f"pong:{value}"
