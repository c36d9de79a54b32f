"""Reads: access checks, document lists, op ranges and snapshots at a version."""

import hashlib
import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from . import text
from .errors import DocumentNotFound, OpsNotFound, PermissionDenied, ValidationFailed, VersionNewer
from .models import (
    AuditEvent,
    CommentThread,
    Document,
    EmailInvitation,
    Guest,
    GuestLink,
    Invite,
    Membership,
    Image,
    Notification,
    Operation,
    OperationKind,
    Role,
    Snapshot,
    Visitor,
)
from .images import image_path
from .protocol import CANONICAL_ID
from .ot import rich_text
from .records import OpRecord, SnapshotData

ROLE_RANK = {
    Role.VIEWER: 1,
    Role.COMMENTER: 2,
    Role.SUGGESTER: 3,
    Role.EDITOR: 4,
    Role.OWNER: 5,
}


def parse_document_id(document_id: Any) -> uuid.UUID:
    """Parse a client-supplied id; anything but the canonical form is simply not found.

    `{...}`, `urn:uuid:...`, upper-case or undashed spellings name no document, over HTTP as on
    the socket (they would name other broadcast channels there).
    """
    if isinstance(document_id, uuid.UUID):
        return document_id
    if not isinstance(document_id, str) or not CANONICAL_ID.fullmatch(document_id):
        raise DocumentNotFound()
    return uuid.UUID(document_id)


def access_document(*, user: Any, document_id: Any, min_role: str = Role.VIEWER) -> tuple[Document, str]:
    """Return the document and the user's role, or raise the same error for missing and forbidden.

    A deleted document is not found either, so no read path serves its old content (the submit
    path reads roles itself, and lets the owner re-create one).
    """
    doc_uuid = parse_document_id(document_id)
    if not getattr(user, "is_authenticated", False):
        raise DocumentNotFound()
    memberships = Membership.objects.select_related("document").filter(
        granting(), document_id=doc_uuid, user=user, document__deleted_at__isnull=True
    )
    membership = memberships.first()
    if membership is None:
        raise DocumentNotFound()
    role = effective_role(membership.role, closed=membership.document.editing_closed_at is not None)
    if ROLE_RANK[Role(role)] < ROLE_RANK[Role(min_role)]:
        if role != membership.role:
            raise PermissionDenied("An operator has closed this document to editing for now.")
        raise PermissionDenied(f"This needs the {min_role} role; you are a {role}.")
    return membership.document, role


def granting() -> Q:
    """The memberships that grant access now: an inactive account's grant nothing (the row is
    read, not a user object loaded earlier, such as a socket's at connect), and with guest links
    switched off site-wide (COLLAB_GUEST_LINKS) neither do those that came through one."""
    active = Q(user__is_active=True)
    return active if settings.COLLAB_GUEST_LINKS else active & Q(via_link=False)


def live_guest_link(*, token: Any) -> GuestLink | None:
    """The guest link behind a token, if the site allows them and its document is not deleted."""
    if not settings.COLLAB_GUEST_LINKS or not isinstance(token, str) or not token or len(token) > 64:
        return None
    return (
        GuestLink.objects.select_related("document", "document__owner")
        .filter(token=token, document__deleted_at__isnull=True)
        .first()
    )


def guest_document_id(*, user: Any) -> uuid.UUID | None:
    """The one document a guest account may use, or None for everyone else."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Guest.objects.filter(user_id=user.pk).values_list("document_id", flat=True).first()


def identity_of(*, user: Any) -> dict[str, Any]:
    """Who someone is to their collaborators: one shape for the page, the socket and presence.

    `color` is their chosen "#rrggbb" or "" (the page picks one from the id); `guest` says they
    came through a guest link without an account.
    """
    from django.contrib.auth import get_user_model

    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list("profile__color", "guest__document_id")
        .first()
    )
    color, guest_of = row if row is not None else ("", None)
    return {
        "id": user.pk,
        "name": user.get_full_name() or user.get_username(),
        "color": color or "",
        "guest": guest_of is not None,
    }


def effective_role(role: str, *, closed: bool) -> str:
    """A member's role on a document; an operator's closing makes everyone a viewer until reopened."""
    return Role.VIEWER.value if closed else role


def operator_document(*, operator: Any, document_id: Any) -> Document:
    """Staff act on any document from the admin, deleted ones included; others never do."""
    if not getattr(operator, "is_staff", False):
        raise PermissionDenied("Only staff can change documents they are not members of.")
    document = Document.objects.filter(pk=parse_document_id(document_id)).first()
    if document is None:
        raise DocumentNotFound()
    return document


def role_allows(role: str, min_role: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(min_role)]


def role_on(*, user: Any, document_id: Any) -> str | None:
    """The user's role on a live document, or None."""
    try:
        return access_document(user=user, document_id=document_id)[1]
    except DocumentNotFound:
        return None


