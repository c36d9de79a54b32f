"""The only code that tells open connections what changed: ops, presence, access, comments, sessions.

Services call the `*_on_commit` helpers; consumers listen through the process's `Hub`
(`broadcast.hub.get_hub()`). Every event goes out as one pub/sub message per channel (Redis when
`REDIS_URL` is set, else this process only): each server process receives it once and hands it
to its local connections, so an op costs one message per process, not one per recipient.

Pub/sub is at-most-once: nothing here is a source of truth. Ops carry their versions, and each
process repairs gaps from the op log (see `Hub`).
"""

import json
import logging
import time
from typing import Any

from django.db import transaction

from .. import metrics
from ..records import OpRecord
from . import transport

logger = logging.getLogger(__name__)


def document_channel(document_id: Any) -> str:
    return f"doc:{document_id}"


def user_channel(user_id: Any) -> str:
    return f"user:{user_id}"


def encode(event: dict[str, Any]) -> str:
    # ASCII JSON: an op may hold half of a surrogate pair, which UTF-8 cannot carry.
    return json.dumps(event, ensure_ascii=True, separators=(",", ":"))


def _publish(channel: str, event: dict[str, Any]) -> None:
    try:
        transport.publish_sync(channel, encode(event))
    except Exception:  # A lost event is repaired from the database; never fail a commit on it.
        metrics.redis_errors.labels(where="publish").inc()
        logger.warning("publish to %s failed", channel, exc_info=True)


def publish_ops(records: list[OpRecord]) -> None:
    """Tell every process about ops committed together on one document (call after commit)."""
    if records:
        # "t": when it was published, for the broadcast latency metric.
        event = {"k": "ops", "r": [record.as_dict() for record in records], "t": time.time()}
        _publish(document_channel(records[0].document_id), event)


def publish_access_changed_on_commit(*, document_id: Any, user_id: Any) -> None:
    """The user's role on the document changed: their connections re-check it."""
    event = {"k": "access", "d": str(document_id), "u": user_id}
    transaction.on_commit(lambda: _publish(user_channel(user_id), event), robust=True)


def publish_document_access_changed_on_commit(*, document_id: Any) -> None:
    """Every connection on the document re-checks its access (owner change, delete, bulk edits)."""
    event = {"k": "access", "d": str(document_id), "u": None}
    transaction.on_commit(lambda: _publish(document_channel(document_id), event), robust=True)


def publish_title_on_commit(*, document_id: Any, title: str) -> None:
    """The document was renamed: every open editor shows the new title."""
    event = {"k": "title", "d": str(document_id), "title": title}
    transaction.on_commit(lambda: _publish(document_channel(document_id), event), robust=True)


def publish_trash_on_commit(*, document_id: Any, user_ids: list[Any], trashed: bool) -> None:
    """The document went to the trash or came back: each member's pages hear it on their user
    channel, since a trashed document's subscribers have been let go."""
    event = {"k": "trash", "d": str(document_id), "trashed": trashed}
    for user_id in user_ids:
        channel = user_channel(user_id)
        transaction.on_commit(lambda channel=channel: _publish(channel, event), robust=True)


def publish_comment_on_commit(*, document_id: Any, thread: dict[str, Any]) -> None:
    """A comment thread was opened, answered, edited, resolved or deleted: every editor shows it."""
    event = {"k": "comment", "d": str(document_id), "t": thread}
    transaction.on_commit(lambda: _publish(document_channel(document_id), event))


def publish_notification_on_commit(*, user_id: Any, unread: int) -> None:
    """The user's unread notification count changed: their open pages update the bell."""
    event = {"k": "notify", "n": unread}
    transaction.on_commit(lambda: _publish(user_channel(user_id), event))


def publish_session_end(*, user_id: Any) -> None:
    _publish(user_channel(user_id), {"k": "end"})


def publish_session_end_on_commit(*, user_id: Any) -> None:
    """Close every socket of the user (deactivated, deleted, password changed) once committed."""
    transaction.on_commit(lambda: publish_session_end(user_id=user_id), robust=True)


async def _publish_async(channel: str, event: dict[str, Any]) -> None:
    try:
        await transport.publish(channel, encode(event))
    except Exception:  # Presence is best-effort: the next move, or the heartbeat, sends it again.
        metrics.redis_errors.labels(where="publish").inc()
        logger.warning("publish to %s failed", channel, exc_info=True)


async def publish_presence(*, document_id: str, message: dict[str, Any], sender: str) -> None:
    await _publish_async(document_channel(document_id), {"k": "p", "m": message, "from": sender})


async def presence_alive(*, document_id: str, src: str, ids: list[str]) -> None:
    await _publish_async(document_channel(document_id), {"k": "pa", "src": src, "ids": ids})


async def request_presence(*, document_id: str, channel: str, sender: str) -> None:
    """Ask every other subscriber to re-send its presence (someone joined or asked)."""
    await _publish_async(document_channel(document_id), {"k": "pr", "ch": channel, "from": sender})
