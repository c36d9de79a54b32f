"""The submit path: the only place a document's version changes.

`submit_batch` is the whole life of an op: validate, lock, authorize, de-duplicate, transform
against everything committed since its base version, check it against the document, append it
with the next version, and publish it after the commit. Ops queued for one document are
committed together (see `documents.pipeline`), each still exactly once and in order.
"""

import json
import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .. import broadcast, handoff, selectors
from ..errors import (
    CollabError,
    DocAlreadyCreated,
    DocDoesNotExist,
    DocumentNotFound,
    MaxRetriesExceeded,
    OpBadlyFormed,
    OpRejected,
    OpsNotFound,
    VersionNewer,
)
from ..models import RICH_TEXT_URI, Document, Membership, Operation, OperationKind, Role
from ..ot import (
    InvalidDelta,
    Limits,
    check_formats_fit,
    check_keeps_final_newline,
    needs_text,
    rich_text,
    suggestions,
    validate_document,
    validate_op,
)
from ..records import OpRecord
from ..selectors import effective_role, operations_between, role_allows
from . import lines
from .lines import BatchText
from .images import check_embeds

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


@dataclass(frozen=True)
class SubmitRequest:
    """One op to commit; `check_access=False` is for server paths authorized by their caller."""

    user: Any
    src: str
    seq: int
    base_version: int | None
    kind: str
    data: Any = None
    check_access: bool = True
    restored_from: int | None = None


def clean_request(request: SubmitRequest) -> SubmitRequest:
    """Check the op's shape; needs no lock, so it runs before the batch takes one."""
    if request.kind == OperationKind.EDIT:
        # The length check happens against the locked document.
        return replace(request, data=_clean_delta(request.data, doc_length=None))
    if request.kind == OperationKind.CREATE:
        return replace(request, data=_clean_content(request.data))
    return request


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
    """Commit one op exactly once and say where it landed (raises its error)."""
    request = clean_request(
        SubmitRequest(user, src, seq, base_version, kind, data, check_access, restored_from)
    )
    [outcome] = submit_batch(document_id=document_id, requests=[request])
    if isinstance(outcome, CollabError):
        raise outcome
    return outcome


def submit_batch(*, document_id: Any, requests: list[SubmitRequest]) -> list[SubmitResult | CollabError]:
    """Commit ops queued for one document together: one transaction, one lock, consecutive versions.

    Each request gets its own outcome, in order: a result, or the error that rejects it alone
    (an op rejected in a batch does not hold back the others). Requests must be cleaned.
    """
    for _attempt in range(MAX_SUBMIT_RETRIES):
        try:
            return _commit_batch(document_id, requests)
        except IntegrityError:
            # Another process took this version (or committed this very op) first: go again.
            logger.info("submit race on %s, retrying", document_id)
    return [MaxRetriesExceeded() for _ in requests]


def _context_query(
    document_key: Any, requests: list[SubmitRequest], start: int | None, end: int | None
) -> tuple[str, list[Any]]:
    """One statement: the role of each checked submitter (active members only), which of the
    batch's (src, seq) pairs are committed already (and where), and the ops from `start` (to
    `end`, or to the head when None; none when `start` is None)."""
    db = connection.ops
    membership, operation = Membership._meta.db_table, Operation._meta.db_table
    users = get_user_model()._meta.db_table
    parts: list[str] = []
    params: list[Any] = []
    user_ids = sorted(
        {r.user.pk for r in requests if r.check_access and getattr(r.user, "is_authenticated", False)}
    )
    text, big = "CAST(NULL AS TEXT)", "CAST(NULL AS BIGINT)"
    if user_ids:
        parts.append(
            f"SELECT 'r', CAST(m.user_id AS TEXT), m.role, {big}, {big}, {text}, {big}"
            f" FROM {db.quote_name(membership)} m JOIN {db.quote_name(users)} u ON u.id = m.user_id"
            f" WHERE m.document_id = %s AND u.is_active AND m.user_id IN ({', '.join(['%s'] * len(user_ids))})"
            + ("" if settings.COLLAB_GUEST_LINKS else " AND NOT m.via_link")  # as selectors.granting()
        )
        params += [document_key, *user_ids]
    pairs = sorted({(r.src, r.seq) for r in requests})
    parts.append(
        f"SELECT 'd', src, {text}, seq, version, {text}, {big} FROM {db.quote_name(operation)}"
        f" WHERE document_id = %s AND ({' OR '.join(['(src = %s AND seq = %s)'] * len(pairs))})"
    )
    params += [document_key, *(value for pair in pairs for value in pair)]
    if start is not None:
        parts.append(
            f"SELECT 'o', src, kind, seq, version, data, author_id FROM {db.quote_name(operation)}"
            " WHERE document_id = %s AND version >= %s" + ("" if end is None else " AND version < %s")
        )
        params += [document_key, start] + ([] if end is None else [end])
    return " UNION ALL ".join(parts), params


