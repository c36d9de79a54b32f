"""The only code that talks to the channel layer.

The layer is best-effort (channels-redis drops messages for full channels), so every op carries
its version and consumers repair gaps from the op log; nothing here is a source of truth.
"""

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .selectors import OpRecord

logger = logging.getLogger(__name__)


def document_group(document_id: Any) -> str:
    return f"doc.{document_id}"


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def _send_sync(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # A lost broadcast is repaired from the op log; never fail a commit on it.
        logger.exception("broadcast to %s failed", group)


def publish_op(record: OpRecord) -> None:
    """Tell every subscriber of the document about a committed op (call after commit)."""
    # As JSON text: the layer's msgpack cannot carry half of a surrogate pair, which an op may hold.
    payload = json.dumps(record.as_dict(), ensure_ascii=True)
    _send_sync(document_group(record.document_id), {"type": "doc.op", "record": payload})


def publish_access_changed_on_commit(*, document_id: Any, user_id: Any) -> None:
    event = {"type": "doc.access", "document_id": str(document_id), "user_id": user_id}
    transaction.on_commit(lambda: _send_sync(user_group(user_id), event))


def publish_document_access_changed_on_commit(*, document_id: Any) -> None:
    """Every connection on the document re-checks its access (owner change, delete, bulk edits)."""
    event = {"type": "doc.access", "document_id": str(document_id), "user_id": None}
    transaction.on_commit(lambda: _send_sync(document_group(document_id), event))


def publish_session_end(*, user_id: Any) -> None:
    _send_sync(user_group(user_id), {"type": "session.end"})


def publish_session_end_on_commit(*, user_id: Any) -> None:
    """Close every socket of the user (deactivated, deleted, password changed) once committed."""
    transaction.on_commit(lambda: publish_session_end(user_id=user_id))


async def join(channel_name: str, group: str) -> None:
    layer = get_channel_layer()
    await layer.group_add(group, channel_name)


async def leave(channel_name: str, group: str) -> None:
    layer = get_channel_layer()
    await layer.group_discard(group, channel_name)


async def publish_presence(*, document_id: str, message: dict[str, Any], sender: str) -> None:
    layer = get_channel_layer()
    await layer.group_send(
        document_group(document_id), {"type": "doc.presence", "message": message, "sender": sender}
    )


async def presence_alive(*, document_id: str, src: str, ids: list[str]) -> None:
    layer = get_channel_layer()
    await layer.group_send(
        document_group(document_id),
        {"type": "doc.presence_alive", "document_id": document_id, "src": src, "ids": ids},
    )


async def request_presence(*, document_id: str, channel: str, sender: str) -> None:
    """Ask every other subscriber to re-send its presence (someone joined or asked)."""
    layer = get_channel_layer()
    await layer.group_send(
        document_group(document_id), {"type": "doc.presence_request", "ch": channel, "sender": sender}
    )


async def poke(channel_name: str, event: dict[str, Any]) -> None:
    """Send an event to one consumer (its own periodic sync tick)."""
    layer = get_channel_layer()
    await layer.send(channel_name, event)
