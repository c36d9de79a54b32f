"""The ShareDB-protocol WebSocket consumer: parse, authorize, call a service, send.

One consumer is one browser connection, possibly multiplexing several documents. Messages are
handled one at a time, so replies (catch-up ops, then the ack) go out in order.
"""

import asyncio
import json
import logging
import time
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from .. import broadcast, protocol, selectors
from ..errors import (
    CollabError,
    DocumentNotFound,
    MessageBadlyFormed,
    NotSupported,
    OpRejected,
    OpsNotFound,
    TooManySubscriptions,
    VersionNewer,
)
from ..selectors import OpRecord
from . import database as db
from .presence import PresenceMixin

logger = logging.getLogger(__name__)

# Close codes (documented in docs/protocol.md).
CLOSE_SESSION_ENDED = 4401
CLOSE_BAD_FRAME = 1007
CLOSE_UNSUPPORTED_DATA = 1003


class TokenBucket:
    """Allow `rate` events per second with bursts of `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def delay(self) -> float:
        """Take a token; return how long the caller should wait for it (0 if none)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class ShareDBConsumer(PresenceMixin, AsyncWebsocketConsumer):
    """Speaks the ShareDB wire protocol for the `documents` collection."""

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            # Accept-then-close lets the page tell "signed out" from a network failure.
            await self.close(code=CLOSE_SESSION_ENDED)
            return
        self.src = protocol.issue_src(self.user.pk)
        self.display_name = self.user.get_full_name() or self.user.get_username()
        # doc id -> the next version this client is known to have been sent.
        self.subscribed: dict[str, int] = {}
        self.presence_channels: set[str] = set()
        # (doc id, presence id) -> last pv this connection sent there.
        self.local_presence: dict[tuple[str, str], int] = {}
        self.joined: set[str] = set()
        # Others' cursors relayed to this client: (doc id, src, presence id) -> last message, when.
        self.remote_presence: dict[tuple[str, str, str], tuple[dict[str, Any], float]] = {}
        self.op_bucket = TokenBucket(settings.COLLAB_OP_RATE, settings.COLLAB_OP_BURST)
        self.presence_bucket = TokenBucket(settings.COLLAB_PRESENCE_RATE, settings.COLLAB_PRESENCE_BURST)
        await broadcast.join(self.channel_name, broadcast.user_group(self.user.pk))
        self.ticker = asyncio.ensure_future(self._tick_forever())

    async def disconnect(self, code: int) -> None:
        if getattr(self, "ticker", None) is not None:
            self.ticker.cancel()
        if self.user is None or not self.user.is_authenticated or not hasattr(self, "src"):
            return
        try:
            if self.subscribed:
                await db.end_visits(self.channel_name)
            for (document_id, presence_id), pv in list(self.local_presence.items()):
                await self._clear_presence(document_id, presence_id, pv)
            for document_id in list(self.joined):
                await broadcast.leave(self.channel_name, broadcast.document_group(document_id))
            await broadcast.leave(self.channel_name, broadcast.user_group(self.user.pk))
        except Exception:  # Shutdown may cancel us midway; stale memberships expire on their own.
            logger.info("cleanup after disconnect did not finish", exc_info=True)

    # --- Frames ---------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "src"):
            return
        if text_data is None:
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        oversized = len(text_data) > settings.COLLAB_MAX_MESSAGE_BYTES
        try:
            message = protocol.parse_frame(text_data)
        except MessageBadlyFormed as error:
            await self._send(protocol.error_reply(None, error))
            await self.close(code=CLOSE_BAD_FRAME)
            return
        if oversized:
            # A soft reject: the client rolls the op back instead of resending it forever.
            limit = settings.COLLAB_MAX_MESSAGE_BYTES
            error_type = OpRejected if message.get("a") == "op" else MessageBadlyFormed
            await self._send(
                protocol.error_reply(message, error_type(f"The message is larger than {limit} bytes."))
            )
            return
        try:
            action = protocol.parse_action(message)
            await getattr(self, "handle_" + action)(message)
        except CollabError as error:
            await self._send(protocol.error_reply(message, error))
        except Exception:
            logger.exception("unexpected error handling %r", message.get("a"))
            await self._send(protocol.error_reply(message, CollabError("Internal error.")))

    async def _send(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, separators=(",", ":")))

    # --- Handshake and ping ---------------------------------------------------------------

    async def handle_hs(self, message: dict[str, Any]) -> None:
        requested = message.get("id")
        # Keep a returning client's id only if it was issued to this same user.
        if requested != self.src and protocol.src_belongs_to(requested, self.user.pk):
            self.src = requested
        await self._send(protocol.handshake_reply(self.src))

    async def handle_pp(self, message: dict[str, Any]) -> None:
        await self._send({"a": "pp"})

    async def handle_qf(self, message: dict[str, Any]) -> None:
        raise NotSupported("Queries are not supported; list documents with GET /api/documents/.")

    handle_qs = handle_qu = handle_qf

    # --- Fetch and subscribe --------------------------------------------------------------

    async def handle_f(self, message: dict[str, Any]) -> None:
        await self._fetch_or_subscribe(message, subscribe=False)

    async def handle_s(self, message: dict[str, Any]) -> None:
        await self._fetch_or_subscribe(message, subscribe=True)

    async def _fetch_or_subscribe(self, message: dict[str, Any], *, subscribe: bool) -> None:
        document_id = protocol.parse_doc_ref(message)
        version = protocol.parse_version(message.get("v"))
        reply = {"a": message["a"], "c": message["c"], "d": document_id}
        data = await self._load_one(document_id, version, subscribe=subscribe)
        if data is not None:
            reply["data"] = data
        await self._send(reply)

    async def _load_one(
        self, document_id: str, version: int | None, *, subscribe: bool
    ) -> dict[str, Any] | None:
        """Send catch-up ops (versioned) or return snapshot data (unversioned); join if subscribing."""
        self._check_collection_doc(document_id)
        if subscribe and document_id not in self.subscribed:
            if len(self.subscribed) >= settings.COLLAB_MAX_SUBSCRIPTIONS:
                raise TooManySubscriptions()
            await db.check_access(self.user, document_id)
            # Join before reading, so no op committed after the read can be missed.
            await self._join(document_id)
        try:
            if version is None:
                state = await db.read_snapshot(self.user, document_id)
                if subscribe:
                    self.subscribed[document_id] = state.version
                    await db.record_visits(self.user, self.channel_name, [document_id])
                return protocol.snapshot_data(state)
            ops, head = await db.read_ops(self.user, document_id, version)
        except CollabError:
            if subscribe and document_id not in self.subscribed:
                await self._leave_if_unused(document_id)
            raise
        sent = self.subscribed.get(document_id, version)
        for record in ops:
            await self._send(protocol.op_message(record))
        if subscribe:
            self.subscribed[document_id] = max(sent, head)
            await db.record_visits(self.user, self.channel_name, [document_id])
        return None

    def _check_collection_doc(self, document_id: str) -> None:
        selectors.parse_document_id(document_id)

    async def handle_u(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_doc_ref(message)
        if self.subscribed.pop(document_id, None) is not None:
            await db.end_visits(self.channel_name, [document_id])
        await self._leave_if_unused(document_id)
        await self._send({"a": "u", "c": message["c"], "d": document_id})

    async def handle_bf(self, message: dict[str, Any]) -> None:
        await self._bulk(message, subscribe=False)

    async def handle_bs(self, message: dict[str, Any]) -> None:
        await self._bulk(message, subscribe=True)

    async def _bulk(self, message: dict[str, Any], *, subscribe: bool) -> None:
        requests = protocol.parse_bulk(message)
        collection = message["c"]
        if isinstance(message["b"], list):
            data: dict[str, Any] = {}
            for document_id in requests:
                try:
                    data[document_id] = await self._load_one(document_id, None, subscribe=subscribe)
                except CollabError as error:
                    data[document_id] = {"error": error.as_dict()}
            await self._send({"a": message["a"], "c": collection, "data": data})
            return
        answered: dict[str, int | None] = {}
        single = "s" if subscribe else "f"
        for document_id, version in requests.items():
            try:
                await self._load_one(document_id, version, subscribe=subscribe)
                answered[document_id] = version
            except CollabError as error:
                # One reply per doc: a failed one gets its own error, not the bulk echo.
                request = {"a": single, "c": collection, "d": document_id, "v": version}
                await self._send(protocol.error_reply(request, error))
        await self._send({"a": message["a"], "c": collection, "b": answered})

    async def handle_bu(self, message: dict[str, Any]) -> None:
        requests = protocol.parse_bulk(message)
        for document_id in requests:
            if self.subscribed.pop(document_id, None) is not None:
                await db.end_visits(self.channel_name, [document_id])
            await self._leave_if_unused(document_id)
        await self._send({"a": "bu", "c": message["c"], "b": message["b"]})

    # --- Snapshots at a version or a time -------------------------------------------------

    async def handle_nf(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_doc_ref(message)
        version = protocol.parse_version(message.get("v"))
        state = await db.read_snapshot(self.user, document_id, version)
        await self._send(protocol.snapshot_reply("nf", message.get("id"), state))

    async def handle_nt(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_doc_ref(message)
        timestamp = message.get("ts")
        if timestamp is not None and not protocol.is_int(timestamp):
            raise MessageBadlyFormed("ts must be a Unix time in milliseconds or null.")
        state = await db.read_snapshot_at_time(self.user, document_id, timestamp)
        await self._send(protocol.snapshot_reply("nt", message.get("id"), state))

    # --- Ops ------------------------------------------------------------------------------

    async def handle_op(self, message: dict[str, Any]) -> None:
        submit = protocol.parse_submit(message)
        src = submit.src or self.src
        if not protocol.src_belongs_to(src, self.user.pk):
            raise OpRejected("That connection id belongs to someone else.")
        wait = self.op_bucket.delay()
        if wait > 0:
            # Back-pressure rather than rejection: a rejected op would be lost to its author.
            await asyncio.sleep(min(wait, 5.0))
        result = await db.submit(self.user, submit, src)
        sent = self.subscribed.get(submit.document_id)
        for record in result.missing:
            if sent is None or record.version >= sent:
                await self._send(protocol.op_message(record))
        await self._send(
            protocol.ack_message(
                document_id=submit.document_id, src=src, seq=submit.seq, version=result.version
            )
        )
        if sent is not None:
            self.subscribed[submit.document_id] = max(sent, result.version + 1)

    async def doc_op(self, event: dict[str, Any]) -> None:
        """A committed op from the channel layer; repair any gap from the op log first."""
        record = OpRecord.from_dict(json.loads(event["record"]))
        document_id = record.document_id
        sent = self.subscribed.get(document_id)
        if sent is None or record.version < sent:
            return
        if record.version > sent:
            await self._catch_up(document_id)
            return
        self.subscribed[document_id] = record.version + 1
        # The submitter learns of its own op from the ack, which the submit path sends.
        if record.src == self.src:
            return
        await self._send(protocol.op_message(record))

    async def _catch_up(self, document_id: str) -> None:
        sent = self.subscribed.get(document_id)
        if sent is None:
            return
        try:
            ops, head = await db.read_ops(self.user, document_id, sent)
        except DocumentNotFound:
            await self._lose_access(document_id)
            return
        except (OpsNotFound, VersionNewer):
            logger.warning("cannot repair %s from v%s", document_id, sent)
            return
        for record in ops:
            if record.version >= self.subscribed.get(document_id, head):
                await self._send(protocol.op_message(record))
                self.subscribed[document_id] = record.version + 1

    # --- Access, session and the periodic sync --------------------------------------------

    async def doc_access(self, event: dict[str, Any]) -> None:
        """Our user's role on a document changed: re-check it and tell the page."""
        document_id = event["document_id"]
        if document_id not in self.joined:
            return
        try:
            role = await db.check_access(self.user, document_id)
        except DocumentNotFound:
            await self._lose_access(document_id)
            return
        await self._send({"a": "x-access", "c": protocol.COLLECTION, "d": document_id, "role": role})

    async def _lose_access(self, document_id: str) -> None:
        if self.subscribed.pop(document_id, None) is not None:
            await db.end_visits(self.channel_name, [document_id])
        self.presence_channels.discard(document_id)
        for (doc, presence_id), pv in list(self.local_presence.items()):
            if doc == document_id:
                await self._clear_presence(doc, presence_id, pv)
        await self._leave_if_unused(document_id)
        await self._send({"a": "x-access", "c": protocol.COLLECTION, "d": document_id, "role": None})

    async def session_end(self, event: dict[str, Any]) -> None:
        await self._send({"a": "x-session", "reason": "signed-out"})
        await self.close(code=CLOSE_SESSION_ENDED)

    async def _tick_forever(self) -> None:
        interval = settings.COLLAB_SYNC_INTERVAL_SECONDS
        try:
            while True:
                await asyncio.sleep(interval)
                await broadcast.poke(self.channel_name, {"type": "connection.tick"})
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.warning("sync ticker stopped", exc_info=True)

    async def connection_tick(self, event: dict[str, Any]) -> None:
        """Heal dropped broadcasts (even a dropped last op) and notice an ended session."""
        # A fresh session object: the scope's one caches what it read at connect.
        session_key = getattr(self.scope.get("session"), "session_key", None)
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        user = await get_user({"session": session})
        if not user.is_authenticated or user.pk != self.user.pk:
            await self.session_end({})
            return
        await self._presence_heartbeat()
        if not self.subscribed:
            return
        await db.record_visits(self.user, self.channel_name, list(self.subscribed))
        heads = await db.current_versions(list(self.subscribed))
        for document_id, sent in list(self.subscribed.items()):
            head = heads.get(document_id)
            if head is None:
                await self._lose_access(document_id)
            elif head > sent:
                await self._catch_up(document_id)

    # --- Groups ---------------------------------------------------------------------------

    async def _join(self, document_id: str) -> None:
        if document_id not in self.joined:
            await broadcast.join(self.channel_name, broadcast.document_group(document_id))
            self.joined.add(document_id)

    async def _leave_if_unused(self, document_id: str) -> None:
        if (
            document_id in self.joined
            and document_id not in self.subscribed
            and document_id not in self.presence_channels
        ):
            await broadcast.leave(self.channel_name, broadcast.document_group(document_id))
            self.joined.discard(document_id)
