"""Who may read a document changed: the durable half and the live half of telling the hubs.

Pub/sub is at-most-once, so an access event alone could be lost and a removed member keep
receiving ops. Each change therefore also moves the document's `access_stamp` in its own
transaction; every process's hub compares the stamps on each sweep and re-reads the roles of a
document's readers only where the stamp moved (`broadcast.hub`).
"""

from typing import Any

from django.db.models import F

from .. import broadcast
from ..models import Document, Membership


def stamp(*, document_ids: list[Any]) -> None:
    """Move the stamps alone: for a change whose own event already tells the open connections
    (a trash or restore goes through the op log)."""
    if document_ids:
        Document.objects.filter(pk__in=document_ids).update(access_stamp=F("access_stamp") + 1)


def member_changed(*, document_id: Any, user_id: Any) -> None:
    """The user's role on the document changed or ended."""
    members_changed(document_id=document_id, user_ids=[user_id])


def members_changed(*, document_id: Any, user_ids: list[Any]) -> None:
    """These users' roles on the document changed or ended: one stamp move for all of them."""
    if user_ids:
        stamp(document_ids=[document_id])
    for user_id in user_ids:
        broadcast.publish_access_changed_on_commit(document_id=document_id, user_id=user_id)


def document_changed(*, document_id: Any) -> None:
    """Everyone's access may have changed: a new owner, closed to editing, trashed, purged."""
    stamp(document_ids=[document_id])
    broadcast.publish_document_access_changed_on_commit(document_id=document_id)


def user_changed(*, user_id: Any) -> None:
    """The account was deactivated or is being deleted: it reads none of its documents any more.
    (Its sockets are ended by the session-end event; this is the net under that event.)"""
    stamp(document_ids=list(Membership.objects.filter(user_id=user_id).values_list("document_id", flat=True)))
