"""Logging out closes that browser's open sockets; a user changed in the admin is audited."""

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import broadcast
from .selectors import session_public_id


@receiver(user_logged_out)
def close_sockets_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Only this browser's: the account's other sessions (its profile lists them) stay signed in."""
    if user is None:
        return
    key = getattr(getattr(request, "session", None), "session_key", None)
    broadcast.publish_session_end(user_id=user.pk, session=session_public_id(key) if key else None)


@receiver(post_save, sender=LogEntry)
def audit_user_changes_in_admin(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """The admin logs each add, change and delete it makes; those of users go to the audit log."""
    model = get_user_model()
    if not created or instance.content_type is None or instance.content_type.model_class() is not model:
        return
    from .models import AuditAction
    from .services import audit

    subject = model.objects.filter(pk=instance.object_id).first()
    audit.record(
        actor=instance.user,
        action=AuditAction.USER_CHANGED,
        subject=subject,
        user=instance.object_repr if subject is None else subject.get_username(),
        change=instance.get_change_message() or instance.get_action_flag_display(),
    )
