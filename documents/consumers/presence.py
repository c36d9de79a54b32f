"""ShareDB doc presence (cursors): subscribe, relay with the sender's id, echo, transform to the
head version, clear on leave, and expire cursors whose server process died."""

import time
from typing import Any

from django.conf import settings

from .. import broadcast, protocol
from ..errors import PresenceBadlyFormed
from ..ot import rich_text
from . import database as db


def presence_ttl() -> float:
    """A remote cursor not confirmed for this long belongs to a dead server process."""
    return 3 * float(settings.COLLAB_SYNC_INTERVAL_SECONDS) + 5


class PresenceMixin:
    """The presence half of the ShareDB consumer; state lives on the consumer (see `connect`)."""

    async def handle_ps(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_channel(message.get("ch"))
        self._check_collection_doc(document_id)
        await db.check_access(self.user, document_id)
        await self._join(document_id)
        self.presence_channels.add(document_id)
        await self._send({"a": "ps", "ch": message["ch"], "seq": message.get("seq")})
        await broadcast.request_presence(
            document_id=document_id, channel=message["ch"], sender=self.channel_name
        )

    async def handle_pu(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_channel(message.get("ch"))
        self.presence_channels.discard(document_id)
        for (doc, presence_id), pv in list(self.local_presence.items()):
            if doc == document_id:
                await self._clear_presence(doc, presence_id, pv)
        await self._leave_if_unused(document_id)
        await self._send({"a": "pu", "ch": message["ch"], "seq": message.get("seq")})

    async def handle_pr(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_channel(message.get("ch"))
        if document_id not in self.presence_channels:
            raise PresenceBadlyFormed("Subscribe to the presence channel first.")
        await broadcast.request_presence(
            document_id=document_id, channel=message["ch"], sender=self.channel_name
        )

    async def handle_p(self, message: dict[str, Any]) -> None:
        presence = protocol.parse_presence(message)
        if presence.document_id not in self.presence_channels:
            raise PresenceBadlyFormed("Subscribe to the presence channel first.")
        if self.presence_bucket.delay() > 0:
            return  # Over the rate: drop it; the next update carries the newer position.
        version, value = await db.transform_presence(self.user, presence, self.src)
        if value is not None:
            value = {**value, "name": self.display_name, "user": self.user.pk}
        outgoing = protocol.presence_message(presence, src=self.src, version=version, value=value)
        key = (presence.document_id, presence.presence_id)
        if value is None:
            self.local_presence.pop(key, None)
        else:
            self.local_presence[key] = presence.pv
        await self._send(outgoing)  # The echo is the sender's acknowledgement.
        await broadcast.publish_presence(
            document_id=presence.document_id, message=outgoing, sender=self.channel_name
        )

    async def _clear_presence(self, document_id: str, presence_id: str, pv: int) -> None:
        self.local_presence.pop((document_id, presence_id), None)
        channel = f"{protocol.COLLECTION}.{document_id}"
        # The head version, so receivers apply the clear at once instead of treating it as stale.
        heads = await db.current_versions([document_id])
        message = {
            "a": "p",
            "ch": channel,
            "src": self.src,
            "id": presence_id,
            "p": None,
            "pv": pv,
            "c": protocol.COLLECTION,
            "d": document_id,
            "v": heads.get(document_id, 0),
            "t": rich_text.URI,
        }
        await broadcast.publish_presence(document_id=document_id, message=message, sender=self.channel_name)

    async def doc_presence(self, event: dict[str, Any]) -> None:
        message = event["message"]
        if event["sender"] == self.channel_name or message["d"] not in self.presence_channels:
            return
        key = (message["d"], message["src"], message["id"])
        if message["p"] is None:
            self.remote_presence.pop(key, None)
        else:
            self.remote_presence[key] = (message, time.monotonic())
        await self._send(message)

    async def doc_presence_alive(self, event: dict[str, Any]) -> None:
        """Another connection's cursors are still there, even if they have not moved."""
        now = time.monotonic()
        for presence_id in event["ids"]:
            key = (event["document_id"], event["src"], presence_id)
            if key in self.remote_presence:
                self.remote_presence[key] = (self.remote_presence[key][0], now)

    async def _presence_heartbeat(self) -> None:
        """Say our cursors are alive, and clear others' whose process died without clearing them."""
        mine: dict[str, list[str]] = {}
        for document_id, presence_id in self.local_presence:
            mine.setdefault(document_id, []).append(presence_id)
        for document_id, ids in mine.items():
            await broadcast.presence_alive(document_id=document_id, src=self.src, ids=ids)
        limit = time.monotonic() - presence_ttl()
        expired = [key for key, (_message, seen) in self.remote_presence.items() if seen < limit]
        if not expired:
            return
        heads = await db.current_versions(list({document_id for document_id, _src, _id in expired}))
        for key in expired:
            message, _seen = self.remote_presence.pop(key)
            await self._send({**message, "p": None, "v": heads.get(key[0], message["v"])})

    async def doc_presence_request(self, event: dict[str, Any]) -> None:
        document_id = protocol.parse_channel(event["ch"])
        if event["sender"] == self.channel_name or document_id not in self.presence_channels:
            return
        await self._send({"a": "pr", "ch": event["ch"]})
