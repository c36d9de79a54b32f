"""Accounts: users, their active state and passwords.

Each change that can end someone's right to be signed in closes that user's open sockets once
committed, on every server process, so an open editor never outlives the account behind it.
"""

import logging
import re
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from .. import broadcast
from ..errors import DocumentNotFound, ValidationFailed
from ..models import AuditAction, Document, Profile
from . import access, audit
from .documents import purge_document

logger = logging.getLogger(__name__)

# Django's first_name holds the whole display name; it is 150 characters long.
MAX_DISPLAY_NAME = 150


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
            access.user_changed(user_id=user.pk)
            broadcast.publish_session_end_on_commit(user_id=user.pk)
    return user


def set_active(*, user_id: Any, active: bool) -> bool:
    """Activate or deactivate an account; say whether anything changed."""
    with transaction.atomic():
        changed = (
            get_user_model().objects.filter(pk=user_id).exclude(is_active=active).update(is_active=active)
        )
        if changed and not active:
            access.user_changed(user_id=user_id)
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


def set_display_name(*, user: Any, name: Any) -> Any:
    """The name shown for the account everywhere (cursors, members, history); empty: the username."""
    if not isinstance(name, str) or len(name.strip()) > MAX_DISPLAY_NAME:
        raise ValidationFailed(f"A name has at most {MAX_DISPLAY_NAME} characters.")
    user.first_name, user.last_name = name.strip(), ""
    user.save(update_fields=["first_name", "last_name"])
    return user


COLOR = re.compile(r"#[0-9a-f]{6}")


def set_color(*, user: Any, color: Any) -> Any:
    """The colour of the account's cursor and avatar for everyone ("#rrggbb"; empty: picked from its id)."""
    if not isinstance(color, str) or (color.strip() and not COLOR.fullmatch(color.strip().lower())):
        raise ValidationFailed("A colour is written #rrggbb, for example #2456d6.")
    Profile.objects.update_or_create(user=user, defaults={"color": color.strip().lower()})
    return user


def sessions_of(*, user_id: Any) -> list[Any]:
    """The live sessions signed in as this account (one per browser)."""
    return [
        session
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user_id)
    ]


def sign_out_everywhere(*, user_id: Any) -> int:
    """End every session of the account and close all its open sockets at once; say how many."""
    with transaction.atomic():
        sessions = sessions_of(user_id=user_id)
        Session.objects.filter(pk__in=[session.pk for session in sessions]).delete()
        broadcast.publish_session_end_on_commit(user_id=user_id)
        user = get_user_model().objects.filter(pk=user_id).first()
        audit.record(
            actor=user, action=AuditAction.SIGNED_OUT_EVERYWHERE, subject=user, sessions=len(sessions)
        )
    return len(sessions)


def sign_out_session(*, user_id: Any, session_id: Any) -> None:
    """End one session of the account (named by its public id); its open sockets close at once."""
    from ..selectors import session_public_id

    with transaction.atomic():
        session = next(
            (s for s in sessions_of(user_id=user_id) if session_public_id(s.session_key) == session_id), None
        )
        if session is None:
            raise DocumentNotFound("That session has ended already.")
        session.delete()
        broadcast.publish_session_end_on_commit(user_id=user_id, session=session_id)
        user = get_user_model().objects.filter(pk=user_id).first()
        audit.record(actor=user, action=AuditAction.SIGNED_OUT_SESSION, subject=user)


def account_changed(*, user: Any, action: AuditAction, **details: Any) -> None:
    """allauth changed the account on its own pages (email addresses, second factors, SSO links):
    record it. These rows grant no document access, so no open socket needs telling."""
    if getattr(user, "pk", None) is not None:
        audit.record(actor=user, action=action, subject=user, **details)


def delete_user(*, operator: Any, user_id: Any) -> None:
    """Delete an account and the documents it owns (each removed as the admin's delete does)."""
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            return
        for document_id in Document.objects.filter(owner=user).values_list("pk", flat=True):
            purge_document(operator=operator, document_id=document_id)
        access.user_changed(user_id=user.pk)
        broadcast.publish_session_end_on_commit(user_id=user.pk)
        user.delete()
