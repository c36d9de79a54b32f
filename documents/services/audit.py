"""The audit log: one `record` call in each service that changes who may do what."""

from typing import Any

from ..models import AuditAction, AuditEvent, Document


def _name(user: Any) -> str:
    return str(user.get_username()) if user is not None and getattr(user, "pk", None) else ""


def record(
    *,
    actor: Any,
    action: AuditAction,
    document: Document | None = None,
    subject: Any = None,
    **details: Any,
) -> AuditEvent:
    """Append an event; `details` are ids, roles and versions (never content or tokens)."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_name(actor),
        document=document,
        document_title=document.title if document is not None else "",
        subject=subject if getattr(subject, "pk", None) else None,
        subject_name=_name(subject),
        details=details,
    )


def as_dict(event: AuditEvent) -> dict[str, Any]:
    """The JSON shape of an event (API export and the owner's view)."""
    return {
        "id": event.pk,
        "at": event.created_at.isoformat(),
        "action": event.action,
        "description": event.get_action_display(),
        "actor": event.actor_name or None,
        "document": str(event.document_id) if event.document_id else None,
        "document_title": event.document_title,
        "subject": event.subject_name or None,
        "details": event.details,
    }
