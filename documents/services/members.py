"""Members and invite links."""

import logging
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import text
from ..errors import (
    DocumentNotFound,
    PermissionDenied,
    ValidationFailed,
)
from ..models import GRANTABLE_ROLES, AuditAction, Document, Invite, Membership, Role
from ..selectors import access_document, live_invite, operator_document, role_allows
from . import access, audit

logger = logging.getLogger(__name__)


# The one answer to "add this person", whether or not they have an account: no lookup oracle.
ADDED_NOTICE = "If that person has an account, they now have access."


def _find_user(identifier: Any) -> Any:
    """The active user with this username or email, or None."""
    if (
        not isinstance(identifier, str)
        or not identifier.strip()
        or len(identifier) > 254
        or not text.is_plain(identifier)
    ):
        raise ValidationFailed("Give a username or an email address.")
    identifier = identifier.strip()
    user_model = get_user_model()
    return (
        user_model.objects.filter(
            Q(username__iexact=identifier) | Q(email__iexact=identifier), is_active=True, guest__isnull=True
        )
        .order_by("pk")
        .first()
    )


def _clean_username(username: Any) -> str:
    """A member's username from a URL; one no account can have is simply not a member."""
    if not isinstance(username, str) or len(username) > 150 or not text.is_plain(username):
        raise DocumentNotFound("No such member.")
    return username


def _clean_role(role: Any) -> str:
    if role not in GRANTABLE_ROLES:
        raise ValidationFailed("The role must be 'editor', 'suggester', 'commenter' or 'viewer'.")
    return str(role)


def _grant(*, actor: Any, document: Document, user: Any, role: str) -> Membership:
    """Give `user` a grantable role (never the owner's row); open editors learn at once."""
    membership, created = Membership.objects.get_or_create(
        document=document, user=user, defaults={"role": role}
    )
    if membership.role == Role.OWNER:
        raise PermissionDenied("The owner's role cannot be changed.")
    changed = created or membership.role != role
    if not created and (changed or membership.via_link):
        # Named now: the access no longer ends with the guest link.
        membership.role, membership.via_link = role, False
        membership.save(update_fields=["role", "via_link"])
    if changed:
        access.member_changed(document_id=document.pk, user_id=user.pk)
        action = AuditAction.MEMBER_ADDED if created else AuditAction.ROLE_CHANGED
        audit.record(actor=actor, action=action, document=document, subject=user, role=role)
    return membership


def _revoke(*, actor: Any, document: Document, membership: Membership) -> None:
    if membership.role == Role.OWNER:
        raise PermissionDenied("The owner cannot be removed.")
    audit.record(actor=actor, action=AuditAction.MEMBER_REMOVED, document=document, subject=membership.user)
    membership.delete()
    access.member_changed(document_id=document.pk, user_id=membership.user_id)


def add_member(*, actor: Any, document_id: Any, identifier: Any, role: Any) -> Membership | None:
    """Share with a username or email; the caller answers ADDED_NOTICE whatever this returns."""
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    role = _clean_role(role)
    user = _find_user(identifier)
    if user is None or user.pk == document.owner_id:
        return None
    return _grant(actor=actor, document=document, user=user, role=role)


def set_member_role(*, actor: Any, document_id: Any, username: Any, role: Any) -> Membership:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    role = _clean_role(role)
    membership = (
        document.memberships.filter(user__username=_clean_username(username)).select_related("user").first()
    )
    if membership is None:
        raise DocumentNotFound("No such member.")
    return _grant(actor=actor, document=document, user=membership.user, role=role)


def remove_member(*, actor: Any, document_id: Any, username: Any) -> None:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.VIEWER)
    membership = document.memberships.filter(user__username=_clean_username(username)).first()
    if membership is None:
        raise DocumentNotFound("No such member.")
    # Owners remove anyone but themselves; anyone may leave a document shared with them.
    if membership.role != Role.OWNER and document.owner_id != actor.pk and membership.user_id != actor.pk:
        raise PermissionDenied("Only the owner can remove other members.")
    _revoke(actor=actor, document=document, membership=membership)


