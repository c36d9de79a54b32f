"""The connection's socket as daphne holds it: how much the client has not read yet, and a direct
send that frames a broadcast op once for every connection of the process and writes whatever is
queued in one go (straight to the socket when Twisted has nothing buffered for it).

daphne hands each connection `partial(server.handle_reply, protocol)` as its send callable (under
Channels' session wrapper). Where there is no daphne socket (the tests' communicators), `Wire`
is inert and the consumer sends through Channels as usual.
"""

import asyncio
import logging
from typing import Any

from autobahn.websocket.protocol import PreparedMessage

from ..broadcast.hub import OpEvent
from ..loops import PerLoop

logger = logging.getLogger(__name__)


def _daphne_protocol(send: Any) -> Any:
    while hasattr(getattr(send, "__self__", None), "real_send"):
        send = send.__self__.real_send  # Channels' session middleware wraps send.
    args = getattr(send, "args", None)
    protocol = args[0] if args else None
    if protocol is None or not hasattr(protocol, "sendMessage") or not hasattr(protocol, "transport"):
        return None
    return protocol


def prepared(event: OpEvent) -> PreparedMessage:
    """The op's frame, framed once (per process) for every connection it goes to."""
    if event.prepared is None:
        event.prepared = PreparedMessage(event.frame.encode("utf-8"), False, False, True)
    return event.prepared


def _framed(text: str) -> PreparedMessage:
    return PreparedMessage(text.encode("utf-8"), False, False, True)


class Wire:
    def __init__(self, send: Any) -> None:
        self.protocol = _daphne_protocol(send)
        transport = getattr(self.protocol, "transport", None)
        # A plain TCP socket (TLS ends at the platform's router): one we may write to directly.
        self.plain = (
            transport is not None
            and not getattr(transport, "TLS", False)
            and hasattr(transport, "socket")
            and hasattr(transport, "disconnecting")
        )

    def shed_handshake(self, scope: dict[str, Any]) -> None:
        """The socket is open: let go of what only the upgrade needed and autobahn and daphne
        would otherwise keep for the connection's whole life (about 4 kB of an idle reader's 40,
        docs/performance.md): autobahn's raw handshake and parsed headers, and the scope's header
        list and cookies (shared by every copy of the scope the middleware made, so clearing is
        the only way to free them; nothing reads them after connect)."""
        protocol = self.protocol
        if protocol is None:
            return
        protocol.http_request_data, protocol.http_headers = b"", {}
        if getattr(protocol, "request", None) is not None:
            protocol.request.headers = {}  # (daphne reads only its path, in log lines)
        if isinstance(getattr(protocol, "clean_headers", None), list):
            protocol.clean_headers.clear()  # the scope's "headers"
        if isinstance(scope.get("cookies"), dict):
            scope["cookies"].clear()

    @property
    def direct(self) -> bool:
        return self.protocol is not None

    def backlog(self) -> int:
        """Bytes written to the socket that the client has not read (Twisted buffers them)."""
        transport = getattr(self.protocol, "transport", None)
        if transport is None:
            return 0
        buffered = len(getattr(transport, "dataBuffer", b"")) - int(getattr(transport, "offset", 0))
        return buffered + int(getattr(transport, "_tempDataLen", 0))

    def release(self) -> None:
        """The socket is gone: drop what Twisted still buffers for it now. (The protocol and its
        transport refer to each other, so otherwise the unread bytes of a slow or vanished client
        stay until the cyclic garbage collector happens to run.)"""
        transport = getattr(self.protocol, "transport", None)
        if transport is None or not getattr(transport, "disconnected", False):
            return
        transport.dataBuffer, transport.offset = b"", 0
        transport._tempDataBuffer, transport._tempDataLen = [], 0

    def send(self, frames: list[str | OpEvent], backlog: int | None = None) -> None:
        """Write frames now, in one write: a catch-up of thousands of ops costs one syscall
        (`backlog`: what `backlog()` just said, if the caller asked)."""
        protocol = self.protocol
        if not frames or protocol is None or protocol.state != protocol.STATE_OPEN:
            return  # Closing or closed: daphne would drop them too.
        if len(frames) == 1:
            frame = frames[0]
            data = (prepared(frame) if isinstance(frame, OpEvent) else _framed(frame)).payloadHybi
        else:
            data = b"".join(
                (prepared(frame) if isinstance(frame, OpEvent) else _framed(frame)).payloadHybi
                for frame in frames
            )
        transport = protocol.transport
        if (
            self.plain
            and (self.backlog() if backlog is None else backlog) == 0
            and not protocol.send_queue
            and transport.connected
            and not transport.disconnecting
        ):
            # Nothing is waiting in Twisted's buffer: write to the socket now. Twisted would
            # register the socket for writability, wait a loop iteration, write, and unregister
            # it again: two epoll calls and a callback per socket, per broadcast.
            try:
                sent = transport.socket.send(data)
            except OSError:  # (EAGAIN, or an error Twisted's own write meets and handles)
                sent = 0
            if protocol.trafficStats is not None:
                protocol.trafficStats.outgoingOctetsWireLevel += sent
            if sent == len(data):
                return
            data = data[sent:]
        protocol.sendData(data)


class Flusher:
    """Writes, once per loop iteration, every connection that queued frames since the last one:
    one callback for a broadcast to a thousand sockets instead of a thousand task wake-ups."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.marked: list[Any] = []

    def mark(self, connection: Any) -> None:
        if not self.marked:
            self.loop.call_soon(self._flush)
        self.marked.append(connection)

    def _flush(self) -> None:
        marked, self.marked = self.marked, []
        for connection in marked:
            if not connection.flush_marked:
                continue  # written since it was marked (the hub's hand-over, an author's ack)
            try:
                connection.flush()
            except Exception:  # One broken socket must not keep the others' frames back.
                logger.exception("writing to a connection failed")


_flushers: PerLoop[Flusher] = PerLoop(Flusher)


def flusher() -> Flusher:
    """The running loop's flusher."""
    return _flushers.get()
