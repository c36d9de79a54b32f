"""Accounts: users, their active state and passwords.

Each change that can end someone's right to be signed in closes that user's open sockets once
committed, on every server process, so an open editor never outlives the account behind it.
"""

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from .. import broadcast
from ..models import Document
from .documents import purge_document

logger = logging.getLogger(__name__)


def create_user(*, username: str, email: str = "", password: str | None = None, **fields: Any) -> Any:
    """Create an account; a `password` of None makes one that cannot sign in with a password."""
    user = get_user_model()(username=username, email=email, **fields)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    return user


def save_user(*, user: Any) -> Any:
    """Save an edited account (the admin's user form); deactivating it ends its sessions."""
    with transaction.atomic():
        was_active = (
            type(user).objects.filter(pk=user.pk).values_list("is_active", flat=True).first()
            if user.pk is not None
            else None
        )
        user.save()
        if was_active and not user.is_active:
            broadcast.publish_session_end_on_commit(user_id=user.pk)
    return user


def set_active(*, user_id: Any, active: bool) -> bool:
    """Activate or deactivate an account; say whether anything changed."""
    with transaction.atomic():
        changed = (
            get_user_model().objects.filter(pk=user_id).exclude(is_active=active).update(is_active=active)
        )
        if changed and not active:
            broadcast.publish_session_end_on_commit(user_id=user_id)
    return bool(changed)


def set_password(*, user: Any, password: str | None) -> Any:
    """Set a new password (None: none at all); every open socket of the user closes."""
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        broadcast.publish_session_end_on_commit(user_id=user.pk)
    return user


def delete_user(*, operator: Any, user_id: Any) -> None:
    """Delete an account and the documents it owns (each removed as the admin's delete does)."""
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            return
        for document_id in Document.objects.filter(owner=user).values_list("pk", flat=True):
            purge_document(operator=operator, document_id=document_id)
        broadcast.publish_session_end_on_commit(user_id=user.pk)
        user.delete()
