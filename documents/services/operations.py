"""What staff do from the live view: disconnect a user everywhere."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from .. import broadcast
from ..errors import DocumentNotFound, PermissionDenied
from ..models import AuditAction
from . import audit


def disconnect_user(*, operator: Any, user_id: Any) -> None:
    """Close every socket of the user on every process (4401); they may sign in again."""
    if not getattr(operator, "is_staff", False):
        raise PermissionDenied("Only staff can disconnect users.")
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise DocumentNotFound("No such user.")
    with transaction.atomic():
        audit.record(actor=operator, action=AuditAction.USER_DISCONNECTED, subject=user)
        broadcast.publish_session_end_on_commit(user_id=user.pk)
