"""The process's document hub: one subscription per watched channel, fanned out to local connections.

Each op event is decoded once and its frames encoded once; every local listener gets the same text.
The hub also keeps, per watched document, what cannot be lost with a pub/sub message:
- the next version it expects, repairing any gap from the op log (an op dropped by pub/sub, or
  every op missed while Redis was away) within `COLLAB_HUB_SWEEP_SECONDS` x 2;
- who may read it, re-read from the database at the sweep after its access stamp moved (every
  change to its access moves it, `services.access`) or a new reader arrived, so an op is never
  handed to a removed member, whatever message was lost;
- the latest ops, so presence and short catch-ups are transformed without a database read.
"""

import asyncio
import itertools
import json
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from .. import metrics, protocol, selectors
from ..errors import CollabError
from ..loops import PerLoop
from ..records import OpRecord
from ..threads import in_thread
from . import document_channel, transport, user_channel

logger = logging.getLogger(__name__)

RECENT_OPS = 256


class OpEvent:
    """A committed op with its two frames: as a remote op, and as the ack its own author gets."""

    __slots__ = ("record", "frame", "_ack_frame", "prepared")

    def __init__(self, record: OpRecord, frame: str) -> None:
        self.record, self.frame = record, frame
        self._ack_frame: str | None = None
        self.prepared: Any = None  # the frame as the socket sends it, made once (consumers.wire)

    @property
    def ack_frame(self) -> str:
        if self._ack_frame is None:
            self._ack_frame = protocol.encode(protocol.ack_of(self.record))
        return self._ack_frame

    @classmethod
    def of(cls, record: OpRecord) -> "OpEvent":
        return cls(record, protocol.encode(protocol.op_message(record)))


class Listener(Protocol):
    """What a connection offers the hub; every method is synchronous and must not block."""

    user_id: Any
    channel_name: str

    def hub_op(self, document_id: str, event: OpEvent) -> None: ...

    def flush_now(self) -> None: ...

    def hub_message(self, channel: str, message: dict[str, Any]) -> None: ...

    def tick(self) -> None: ...


@dataclass
class DocumentState:
    next_version: int | None = None
    recent: deque[OpEvent] = field(default_factory=lambda: deque(maxlen=RECENT_OPS))
    # user id -> role, as the sweeps last read it, for the users they asked about (`checked`);
    # anyone else was checked when they subscribed. `stamp`: the access stamp read before them.
    roles: dict[Any, str] | None = None
    checked: set[Any] = field(default_factory=set)
    stamp: int | None = None
    repairing: bool = False
    held: list[OpRecord] = field(default_factory=list)
    gap_seen: bool = False
    told_no_access: set[Any] = field(default_factory=set)
    # user id -> how many local listeners of theirs watch it.
    users: Counter[Any] = field(default_factory=Counter)
    # connection id (src) -> its listener: an op's author hears it (its ack) before anyone else.
    by_src: dict[str, Any] = field(default_factory=dict)


@in_thread
def _read_heads(document_ids: list[str]) -> dict[str, tuple[int, int]]:
    return selectors.heads_and_stamps(document_ids=document_ids)


@in_thread
def _read_roles(document_ids: list[str], user_ids: list[Any]) -> dict[str, dict[Any, str]]:
    return selectors.readers_roles(document_ids=document_ids, user_ids=user_ids)


@in_thread
def _signed_in(sessions: dict[str, Any]) -> set[str]:
    return selectors.signed_in_sessions(sessions=sessions)


@in_thread
def _refresh_visits(channel_names: list[str]) -> None:
    from .. import services

    services.refresh_visits(channel_names=channel_names)


