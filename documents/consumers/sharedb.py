"""The ShareDB-protocol WebSocket consumer: transport only.

One consumer is one browser connection, possibly multiplexing several documents. Frames are
parsed by `protocol`, dispatched through its action table to an `on_<name>` handler, which asks
a service (through `database`, the commit pipeline or the hub) and queues the reply. Every
outgoing frame goes through one ordered outbox, so replies, catch-up ops, acks and the hub's
deliveries reach the client in the order the protocol needs.
"""

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from importlib import import_module
from collections.abc import AsyncIterator
from typing import Any

from channels.auth import get_user
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from .. import build, logcontext, metrics, protocol, shutdown
from ..broadcast.hub import OpEvent, get_hub
from ..errors import (
    CatchUpTooLong,
    CollabError,
    DocumentFull,
    DocumentNotFound,
    MessageBadlyFormed,
    NotSupported,
    OpRejected,
    OpsNotFound,
    ServerUnavailable,
    TooManySubscriptions,
    VersionNewer,
)
from ..pipeline import get_pipeline
from ..selectors import session_public_id
from ..services import SubmitRequest
from . import database as db
from .presence import PresenceMixin
from .wire import Wire, flusher

logger = logging.getLogger(__name__)


_lanes: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]] = {}


def catch_up_lane() -> asyncio.Semaphore:
    """The running loop's one lane for catch-up reads (daphne has one loop; tests one per test)."""
    loop = asyncio.get_running_loop()
    entry = _lanes.get(id(loop))
    if entry is None or entry[0] is not loop:
        entry = _lanes[id(loop)] = (loop, asyncio.Semaphore(1))
    return entry[1]


def _size(frame: str | OpEvent) -> int:
    return len(frame.frame) if isinstance(frame, OpEvent) else len(frame)


class TokenBucket:
    """Allow `rate` events per second with bursts of `burst`."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def delay(self, cost: float = 1) -> float:
        """Take `cost` tokens; return how long the caller should wait for them (0 if none)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= cost
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass(slots=True)
class Subscription:
    """One subscribed document: the next version the client has been sent (None while loading),
    and the hub's deliveries held until the initial read has been sent."""

    sent: int | None = None
    held: list[OpEvent] = field(default_factory=list)
    catching_up: bool = False