def live_invite(*, token: Any) -> Invite | None:
    """The invite behind a link, if it is neither revoked nor for a deleted document."""
    if not isinstance(token, str) or len(token) > 64:
        return None
    return (
        Invite.objects.select_related("document", "document__owner")
        .filter(token=token, revoked_at__isnull=True, document__deleted_at__isnull=True)
        .first()
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_email_invitation(*, token: Any) -> EmailInvitation | None:
    """The invitation behind an emailed link: unused, unexpired, unrevoked, document not deleted."""
    if not isinstance(token, str) or not token or len(token) > 64:
        return None
    return (
        EmailInvitation.objects.select_related("document", "document__owner")
        .filter(
            token_hash=token_hash(token),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            document__deleted_at__isnull=True,
        )
        .first()
    )


def pending_invitations(*, document: Document) -> QuerySet[EmailInvitation]:
    """Invitations of a document still waiting for their invitee (not expired, used or revoked)."""
    return document.email_invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("created_at")


def documents_for_user(*, user: Any, search: str = "") -> QuerySet[Membership]:
    """Memberships of documents the user can open, newest first."""
    qs = (
        Membership.objects.filter(granting(), user=user, document__deleted_at__isnull=True)
        .select_related("document", "document__owner")
        .order_by("-document__updated_at")
    )
    if search:
        if not text.is_plain(search):
            raise ValidationFailed("The search must not contain control characters.")
        qs = qs.filter(document__title__icontains=search)
    return qs


def trashed_documents(*, user: Any) -> QuerySet[Document]:
    """The user's own documents in the trash, most recently deleted first: the trash view."""
    if not getattr(user, "is_authenticated", False):
        return Document.objects.none()
    return Document.objects.filter(owner=user, deleted_at__isnull=False).order_by("-deleted_at")


def trashed_document(*, user: Any, document_id: Any) -> Document:
    """One of the user's own documents in the trash; anything else is simply not found."""
    document = trashed_documents(user=user).filter(pk=parse_document_id(document_id)).first()
    if document is None:
        raise DocumentNotFound()
    return document


def trash_expires_at(document: Document) -> datetime | None:
    """When the trash task purges this trashed document (None: it stays until restored)."""
    from datetime import timedelta

    days = settings.COLLAB_TRASH_DAYS
    if document.deleted_at is None or days <= 0:
        return None
    return document.deleted_at + timedelta(days=days)


def invitable_people(*, document: Document, limit: int = 200) -> list[Any]:
    """People the owner could call into a document: those they already share another document
    of theirs with (named members, no guests), who are not in this one. Nobody else is listed,
    so the `@` picker reveals no account the owner did not already know."""
    from django.contrib.auth import get_user_model

    here = document.memberships.values_list("user_id", flat=True)
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__via_link=False,
            memberships__document__owner_id=document.owner_id,
            memberships__document__deleted_at__isnull=True,
        )
        .exclude(pk__in=here)
        .distinct()
        .order_by("username")[:limit]
    )


def members_of(*, document: Document) -> QuerySet[Membership]:
    """The people given access by name; those who came through the guest link are counted apart."""
    return document.memberships.filter(via_link=False).select_related("user").order_by("created_at")


def operations_between(*, document_id: Any, start: int, end: int) -> list[OpRecord]:
    """Ops with start <= version < end, in order; raise if any of them is no longer kept."""
    if end <= start:
        return []
    ops = list(
        Operation.objects.filter(document_id=document_id, version__gte=start, version__lt=end)
        .order_by("version")
        .only("document_id", "version", "kind", "data", "src", "seq", "author_id")
    )
    if len(ops) != end - start or (ops and ops[0].version != start):
        raise OpsNotFound()
    return [OpRecord.from_model(op) for op in ops]


