"""Writes: the only place a document's version changes.

`submit_operation` is the whole life of an op: validate, authorize, lock, de-duplicate,
transform against everything committed since its base version, check it against the document,
append it with the next version, and publish it after the commit.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import broadcast
from .errors import (
    DocAlreadyCreated,
    DocDoesNotExist,
    DocumentNotFound,
    MaxRetriesExceeded,
    OpBadlyFormed,
    OpRejected,
    PermissionDenied,
    ValidationFailed,
    VersionNewer,
)
from .models import RICH_TEXT_URI, Document, Invite, Membership, Operation, OperationKind, Role, Snapshot, Visitor
from .ot import InvalidDelta, Limits, rich_text, validate_document, validate_op
from . import selectors
from .selectors import OpRecord, access_document, apply_record, operations_between, role_allows, snapshot_at

logger = logging.getLogger(__name__)

# Ops made by the server itself (API creates, restores, deletes); never a client's src.
SERVER_SRC = "server"
MAX_SUBMIT_RETRIES = 5
MAX_TITLE_LENGTH = 200


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
            from .tasks import take_snapshot

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


# --- Documents --------------------------------------------------------------------------------


def _clean_title(title: Any) -> str:
    if not isinstance(title, str):
        raise ValidationFailed("The title must be a string.")
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationFailed(f"The title must be at most {MAX_TITLE_LENGTH} characters.")
    return title or "Untitled"


def create_document(*, owner: Any, title: Any = "Untitled", content: Any = None) -> Document:
    """Create a document owned by `owner`, with its content committed as version 0's create op."""
    title = _clean_title(title)
    content = _clean_content(content if content is not None else [{"insert": "\n"}])
    with transaction.atomic():
        document = Document.objects.create(title=title, owner=owner, type="")
        Membership.objects.create(document=document, user=owner, role=Role.OWNER)
        server_submit(user=owner, document_id=document.pk, kind=OperationKind.CREATE, data=content)
    document.refresh_from_db()
    return document


def rename_document(*, user: Any, document_id: Any, title: Any) -> Document:
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    document.title = _clean_title(title)
    document.save(update_fields=["title", "updated_at"])
    return document


def delete_document(*, user: Any, document_id: Any) -> None:
    """Delete through the op log, so open editors learn of it at once."""
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.OWNER)
    if document.is_deleted:
        raise DocumentNotFound()
    server_submit(user=user, document_id=document.pk, kind=OperationKind.DELETE)


def replace_content(*, user: Any, document_id: Any, content: Any) -> SubmitResult:
    """Make the document equal `content` with one ordinary op (restores, admin edits, imports)."""
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    return _replace(document=document, author=user, content=content)


def _replace(*, document: Document, author: Any, content: Any, restored_from: int | None = None) -> SubmitResult:
    target = _clean_content(content)
    current = snapshot_at(document=document)
    if not current.type:
        raise DocDoesNotExist()
    change = rich_text.diff(current.content or [], target)
    return submit_operation(
        user=author,
        document_id=document.pk,
        src=f"{SERVER_SRC}-{uuid.uuid4().hex}",
        seq=1,
        base_version=current.version,
        kind=OperationKind.EDIT,
        data=change,
        check_access=False,
        restored_from=restored_from,
    )


def restore_version(*, user: Any, document_id: Any, version: Any) -> SubmitResult:
    """Go back to an earlier version with one ordinary op, so it shows in history and live."""
    document, _role = access_document(user=user, document_id=document_id, min_role=Role.EDITOR)
    return _restore(document=document, author=user, version=version)


def restore_version_as_operator(*, operator: Any, document_id: Any, version: Any) -> SubmitResult:
    """The admin's restore: staff act on any document, and the restore is recorded as theirs."""
    if not getattr(operator, "is_staff", False):
        raise PermissionDenied("Only staff can restore documents they are not members of.")
    document = Document.objects.filter(pk=selectors.parse_document_id(document_id)).first()
    if document is None:
        raise DocumentNotFound()
    return _restore(document=document, author=operator, version=version)


