"""Reads: access checks, document lists, op ranges and snapshots at a version."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from .errors import DocumentNotFound, OpsNotFound, PermissionDenied, VersionNewer
from .models import Document, Membership, Operation, OperationKind, Role, Snapshot
from .ot import rich_text

ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


@dataclass(frozen=True)
class OpRecord:
    """A committed op as it travels to clients and through the channel layer."""

    document_id: str
    version: int
    kind: str
    data: Any
    src: str
    seq: int

    @classmethod
    def from_model(cls, op: Operation) -> "OpRecord":
        return cls(
            document_id=str(op.document_id),
            version=op.version,
            kind=op.kind,
            data=op.data,
            src=op.src,
            seq=op.seq,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "version": self.version,
            "kind": self.kind,
            "data": self.data,
            "src": self.src,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OpRecord":
        return cls(**data)


@dataclass(frozen=True)
class SnapshotData:
    """A document's state at `version`; `type` is empty when it did not exist then."""

    version: int
    type: str
    content: list[dict[str, Any]] | None


def parse_document_id(document_id: Any) -> uuid.UUID:
    """Parse a client-supplied id; anything that is not a UUID is simply not found."""
    if isinstance(document_id, uuid.UUID):
        return document_id
    if not isinstance(document_id, str) or len(document_id) > 64:
        raise DocumentNotFound()
    try:
        return uuid.UUID(document_id)
    except ValueError:
        raise DocumentNotFound() from None


def access_document(*, user: Any, document_id: Any, min_role: str = Role.VIEWER) -> tuple[Document, str]:
    """Return the document and the user's role, or raise the same error for missing and forbidden."""
    doc_uuid = parse_document_id(document_id)
    if not getattr(user, "is_authenticated", False):
        raise DocumentNotFound()
    membership = (
        Membership.objects.select_related("document")
        .filter(document_id=doc_uuid, user=user)
        .first()
    )
    if membership is None:
        raise DocumentNotFound()
    if ROLE_RANK[Role(membership.role)] < ROLE_RANK[Role(min_role)]:
        raise PermissionDenied(f"This needs the {min_role} role; you are a {membership.role}.")
    return membership.document, membership.role


def role_allows(role: str, min_role: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(min_role)]


def documents_for_user(*, user: Any, search: str = "") -> QuerySet[Membership]:
    """Memberships of documents the user can open, newest first."""
    qs = (
        Membership.objects.filter(user=user, document__deleted_at__isnull=True)
        .select_related("document", "document__owner")
        .order_by("-document__updated_at")
    )
    if search:
        qs = qs.filter(document__title__icontains=search)
    return qs


def members_of(*, document: Document) -> QuerySet[Membership]:
    return document.memberships.select_related("user").order_by("created_at")


def operations_between(*, document_id: Any, start: int, end: int) -> list[OpRecord]:
    """Ops with start <= version < end, in order; raise if any of them is no longer kept."""
    if end <= start:
        return []
    ops = list(
        Operation.objects.filter(document_id=document_id, version__gte=start, version__lt=end)
        .order_by("version")
        .only("document_id", "version", "kind", "data", "src", "seq")
    )
    if len(ops) != end - start or (ops and ops[0].version != start):
        raise OpsNotFound()
    return [OpRecord.from_model(op) for op in ops]


def apply_record(state: SnapshotData, record: OpRecord) -> SnapshotData:
    """Advance a snapshot by one committed op."""
    if record.kind == OperationKind.CREATE:
        return SnapshotData(record.version + 1, rich_text.URI, rich_text.create(record.data))
    if record.kind == OperationKind.DELETE:
        return SnapshotData(record.version + 1, "", None)
    content = rich_text.apply(state.content or [], record.data) if state.type else None
    return SnapshotData(record.version + 1, state.type, content)


def snapshot_at(*, document: Document, version: int | None = None) -> SnapshotData:
    """The document at `version` (default: now) from the nearest stored snapshot plus later ops."""
    target = document.version if version is None else version
    if target > document.version:
        raise VersionNewer()
    base = (
        Snapshot.objects.filter(document=document, version__lte=target)
        .order_by("-version")
        .only("version", "type", "content")
        .first()
    )
    state = (
        SnapshotData(base.version, base.type, base.content)
        if base is not None
        else SnapshotData(0, "", None)
    )
    for record in operations_between(document_id=document.pk, start=state.version, end=target):
        state = apply_record(state, record)
    return state


def version_at_time(*, document: Document, timestamp: datetime | None) -> int:
    """The document's version just after the last op committed at or before `timestamp`."""
    if timestamp is None:
        return document.version
    last = (
        Operation.objects.filter(document=document, created_at__lte=timestamp)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return 0 if last is None else last + 1
