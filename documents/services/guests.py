"""The guest link ("anyone with the link"): turning it on, changing it, turning it off, joining.

Someone who opens the link without an account becomes a guest: a user row with a generated
name, no password and no email, and a `Guest` row confining it to the document. From then on a
guest is an ordinary member (via the link) to every other layer: the socket, presence, the op log
and "who is here" all know them by that one user. The link's memberships (`via_link`) follow its
role and are deleted with it, and open editors re-check their access once that is committed.
"""

import logging
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from ..errors import DocumentNotFound, PermissionDenied
from ..models import AuditAction, Document, Guest, GuestLink, Membership, Role
from ..selectors import access_document, live_guest_link
from . import access, audit
from .members import _clean_role

logger = logging.getLogger(__name__)

# Names a guest is shown by: "Guest Otter". Two guests may share one; their colours differ.
GUEST_ANIMALS = (
    "Otter Heron Lynx Badger Falcon Marten Ibis Panda Koala Walrus Puffin Gecko Bison Crane "
    "Dingo Ferret Gazelle Hare Jackal Lemur Moose Newt Ocelot Quokka Raven Seal Tapir Vole Wombat Yak"
).split()
GUEST_PREFIX = "guest-"


def _check_site_allows() -> None:
    if not settings.COLLAB_GUEST_LINKS:
        raise PermissionDenied("Guest links are switched off on this site.")


def set_guest_link(*, actor: Any, document_id: Any, role: Any) -> GuestLink | None:
    """Turn the link on with `role`, change its role, or turn it off (`role` None).

    Everyone who came through it gets the new role or loses access once this commits, open
    sockets included. Turning it on again makes a new secret, so an old link stays dead.
    """
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    with transaction.atomic():
        # One change at a time per document: the link row and the memberships it granted agree.
        Document.objects.select_for_update(no_key=True).filter(pk=document.pk).first()
        link = GuestLink.objects.filter(document=document).first()
        granted = Membership.objects.filter(document=document, via_link=True)
        if role is None:
            if link is None:
                return None
            link.delete()
            _tell(document, list(granted.values_list("user_id", flat=True)))
            left = granted.delete()[0]
            audit.record(actor=actor, action=AuditAction.GUEST_LINK_OFF, document=document, members=left)
            return None
        _check_site_allows()
        role = _clean_role(role)
        if link is not None and link.role == role:
            return link
        if link is None:
            link = GuestLink.objects.create(
                document=document, role=role, created_by=actor, token=secrets.token_urlsafe(24)
            )
        else:
            link.role = role
            link.save(update_fields=["role"])
            changed = granted.exclude(role=role)
            _tell(document, list(changed.values_list("user_id", flat=True)))
            changed.update(role=role)
        audit.record(actor=actor, action=AuditAction.GUEST_LINK_CHANGED, document=document, role=role)
    return link


def _tell(document: Document, user_ids: list[Any]) -> None:
    """Their role changed or ended: their open sockets re-check it once this commits."""
    access.members_changed(document_id=document.pk, user_ids=user_ids)


def _lock_live_link(link: GuestLink) -> GuestLink:
    """Inside the joining transaction: take the document's lock (as `set_guest_link` does) and
    read the link again, so nobody joins through a link turned off or changed meanwhile."""
    Document.objects.select_for_update(no_key=True).filter(pk=link.document_id).first()
    fresh = GuestLink.objects.filter(pk=link.pk, token=link.token).first()
    if fresh is None:
        raise DocumentNotFound("This link is not valid or has been turned off.")
    return fresh


def join_by_link(*, user: Any, token: Any) -> Membership:
    """A signed-in person opens the link: a member keeps their own role, anyone else joins with
    the link's role for as long as the link is on."""
    link = live_guest_link(token=token)
    if link is None:
        raise DocumentNotFound("This link is not valid or has been turned off.")
    with transaction.atomic():
        link = _lock_live_link(link)
        membership, created = Membership.objects.get_or_create(
            document=link.document, user=user, defaults={"role": link.role, "via_link": True}
        )
        if created:
            audit.record(actor=user, action=AuditAction.GUEST_JOINED, document=link.document, role=link.role)
    return membership


def create_guest(*, token: Any) -> Any:
    """Someone without an account opens the link: make their guest account and membership.

    The caller signs the new user in; the link's role is checked again when each op commits.
    """
    link = live_guest_link(token=token)
    if link is None:
        raise DocumentNotFound("This link is not valid or has been turned off.")
    cap = settings.COLLAB_MAX_GUESTS_PER_DOCUMENT
    if cap and Guest.objects.filter(document=link.document).count() >= cap:
        raise PermissionDenied("This document has as many guests as it can take; ask its owner for access.")
    user_model = get_user_model()
    with transaction.atomic():
        link = _lock_live_link(link)
        user = user_model(
            username=f"{GUEST_PREFIX}{secrets.token_hex(8)}",
            first_name=f"Guest {secrets.choice(GUEST_ANIMALS)}",
        )
        user.set_unusable_password()
        user.save()
        Guest.objects.create(user=user, document=link.document)
        Membership.objects.create(document=link.document, user=user, role=link.role, via_link=True)
        audit.record(actor=user, action=AuditAction.GUEST_JOINED, document=link.document, role=link.role)
    logger.info("a guest joined through a guest link")
    return user
