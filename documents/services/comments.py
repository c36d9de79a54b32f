"""Comment threads and their replies (open, reply, edit, delete, resolve, reopen), and
accepting or rejecting every suggestion of a document at once, and the threads an imported
file brings. A new comment notifies the
people it mentions and the thread's earlier participants (`notifications`).

Anyone who may comment (commenter and above) opens threads and replies; authors edit and delete
their own comments (the owner may delete any); anyone who may comment resolves and reopens.
The thread's anchor is its id in the text's `comment` format, set by the page through an
ordinary op; a thread whose text is gone stays here and is shown as detached.
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import broadcast
from ..errors import DocumentNotFound, PermissionDenied, ValidationFailed
from ..images import CheckedImage
from ..models import Comment, CommentThread, Operation, OperationKind, Role
from ..ot import suggestions
from ..selectors import access_document, snapshot_at, thread_data
from .notifications import notify_about
from .submit import SubmitResult, server_submit


def _clean_body(body: Any) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed("Write a comment.")
    if len(body) > settings.COLLAB_MAX_COMMENT_LENGTH:
        raise ValidationFailed(f"A comment holds at most {settings.COLLAB_MAX_COMMENT_LENGTH} characters.")
    return body.strip()


def _clean_quote(quote: Any) -> str:
    if not isinstance(quote, str):
        return ""
    return quote[: settings.COLLAB_MAX_COMMENT_LENGTH]


def _thread_for(*, user: Any, thread_id: Any, min_role: str) -> CommentThread:
    """The thread, locked, if the user has `min_role` on its document; missing looks the same."""
    try:
        thread = CommentThread.objects.select_for_update().get(pk=uuid.UUID(str(thread_id)))
    except (CommentThread.DoesNotExist, ValueError):
        raise DocumentNotFound("No such comment thread.") from None
    access_document(user=user, document_id=thread.document_id, min_role=min_role)
    return thread


def _changed(thread: CommentThread) -> dict[str, Any]:
    data = thread_data(thread)
    broadcast.publish_comment_on_commit(document_id=thread.document_id, thread=data)
    return data


@transaction.atomic
def create_thread(*, user: Any, document_id: Any, body: Any, quote: Any = "") -> dict[str, Any]:
    """Open a thread with its first comment; the page then anchors its id on the passage."""
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.COMMENTER)
    thread = CommentThread.objects.create(document=document, author=user, quote=_clean_quote(quote))
    notify_about(comment=Comment.objects.create(thread=thread, author=user, body=_clean_body(body)))
    return _changed(thread)


@transaction.atomic
def import_document(
    *,
    owner: Any,
    title: Any,
    content: Any,
    threads: dict[str, list[str]],
    images: dict[str, CheckedImage] | None = None,
) -> Any:
    """Create a document from an imported file, with the images and comment threads it carried.

    `images` are as for `create_document` (stored, their placeholders in `content` replaced).
    Each thread keeps the id its passage is anchored by in `content`. A file cannot vouch for
    who wrote what, so every comment is the importer's, its text as the file gave it
    ("Ann: Is this right?"); nobody is notified.
    """
    from .documents import create_document

    document = create_document(owner=owner, title=title, content=content, images=images)
    for thread_id, bodies in threads.items():
        quote = "".join(
            op["insert"]
            for op in content
            if isinstance(op.get("insert"), str) and (op.get("attributes") or {}).get("comment") == thread_id
        )
        thread = CommentThread.objects.create(
            id=uuid.UUID(thread_id), document=document, author=owner, quote=_clean_quote(quote)
        )
        Comment.objects.bulk_create(
            Comment(thread=thread, author=owner, body=body[: settings.COLLAB_MAX_COMMENT_LENGTH])
            for body in bodies
            if body.strip()
        )
    return document


@transaction.atomic
def reply_to_thread(*, user: Any, thread_id: Any, body: Any) -> dict[str, Any]:
    thread = _thread_for(user=user, thread_id=thread_id, min_role=Role.COMMENTER)
    notify_about(comment=Comment.objects.create(thread=thread, author=user, body=_clean_body(body)))
    return _changed(thread)


@transaction.atomic
def set_thread_resolved(*, user: Any, thread_id: Any, resolved: bool) -> dict[str, Any]:
    """Resolve (or reopen) a thread: it leaves the open list, its passage is no longer highlighted."""
    thread = _thread_for(user=user, thread_id=thread_id, min_role=Role.COMMENTER)
    if resolved and thread.resolved_at is None:
        thread.resolved_at, thread.resolved_by = timezone.now(), user
    elif not resolved:
        thread.resolved_at, thread.resolved_by = None, None
    thread.save(update_fields=["resolved_at", "resolved_by"])
    return _changed(thread)


def _own_comment(*, user: Any, comment_id: Any, owner_may: bool) -> Comment:
    try:
        comment = Comment.objects.select_for_update().select_related("thread").get(pk=int(comment_id))
    except (Comment.DoesNotExist, ValueError, TypeError):
        raise DocumentNotFound("No such comment.") from None
    _document, role = access_document(
        user=user, document_id=comment.thread.document_id, min_role=Role.COMMENTER
    )
    if comment.author_id != user.pk and not (owner_may and role == Role.OWNER):
        raise PermissionDenied("You can only change your own comments.")
    return comment


@transaction.atomic
def edit_comment(*, user: Any, comment_id: Any, body: Any) -> dict[str, Any]:
    comment = _own_comment(user=user, comment_id=comment_id, owner_may=False)
    comment.body, comment.edited_at = _clean_body(body), timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return _changed(comment.thread)


@transaction.atomic
def delete_comment(*, user: Any, comment_id: Any) -> dict[str, Any]:
    """Delete a comment; a thread left without comments goes with it."""
    comment = _own_comment(user=user, comment_id=comment_id, owner_may=True)
    thread = comment.thread
    comment.delete()
    if thread.comments.exists():
        return _changed(thread)
    data = {"id": thread.pk.hex, "deleted": True}
    thread.delete()
    broadcast.publish_comment_on_commit(document_id=thread.document_id, thread=data)
    return data


def resolve_all_suggestions(*, user: Any, document_id: Any, accept: bool) -> SubmitResult | None:
    """Accept (or reject) every suggestion: one ordinary op by the editor, seen live and in history.

    The op is computed on the latest snapshot and submitted at its version, so suggestions made
    meanwhile are transformed like any concurrent edit (they stay, to be reviewed next).
    """
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    state = snapshot_at(document=document)
    ops = suggestions.resolve_suggestions(state.content or [], accept=accept)
    if not ops:
        return None
    result = server_submit(
        user=user, document_id=document.pk, kind=OperationKind.EDIT, data=ops, base_version=state.version
    )
    record_review(user=user, document_id=document.pk, version=result.version)
    return result


def record_review(*, user: Any, document_id: Any, version: Any) -> dict[str, Any] | None:
    """Label the user's op at `version` with the suggestions it accepted and rejected, for history.

    The page asks after its accept or reject op is acknowledged; the label is worked out here from
    the document as it was, so asking can only describe what the op really did.
    """
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValidationFailed("Give the version of your op.")
    op = Operation.objects.filter(
        document=document, version=version, author=user, kind=OperationKind.EDIT
    ).first()
    if op is None:
        raise DocumentNotFound("You made no edit at that version.")
    before = snapshot_at(document=document, version=version).content or []
    review = suggestions.review_of(before, op.data or [])
    Operation.objects.filter(pk=op.pk).update(review=review)
    return review
