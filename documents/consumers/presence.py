"""ShareDB doc presence (cursors): subscribe, relay with the sender's id, echo, transform to the
head version, clear on leave, and expire cursors whose server process died."""

import time
from typing import Any

from django.conf import settings

from .. import broadcast, protocol
from ..errors import PresenceBadlyFormed, VersionNewer
from ..ot import rich_text
from ..records import OpRecord
from . import database as db


def presence_ttl() -> float:
    """A remote cursor not confirmed for this long belongs to a dead server process."""
    return 3 * float(settings.COLLAB_SYNC_INTERVAL_SECONDS) + 5


def transform_range(value: dict[str, Any] | None, ops: list[OpRecord], own_src: str) -> dict[str, Any] | None:
    """Bring a presence range over ops committed after its version (None once the doc is gone)."""
    for record in ops:
        if value is None:
            break
        if record.kind != "edit":
            return None
        value = rich_text.transform_presence(value, record.data, record.src == own_src)
    return value


class PresenceMixin:
    """The presence half of the ShareDB consumer; state lives on the consumer (see `connect`)."""

    async def on_presence_subscribe(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_presence_channel(message.get("ch"))
        await db.check_access(self.user, document_id)
        self.presence_channels.add(document_id)
        await self._watch(document_id)
        self._send({"a": "ps", "ch": message["ch"], "seq": message.get("seq")})
        await broadcast.request_presence(
            document_id=document_id, channel=message["ch"], sender=self.channel_name
        )

    async def on_presence_unsubscribe(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_presence_channel(message.get("ch"))
        self.presence_channels.discard(document_id)
        for (doc, presence_id), pv in list(self.local_presence.items()):
            if doc == document_id:
                await self._clear_presence(doc, presence_id, pv)
        await self._unwatch_if_unused(document_id)
        self._send({"a": "pu", "ch": message["ch"], "seq": message.get("seq")})

    async def on_presence_request(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_presence_channel(message.get("ch"))
        if document_id not in self.presence_channels:
            raise PresenceBadlyFormed("Subscribe to the presence channel first.")
        self._resend_clears(document_id)
        await broadcast.request_presence(
            document_id=document_id, channel=message["ch"], sender=self.channel_name
        )

    def _resend_clears(self, document_id: str) -> None:
        """Send recent clears again, at this client's version.

        The sharedb client asks for everyone's presence when it holds one it cannot bring up to
        date: a clear that reached it while its document had already moved past the clear's
        version, before it was caching ops. A live cursor is answered by its owner; a departed
        one has no owner left to answer, so the server answers for it.
        """
        limit = time.monotonic() - presence_ttl()
        for key, (message, cleared) in list(self.cleared_presence.items()):
            if cleared < limit:
                del self.cleared_presence[key]
            elif key[0] == document_id:
                self._send(self._clear_at_our_version(message))

    def _remember_clear(self, key: tuple[str, str, str], message: dict[str, Any]) -> None:
        # Keyed like the client keys remote cursors, by presence id: a cursor back under a new
        # connection id replaces its clear.
        if len(self.cleared_presence) >= 64:
            del self.cleared_presence[next(iter(self.cleared_presence))]
        self.cleared_presence[(key[0], key[2])] = (message, time.monotonic())

    async def on_presence(self, message: dict[str, Any]) -> None:
        presence = protocol.parse_presence(message)
        if presence.document_id not in self.presence_channels:
            raise PresenceBadlyFormed("Subscribe to the presence channel first.")
        if self.presence_bucket.delay() > 0:
            return  # Over the rate: drop it; the next update carries the newer position.
        version, value = await self._to_head(presence)
        if value is not None:
            who = self.identity
            value = {**value, "name": who["name"], "user": who["id"]}  # (parse_presence kept only the range)
            if who["color"]:  # chosen on the profile; without one the page picks by the id
                value["color"] = who["color"]
        outgoing = protocol.presence_message(presence, src=self.src, version=version, value=value)
        key = (presence.document_id, presence.presence_id)
        if value is None:
            self.local_presence.pop(key, None)
        else:
            self.local_presence[key] = presence.pv
        self._send(outgoing)  # The echo is the sender's acknowledgement.
        await broadcast.publish_presence(
            document_id=presence.document_id, message=outgoing, sender=self.channel_name
        )

    async def _to_head(self, presence: protocol.Presence) -> tuple[int, dict[str, Any] | None]:
        """The range at the head version: from the hub's recent ops when it has them (no database
        read), refused when older than `COLLAB_MAX_PRESENCE_LAG` (bounded work per message)."""
        ops = self.hub.ops_since(presence.document_id, presence.version)
        if ops is not None:
            return presence.version + len(ops), transform_range(presence.value, ops, self.src)
        head = await db.head_version(self.user, presence.document_id)
        if presence.version > head:
            raise VersionNewer()
        if head - presence.version > settings.COLLAB_MAX_PRESENCE_LAG:
            raise PresenceBadlyFormed("That position is too old; send it again at the current version.")
        ops = await db.ops_between(presence.document_id, presence.version, head)
        return head, transform_range(presence.value, ops, self.src)

    async def _clear_presence(self, document_id: str, presence_id: str, pv: int) -> None:
        self.local_presence.pop((document_id, presence_id), None)
        message = protocol.presence_clear(
            document_id=document_id,
            src=self.src,
            presence_id=presence_id,
            pv=pv,
            version=await self._head(document_id),
        )
        await broadcast.publish_presence(document_id=document_id, message=message, sender=self.channel_name)

    async def _head(self, document_id: str) -> int:
        # The head version, so receivers apply a clear at once instead of treating it as stale.
        head = self.hub.head(document_id)
        if head is not None:
            return head
        heads = await db.current_versions([document_id])
        return heads.get(document_id, 0)

    # --- What the hub hands us --------------------------------------------------------------

    def presence_event(self, channel: str, event: dict[str, Any]) -> None:
        kind = event.get("k")
        if kind == "p":
            self._remote_presence(event["m"], event.get("from"))
        elif kind == "pa":
            self._presence_alive(channel[4:], event["src"], event["ids"])
        elif kind == "pr":
            document_id = channel[4:]
            if event.get("from") != self.channel_name and document_id in self.presence_channels:
                self._send({"a": "pr", "ch": event["ch"]})

    def _remote_presence(self, message: dict[str, Any], sender: Any) -> None:
        if sender == self.channel_name or message["d"] not in self.presence_channels:
            return
        if not self.hub.may_read(message["d"], self.user_id):
            return
        key = (message["d"], message["src"], message["id"])
        if message["p"] is None:
            self.remote_presence.pop(key, None)
            self._remember_clear(key, message)
            message = self._clear_at_our_version(message)
        else:
            self.remote_presence[key] = (message, time.monotonic())
            self.cleared_presence.pop((key[0], key[2]), None)
        self._send(message)

    def _clear_at_our_version(self, message: dict[str, Any]) -> dict[str, Any]:
        """A cleared cursor, stamped with the version this client has been sent.

        The sharedb client holds presence stamped with a version it has not reached, and cannot
        transform one older than its ops cache; a clear needs no transform, so it is stamped with
        exactly the client's version and applies at once.
        """
        subscription = self.subscriptions.get(message["d"])
        if subscription is not None and subscription.sent is not None:
            return {**message, "v": subscription.sent}
        return message

    def _presence_alive(self, document_id: str, src: str, ids: list[str]) -> None:
        """Another connection's cursors are still there, even if they have not moved."""
        now = time.monotonic()
        for presence_id in ids:
            key = (document_id, src, presence_id)
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
        for key in expired:
            message, _seen = self.remote_presence.pop(key)
            cleared = {**message, "p": None, "v": await self._head(key[0])}
            self._remember_clear(key, cleared)
            self._send(self._clear_at_our_version(cleared))