class ShareDBConsumer(PresenceMixin, AsyncWebsocketConsumer):
    """Speaks the ShareDB wire protocol for the `documents` collection."""

    # --- Connection -------------------------------------------------------------------------

    async def connect(self) -> None:
        # No channel layer (see broadcast): the connection's own id names it to the hub and visits.
        self.channel_name = f"conn.{uuid.uuid4().hex}"
        self.user = self.scope.get("user")
        self.user_id = getattr(self.user, "pk", None)
        self.session_key = getattr(self.scope.get("session"), "session_key", None)
        self.session_id = session_public_id(self.session_key) if self.session_key else None
        # Set in the connection's own task, so every line it (and what it starts) logs has them.
        logcontext.connection_id.set(self.channel_name)
        logcontext.user_id.set(self.user_id)
        # Frames in order; a close code, if any, is last (nothing is queued behind it).
        self.outbox: list[str | OpEvent | int] = []
        self.queued_bytes = 0
        self.closing = False  # a close is queued or sent: nothing more goes out or is handled
        self.handling = False  # a frame is being handled (see close_for_restart)
        self.handled: asyncio.Future[None] | None = None
        # On daphne's socket, queued frames are written by the process's flusher, once per loop
        # iteration for every connection with something queued: no task per connection.
        # (A native socket, consumers/native.py, is its own send and wire.)
        self.wire = (
            self.base_send if getattr(self.base_send, "is_native_wire", False) else Wire(self.base_send)
        )
        self.flusher = flusher()
        self.flush_marked = False
        self.max_queued = settings.COLLAB_MAX_QUEUED_BYTES
        self.closer: asyncio.Future[Any] | None = None
        self.writer: asyncio.Future[Any] | None = None
        if not self.wire.direct:
            self.wake = asyncio.Event()
            self.writer = asyncio.ensure_future(self._write_forever())
        await self.accept()
        self.wire.shed_handshake(self.scope)
        metrics.connections.inc()
        self.counted = True
        if shutdown.draining():
            self._close(protocol.CLOSE_RESTARTING)
            return
        if self.user is None or not self.user.is_authenticated:
            # Accept-then-close lets the page tell "signed out" from a network failure.
            self._close(protocol.CLOSE_SESSION_ENDED)
            return
        self.src = protocol.issue_src(self.user.pk)
        # Name, colour and guest-ness as collaborators see them (selectors.identity_of).
        self.identity = await db.identity(self.user)
        logger.info("connected")
        self.hub = get_hub()
        self.subscriptions: dict[str, Subscription] = {}
        self.presence_channels: set[str] = set()
        # (doc id, presence id) -> last pv this connection sent there.
        self.local_presence: dict[tuple[str, str], int] = {}
        self.watched: set[str] = set()
        # Others' cursors relayed to this client: (doc id, src, presence id) -> last message, when.
        self.remote_presence: dict[tuple[str, str, str], tuple[dict[str, Any], float]] = {}
        # Cursors recently cleared, sent again when the client asks (see `_resend_clears`).
        self.cleared_presence: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}
        # Anyone holding a guest link is a guest: their ops get a lower rate than a member's.
        self.op_bucket = (
            TokenBucket(settings.COLLAB_GUEST_OP_RATE, settings.COLLAB_GUEST_OP_BURST)
            if self.identity["guest"]
            else TokenBucket(settings.COLLAB_OP_RATE, settings.COLLAB_OP_BURST)
        )
        self.read_bucket = TokenBucket(settings.COLLAB_READ_RATE, settings.COLLAB_READ_BURST)
        # Catch-up is paid for by the op: a request for the whole history of a long document waits
        # its turn instead of taking the process's time from everyone else.
        self.catch_up_bucket = TokenBucket(settings.COLLAB_CATCH_UP_RATE, settings.COLLAB_CATCH_UP_BURST)
        # Documents this connection resent an op to from further back than COLLAB_MAX_CATCH_UP:
        # its unsent edits need every op since, so its catch-up there is served in full.
        self.rebasing: set[str] = set()
        self.presence_bucket = TokenBucket(settings.COLLAB_PRESENCE_RATE, settings.COLLAB_PRESENCE_BURST)
        self.tasks: set[asyncio.Task[Any]] = set()
        await self.hub.watch_user(self.user.pk, self)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            self.counted = False
            metrics.connections.dec()
        for task in [getattr(self, "writer", None), *getattr(self, "tasks", ())]:
            if task is not None:
                task.cancel()
        # What was queued for a client that is gone goes now, whatever still refers to us.
        if hasattr(self, "wire"):
            self.outbox.clear()
            self.wire.release()
        if not hasattr(self, "src"):
            return
        logger.info("disconnected (%s)", code)
        try:
            await self.hub.unwatch_user(self.user.pk, self)
            for document_id in list(self.watched):
                await self.hub.unwatch_document(document_id, self)
            self.watched.clear()
            if self.subscriptions:
                self.subscriptions.clear()
                await db.end_visits(self.channel_name)
            for (document_id, presence_id), pv in list(self.local_presence.items()):
                await self._clear_presence(document_id, presence_id, pv)
        except Exception:  # Shutdown may cancel us midway; stale visits and cursors expire on their own.
            logger.info("cleanup after disconnect did not finish", exc_info=True)

    # --- Frames in --------------------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without the `close_old_connections` it runs on its sync thread
        before every message: a thread hop (and a wait for the GIL back) on every frame's path,
        for a connection that touches the database only from pool threads that look after their
        own connections (threads.py)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "src") or self.closing or shutdown.draining():
            return  # While draining, a frame not yet handled is resent after the reconnect.
        if text_data is None:
            self._close(protocol.CLOSE_UNSUPPORTED_DATA)
            return
        oversized = len(text_data) > settings.COLLAB_MAX_MESSAGE_BYTES
        try:
            message = protocol.parse_frame(text_data)
        except MessageBadlyFormed as error:
            self._send(protocol.error_reply(None, error))
            self._close(protocol.CLOSE_BAD_FRAME)
            return
        if oversized:
            # A soft reject: the client rolls the op back instead of resending it forever.
            limit = settings.COLLAB_MAX_MESSAGE_BYTES
            error_type = OpRejected if message.get("a") == "op" else MessageBadlyFormed
            metrics.refusals.labels(code="ERR_MESSAGE_TOO_LARGE").inc()
            self._send(
                protocol.error_reply(message, error_type(f"The message is larger than {limit} bytes."))
            )
            return
        received = time.monotonic()
        self.handling = True
        document = logcontext.document_id.set(message.get("d") if isinstance(message.get("d"), str) else None)
        try:
            handler = getattr(self, "on_" + protocol.parse_action(message))
            if message["a"] in protocol.READ_ACTIONS:
                await self._wait(self.read_bucket)
            await handler(message)
            if message["a"] == "op":
                metrics.submit_latency.observe(time.monotonic() - received)
            elif message["a"] == "p":
                metrics.presence_messages.inc()
        except DocumentFull as error:
            metrics.refusals.labels(code=error.code).inc()
            logger.info("refused: the document has its cap of connections")
            self._send(protocol.error_reply(message, error))
            self._close(protocol.CLOSE_DOCUMENT_FULL)
        except ServerUnavailable:
            # Never an op error the client would drop typed text on: it resends after reconnecting.
            self._close(protocol.CLOSE_SERVER_UNAVAILABLE)
        except CollabError as error:
            metrics.refusals.labels(code=error.code).inc()
            self._send(protocol.error_reply(message, error))
        except Exception:
            logger.exception("unexpected error handling %r", message.get("a"))
            self._send(protocol.error_reply(message, CollabError("Internal error.")))
        finally:
            logcontext.document_id.reset(document)
            self.handling = False
            if self.handled is not None:
                self.handled.set_result(None)
                self.handled = None

    @staticmethod
    async def _wait(bucket: TokenBucket, cost: float = 1) -> None:
        wait = bucket.delay(cost)
        if wait > 0:
            # Back-pressure rather than rejection: the client's request is only slowed down.
            await asyncio.sleep(min(wait, 5.0))

    # --- Frames out -------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        self._push(protocol.encode(message))

    def _push(self, frame: str | OpEvent | int) -> None:
        """Queue a frame, a broadcast op or a close code behind everything queued before it."""
        if self.closing:
            return
        if not isinstance(frame, int):
            self.queued_bytes += _size(frame)
            if self.queued_bytes > self.max_queued:
                logger.warning("closing a connection that reads too slowly")
                self.outbox.clear()
                self.queued_bytes = 0
                frame = protocol.CLOSE_TOO_SLOW
        if isinstance(frame, int):
            self.closing = True
        self.outbox.append(frame)
        if self.writer is not None:
            self.wake.set()
        elif not self.flush_marked:
            self.flush_marked = True
            self.flusher.mark(self)

    def _close(self, code: int) -> None:
        self._push(code)

    async def close_for_restart(self) -> None:
        """Finish the frame being handled (its ack is queued), then close behind it."""
        if self.handling:
            self.handled = asyncio.get_running_loop().create_future()
            await self.handled
        self._close(protocol.CLOSE_RESTARTING)
        if self.writer is not None:
            await asyncio.wait([self.writer])
            return
        self.flush()
        if self.closer is not None:
            await asyncio.wait([self.closer])

    def flush_now(self) -> None:
        """Write what is queued now rather than at the flusher's pass (the hub, once it has
        handed this connection a batch of ops)."""
        if self.writer is None and self.flush_marked:
            self.flush()

    def flush(self) -> None:
        """Write what is queued, in one write; start the close if one is queued behind it."""
        self.flush_marked = False
        outbox = self.outbox
        if not outbox or self.closer is not None:
            return
        wire = self.wire
        backlog = wire.backlog()
        if backlog > self.max_queued:
            # The client reads too slowly: what it has not read would pile up here.
            logger.warning("closing a connection that reads too slowly")
            self.closing = True
            outbox.clear()
            self.closer = asyncio.ensure_future(self.close(code=protocol.CLOSE_TOO_SLOW))
            return
        self.outbox, self.queued_bytes = [], 0
        code = outbox.pop() if isinstance(outbox[-1], int) else None
        wire.send(outbox, backlog)  # type: ignore[arg-type]  (no close code left in it)
        if code is not None:
            self.closer = asyncio.ensure_future(self.close(code=code))

    async def _write_forever(self) -> None:
        """Channels' own send, one frame at a time (where there is no daphne socket: tests)."""
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while self.outbox:
                    frame = self.outbox.pop(0)
                    if isinstance(frame, int):
                        self.outbox.clear()
                        await self.close(code=frame)
                        return
                    self.queued_bytes -= _size(frame)
                    await self.send(text_data=frame.frame if isinstance(frame, OpEvent) else frame)
        except asyncio.CancelledError:
            pass

    # --- Handshake, ping, queries -----------------------------------------------------------

    async def on_handshake(self, message: dict[str, Any]) -> None:
        requested = message.get("id")
        # Keep a returning client's id only if it was issued to this same user.
        if requested != self.src and protocol.src_belongs_to(requested, self.user.pk):
            self.src = requested
        self._send(protocol.handshake_reply(self.src))
        if protocol.build_outdated(message, build.build_id()):
            self._send(protocol.reload_message(build.build_id()))

    async def on_ping(self, message: dict[str, Any]) -> None:
        self._send({"a": "pp"})

    async def on_query(self, message: dict[str, Any]) -> None:
        raise NotSupported("Queries are not supported; list documents with GET /api/documents/.")

    # --- Fetch and subscribe ----------------------------------------------------------------

    async def on_fetch(self, message: dict[str, Any]) -> None:
        await self._fetch_or_subscribe(message, subscribe=False)

    async def on_subscribe(self, message: dict[str, Any]) -> None:
        await self._fetch_or_subscribe(message, subscribe=True)

    async def _fetch_or_subscribe(self, message: dict[str, Any], *, subscribe: bool) -> None:
        document_id = protocol.parse_doc_ref(message)
        version = protocol.parse_version(message.get("v"))
        data = await self._load_one(document_id, version, subscribe=subscribe)
        self._send(protocol.reply(message, **({"data": data} if data is not None else {}), d=document_id))

    async def _load_one(
        self, document_id: str, version: int | None, *, subscribe: bool
    ) -> dict[str, Any] | None:
        """Send catch-up ops (versioned) or return snapshot data (unversioned); watch if subscribing."""
        document_id = protocol.canonical_document_id(document_id)
        fresh = subscribe and document_id not in self.subscriptions
        if fresh:
            if len(self.subscriptions) >= settings.COLLAB_MAX_SUBSCRIPTIONS:
                raise TooManySubscriptions()
            await db.check_access(self.user, document_id)
            await db.claim_room(self.user, document_id, self.channel_name)
            logcontext.document_id.set(document_id)  # receive() resets it after this frame
            logger.info("subscribed")
            # Watch before reading, so no op committed after the read can be missed.
            self.subscriptions[document_id] = Subscription()
            await self._watch(document_id)
        try:
            if version is None:
                state = await db.read_snapshot(self.user, document_id)
                if subscribe:
                    self._loaded(document_id, state.version)
                    await db.record_visits(self.user, self.channel_name, [document_id])
                return protocol.snapshot_data(state)
            head = self.hub.head(document_id)
            if head is None:
                head = await db.head_version(self.user, document_id)
            if head - version > settings.COLLAB_MAX_CATCH_UP and document_id not in self.rebasing:
                raise CatchUpTooLong(
                    f"The document has changed by {head - version} edits since version {version};"
                    " load it afresh."
                )
            await self._wait(self.catch_up_bucket, max(1, head - version))
            subscription = self.subscriptions.get(document_id) if subscribe else None
            caught_up = version
            async for events in self._op_chunks(document_id, version):
                for event in events:
                    if (
                        subscription is None
                        or subscription.sent is None
                        or event.record.version >= subscription.sent
                    ):
                        self._push(event)
                caught_up += len(events)
        except CollabError:
            if fresh:
                self.subscriptions.pop(document_id, None)
                await self._unwatch_if_unused(document_id)
                await db.end_visits(self.channel_name, [document_id])  # and its claimed place
            raise
        if subscribe:
            self._loaded(document_id, caught_up)
            await db.record_visits(self.user, self.channel_name, [document_id])
        return None

    async def _op_chunks(self, document_id: str, start: int) -> AsyncIterator[list[OpEvent]]:
        """The ops from `start` to the head, a chunk at a time through the process's catch-up
        lane: however many connections ask for old versions, one chunk is read at a time and the
        event loop runs between chunks, so other documents' commits and acks never wait long."""
        chunk = settings.COLLAB_CATCH_UP_CHUNK
        while True:
            async with catch_up_lane():
                events = await db.read_op_events(self.user, document_id, start, chunk)
            yield events
            if len(events) < chunk:
                return
            start += len(events)

    def _loaded(self, document_id: str, version: int) -> None:
        """The initial read of a subscription is queued: send what the hub delivered meanwhile."""
        subscription = self.subscriptions.get(document_id)
        if subscription is None:
            return
        if subscription.sent is None or version > subscription.sent:
            subscription.sent = version
        self.hub.loaded(document_id, subscription.sent)
        held, subscription.held = subscription.held, []
        for event in held:
            self.hub_op(document_id, event)

    async def on_unsubscribe(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_doc_ref(message)
        await self._unsubscribe(document_id)
        self._send(protocol.reply(message, d=document_id))

    async def _unsubscribe(self, document_id: str) -> None:
        if self.subscriptions.pop(document_id, None) is not None:
            await db.end_visits(self.channel_name, [document_id])
        await self._unwatch_if_unused(document_id)

    async def on_bulk_fetch(self, message: dict[str, Any]) -> None:
        await self._bulk(message, subscribe=False)

    async def on_bulk_subscribe(self, message: dict[str, Any]) -> None:
        await self._bulk(message, subscribe=True)

    async def _bulk(self, message: dict[str, Any], *, subscribe: bool) -> None:
        requests = protocol.parse_bulk(message)
        if isinstance(message["b"], list):
            data: dict[str, Any] = {}
            for document_id in requests:
                try:
                    data[document_id] = await self._load_one(document_id, None, subscribe=subscribe)
                except CollabError as error:
                    data[document_id] = {"error": error.as_dict()}
            self._send({"a": message["a"], "c": protocol.COLLECTION, "data": data})
            return
        answered: dict[str, int | None] = {}
        single = "s" if subscribe else "f"
        for document_id, version in requests.items():
            try:
                await self._load_one(document_id, version, subscribe=subscribe)
                answered[document_id] = version
            except CollabError as error:
                # One reply per doc: a failed one gets its own error, not the bulk echo.
                request = {"a": single, "c": protocol.COLLECTION, "d": document_id, "v": version}
                self._send(protocol.error_reply(request, error))
        self._send({"a": message["a"], "c": protocol.COLLECTION, "b": answered})

    async def on_bulk_unsubscribe(self, message: dict[str, Any]) -> None:
        for document_id in protocol.parse_bulk(message):
            await self._unsubscribe(document_id)
        self._send({"a": "bu", "c": protocol.COLLECTION, "b": message["b"]})

    # --- Snapshots at a version or a time ---------------------------------------------------

    async def on_snapshot_at_version(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_doc_ref(message)
        version = protocol.parse_version(message.get("v"))
        state = await db.read_snapshot(self.user, protocol.canonical_document_id(document_id), version)
        self._send(protocol.snapshot_reply("nf", message.get("id"), state))

    async def on_snapshot_at_time(self, message: dict[str, Any]) -> None:
        document_id = protocol.parse_doc_ref(message)
        timestamp = protocol.parse_timestamp(message.get("ts"))
        state = await db.read_snapshot_at_time(
            self.user, protocol.canonical_document_id(document_id), timestamp
        )
        self._send(protocol.snapshot_reply("nt", message.get("id"), state))

    # --- Ops --------------------------------------------------------------------------------

    async def on_submit(self, message: dict[str, Any]) -> None:
        submit = protocol.parse_submit(message)
        src = submit.src or self.src
        if src != self.src and not protocol.src_belongs_to(src, self.user.pk):
            raise OpRejected("That connection id belongs to someone else.")
        await self._wait(self.op_bucket)
        request = SubmitRequest(self.user, src, submit.seq, submit.version, submit.kind, submit.data)
        result = await get_pipeline().submit(submit.document_id, request)
        if submit.version is not None and len(self.rebasing) < settings.COLLAB_MAX_SUBSCRIPTIONS:
            head = result.version + 1
            if result.duplicate:  # acked before (the ack was lost): the head may be far beyond
                head = self.hub.head(submit.document_id) or await db.head_version(
                    self.user, submit.document_id
                )
            if head - submit.version > settings.COLLAB_MAX_CATCH_UP:
                self.rebasing.add(submit.document_id)
        subscription = self.subscriptions.get(submit.document_id)
        if subscription is None or subscription.sent is None:
            # Not (yet) subscribed: the ops it missed, then the ack, straight from the result.
            for record in result.missing:
                self._push(OpEvent.of(record))
            self._send(
                protocol.ack_message(
                    document_id=submit.document_id, src=src, seq=submit.seq, version=result.version
                )
            )
            return
        # Subscribed: deliver in version order, skipping whatever the hub already sent (it sends
        # the op itself to its own connection as the ack).
        for record in result.missing:
            self._deliver(submit.document_id, subscription, OpEvent.of(record))
        ack = protocol.encode(
            protocol.ack_message(
                document_id=submit.document_id, src=src, seq=submit.seq, version=result.version
            )
        )
        if result.version == subscription.sent:
            subscription.sent += 1
            self._push(ack)
        elif result.version > subscription.sent:
            self._spawn(self._catch_up(submit.document_id))
        elif result.duplicate:
            self._push(ack)  # A resend of an op this client was already sent: a stale ack is ignored.

    def _deliver(self, document_id: str, subscription: Subscription, event: OpEvent) -> None:
        """Send one committed op if it is the next the client needs; its own ops as acks."""
        sent = subscription.sent
        if sent is None:
            subscription.held.append(event)
            return
        version = event.record.version
        if version < sent:
            return
        if version > sent:
            if not subscription.catching_up:
                self._spawn(self._catch_up(document_id))
            return
        subscription.sent = version + 1
        self._push(event.ack_frame if event.record.src == self.src else event)

    async def _catch_up(self, document_id: str) -> None:
        """Fill a gap in what this client was sent from the op log."""
        subscription = self.subscriptions.get(document_id)
        if subscription is None or subscription.sent is None or subscription.catching_up:
            return
        subscription.catching_up = True
        try:
            async for events in self._op_chunks(document_id, subscription.sent):
                for event in events:
                    self._deliver(document_id, subscription, event)
        except DocumentNotFound:
            await self._lose_access(document_id)
            return
        except (OpsNotFound, VersionNewer):
            logger.warning("cannot repair %s from v%s", document_id, subscription.sent)
            return
        finally:
            subscription.catching_up = False
        head = self.hub.head(document_id)
        if head is not None and subscription.sent is not None and head > subscription.sent:
            self._spawn(self._catch_up(document_id))  # committed while the last chunk was sent

    # --- What the hub hands us --------------------------------------------------------------

    def hub_op(self, document_id: str, event: OpEvent) -> None:
        subscription = self.subscriptions.get(document_id)
        if subscription is not None:
            self._deliver(document_id, subscription, event)

    def hub_message(self, channel: str, message: dict[str, Any]) -> None:
        kind = message.get("k")
        if kind == "end":
            if message.get("s") in (None, self.session_id):  # one session ended, or all of them
                self._spawn(self._end_session())
        elif kind == "access":
            if message.get("d") in self.watched:
                self._spawn(self._recheck_access(message["d"]))
        elif kind == "comment":
            if message.get("d") in self.watched:
                self._send(protocol.comment_message(message["d"], message["t"]))
        elif kind == "title":
            if message.get("d") in self.watched:
                self._send(protocol.title_message(message["d"], message["title"]))
        elif kind == "trash":
            # Sent on the user's own channel, to members only: the page may no longer subscribe.
            self._send(protocol.trash_message(message["d"], bool(message["trashed"])))
        elif kind == "notify":
            self._send(protocol.notification_message(message["n"]))
        else:
            self.presence_event(channel, message)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- Access, session and the periodic sync ----------------------------------------------

    async def _recheck_access(self, document_id: str) -> None:
        """Our user's role on a document may have changed: re-check it and tell the page."""
        try:
            role = await db.check_access(self.user, document_id)
        except DocumentNotFound:
            await self._lose_access(document_id)
            return
        except Exception:
            logger.warning(
                "access re-check of %s failed; the hub's sweep re-reads it", document_id, exc_info=True
            )
            return
        self._send(protocol.access_message(document_id, role))

    async def _lose_access(self, document_id: str) -> None:
        if document_id not in self.watched:
            return
        self.subscriptions.pop(document_id, None)
        self.presence_channels.discard(document_id)
        await self._unwatch_if_unused(document_id)
        self._send(protocol.access_message(document_id, None))
        for (doc, presence_id), pv in list(self.local_presence.items()):
            if doc == document_id:
                await self._clear_presence(doc, presence_id, pv)
        await db.end_visits(self.channel_name, [document_id])

    async def _end_session(self) -> None:
        self._send(protocol.session_ended_message())
        self._close(protocol.CLOSE_SESSION_ENDED)

    async def _session_valid(self) -> bool:
        # A fresh session object: the scope's one caches what it read at connect.
        session = import_module(settings.SESSION_ENGINE).SessionStore(self.session_key)
        user = await get_user({"session": session})
        return bool(user.is_authenticated and user.pk == self.user.pk and user.is_active)

    def tick(self) -> None:
        """Every sync interval (the hub calls every connection of the process at once): notice an
        ended session, keep cursors alive, drop documents no longer readable. No task unless
        there is something to do, so an idle reader costs nothing here."""
        if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
            self._spawn(self._check_session())  # (with database sessions the hub checks them all)
        if self.local_presence or self.remote_presence:
            self._spawn(self._presence_heartbeat())
        for document_id in list(self.subscriptions):
            if not self.hub.may_read(document_id, self.user_id):
                self._spawn(self._lose_access(document_id))

    async def _check_session(self) -> None:
        if not await self._session_valid():
            await self._end_session()

    # --- Watching documents -----------------------------------------------------------------

    async def _watch(self, document_id: str) -> None:
        if document_id not in self.watched:
            self.watched.add(document_id)
            await self.hub.watch_document(document_id, self)

    async def _unwatch_if_unused(self, document_id: str) -> None:
        if (
            document_id in self.watched
            and document_id not in self.subscriptions
            and document_id not in self.presence_channels
        ):
            self.watched.discard(document_id)
            await self.hub.unwatch_document(document_id, self)


def _check_action_table() -> None:
    missing = [name for name in set(protocol.ACTIONS.values()) if not hasattr(ShareDBConsumer, "on_" + name)]
    if missing:
        raise RuntimeError(f"ShareDBConsumer lacks handlers for {sorted(missing)}")


_check_action_table()
