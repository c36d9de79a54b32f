"""Creating, renaming, trashing, restoring and replacing whole documents, through the submit path."""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import broadcast, selectors, text
from ..errors import (
    DocAlreadyCreated,
    DocDoesNotExist,
    DocumentNotFound,
    ValidationFailed,
)
from ..models import AuditAction, Document, Membership, OperationKind, Role
from ..ot import CONTENT_SCHEMA, rich_text
from ..records import SnapshotData
from ..selectors import access_document, snapshot_at
from ..images import CheckedImage
from . import access, audit
from .images import delete_files, replace_placeholders, store_imported_images
from .search import index_document, index_title
from .snapshots import take_snapshot
from .submit import SubmitResult, _clean_content, server_submit

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 200


def _clean_title(title: Any) -> str:
    if not isinstance(title, str):
        raise ValidationFailed("The title must be a string.")
    title = " ".join(title.split())
    if not text.is_plain(title):
        raise ValidationFailed("The title must not contain control characters.")
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationFailed(f"The title must be at most {MAX_TITLE_LENGTH} characters.")
    return title or "Untitled"


def create_document(
    *, owner: Any, title: Any = "Untitled", content: Any = None, images: dict[str, CheckedImage] | None = None
) -> Document:
    """Create a document owned by `owner`, with its content committed as version 0's create op.

    `images` are an import's checked images, by the placeholder embeds `content` holds for them:
    they are stored for the new document and the placeholders become their paths.
    """
    title = _clean_title(title)
    content = content if content is not None else [{"insert": "\n"}]
    if images is None:
        content = _clean_content(content)
    files: list[str] = []
    try:
        with transaction.atomic():
            document = Document.objects.create(title=title, owner=owner, type="")
            Membership.objects.create(document=document, user=owner, role=Role.OWNER)
            if images is not None:
                values, files = store_imported_images(document=document, user=owner, images=images)
                content = _clean_content(replace_placeholders(content, values))
            # The owner was authorized by creating the row; it has no type yet, so no access check finds it.
            server_submit(
                user=owner,
                document_id=document.pk,
                kind=OperationKind.CREATE,
                data=content,
                check_access=False,
            )
            document.refresh_from_db()
            # Searchable at once; later changes reach the index with the snapshots.
            index_document(document=document, state=SnapshotData(document.version, document.type, content))
    except BaseException:
        delete_files(files)
        raise
    return document


def rename_document(*, user: Any, document_id: Any, title: Any) -> Document:
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    return _rename(document, title)


def _rename(document: Document, title: Any) -> Document:
    """Save the title, and tell search and every open editor once it is committed."""
    with transaction.atomic():
        document.title = _clean_title(title)
        document.save(update_fields=["title", "updated_at"])
        index_title(document_id=document.pk, title=document.title)
        broadcast.publish_title_on_commit(document_id=document.pk, title=document.title)
    return document


def delete_document(*, user: Any, document_id: Any) -> None:
    """Move to the trash through the op log, so open editors learn of it at once.

    The content just before the delete is kept as a snapshot, so a restore finds it whatever
    the op retention folds away meanwhile; the trash is emptied by `purge_expired_trash`.
    """
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.OWNER)
    if document.is_deleted:
        raise DocumentNotFound()
    take_snapshot(document_id=document.pk, version=document.version)
    with transaction.atomic():
        server_submit(user=user, document_id=document.pk, kind=OperationKind.DELETE)
        audit.record(actor=user, action=AuditAction.DOCUMENT_DELETED, document=document)
        access.stamp(document_ids=[document.pk])
        broadcast.publish_trash_on_commit(
            document_id=document.pk, user_ids=_member_ids(document), trashed=True
        )


def _member_ids(document: Document) -> list[Any]:
    return list(Membership.objects.filter(document=document).values_list("user_id", flat=True))


def restore_document(*, user: Any, document_id: Any) -> SubmitResult:
    """The owner brings a document back from the trash, as it was when it was deleted."""
    document = selectors.trashed_document(user=user, document_id=document_id)
    return _restore_from_trash(document=document, actor=user)


def restore_document_as_operator(*, operator: Any, document_id: Any) -> SubmitResult:
    """The admin's restore from the trash, recorded as the operator's."""
    document = selectors.operator_document(operator=operator, document_id=document_id)
    return _restore_from_trash(document=document, actor=operator)


