"""The submit path: the only place a document's version changes.

`submit_operation` is the whole life of an op: validate, authorize, lock, de-duplicate,
transform against everything committed since its base version, check it against the document,
append it with the next version, and publish it after the commit.
"""

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import broadcast, selectors
from ..errors import (
    DocAlreadyCreated,
    DocDoesNotExist,
    DocumentNotFound,
    MaxRetriesExceeded,
    OpBadlyFormed,
    OpRejected,
    VersionNewer,
)
from ..models import RICH_TEXT_URI, Document, Operation, OperationKind, Role
from ..ot import InvalidDelta, Limits, rich_text, validate_document, validate_op
from ..selectors import OpRecord, access_document, operations_between, role_allows

logger = logging.getLogger(__name__)

# Ops made by the server itself (API creates, restores, deletes); never a client's src.
SERVER_SRC = "server"
MAX_SUBMIT_RETRIES = 5


@dataclass(frozen=True)
class SubmitResult:
    """What the submitter needs: the ack version and the ops it must see before the ack."""

    version: int
    missing: list[OpRecord] = field(default_factory=list)
    duplicate: bool = False


def delta_limits() -> Limits:
    return Limits(max_ops=settings.COLLAB_MAX_OP_COMPONENTS, max_attributes=settings.COLLAB_MAX_ATTRIBUTES)


def document_limits() -> Limits:
    """Whole documents (creates, imports, restores) may be as large as the length limit allows."""
    longest = settings.COLLAB_MAX_DOCUMENT_LENGTH
    return Limits(
        max_ops=longest,
        max_attributes=settings.COLLAB_MAX_ATTRIBUTES,
        max_insert_length=longest,
        max_total_size=8 * longest,
    )


def _clean_delta(data: Any, *, doc_length: int | None) -> list[dict[str, Any]]:
    try:
        return validate_op(data, doc_length=doc_length, limits=delta_limits())
    except InvalidDelta as exc:
        raise OpBadlyFormed(str(exc)) from None


def _clean_content(data: Any) -> list[dict[str, Any]]:
    try:
        content = validate_document(data, limits=document_limits())
    except InvalidDelta as exc:
        raise OpBadlyFormed(str(exc)) from None
    if rich_text.length(content) > settings.COLLAB_MAX_DOCUMENT_LENGTH:
        raise OpRejected("The document would exceed the maximum document length.")
    return content


def submit_operation(
    *,
    user: Any,
    document_id: Any,
    src: str,
    seq: int,
    base_version: int | None,
    kind: str,
    data: Any = None,
    check_access: bool = True,
    restored_from: int | None = None,
) -> SubmitResult:
    """Commit one op exactly once and say where it landed.

    `check_access=False` is for operator and server paths that were authorized by their caller.
    """
    if kind == OperationKind.EDIT:
        # Shape checks need no lock; the length check happens against the locked document.
        data = _clean_delta(data, doc_length=None)
    elif kind == OperationKind.CREATE:
        data = _clean_content(data)
    for _attempt in range(MAX_SUBMIT_RETRIES):
        try:
            return _submit_once(
                user=user,
                document_id=document_id,
                src=src,
                seq=seq,
                base_version=base_version,
                kind=kind,
                data=data,
                check_access=check_access,
                restored_from=restored_from,
            )
        except IntegrityError:
            # Another process took this version (or committed this very op) first: go again.
            logger.info("submit race on %s, retrying", document_id)
    raise MaxRetriesExceeded()


def _submit_once(
    *,
    user: Any,
    document_id: Any,
    src: str,
    seq: int,
    base_version: int | None,
    kind: str,
    data: Any,
    check_access: bool,
    restored_from: int | None = None,
) -> SubmitResult:
    min_role = Role.OWNER if kind == OperationKind.DELETE else Role.EDITOR
    with transaction.atomic():
        if check_access:
            document, role = access_document(user=user, document_id=document_id)
            if not role_allows(role, min_role):
                raise OpRejected(
                    "Only the owner can delete this document."
                    if kind == OperationKind.DELETE
                    else "You can view this document but not edit it."
                )
            document_pk = document.pk
        else:
            document_pk = selectors.parse_document_id(document_id)
        document = Document.objects.select_for_update().filter(pk=document_pk).first()
        if document is None:
            raise DocumentNotFound()

        existing = Operation.objects.filter(document=document, src=src, seq=seq).first()
        if existing is not None:
            # A resend after a lost ack: acknowledge it again, never apply it twice.
            start = existing.version if base_version is None else min(base_version, existing.version)
            return SubmitResult(
                version=existing.version,
                missing=operations_between(document_id=document.pk, start=start, end=existing.version),
                duplicate=True,
            )

        if kind == OperationKind.CREATE:
            # ShareDB semantics: a create needs no base; it fails only if the document exists.
            if document.type:
                raise DocAlreadyCreated()
            base_version = document.version
        if base_version is None:
            base_version = document.version
        if base_version > document.version:
            raise VersionNewer()

        missing = operations_between(document_id=document.pk, start=base_version, end=document.version)
        if kind == OperationKind.EDIT:
            if not document.type:
                raise DocDoesNotExist()
            for committed in missing:
                if committed.kind != OperationKind.EDIT:
                    raise DocDoesNotExist("The document was deleted or re-created meanwhile.")
                # The committed op wins ties: the server is the left side.
                data = rich_text.transform(data, committed.data, "left")
            if rich_text.base_length(data) > document.length:
                raise OpBadlyFormed("The operation retains or deletes past the end of the document.")
            new_length = document.length + rich_text.change_length(data)
            if new_length > settings.COLLAB_MAX_DOCUMENT_LENGTH:
                raise OpRejected("The document would exceed the maximum document length.")
            document.length = new_length
        elif kind == OperationKind.CREATE:
            if any(committed.kind == OperationKind.CREATE for committed in missing):
                raise DocAlreadyCreated()
            document.type = RICH_TEXT_URI
            document.length = rich_text.length(data)
            document.deleted_at = None
        else:
            if not document.type:
                raise DocDoesNotExist()
            document.type = ""
            document.length = 0
            document.deleted_at = timezone.now()

        operation = Operation.objects.create(
            document=document,
            version=document.version,
            kind=kind,
            data=data if kind != OperationKind.DELETE else None,
            src=src,
            seq=seq,
            author=user if getattr(user, "is_authenticated", False) else None,
            restored_from=restored_from,
        )
        document.version += 1
        document.save(update_fields=["version", "length", "type", "deleted_at", "updated_at"])
        record = OpRecord.from_model(operation)
        transaction.on_commit(lambda: broadcast.publish_op(record))
        if document.version % settings.COLLAB_SNAPSHOT_EVERY == 0:
            from ..tasks import take_snapshot

            document_pk, snapshot_version = str(document.pk), document.version
            transaction.on_commit(lambda: take_snapshot.delay(document_pk, snapshot_version))
        return SubmitResult(version=operation.version, missing=missing)


def server_submit(
    *, user: Any, document_id: Any, kind: str, data: Any = None, base_version: int | None = None
) -> SubmitResult:
    """Commit an op on the server's own behalf (create, restore, delete) through the same path."""
    return submit_operation(
        user=user,
        document_id=document_id,
        # A fresh src per call, so two server ops can never be mistaken for one resent op.
        src=f"{SERVER_SRC}-{uuid.uuid4().hex}",
        seq=1,
        base_version=base_version,
        kind=kind,
        data=data,
    )
