"""Celery tasks: a thin, idempotent interface onto services."""

import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import OperationalError
from django.db.models import F, Q

from . import services
from .models import Document


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def take_snapshot(document_id: str, version: int | None = None) -> int | None:
    """Materialize a document at a version (default: now); running it twice is harmless."""
    snapshot = services.take_snapshot(document_id=document_id, version=version)
    return None if snapshot is None else snapshot.version


@shared_task(acks_late=True)
def snapshot_idle_documents(limit: int = 500) -> int:
    """Snapshot documents whose newest ops are not yet covered by a snapshot or by the search
    index (live documents only for the index: a trashed one keeps the text it had)."""
    from django.db.models import Max

    stale = (
        Document.objects.annotate(last_snapshot=Max("snapshots__version"))
        # Spelled out: exclude(last_snapshot=F("version")) also drops the never-snapshotted
        # documents, since NULL = version is not true in SQL.
        .filter(
            Q(last_snapshot__isnull=True)
            | Q(last_snapshot__lt=F("version"))
            | Q(deleted_at__isnull=True)
            & (Q(search_text__isnull=True) | Q(search_text__version__lt=F("version")))
        )
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for document_id in stale:
        take_snapshot.delay(str(document_id))
        count += 1
    return count


@shared_task(acks_late=True)
def compact_old_operations() -> int:
    """Apply the retention policy (COLLAB_OP_RETENTION_DAYS; 0 keeps every op)."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from .models import Operation

    days = settings.COLLAB_OP_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    document_ids = (
        Operation.objects.filter(created_at__lt=cutoff).values_list("document_id", flat=True).distinct()
    )
    return sum(services.compact_document(document_id=pk, cutoff=cutoff) for pk in document_ids)


@shared_task(acks_late=True)
def purge_expired_trash() -> int:
    """Empty the trash of documents deleted more than COLLAB_TRASH_DAYS ago (beat, hourly)."""
    return services.purge_expired_trash()


@shared_task(acks_late=True)
def send_notification_email(user_id: int) -> int:
    """Email a user the notifications gathered since the last email (one message, batched)."""
    from .services.notifications import send_notification_email as send

    return send(user_id=user_id, base_url=settings.COLLAB_PUBLIC_URL)


@shared_task
def ping(value: str) -> str:
    """Round-trip check for deploys and tests: proves a worker is consuming the broker."""
    return f"pong:{value}"


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    # Waits of COLLAB_EMAIL_RETRY_SECONDS, doubling (with jitter), at most an hour apart.
    retry_backoff=settings.COLLAB_EMAIL_RETRY_SECONDS,
    retry_backoff_max=3600,
    max_retries=settings.COLLAB_EMAIL_MAX_RETRIES,
    acks_late=True,
)
def send_email(
    *,
    subject: str,
    body: str,
    from_email: str,
    to: list[str],
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Hand one rendered email to the mail server; retried while the server refuses or is away."""
    message = EmailMultiAlternatives(subject, body, from_email, to, headers=headers or {})
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()
