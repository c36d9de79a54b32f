"""Accounts: users, their active state and passwords.

Each change that can end someone's right to be signed in closes that user's open sockets once
committed, on every server process, so an open editor never outlives the account behind it.
"""

import logging
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction

from .. import broadcast
from ..models import Document
from .documents import purge_document

logger = logging.getLogger(__name__)


def create_user(*, username: str, email: str = "", password: str | None = None, **fields: Any) -> Any:
    """Create an account for someone (an operator's act); a `password` of None: no password sign-in."""
    user = get_user_model()(username=username, email=email, **fields)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    with transaction.atomic():
        user.save()
        _vouch_for_email(user)
    return user


def _vouch_for_email(user: Any) -> None:
    """An operator who makes an account vouches for its address: no confirmation email is needed."""
    if user.email:
        EmailAddress.objects.update_or_create(
            user=user,
            email__iexact=user.email,
            defaults={"email": user.email, "verified": True, "primary": True},
        )


def save_user(*, user: Any, by_operator: bool = False) -> Any:
    """Save an account (sign-up, the admin's form); deactivating it ends its sessions.

    `by_operator`: the admin made or edited it, so its email needs no confirmation.
    """
    with transaction.atomic():
        was_active = (
            type(user).objects.filter(pk=user.pk).values_list("is_active", flat=True).first()
            if user.pk is not None
            else None
        )
        user.save()
        if by_operator:
            _vouch_for_email(user)
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