# --- The operator's changes (the admin) ---------------------------------------------------------


def set_role_as_operator(*, operator: Any, document_id: Any, user_id: Any, role: Any) -> Membership:
    """Give a user a role on any document (not the owner's: that is `transfer_ownership`)."""
    document = operator_document(operator=operator, document_id=document_id)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed("No such user.")
    with transaction.atomic():
        return _grant(actor=operator, document=document, user=user, role=_clean_role(role))


def remove_member_as_operator(*, operator: Any, document_id: Any, user_id: Any) -> None:
    document = operator_document(operator=operator, document_id=document_id)
    membership = document.memberships.filter(user_id=user_id).first()
    if membership is not None:
        with transaction.atomic():
            _revoke(actor=operator, document=document, membership=membership)


def transfer_ownership(*, operator: Any, document_id: Any, new_owner_id: Any) -> Document:
    """Make another user the owner; the previous owner stays on as an editor."""
    with transaction.atomic():
        document = operator_document(operator=operator, document_id=document_id)
        document = Document.objects.select_for_update().get(pk=document.pk)
        new_owner = get_user_model().objects.filter(pk=new_owner_id).first()
        if new_owner is None:
            raise ValidationFailed("No such user.")
        previous_id = document.owner_id
        if previous_id == new_owner.pk:
            return document
        document.owner = new_owner
        document.save(update_fields=["owner", "updated_at"])
        Membership.objects.filter(document=document, user_id=previous_id).update(role=Role.EDITOR)
        Membership.objects.update_or_create(document=document, user=new_owner, defaults={"role": Role.OWNER})
        access.document_changed(document_id=document.pk)
        audit.record(
            actor=operator,
            action=AuditAction.ROLE_CHANGED,
            document=document,
            subject=new_owner,
            role=Role.OWNER,
        )
    return document


# --- Invite links -----------------------------------------------------------------------------


def create_invite(*, actor: Any, document_id: Any, role: Any) -> Invite:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    invite = Invite.objects.create(
        document=document, role=_clean_role(role), created_by=actor, token=secrets.token_urlsafe(24)
    )
    audit.record(
        actor=actor, action=AuditAction.INVITE_CREATED, document=document, invite=invite.pk, role=invite.role
    )
    return invite


def revoke_invite(*, actor: Any, document_id: Any, token: Any) -> None:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    updated = Invite.objects.filter(document=document, token=token, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise DocumentNotFound("No such invite.")
    audit.record(actor=actor, action=AuditAction.INVITE_REVOKED, document=document)


def accept_invite(*, user: Any, token: Any) -> Membership:
    """Join through a link; an existing member keeps the higher of the two roles."""
    invite = live_invite(token=token)
    if invite is None:
        raise DocumentNotFound("This invite link is not valid or has been revoked.")
    return join(
        document=invite.document,
        user=user,
        role=invite.role,
        action=AuditAction.INVITE_ACCEPTED,
        invite=invite.pk,
    )


def join(*, document: Document, user: Any, role: str, action: AuditAction, **details: Any) -> Membership:
    """Make `user` a member with at least `role` (a member keeps a higher one); never a downgrade.

    `action` and `details` say in the audit log what let them in (a link, an invitation).
    """
    membership, created = Membership.objects.get_or_create(
        document=document, user=user, defaults={"role": role}
    )
    if not created and (membership.via_link or not role_allows(membership.role, role)):
        # An invitation outlasts the guest link someone may have come through first.
        if not role_allows(membership.role, role):
            membership.role = role
            access.member_changed(document_id=document.pk, user_id=user.pk)
        membership.via_link = False
        membership.save(update_fields=["role", "via_link"])
    audit.record(actor=user, action=action, document=document, role=membership.role, **details)
    return membership


def revoke_invites_as_operator(*, operator: Any, document_id: Any) -> int:
    """Revoke every live invite link of a document; return how many there were."""
    document = operator_document(operator=operator, document_id=document_id)
    return Invite.objects.filter(document=document, revoked_at__isnull=True).update(revoked_at=timezone.now())