def stored_ops_between(
    *, document_id: Any, start: int, end: int
) -> list[tuple[int, str, str, int, str | None]]:
    """Ops with start <= version < end as stored: (version, kind, src, seq, delta as JSON text).

    For catch-up, which sends ops on as they are: no decoding and re-encoding of every delta.
    """
    if end <= start:
        return []
    rows = list(
        Operation.objects.filter(document_id=document_id, version__gte=start, version__lt=end)
        .order_by("version")
        .annotate(stored=Cast("data", output_field=TextField()))
        .values_list("version", "kind", "src", "seq", "stored")
    )
    if len(rows) != end - start or (rows and rows[0][0] != start):
        raise OpsNotFound()
    return rows


def authored(ops: list[dict[str, Any]], author_id: int | None) -> list[dict[str, Any]]:
    """An op's effect on authorship: its inserts attributed to the author, formats dropped."""
    result: list[dict[str, Any]] = []
    for op in ops:
        if "insert" in op:
            result.append({"insert": op["insert"], "attributes": {"author": author_id}})
        elif "retain" in op:
            result.append({"retain": op["retain"]})
        else:
            result.append(op)
    return result


def apply_record(state: SnapshotData, record: OpRecord) -> SnapshotData:
    """Advance a snapshot (and its authorship, when tracked) by one committed op."""
    track = state.authorship is not None
    if record.kind == OperationKind.CREATE:
        content = rich_text.create(record.data)
        authorship = authored(content, record.author_id) if track else None
        return SnapshotData(record.version + 1, rich_text.URI, content, authorship)
    if record.kind == OperationKind.DELETE:
        return SnapshotData(record.version + 1, "", None, [] if track else None)
    if not state.type:
        return SnapshotData(record.version + 1, state.type, None, state.authorship)
    content = rich_text.apply(state.content or [], record.data)
    authorship = (
        rich_text.compose(state.authorship or [], authored(record.data, record.author_id)) if track else None
    )
    return SnapshotData(record.version + 1, state.type, content, authorship)


def snapshot_at(
    *, document: Document, version: int | None = None, with_authorship: bool = False
) -> SnapshotData:
    """The document at `version` (default: now) from the nearest stored snapshot plus later ops.

    A document at a version never changes, so recent results are kept: a thousand people opening
    the same document build it once.
    """
    target = document.version if version is None else version
    if target > document.version:
        raise VersionNewer()
    if not with_authorship:
        key = (str(document.pk), target)
        with _snapshot_lock:
            cached = _snapshots.get(key)
            if cached is not None:
                _snapshots.move_to_end(key)
                return cached
        state = _build_snapshot(document=document, target=target, with_authorship=False)
        with _snapshot_lock:
            _snapshots[key] = state
            while len(_snapshots) > SNAPSHOT_CACHE_SIZE:
                _snapshots.popitem(last=False)
        return state
    return _build_snapshot(document=document, target=target, with_authorship=True)


# (document id, version) -> the document then; shared by the threads of a process.
SNAPSHOT_CACHE_SIZE = 64
_snapshots: "OrderedDict[tuple[str, int], SnapshotData]" = OrderedDict()
_snapshot_lock = threading.Lock()


def _build_snapshot(*, document: Document, target: int, with_authorship: bool) -> SnapshotData:
    snapshots = Snapshot.objects.filter(document=document, version__lte=target)
    if with_authorship:
        snapshots = snapshots.filter(authorship__isnull=False)
    base = snapshots.order_by("-version").only("version", "type", "content", "authorship").first()
    if base is not None:
        state = SnapshotData(
            base.version, base.type, base.content, base.authorship if with_authorship else None
        )
    else:
        state = SnapshotData(0, "", None, [] if with_authorship else None)
    for record in operations_between(document_id=document.pk, start=state.version, end=target):
        state = apply_record(state, record)
    return state


