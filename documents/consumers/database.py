"""The consumer's database calls: services and selectors, each run in a worker thread."""

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from .. import protocol, selectors, services
from ..broadcast.hub import OpEvent
from ..errors import VersionNewer
from ..models import Document
from ..records import OpRecord, SnapshotData
from ..threads import in_thread
from .wire import prepared


@in_thread
def read_snapshot(user: Any, document_id: str, version: int | None = None) -> SnapshotData:
    document, _role = selectors.access_document(user=user, document_id=document_id)
    return selectors.snapshot_at(document=document, version=version)


@in_thread
def read_op_events(user: Any, document_id: str, start: int, limit: int | None = None) -> list[OpEvent]:
    """Ops from `start` to now (at most `limit`) with their frames, encoded and framed here so a
    long catch-up never blocks the event loop."""
    document, _role = selectors.access_document(user=user, document_id=document_id)
    if start > document.version:
        raise VersionNewer()
    end = document.version if limit is None else min(document.version, start + limit)
    rows = selectors.stored_ops_between(document_id=document.pk, start=start, end=end)
    events = [
        OpEvent(
            OpRecord(document_id, version, kind, None, src, seq),
            protocol.stored_op_frame(
                document_id=document_id, version=version, kind=kind, src=src, seq=seq, stored=stored
            ),
        )
        for version, kind, src, seq, stored in rows
    ]
    for event in events:
        prepared(event)
    return events


@in_thread
def read_snapshot_at_time(user: Any, document_id: str, timestamp_ms: int | None) -> SnapshotData:
    document, _role = selectors.access_document(user=user, document_id=document_id)
    moment = None if timestamp_ms is None else datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    version = selectors.version_at_time(document=document, timestamp=moment)
    return selectors.snapshot_at(document=document, version=version)


@in_thread
def check_access(user: Any, document_id: str) -> str:
    _document, role = selectors.access_document(user=user, document_id=document_id)
    return role


@in_thread
def claim_room(user: Any, document_id: str, channel_name: str) -> None:
    """Take a place in the document, or refuse the newcomer once it has its cap (on every process)."""
    cap = settings.COLLAB_MAX_CONNECTIONS_PER_DOCUMENT
    if cap:
        services.claim_visit(user=user, channel_name=channel_name, document_id=document_id, cap=cap)


@in_thread
def head_version(user: Any, document_id: str) -> int:
    document, _role = selectors.access_document(user=user, document_id=document_id)
    return int(document.version)


@in_thread
def ops_between(document_id: str, start: int, end: int) -> list[OpRecord]:
    return selectors.operations_between(document_id=document_id, start=start, end=end)


@in_thread
def record_visits(user: Any, channel_name: str, document_ids: list[str]) -> None:
    services.record_visits(user=user, channel_name=channel_name, document_ids=document_ids)


@in_thread
def end_visits(channel_name: str, document_ids: list[str] | None = None) -> None:
    services.end_visits(channel_name=channel_name, document_ids=document_ids)


@in_thread
def current_versions(document_ids: list[str]) -> dict[str, int]:
    rows = Document.objects.filter(pk__in=document_ids).values_list("pk", "version")
    return {str(pk): version for pk, version in rows}


@in_thread
def identity(user: Any) -> dict[str, Any]:
    return selectors.identity_of(user=user)
