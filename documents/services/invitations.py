"""Invitations by email: one address, one document, one role, used once, expiring."""

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from ..errors import DocumentNotFound, PermissionDenied, ValidationFailed
from ..models import AuditAction, EmailInvitation, Membership, Role
from ..selectors import access_document, token_hash
from . import audit
from .mail import queue_email
from .members import _clean_role, join


def _clean_email(email: Any) -> str:
    if not isinstance(email, str) or len(email) > 254:
        raise ValidationFailed("Give an email address.")
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed("That is not an email address.") from None
    return email


def invite_by_email(
    *, actor: Any, document_id: Any, email: Any, role: Any, link_for: Callable[[str], str]
) -> EmailInvitation:
    """Email `email` a link that makes its holder a member with `role`; `link_for(token)` is its URL."""
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    email = _clean_email(email)
    role = _clean_role(role)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = EmailInvitation.objects.create(
            document=document,
            email=email,
            role=role,
            invited_by=actor,
            token_hash=token_hash(token),
            expires_at=timezone.now() + timedelta(days=settings.COLLAB_INVITATION_DAYS),
        )
        context = {"invitation": invitation, "inviter": actor, "link": link_for(token), "document": document}
        subject = render_to_string("documents/email/invitation_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
            render_to_string("documents/email/invitation_message.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [email],
        )
        transaction.on_commit(lambda: queue_email(message=message))
        audit.record(
            actor=actor,
            action=AuditAction.INVITATION_SENT,
            document=document,
            invitation=invitation.pk,
            role=role,
        )
    return invitation


def revoke_invitation(*, actor: Any, document_id: Any, invitation_id: Any) -> None:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    with transaction.atomic():
        revoked = EmailInvitation.objects.filter(
            document=document, pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if not revoked:
            raise DocumentNotFound("No such invitation.")
        audit.record(
            actor=actor, action=AuditAction.INVITATION_WITHDRAWN, document=document, invitation=invitation_id
        )


def accept_invitation(*, user: Any, token: Any) -> Membership:
    """Use an invitation once, as the account holding its address: the offered document and role only."""
    with transaction.atomic():
        invitation = (
            EmailInvitation.objects.select_for_update()
            .select_related("document")
            .filter(
                token_hash=token_hash(token) if isinstance(token, str) else "",
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
                document__deleted_at__isnull=True,
            )
            .first()
        )
        if invitation is None:
            raise DocumentNotFound("This invitation is not valid any more.")
        if not holds_address(user=user, email=invitation.email):
            raise PermissionDenied("This invitation was sent to another email address.")
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        membership = join(
            document=invitation.document,
            user=user,
            role=invitation.role,
            action=AuditAction.INVITATION_ACCEPTED,
            invitation=invitation.pk,
        )
        return membership


def holds_address(*, user: Any, email: str) -> bool:
    """Whether the account's own or a confirmed address is `email` (case-insensitive)."""
    if user.email and user.email.lower() == email.lower():
        return True
    return EmailAddress.objects.filter(user_id=user.pk, email__iexact=email, verified=True).exists()