def history_sessions(
    *,
    document: Document,
    before_version: int | None = None,
    limit: int = 50,
    gap_seconds: int = 300,
    max_scan: int = 5000,
) -> tuple[list[dict[str, Any]], int | None]:
    """Revisions grouped into editing sessions, newest first, and a cursor for the next page.

    A session is a run of ops by one author with no pause longer than `gap_seconds`. Ops are
    streamed from the database newest first and at most `max_scan` are read per page, so a long
    history is never loaded at once.
    """
    end = document.version if before_version is None else min(before_version, document.version)
    rows = (
        Operation.objects.filter(document=document, version__lt=end)
        .order_by("-version")
        .values_list(
            "version",
            "kind",
            "data",
            "author_id",
            "author__username",
            "author__first_name",
            "author__last_name",
            "author__profile__color",
            "created_at",
            "restored_from",
            "review",
        )
    )
    sessions: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    scanned = 0
    next_cursor: int | None = None
    for (
        version,
        kind,
        data,
        author_id,
        username,
        first,
        last,
        color,
        created_at,
        restored_from,
        review,
    ) in rows.iterator(chunk_size=500):
        if scanned >= max_scan or (len(sessions) >= limit and current is None):
            next_cursor = version + 1
            break
        scanned += 1
        inserted = deleted = 0
        if kind == OperationKind.EDIT:
            for op in data or []:
                if "insert" in op:
                    inserted += rich_text.length([op])
                elif "delete" in op:
                    deleted += op["delete"]
        elif kind == OperationKind.CREATE:
            inserted = rich_text.length(data or [])
        # A restore is a session of its own, so the timeline can say what it restored.
        same = (
            current is not None
            and current["author"]["id"] == author_id
            and (current["start"] - created_at).total_seconds() <= gap_seconds
            and kind == OperationKind.EDIT
            and current["kinds"] == {OperationKind.EDIT}
            and restored_from is None
            and current["restored_from"] is None
            and review is None
            and current["review"] is None
        )
        if not same:
            if current is not None:
                sessions.append(current)
                if len(sessions) >= limit:
                    current = None
                    next_cursor = version + 1
                    break
            current = {
                "author": {
                    "id": author_id,
                    "username": username,
                    "name": f"{first} {last}".strip() or username,
                    "color": color or "",
                },
                "restored_from": restored_from,
                # An accept or reject is a session of its own too: who accepted what.
                "review": review,
                "start": created_at,
                "end": created_at,
                "from_version": version,
                "to_version": version + 1,
                "ops": 0,
                "inserted": 0,
                "deleted": 0,
                "kinds": set(),
            }
        assert current is not None
        current["start"] = created_at
        current["from_version"] = version
        current["ops"] += 1
        current["inserted"] += inserted
        current["deleted"] += deleted
        current["kinds"].add(kind)
    if current is not None:
        sessions.append(current)
    for session in sessions:
        kinds = session.pop("kinds")
        session["kind"] = next(iter(kinds)) if len(kinds) == 1 else OperationKind.EDIT
        if session["restored_from"] is not None:
            session["kind"] = "restore"
        if session["review"] is not None:
            session["kind"] = "review"
    _name_reviewed_authors(sessions)
    return sessions, next_cursor


def _name_reviewed_authors(sessions: list[dict[str, Any]]) -> None:
    """Turn each review's {author id: count} into [{"id", "name", "count"}], one query for all."""
    from django.contrib.auth import get_user_model

    ids = {
        int(i) for s in sessions if s["review"] for part in s["review"].values() for i in part if i.isdigit()
    }
    names = {user.pk: _display_name(user) for user in get_user_model().objects.filter(pk__in=ids)}
    for session in sessions:
        if session["review"]:
            session["review"] = {
                outcome: [
                    {"id": int(i), "name": names.get(int(i), "A former member"), "count": n}
                    for i, n in sorted(part.items())
                    if i.isdigit()
                ]
                for outcome, part in session["review"].items()
            }


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


def visitors_of(*, document_ids: list[Any], within_seconds: float) -> dict[str, list[dict[str, Any]]]:
    """Users with a live connection to each document (seen within `within_seconds`)."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(seconds=within_seconds)
    rows = (
        Visitor.objects.filter(document_id__in=document_ids, last_seen__gte=since)
        .values_list("document_id", "user_id", "user__username", "user__first_name", "user__last_name")
        .distinct()
    )
    result: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, int]] = set()
    for document_id, user_id, username, first, last in rows:
        key = (str(document_id), user_id)
        if key in seen:
            continue
        seen.add(key)
        name = f"{first} {last}".strip() or username
        result.setdefault(str(document_id), []).append({"id": user_id, "username": username, "name": name})
    return result


def visitor_ttl() -> float:
    """How long a connection counts as present without a refresh: a few sync ticks."""
    from django.conf import settings

    return 3 * float(settings.COLLAB_SYNC_INTERVAL_SECONDS) + 5


def heads_and_stamps(*, document_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Each document's version and access stamp (`services.access`); a purged one is absent."""
    rows = Document.objects.filter(pk__in=document_ids).values_list("pk", "version", "access_stamp")
    return {str(pk): (version, stamp) for pk, version, stamp in rows}