def _restore_from_trash(*, document: Document, actor: Any) -> SubmitResult:
    """A create op holding the content before the delete: open editors and history see it as
    one restore, and every member's pages hear that the document is back."""
    if not document.is_deleted:
        raise ValidationFailed("This document is not in the trash.")
    # Nothing is committed on a deleted document but a create, so the last op is the delete.
    deleted_at_version = document.version - 1
    before = snapshot_at(document=document, version=deleted_at_version)
    if not before.type:
        raise ValidationFailed("This document has no content to restore.")
    with transaction.atomic():
        try:
            result = server_submit(
                user=actor,
                document_id=document.pk,
                kind=OperationKind.CREATE,
                data=CONTENT_SCHEMA.fit_newlines(before.content or []),
                check_access=False,
                restored_from=deleted_at_version,
            )
        except DocAlreadyCreated:
            raise ValidationFailed("This document is not in the trash.") from None
        audit.record(
            actor=actor, action=AuditAction.DOCUMENT_RESTORED, document=document, version=deleted_at_version
        )
        access.stamp(document_ids=[document.pk])
        broadcast.publish_trash_on_commit(
            document_id=document.pk, user_ids=_member_ids(document), trashed=False
        )
    return result


def purge_expired_trash(*, now: datetime | None = None) -> int:
    """Remove for good the documents trashed longer than COLLAB_TRASH_DAYS (0 keeps them)."""
    days = settings.COLLAB_TRASH_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    purged = 0
    for document_id in list(Document.objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True)):
        with transaction.atomic():
            # Locked and checked again: a restore that just committed keeps its document.
            document = (
                Document.objects.select_for_update().filter(pk=document_id, deleted_at__lt=cutoff).first()
            )
            if document is None:
                continue
            _purge(document=document, actor=None)
            purged += 1
    if purged:
        logger.info("purged %s documents from the trash", purged)
    return purged


def replace_content(*, user: Any, document_id: Any, content: Any) -> SubmitResult:
    """Make the document equal `content` with one ordinary op (restores, admin edits, imports)."""
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    return _replace(document=document, author=user, content=content)


def _replace(
    *, document: Document, author: Any, content: Any, restored_from: int | None = None
) -> SubmitResult:
    target = _clean_content(content)
    current = snapshot_at(document=document)
    if not current.type:
        raise DocDoesNotExist()
    change = rich_text.diff(current.content or [], target)
    return server_submit(
        user=author,
        document_id=document.pk,
        base_version=current.version,
        kind=OperationKind.EDIT,
        data=change,
        check_access=False,
        restored_from=restored_from,
    )


def repair_content(*, document_id: Any) -> SubmitResult | None:
    """Cut a document stored before the content schema down to it, with one ordinary op.

    What the editor cannot render (embeds, unknown formats, bad values) is dropped, so the
    document opens again; open editors receive the change like any other. None if it fits.
    """
    document = Document.objects.filter(pk=selectors.parse_document_id(document_id)).first()
    if document is None:
        raise DocumentNotFound()
    current = snapshot_at(document=document)
    if not current.type:
        return None
    content = current.content or []
    target = rich_text.compose([], CONTENT_SCHEMA.sanitize(content))
    if target == content:
        return None
    logger.info("repairing document %s at version %s", document.pk, current.version)
    return _replace(document=document, author=None, content=target)


def restore_version(*, user: Any, document_id: Any, version: Any) -> SubmitResult:
    """Go back to an earlier version with one ordinary op, so it shows in history and live."""
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    return _restore(document=document, author=user, version=version)


def restore_version_as_operator(*, operator: Any, document_id: Any, version: Any) -> SubmitResult:
    """The admin's restore: staff act on any document, and the restore is recorded as theirs."""
    document = selectors.operator_document(operator=operator, document_id=document_id)
    return _restore(document=document, author=operator, version=version)


def rename_document_as_operator(*, operator: Any, document_id: Any, title: Any) -> Document:
    document = selectors.operator_document(operator=operator, document_id=document_id)
    return _rename(document, title)


def purge_document(*, operator: Any, document_id: Any) -> None:
    """Remove a document for good (the admin's delete): open editors see it deleted, then lose it."""
    with transaction.atomic():
        document = selectors.operator_document(operator=operator, document_id=document_id)
        _purge(document=document, actor=operator)


def _purge(*, document: Document, actor: Any) -> None:
    """Delete the row for good, and its image files once that has committed."""
    if not document.is_deleted:
        # Through the op log first, so every subscriber learns of the delete as an op.
        server_submit(
            user=actor,
            document_id=document.pk,
            kind=OperationKind.DELETE,
            check_access=False,
        )
    access.document_changed(document_id=document.pk)
    files = list(document.images.values_list("file", flat=True))
    Document.objects.filter(pk=document.pk).delete()
    transaction.on_commit(lambda: delete_files(files), robust=True)


def _restore(*, document: Document, author: Any, version: Any) -> SubmitResult:
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= document.version:
        raise ValidationFailed("Choose a version between 1 and the current one.")
    old = snapshot_at(document=document, version=version)
    if not old.type:
        raise ValidationFailed("The document did not exist at that version.")
    # Content stored before a schema rule may not pass it now; what it drops no page showed.
    content = CONTENT_SCHEMA.fit_newlines(old.content or [])
    result = _replace(document=document, author=author, content=content, restored_from=version)
    audit.record(actor=author, action=AuditAction.VERSION_RESTORED, document=document, version=version)
    return result