def _restore(*, document: Document, author: Any, version: Any) -> SubmitResult:
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= document.version:
        raise ValidationFailed("Choose a version between 1 and the current one.")
    old = snapshot_at(document=document, version=version)
    if not old.type:
        raise ValidationFailed("The document did not exist at that version.")
    return _replace(document=document, author=author, content=old.content, restored_from=version)


# --- Members ----------------------------------------------------------------------------------


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
    membership.delete()
    broadcast.publish_access_changed_on_commit(document_id=document.pk, user_id=user_id)


# --- Invite links -----------------------------------------------------------------------------


def create_invite(*, actor: Any, document_id: Any, role: Any) -> Invite:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    return Invite.objects.create(
        document=document, role=_clean_role(role), created_by=actor, token=secrets.token_urlsafe(24)
    )


def revoke_invite(*, actor: Any, document_id: Any, token: Any) -> None:
    document, _ = access_document(user=actor, document_id=document_id, min_role=Role.OWNER)
    updated = Invite.objects.filter(document=document, token=token, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise DocumentNotFound("No such invite.")


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
    return membership


# --- Snapshots --------------------------------------------------------------------------------


def take_snapshot(*, document_id: Any, version: int | None = None) -> Snapshot | None:
    """Materialize and store the document at `version`; safe to run twice or concurrently."""
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return None
    state = snapshot_at(document=document, version=version, with_authorship=True)
    existing = Snapshot.objects.filter(document=document, version=state.version).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Snapshot.objects.create(
                document=document,
                version=state.version,
                type=state.type,
                content=state.content,
                authorship=state.authorship,
            )
    except IntegrityError:
        return Snapshot.objects.filter(document=document, version=state.version).first()


__all__ = [
    "SERVER_SRC",
    "SubmitResult",
    "accept_invite",
    "add_member",
    "create_invite",
    "revoke_invite",
    "apply_record",
    "create_document",
    "delete_document",
    "remove_member",
    "restore_version",
    "restore_version_as_operator",
    "rename_document",
    "replace_content",
    "server_submit",
    "set_member_role",
    "submit_operation",
    "take_snapshot",
]


# --- Retention --------------------------------------------------------------------------------


def compact_document(*, document_id: Any, cutoff: Any) -> int:
    """Fold ops committed before `cutoff` into a snapshot and delete them; return how many went.

    Only ops older than the retention window go, so every op a reconnecting client inside the
    window may resend is still there to de-duplicate it, and to transform it and catch it up.
    """
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return 0
    keep_from = (
        Operation.objects.filter(document=document, created_at__gte=cutoff)
        .order_by("version")
        .values_list("version", flat=True)
        .first()
    )
    if keep_from is None:
        keep_from = document.version
    if keep_from == 0 or not Operation.objects.filter(document=document, version__lt=keep_from).exists():
        return 0
    take_snapshot(document_id=document.pk, version=keep_from)
    deleted, _ = Operation.objects.filter(document=document, version__lt=keep_from).delete()
    logger.info("compacted %s ops of %s below v%s", deleted, document.pk, keep_from)
    return deleted


# --- Visitors ("who is here now") -------------------------------------------------------------


def record_visits(*, user: Any, channel_name: str, document_ids: list[str]) -> None:
    """Mark this connection as present in these documents now (called on subscribe and each tick)."""
    now = timezone.now()
    for document_id in document_ids:
        Visitor.objects.update_or_create(
            document_id=document_id,
            channel_name=channel_name,
            defaults={"user": user, "last_seen": now},
        )


def end_visits(*, channel_name: str, document_ids: list[str] | None = None) -> None:
    visits = Visitor.objects.filter(channel_name=channel_name)
    if document_ids is not None:
        visits = visits.filter(document_id__in=document_ids)
    visits.delete()