def readers_roles(*, document_ids: list[str], user_ids: list[Any]) -> dict[str, dict[Any, str]]:
    """The role of each of these users who may still read each document.

    A deleted document, an inactive user or a removed member has no role.
    """
    roles: dict[str, dict[Any, str]] = {str(document_id): {} for document_id in document_ids}
    rows = Membership.objects.filter(
        granting(),
        document_id__in=document_ids,
        user_id__in=user_ids,
        document__deleted_at__isnull=True,
    ).values_list("document_id", "user_id", "role", "document__editing_closed_at")
    for document_id, user_id, role, closed_at in rows:
        roles.setdefault(str(document_id), {})[user_id] = effective_role(role, closed=closed_at is not None)
    return roles


def thread_data(thread: CommentThread) -> dict[str, Any]:
    """A thread as the page and the API show it: its comments, authors by name, resolved state."""
    comments = ordered_comments(thread)
    return {
        "id": thread.pk.hex,
        "quote": thread.quote,
        "resolved": thread.resolved_at is not None,
        "resolved_by": _display_name(thread.resolved_by) if thread.resolved_by_id else None,
        "created_at": thread.created_at.isoformat(),
        "comments": [
            {
                "id": comment.pk,
                "author_id": comment.author_id,
                "author": _display_name(comment.author),
                "body": comment.body,
                "created_at": comment.created_at.isoformat(),
                "edited": comment.edited_at is not None,
            }
            for comment in comments
        ],
    }


def threads_of(*, user: Any, document_id: Any) -> list[dict[str, Any]]:
    """Every thread of a document the user can read, oldest first."""
    document, _role = access_document(user=user, document_id=document_id)
    threads = document.comment_threads.select_related("resolved_by").prefetch_related("comments__author")
    return [thread_data(thread) for thread in threads]


def thread_notes(*, document: Document) -> dict[str, list[tuple[str, str]]]:
    """Each open thread's comments as (author, body), for footnotes in an export."""
    threads = document.comment_threads.filter(resolved_at__isnull=True).prefetch_related("comments__author")
    return {
        thread.pk.hex: [(_display_name(c.author), c.body) for c in ordered_comments(thread)]
        for thread in threads
    }


def ordered_comments(thread: CommentThread) -> list[Any]:
    """A thread's comments in order; sorted here, so a prefetched list needs no query per thread."""
    return sorted(thread.comments.all(), key=lambda comment: (comment.created_at, comment.pk))


def _display_name(user: Any) -> str:
    if user is None:
        return "Deleted user"
    return user.get_full_name() or user.get_username()


def readable_notifications(user_id: Any) -> QuerySet[Notification]:
    """The user's notifications on documents they can still read (nothing else is ever shown)."""
    return Notification.objects.filter(
        user_id=user_id,
        document__deleted_at__isnull=True,
        document__memberships__user_id=user_id,
        user__is_active=True,
    )


def notifications_of(*, user: Any, limit: int = 30) -> dict[str, Any]:
    """The user's latest notifications on documents they can still read, and the unread count."""
    rows = (
        readable_notifications(user.pk)
        .select_related("document", "comment__author", "comment__thread")
        .order_by("-created_at", "-pk")
        .distinct()[:limit]
    )
    return {
        "unread": readable_notifications(user.pk).filter(read_at__isnull=True).count(),
        "notifications": [
            {
                "id": row.pk,
                "reason": row.reason,
                "document": {"id": str(row.document_id), "title": row.document.title},
                "thread": row.comment.thread_id.hex,
                "author": _display_name(row.comment.author),
                "excerpt": row.comment.body[:200],
                "created_at": row.created_at.isoformat(),
                "read": row.read_at is not None,
            }
            for row in rows
        ],
    }


AUDIT_PAGE = 500


def audit_events(*, document: Document, limit: int = AUDIT_PAGE) -> list[AuditEvent]:
    """The document's audit log, newest first (the caller has checked the user owns it)."""
    return list(AuditEvent.objects.filter(document=document)[:limit])


