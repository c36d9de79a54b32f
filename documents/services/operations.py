"""What staff do from the live view: disconnect a user everywhere, close a document to editing."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .. import broadcast
from ..errors import DocumentNotFound, PermissionDenied
from ..models import AuditAction, Document
from . import access, audit


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


def set_editing_closed(*, operator: Any, document_id: Any, closed: bool) -> Document:
    """Close a document to editing (every member reads as a viewer) or reopen it; open editors
    switch at once."""
    if not getattr(operator, "is_staff", False):
        raise PermissionDenied("Only staff can close documents to editing.")
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None:
            raise DocumentNotFound()
        if (document.editing_closed_at is not None) != closed:
            document.editing_closed_at = timezone.now() if closed else None
            document.save(update_fields=["editing_closed_at"])
            action = AuditAction.EDITING_CLOSED if closed else AuditAction.EDITING_REOPENED
            audit.record(actor=operator, action=action, document=document)
            access.document_changed(document_id=document.pk)
    return document