@in_thread
def _read_ops(document_id: str, start: int, end: int) -> list[OpRecord]:
    return selectors.operations_between(document_id=document_id, start=start, end=end)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.listeners: dict[str, set[Listener]] = {}
        self.documents: dict[str, DocumentState] = {}
        self.subscriber = transport.Subscriber(self._receive, self._on_reset, loop)
        # Each connection's turn in the sweeps' round of ticks, session checks and visits.
        self.turns: dict[Listener, int] = {}
        self._next_turn = itertools.count()
        self._rounds = 0
        self._sweeper = loop.create_task(self._sweep_forever())

    # --- Watching -------------------------------------------------------------------------

    async def watch(self, channel: str, listener: Listener) -> None:
        listeners = self.listeners.setdefault(channel, set())
        first = not listeners
        if listener in listeners:
            return
        listeners.add(listener)
        if channel.startswith("user:"):
            self.turns.setdefault(listener, next(self._next_turn))
        if channel.startswith("doc:"):
            state = self.documents.setdefault(channel[4:], DocumentState())
            state.users[listener.user_id] += 1
            src = getattr(listener, "src", None)
            if src is not None:
                state.by_src[src] = listener
            if first:
                metrics.documents_open.set(len(self.documents))
        if first:
            await self.subscriber.subscribe(channel)

    async def unwatch(self, channel: str, listener: Listener) -> None:
        listeners = self.listeners.get(channel)
        if not listeners or listener not in listeners:
            return
        listeners.discard(listener)
        if channel.startswith("user:"):  # (a connection watches its own user's channel only)
            self.turns.pop(listener, None)
        state = self.documents.get(channel[4:]) if channel.startswith("doc:") else None
        if state is not None:
            if state.by_src.get(getattr(listener, "src", None)) is listener:
                del state.by_src[listener.src]  # type: ignore[attr-defined]
            state.users[listener.user_id] -= 1
            if state.users[listener.user_id] <= 0:
                del state.users[listener.user_id]
        if not listeners:
            del self.listeners[channel]
            if channel.startswith("doc:"):
                self.documents.pop(channel[4:], None)
                metrics.documents_open.set(len(self.documents))
            await self.subscriber.unsubscribe(channel)

    async def watch_document(self, document_id: str, listener: Listener) -> None:
        await self.watch(document_channel(document_id), listener)

    async def unwatch_document(self, document_id: str, listener: Listener) -> None:
        await self.unwatch(document_channel(document_id), listener)

    async def watch_user(self, user_id: Any, listener: Listener) -> None:
        await self.watch(user_channel(user_id), listener)

    async def unwatch_user(self, user_id: Any, listener: Listener) -> None:
        await self.unwatch(user_channel(user_id), listener)

    # --- What the hub knows ---------------------------------------------------------------

    def ops_since(self, document_id: str, version: int) -> list[OpRecord] | None:
        """The ops from `version` to the hub's head, if it still holds all of them."""
        state = self.documents.get(document_id)
        if state is None or state.next_version is None or version > state.next_version:
            return None
        if version == state.next_version:
            return []
        if not state.recent or state.recent[0].record.version > version:
            return None
        return [event.record for event in state.recent if event.record.version >= version]

    def loaded(self, document_id: str, version: int) -> None:
        """A listener read the document at `version`: anything committed after it must come by."""
        state = self.documents.get(document_id)
        if state is not None and state.next_version is None:
            state.next_version = version

    def head(self, document_id: str) -> int | None:
        state = self.documents.get(document_id)
        return None if state is None else state.next_version

    def may_read(self, document_id: str, user_id: Any) -> bool:
        state = self.documents.get(document_id)
        if state is None or state.roles is None or user_id not in state.checked:
            return True  # Checked at subscribe; the next sweep follows within a second.
        return user_id in state.roles

    # --- Incoming -------------------------------------------------------------------------

    def _receive(self, channel: str, data: str) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            logger.warning("undecodable event on %s", channel)
            return
        if event.get("k") == "ops" and channel.startswith("doc:"):
            if "t" in event:
                metrics.broadcast_latency.observe(max(0.0, time.time() - event["t"]))
            records = [OpRecord.from_dict(r) for r in event["r"]]
            self._accept(channel[4:], records)
            return
        for listener in list(self.listeners.get(channel, ())):
            try:
                listener.hub_message(channel, event)
            except Exception:
                logger.exception("listener failed on %s", channel)

    def _accept(self, document_id: str, records: list[OpRecord]) -> None:
        state = self.documents.get(document_id)
        if state is None:
            return
        if state.repairing:
            state.held.extend(records)
            return
        events: list[OpEvent] = []
        for index, record in enumerate(records):
            if state.next_version is not None and record.version < state.next_version:
                continue
            if state.next_version is not None and record.version > state.next_version:
                self._dispatch(document_id, state, events)
                state.held = list(records[index:])
                self._start_repair(document_id, state, record.version)
                return
            state.next_version = record.version + 1
            events.append(OpEvent.of(record))
        self._dispatch(document_id, state, events)

    def _dispatch(self, document_id: str, state: DocumentState, events: list[OpEvent]) -> None:
        """Hand consecutive ops to every local listener that may read them, and have each write
        them at once, in one write: their authors first (an ack is the frame someone waits on),
        and the first readers' frames on their way while the hub hands the ops to the rest."""
        if not events:
            return
        state.next_version = events[-1].record.version + 1
        state.recent.extend(events)
        current = self.listeners.get(document_channel(document_id), ())
        listeners = list(current)
        for event in reversed(events):
            author = state.by_src.get(event.record.src)
            if author is not None and author in current:
                listeners.remove(author)
                listeners.insert(0, author)
        for listener in listeners:
            if not self.may_read(document_id, listener.user_id):
                continue  # Lost access since: never hand it another op.
            try:
                for event in events:
                    listener.hub_op(document_id, event)
                listener.flush_now()
            except Exception:
                logger.exception("listener failed on an op of %s", document_id)

    def _start_repair(self, document_id: str, state: DocumentState, end: int) -> None:
        metrics.gaps_detected.inc()
        state.repairing = True
        self.loop.create_task(self._repair(document_id, state, end))

    async def _repair(self, document_id: str, state: DocumentState, end: int) -> None:
        start = state.next_version
        try:
            if start is not None and end > start:
                records = await _read_ops(document_id, start, end)
                if self.documents.get(document_id) is state:
                    self._dispatch(document_id, state, [OpEvent.of(record) for record in records])
                metrics.gaps_repaired.inc()
        except CollabError:
            # Kept no longer (or the document is gone): each connection resyncs on its own.
            logger.info("cannot repair %s from v%s", document_id, start)
            state.next_version = end
        except Exception:
            logger.warning("repair of %s failed; the next sweep retries", document_id, exc_info=True)
        finally:
            state.repairing = False
            held, state.held = state.held, []
            if held and self.documents.get(document_id) is state:
                held.sort(key=lambda r: r.version)
                self._accept(document_id, held)

    def _on_reset(self) -> None:
        """Pub/sub came back after an outage: check every document now, not at the next sweep."""
        for state in self.documents.values():
            state.gap_seen = True
        self.loop.create_task(self.sweep())

    # --- The sweep ------------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        interval = settings.COLLAB_HUB_SWEEP_SECONDS
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # The database may be away; the next round tries again.
                logger.warning("hub sweep failed", exc_info=True)

    async def sweep(self) -> None:
        """Compare each watched document with the database: repair gaps and refresh who may
        read. And take the connections whose turn it is (each one's comes once per sync
        interval, a slice of the process at each sweep rather than all of them together, so no
        sweep holds up a broadcast): tick them, check their sessions, and tell the database they
        are still here."""
        due = self._due()
        if due:
            self._tick_connections(due)
            await self.check_sessions(due)
        if not self.documents:
            return
        document_ids = list(self.documents)
        started = time.monotonic()
        heads = await _read_heads(document_ids)
        await self._refresh_access(document_ids, heads)
        for document_id in document_ids:
            state = self.documents.get(document_id)
            if state is None or document_id not in heads:
                continue
            head = heads[document_id][0]
            if state.next_version is None:
                state.next_version = head
            elif head > state.next_version and not state.repairing:
                # Only a gap that outlived one sweep: the op may simply be on its way.
                if state.gap_seen:
                    self._start_repair(document_id, state, head)
                    state.gap_seen = False
                else:
                    state.gap_seen = True
            else:
                state.gap_seen = False
        logger.debug(
            "hub sweep of %d documents in %.1f ms", len(document_ids), (time.monotonic() - started) * 1e3
        )
        # Last, so a failure here never holds back repairs and access.
        if due:
            await _refresh_visits(sorted({listener.channel_name for listener in due}))

    def _due(self) -> list[Listener]:
        """The connections whose turn is this sweep's."""
        self._rounds += 1
        turns = max(1, round(settings.COLLAB_SYNC_INTERVAL_SECONDS / settings.COLLAB_HUB_SWEEP_SECONDS))
        now = self._rounds % turns
        return [listener for listener, turn in self.turns.items() if turn % turns == now]

    def _tick_connections(self, due: list[Listener]) -> None:
        for listener in due:
            try:
                listener.tick()
            except Exception:
                logger.exception("a connection's tick failed")

    async def check_sessions(self, due: list[Listener]) -> None:
        """End the connections whose session ended (expired, signed out, password changed, user
        deactivated) even if the event saying so was lost: one check for these connections."""
        if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
            return  # Each connection checks its own session on its tick.
        by_key: dict[str, list[tuple[str, Listener]]] = {}
        sessions: dict[str, Any] = {}
        for listener in due:
            key = getattr(listener, "session_key", None)
            if key:
                sessions[key] = listener.user_id
                by_key.setdefault(key, []).append((user_channel(listener.user_id), listener))
        valid = await _signed_in(sessions)
        for key, entries in by_key.items():
            if key not in valid:
                for channel, listener in entries:
                    listener.hub_message(channel, {"k": "end"})

    async def _refresh_access(self, document_ids: list[str], heads: dict[str, tuple[int, int]]) -> None:
        """Re-read roles where they may have changed: on documents whose access stamp moved (all
        their readers) and for readers no sweep has asked about yet. A purged document (absent
        from `heads`) is asked about for everyone: it grants no one anything."""
        asked: dict[str, tuple[set[Any], int | None]] = {}
        for document_id in document_ids:
            state = self.documents.get(document_id)
            if state is None:
                continue
            stamp = heads[document_id][1] if document_id in heads else None
            users = set(state.users)
            if stamp is None or stamp != state.stamp:
                asked[document_id] = (users, stamp)
            elif not users <= state.checked:
                asked[document_id] = (users - state.checked, stamp)
        if not asked:
            return
        user_ids: set[Any] = set().union(*(users for users, _ in asked.values()))
        roles = await _read_roles(list(asked), list(user_ids))
        for document_id, (users, stamp) in asked.items():
            state = self.documents.get(document_id)
            if state is not None:
                found = roles.get(document_id, {})
                self._refresh_roles(document_id, state, {u: r for u, r in found.items() if u in users}, users)
                state.stamp = stamp

    def _refresh_roles(
        self, document_id: str, state: DocumentState, roles: dict[Any, str], asked: set[Any]
    ) -> None:
        """Keep the roles just read for `asked`, and tell each listener whose role changed (or
        who has none) to re-check, once per change. Someone who arrived during the read was
        checked on arrival, and the next sweep asks about them."""
        previous = state.roles or {}
        state.roles = {u: r for u, r in previous.items() if u not in asked} | roles
        state.checked = (state.checked & state.users.keys()) | asked
        changed = set()
        for user_id in state.users.keys() & asked:
            role = roles.get(user_id)
            if role is None and user_id not in state.told_no_access:
                state.told_no_access.add(user_id)
                changed.add(user_id)
            elif role is not None:
                state.told_no_access.discard(user_id)
                if user_id in previous and previous[user_id] != role:
                    changed.add(user_id)
        if not changed:
            return
        message = {"k": "access", "d": document_id, "u": None}
        for listener in list(self.listeners.get(document_channel(document_id), ())):
            if listener.user_id in changed:
                listener.hub_message(document_channel(document_id), message)

    def connections(self) -> set[Listener]:
        """Every local connection (each one watches its user's channel)."""
        return set(self.turns)

    def close(self) -> None:
        self._sweeper.cancel()
        self.subscriber.close()


_hubs: PerLoop[Hub] = PerLoop(Hub, on_drop=Hub.close)


def get_hub() -> Hub:
    """The hub of the running event loop."""
    return _hubs.get()


def live_hubs() -> list[Hub]:
    return _hubs.live()