def live_connections(*, document_id: Any, excluding: str) -> int:
    """Connections that have the document open now, on every process (from their visits)."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(seconds=visitor_ttl())
    visits = Visitor.objects.filter(document_id=document_id, last_seen__gte=since)
    return visits.exclude(channel_name=excluding).count()


def live_documents(*, within_seconds: float) -> list[dict[str, Any]]:
    """Documents open right now (on any process), with who is in each, ops in the last minute
    and the last snapshot: the staff's live view. Three grouped queries, whatever the count."""
    from datetime import timedelta

    from django.db.models import Count, Max
    from django.utils import timezone

    now = timezone.now()
    open_ids = list(
        Visitor.objects.filter(last_seen__gte=now - timedelta(seconds=within_seconds))
        .values_list("document_id", flat=True)
        .distinct()
    )
    people = visitors_of(document_ids=open_ids, within_seconds=within_seconds)
    ops = dict(
        Operation.objects.filter(document_id__in=open_ids, created_at__gte=now - timedelta(minutes=1))
        .values_list("document_id")
        .annotate(n=Count("id"))
        .values_list("document_id", "n")
    )
    snapshots = {
        row["document_id"]: row
        for row in Snapshot.objects.filter(document_id__in=open_ids)
        .values("document_id")
        .annotate(version=Max("version"), at=Max("created_at"))
    }
    rows = [
        {
            "document": document,
            "people": people.get(str(document.pk), []),
            "ops_last_minute": ops.get(document.pk, 0),
            "last_snapshot": snapshots.get(document.pk),
        }
        for document in Document.objects.filter(pk__in=open_ids)
    ]
    return sorted(rows, key=lambda row: (-row["ops_last_minute"], row["document"].title))


def signed_in_sessions(*, sessions: dict[str, Any]) -> set[str]:
    """Of these session keys (each with the id of the user it signed in), those still signed in
    as that user: unexpired, the user active, the password unchanged (its auth hash). Two queries
    for all the connections of a server process, where Channels' `get_user` costs two each."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import constant_time_compare

    if not sessions:
        return set()
    rows = Session.objects.filter(session_key__in=list(sessions), expire_date__gt=timezone.now())
    users = {
        str(user.pk): user
        for user in get_user_model().objects.filter(pk__in=set(sessions.values()), is_active=True)
    }
    store, valid = SessionStore(), set()
    for key, data in rows.values_list("session_key", "session_data"):
        decoded = store.decode(data)
        user = users.get(str(sessions[key]))
        if user is None or str(decoded.get(SESSION_KEY)) != str(user.pk):
            continue
        stored = str(decoded.get(HASH_SESSION_KEY, ""))
        hashes = [user.get_session_auth_hash()] + [
            user._get_session_auth_hash(secret=secret) for secret in settings.SECRET_KEY_FALLBACKS
        ]
        if any(constant_time_compare(stored, expected) for expected in hashes):
            valid.add(key)
    return valid


def image_of(*, document: Document, image_id: Any) -> Image:
    """A stored image of this document; another document's, or none, is not found."""
    if not isinstance(image_id, str) or len(image_id) != 32:
        raise DocumentNotFound()
    image = Image.objects.filter(document=document, pk=image_id).first()
    if image is None:
        raise DocumentNotFound()
    return image


def images_by_path(*, document: Document) -> dict[str, Image]:
    """The document's stored images by their embed value (for exports)."""
    return {image_path(document_id=document.pk, image_id=image.pk): image for image in document.images.all()}


# What the sign-in middleware keeps in each session for the profile's list (documents.accounts).
SESSION_DEVICE_KEY = "collab_device"
SESSION_SEEN_KEY = "collab_seen"


def session_public_id(session_key: str) -> str:
    """A session's name on the profile page and in events: never the key itself, which signs in."""
    return hashlib.sha256(f"collab-session:{session_key}".encode()).hexdigest()[:24]


def sessions_list(*, user_id: Any, current_key: str | None) -> list[dict[str, Any]]:
    """The account's live sessions for its profile: device, last seen, which one is this one.

    This one first, then the most recently seen."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    rows = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if data.get(SESSION_KEY) != str(user_id):
            continue
        seen = data.get(SESSION_SEEN_KEY)
        rows.append(
            {
                "id": session_public_id(session.session_key),
                "device": data.get(SESSION_DEVICE_KEY) or "An unknown browser",
                "last_seen": datetime.fromtimestamp(seen, tz=UTC) if isinstance(seen, int | float) else None,
                "current": session.session_key == current_key,
            }
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(rows, key=lambda row: (not row["current"], -(row["last_seen"] or epoch).timestamp()))
