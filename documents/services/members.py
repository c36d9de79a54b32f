"""Members and invite links."""

import logging
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from .. import broadcast
from ..errors import (
    DocumentNotFound,
    PermissionDenied,
    ValidationFailed,
)
from ..models import AuditAction, Invite, Membership, Role
from ..selectors import access_document, role_allows
from . import audit

logger = logging.getLogger(__name__)


def _find_user(identifier: Any) -> Any:
    if not isinstance(identifier, str) or not identifier.strip() or len(identifier) > 254:
        raise ValidationFailed("Give a username or an email address.")
    identifier = identifier.strip()
    user_model = get_user_model()
    user = user_model.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier)).first()
    if user is None or not user.is_active:
        raise ValidationFailed(f"No user called {identifier!r}.")
    return user


def _clean_role(role: Any) -> str:
    if role not in (Role.EDITOR, Role.VIEWER):
        raise ValidationFailed("The role must be 'editor' or 'viewer'.")
    return str(role)


def add_member(*, actor: Any, document_id: Any, identifier: Any, role: Any) -> Membership:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    role = _clean_role(role)
    user = _find_user(identifier)
    if user.pk == document.owner_id:
        raise ValidationFailed("The owner is already a member.")
    membership, created = Membership.objects.get_or_create(
        document=document, user=user, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        broadcast.publish_access_changed_on_commit(document_id=document.pk, user_id=user.pk)
        audit.record(actor=actor, action=AuditAction.ROLE_CHANGED, document=document, subject=user, role=role)
    if created:
        audit.record(actor=actor, action=AuditAction.MEMBER_ADDED, document=document, subject=user, role=role)
    return membership


def set_member_role(*, actor: Any, document_id: Any, username: Any, role: Any) -> Membership:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    role = _clean_role(role)
    membership = document.memberships.filter(user__username=username).select_related("user").first()
    if membership is None:
        raise DocumentNotFound("No such member.")
    if membership.role == Role.OWNER:
        raise PermissionDenied("The owner's role cannot be changed.")
    membership.role = role
    membership.save(update_fields=["role"])
    broadcast.publish_access_changed_on_commit(document_id=document.pk, user_id=membership.user_id)
    audit.record(
        actor=actor, action=AuditAction.ROLE_CHANGED, document=document, subject=membership.user, role=role
    )
    return membership


def remove_member(*, actor: Any, document_id: Any, username: Any) -> None:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.VIEWER)
    membership = document.memberships.filter(user__username=username).first()
    if membership is None:
        raise DocumentNotFound("No such member.")
    # Owners remove anyone but themselves; anyone may leave a document shared with them.
    if membership.role == Role.OWNER:
        raise PermissionDenied("The owner cannot be removed.")
    if document.owner_id != actor.pk and membership.user_id != actor.pk:
        raise PermissionDenied("Only the owner can remove other members.")
    user_id = membership.user_id
    audit.record(actor=actor, action=AuditAction.MEMBER_REMOVED, document=document, subject=membership.user)
    membership.delete()
    broadcast.publish_access_changed_on_commit(document_id=document.pk, user_id=user_id)


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
    if not isinstance(token, str) or len(token) > 64:
        raise DocumentNotFound("This invite link is not valid.")
    invite = (
        Invite.objects.select_related("document")
        .filter(token=token, revoked_at__isnull=True, document__deleted_at__isnull=True)
        .first()
    )
    if invite is None:
        raise DocumentNotFound("This invite link is not valid or has been revoked.")
    membership, created = Membership.objects.get_or_create(
        document=invite.document, user=user, defaults={"role": invite.role}
    )
    if not created and not role_allows(membership.role, invite.role):
        membership.role = invite.role
        membership.save(update_fields=["role"])
        broadcast.publish_access_changed_on_commit(document_id=invite.document_id, user_id=user.pk)
    audit.record(
        actor=user,
        action=AuditAction.INVITE_ACCEPTED,
        document=invite.document,
        invite=invite.pk,
        role=membership.role,
    )
    return membership