def _context_rows(
    document: Document, rows: list[tuple[Any, ...]], start: int
) -> tuple[dict[Any, str], dict[tuple[str, int], int], list[OpRecord] | None]:
    """The roles (by user id as text), the committed pairs, and the ops in [start, head) (None if
    some are no longer kept) from `_context_query`'s rows."""
    closed = document.editing_closed_at is not None
    roles: dict[Any, str] = {}
    done: dict[tuple[str, int], int] = {}
    ops: list[OpRecord] = []
    for tag, key, kind, seq, version, data, author_id in rows:
        if tag == "r":
            roles[key] = effective_role(kind, closed=closed)
        elif tag == "d":
            done[(key, int(seq))] = int(version)
        elif start <= version < document.version:
            ops.append(
                OpRecord(
                    document_id=str(document.pk),
                    version=int(version),
                    kind=kind,
                    data=None if data is None else json.loads(data),
                    src=key,
                    seq=int(seq),
                    author_id=author_id,
                )
            )
    ops.sort(key=lambda record: record.version)
    complete = len(ops) == document.version - start and (not ops or ops[0].version == start)
    return roles, done, ops if complete else None


def _context(
    document: Document, requests: list[SubmitRequest], start: int
) -> tuple[dict[Any, str], dict[tuple[str, int], int], list[OpRecord] | None]:
    """In one round trip, `_context_rows` for the locked document."""
    document_key = Document._meta.pk.get_db_prep_value(document.pk, connection)
    sql, params = _context_query(
        document_key, requests, start if start < document.version else None, document.version
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _context_rows(document, cursor.fetchall(), start)


_LOCK_SQL: str | None = None


def _lock_sql() -> str:
    """The ORM's SELECT ... FOR NO KEY UPDATE of one document, compiled once (its one parameter
    is the primary key)."""
    global _LOCK_SQL
    if _LOCK_SQL is None:
        query = Document.objects.select_for_update(no_key=True).filter(pk=uuid.UUID(int=0)).query
        sql, params = query.get_compiler(connection=connection).as_sql()
        assert len(params) == 1, params
        _LOCK_SQL = sql
    return _LOCK_SQL


def _lock_with_context(
    document_pk: uuid.UUID, requests: list[SubmitRequest], *, begin: bool
) -> tuple[Document | None, int, dict[Any, str], dict[tuple[str, int], int], list[OpRecord] | None]:
    """PostgreSQL: lock the document and read the batch's context in one round trip (two
    statements; the second's snapshot is taken once the lock is held, so it sees every op
    committed before), with `begin` the transaction's BEGIN too (see `_commit_batch`). Returns
    the document (None if missing), `start` and `_context_rows`."""
    document_key = Document._meta.pk.get_db_prep_value(document_pk, connection)
    bases = [r.base_version for r in requests if r.base_version is not None]
    sql, params = _context_query(document_key, requests, min(bases) if bases else None, None)
    with connection.cursor() as cursor:
        if begin:
            # psycopg would send its own BEGIN first, a round trip of its own: in autocommit
            # mode it sends none, and the transaction is the server's from this BEGIN to the
            # append's COMMIT (or the block's ROLLBACK; psycopg sends either whatever the mode).
            connection.connection.autocommit = True
            cursor.execute(f"BEGIN; {_lock_sql()}; {sql}", [document_key, *params])
            cursor.nextset()
        else:
            cursor.execute(f"{_lock_sql()}; {sql}", [document_key, *params])
        row = cursor.fetchone()
        cursor.nextset()
        rows = cursor.fetchall()
    if row is None:
        return None, 0, {}, {}, None
    document = Document.from_db(connection.alias, None, row)
    start = min((b for b in bases if b < document.version), default=document.version)
    return (document, start, *_context_rows(document, rows, start))


def _commit_batch(document_id: Any, requests: list[SubmitRequest]) -> list[SubmitResult | CollabError]:
    document_pk = selectors.parse_document_id(document_id)
    formats = any(_formats(r) for r in requests)
    with transaction.atomic():
        # The outermost transaction (the commit pipeline's) sends its BEGIN with the lock and its
        # COMMIT with the append: a batch is two round trips. Inside a caller's transaction,
        # that caller begins and commits.
        postgresql = connection.vendor == "postgresql"
        outermost = postgresql and len(connection.atomic_blocks) == 1
        # NO KEY UPDATE: visits and memberships referencing the row (FOR KEY SHARE) never wait.
        if postgresql and not formats:
            document, start, roles, done, committed = _lock_with_context(
                document_pk, requests, begin=outermost
            )
            if document is None:
                return [DocumentNotFound() for _ in requests]
        else:
            document = Document.objects.select_for_update(no_key=True).filter(pk=document_pk).first()
            if document is None:
                return [DocumentNotFound() for _ in requests]
            bases = [
                r.base_version
                for r in requests
                if r.base_version is not None and r.base_version < document.version
            ]
            start = min(bases, default=document.version)
            # A format op needs the text: read the ops since the kept text in the same round trip.
            kept = lines.kept_version(str(document.pk)) if formats else None
            wide = kept is not None and document.version - lines.MAX_CATCH_UP <= kept < start
            roles, done, committed = _context(document, requests, kept if wide else start)
            if wide and committed is None:  # compacted since: the kept text is rebuilt instead
                roles, done, committed = _context(document, requests, start)
        # Every op from the oldest base to the head, then this batch's own, indexed by version.
        # (Incomplete: each stale request then fails alone below.)
        log = {record.version: record for record in committed or []}
        outcomes: list[SubmitResult | CollabError] = []
        rows: list[Operation] = []
        records: list[OpRecord] = []
        head_at_start = document.version
        text = BatchText(document, log, committed_head=head_at_start)
        for request in requests:
            try:
                outcome = _commit_one(document, request, roles, done, log, start, text)
            except CollabError as error:
                outcomes.append(error)
                continue
            outcomes.append(outcome)
            if outcome.duplicate:
                continue
            record = log[outcome.version]
            records.append(record)
            done[(request.src, request.seq)] = record.version
            rows.append(
                Operation(
                    document=document,
                    version=record.version,
                    kind=record.kind,
                    data=record.data if record.kind != OperationKind.DELETE else None,
                    src=record.src,
                    seq=record.seq,
                    author_id=record.author_id,
                    restored_from=request.restored_from,
                )
            )
        if not rows:
            return outcomes
        _append(document, rows, commit=outermost)
        # Robust: once committed, the op is acked whatever the broadcast or the task queue say
        # (a lost broadcast is repaired by the sweep, a lost snapshot task by the beat task).
        transaction.on_commit(lambda: broadcast.publish_ops(records), robust=True)
        every = settings.COLLAB_SNAPSHOT_EVERY
        if document.version // every > head_at_start // every:
            pk, snapshot_version = str(document.pk), document.version

            def snapshot() -> None:
                _send_snapshot(pk, snapshot_version)

            # (An eager task runs right here: it reads the database, so it stays on this thread.)
            eager = settings.CELERY_TASK_ALWAYS_EAGER
            transaction.on_commit(
                snapshot if eager else lambda: handoff.run_or_hand_off(snapshot), robust=True
            )
        return outcomes


def _send_snapshot(document_id: str, version: int) -> None:
    from ..tasks import take_snapshot

    try:
        take_snapshot.delay(document_id, version)
    except Exception:  # The beat task snapshots whatever a lost task left behind.
        logger.warning("snapshot task for %s not sent", document_id, exc_info=True)


def _formats(request: SubmitRequest) -> bool:
    return request.kind == OperationKind.EDIT and needs_text(request.data)


ADVANCED_FIELDS = ["version", "length", "type", "deleted_at", "updated_at"]


def _append(document: Document, rows: list[Operation], *, commit: bool = False) -> None:
    """Insert the batch's ops and advance the document: on PostgreSQL in one statement, and with
    `commit` the COMMIT in the same round trip (the outermost block's exit then finds nothing left
    to commit; if the insert fails, the COMMIT never runs and the block rolls back)."""
    if connection.vendor != "postgresql":
        Operation.objects.bulk_create(rows)
        document.save(update_fields=ADVANCED_FIELDS)
        return
    db = connection.ops
    columns = [f for f in Operation._meta.concrete_fields if not f.primary_key]
    values = [[f.get_db_prep_save(f.pre_save(row, True), connection) for f in columns] for row in rows]
    advanced = [Document._meta.get_field(name) for name in ADVANCED_FIELDS]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"WITH appended AS (INSERT INTO {db.quote_name(Operation._meta.db_table)}"
        f" ({', '.join(db.quote_name(f.column) for f in columns)})"
        f" VALUES {', '.join([placeholders] * len(rows))} RETURNING 1)"
        f" UPDATE {db.quote_name(Document._meta.db_table)}"
        f" SET {', '.join(f'{db.quote_name(f.column)} = %s' for f in advanced)}"
        f" WHERE {db.quote_name(Document._meta.pk.column)} = %s" + ("; COMMIT" if commit else "")
    )
    params = [value for row in values for value in row]
    params += [f.get_db_prep_save(f.pre_save(document, False), connection) for f in advanced]
    params.append(Document._meta.pk.get_db_prep_value(document.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _ops_or_none(document_pk: Any, start: int, end: int) -> list[OpRecord]:
    try:
        return operations_between(document_id=document_pk, start=start, end=end)
    except OpsNotFound:
        return []  # Each stale request then fails alone below.


def _commit_one(
    document: Document,
    request: SubmitRequest,
    roles: dict[Any, str],
    done: dict[tuple[str, int], int],
    log: dict[int, OpRecord],
    start: int,
    text: BatchText,
) -> SubmitResult:
    """Authorize, de-duplicate and transform one request, and append it to `log` (not saved yet)."""
    kind = request.kind
    suggester = None  # the user id when a suggester submits
    if request.check_access:
        user_id = (
            getattr(request.user, "pk", None) if getattr(request.user, "is_authenticated", False) else None
        )
        role = roles.get(str(user_id))
        if role is None:
            raise DocumentNotFound()
        min_role = Role.OWNER if kind == OperationKind.DELETE else Role.EDITOR
        if kind == OperationKind.EDIT:
            min_role = Role.COMMENTER  # Below an editor, `suggestions.role_refusal` decides.
        if kind == OperationKind.CREATE and document.deleted_at is not None:
            min_role = Role.OWNER  # Only the owner may bring a deleted document back.
        if not role_allows(role, min_role):
            raise OpRejected(
                "Only the owner can delete this document."
                if kind == OperationKind.DELETE
                else "Only the owner can re-create a deleted document."
                if kind == OperationKind.CREATE
                else "You can view this document but not edit it."
            )
        if kind == OperationKind.EDIT and role in (Role.COMMENTER, Role.SUGGESTER):
            if reason := suggestions.role_refusal(
                request.data, author_id=user_id, may_suggest=role == Role.SUGGESTER
            ):
                raise OpRejected(reason)
            # What they may delete or mark depends on the text under it, once transformed.
            suggester = user_id if role == Role.SUGGESTER else None
    base_version = request.base_version
    existing = done.get((request.src, request.seq))
    if existing is not None:
        # A resend after a lost ack: acknowledge it again, never apply it twice.
        first = existing if base_version is None else min(base_version, existing)
        missing = [log[v] for v in range(first, existing) if v in log]
        if len(missing) != existing - first:
            missing = _ops_or_none(document.pk, first, existing)
        return SubmitResult(version=existing, missing=missing, duplicate=True)
    data = request.data
    if kind in (OperationKind.EDIT, OperationKind.CREATE):
        check_embeds(document=document, ops=data)
    if kind == OperationKind.CREATE:
        # ShareDB semantics: a create needs no base; it fails only if the document exists.
        if document.type:
            raise DocAlreadyCreated()
        base_version = document.version
    if base_version is None:
        base_version = document.version
    if base_version > document.version:
        raise VersionNewer()
    if base_version < start or any(v not in log for v in range(base_version, document.version)):
        raise OpsNotFound()
    missing = [log[v] for v in range(base_version, document.version)]
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
        try:
            check_keeps_final_newline(data, document.length)
            if needs_text(data):
                check_formats_fit(data, text.at_head())
        except InvalidDelta as exc:
            raise OpBadlyFormed(str(exc)) from None
        if suggester is not None and suggestions.needs_content(data):
            if reason := suggestions.content_refusal(data, text.content_at_head(), author_id=suggester):
                raise OpRejected(reason)
        new_length = document.length + rich_text.change_length(data)
        if new_length > settings.COLLAB_MAX_DOCUMENT_LENGTH:
            raise OpRejected("The document would exceed the maximum document length.")
        document.length = new_length
    elif kind == OperationKind.CREATE:
        document.type = RICH_TEXT_URI
        document.length = rich_text.length(data)
        document.deleted_at = None
    else:
        if not document.type:
            raise DocDoesNotExist()
        document.type = ""
        document.length = 0
        document.deleted_at = timezone.now()
    author = request.user if getattr(request.user, "is_authenticated", False) else None
    log[document.version] = OpRecord(
        document_id=str(document.pk),
        version=document.version,
        kind=kind,
        data=data if kind != OperationKind.DELETE else None,
        src=request.src,
        seq=request.seq,
        author_id=author.pk if author is not None else None,
    )
    document.version += 1
    return SubmitResult(version=document.version - 1, missing=missing)


def server_submit(
    *,
    user: Any,
    document_id: Any,
    kind: str,
    data: Any = None,
    base_version: int | None = None,
    check_access: bool = True,
    restored_from: int | None = None,
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
        check_access=check_access,
        restored_from=restored_from,
    )
