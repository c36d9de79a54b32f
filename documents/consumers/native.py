"""WebSocket connections served on the event loop itself, without an ASGI application instance,
a queue and two tasks per connection (docs/performance.md, "Memory per idle connection").

daphne still listens and parses the upgrade request. For `/ws/` on a plain TCP socket with an
allowed Origin, `install` takes the request instead of daphne: the socket moves from Twisted to
an asyncio transport, `Socket` frames and unframes RFC 6455 itself, and the same
`ShareDBConsumer` is driven through its ASGI methods (connect, receive, disconnect) with this
socket as its send and its wire. An idle connection is then a transport, a socket and the
consumer's own state; a task runs only while it has frames to handle. Anything else (TLS ended
at daphne, another path, a refused Origin, an unusual handshake) takes daphne's own way, so
refusals answer exactly as before.
"""

import asyncio
import base64
import contextvars
import hashlib
import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.exceptions import StopConsumer
from django.conf import settings

from ..broadcast.hub import OpEvent
from ..loops import PerLoop
from ..routing import origin_allowed
from .wire import prepared

logger = logging.getLogger(__name__)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# Frames handled but not yet dispatched past which the socket stops reading (a flood waits in
# the kernel's buffers, as the client's own send would, instead of in this process).
PAUSE_AT = 256
CLOSE_HANDSHAKE_SECONDS = 1.0  # autobahn's wait for the client's close frame, as daphne had it


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server frame (never masked, never fragmented)."""
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, length))
    elif length < 1 << 16:
        header = bytes((0x80 | opcode, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + length.to_bytes(8, "big")
    return header + payload


def _close_frame(code: int) -> bytes:
    return _frame(CLOSE, code.to_bytes(2, "big"))


def _unmask(payload: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    n = len(payload)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


class Keepalive:
    """One timer for every native socket of the loop (daphne's --ping-interval/--ping-timeout):
    ping a socket quiet for `interval`, drop one quiet for `interval + timeout`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sockets: set[Socket] = set()
        self.handle: asyncio.TimerHandle | None = None
        # Each second (at most): the pings of a thousand sockets that connected together are
        # spread over the seconds they connected in, not sent in one burst every few seconds.
        self.period = 1.0

    def add(self, sock: "Socket") -> None:
        self.sockets.add(sock)
        self.period = max(0.25, min(self.period, sock.ping_interval / 3))
        if self.handle is None:
            self.handle = self.loop.call_later(self.period, self._check)

    def discard(self, sock: "Socket") -> None:
        self.sockets.discard(sock)

    def _check(self) -> None:
        self.handle = None
        now = time.monotonic()
        for sock in list(self.sockets):
            quiet = now - sock.last_seen
            if quiet > sock.ping_interval + sock.ping_timeout:
                logger.info("dropping a WebSocket that answered no ping")
                sock.abort()
            elif quiet > sock.ping_interval and now - sock.last_ping > sock.ping_interval:
                sock.ping()
        if self.sockets:
            self.handle = self.loop.call_later(self.period, self._check)


_keepalives: PerLoop[Keepalive] = PerLoop(Keepalive)


class Socket(asyncio.Protocol):
    """One WebSocket: its framing, its handshake answer, and the consumer behind it. It is the
    consumer's ASGI send (accept, send, close) and its wire (backlog, direct send)."""

    direct = True
    is_native_wire = True
    __slots__ = (
        "log_action", "ping_interval", "ping_timeout", "max_message", "key", "client", "session_key",
        "transport", "consumer", "buffer", "fragments", "fragment_opcode", "fragment_size", "pending",
        "runner", "accepted", "connected", "close_sent", "lost", "paused", "close_code", "last_seen",
        "last_ping", "closer", "context",
    )  # fmt: skip

    def __init__(self, request: Any, key: bytes, client: list[Any] | None, session_key: str | None) -> None:
        server = request.server
        self.log_action: Callable[..., Any] = server.log_action
        self.ping_interval = float(server.ping_interval)
        self.ping_timeout = float(server.ping_timeout)
        self.max_message = int(server.websocket_max_message_size)
        self.key = key
        self.client = client
        self.session_key = session_key
        self.transport: asyncio.Transport | None = None
        self.consumer: Any = None
        self.buffer = bytearray()
        self.fragments: list[bytes] | None = None
        self.fragment_opcode = TEXT
        self.fragment_size = 0
        self.pending: deque[dict[str, Any]] = deque()
        self.runner: asyncio.Task[Any] | None = None
        self.accepted = False
        self.connected = False  # the consumer's connect has returned
        self.close_sent = False
        self.lost = False
        self.paused = False
        self.close_code: int | None = None
        self.last_seen = self.last_ping = time.monotonic()
        self.closer: asyncio.TimerHandle | None = None
        # The context connect ran in (the log lines' connection and user ids): every frame is
        # handled in it, as in the one task of an ASGI application.
        self.context: contextvars.Context | None = None

    def _details(self) -> dict[str, Any]:
        return {"path": "/ws/", "client": "%s:%s" % tuple(self.client) if self.client else None}

    # --- Start ------------------------------------------------------------------------------

    async def start(self, sock: socket.socket) -> None:
        from .sharedb import ShareDBConsumer

        loop = asyncio.get_running_loop()
        try:
            await loop.connect_accepted_socket(lambda: self, sock)
        except OSError:
            sock.close()
            return
        self.log_action("websocket", "connecting", self._details())
        try:
            session = import_module(settings.SESSION_ENGINE).SessionStore(self.session_key)
            user = await get_user({"session": session})
        except Exception:
            logger.exception("could not read the session of a WebSocket")
            self._refuse()
            return
        if self.lost:
            return
        consumer = self.consumer = ShareDBConsumer()
        consumer.scope = {
            "type": "websocket",
            "path": "/ws/",
            "client": self.client,
            "headers": [],
            "subprotocols": [],
            "user": user,
            "session": session,
        }
        consumer.channel_layer = None
        consumer.base_send = self
        try:
            await consumer.websocket_connect({"type": "websocket.connect"})
        except Exception:
            logger.exception("WebSocket connect failed")
            self._fail(1011)  # (and the disconnect, queued when the transport is gone, cleans up)
        # What connect read from the scope it keeps; the session's decoded data need not stay.
        consumer.scope = {"type": "websocket", "path": "/ws/", "client": self.client}
        self.context = contextvars.copy_context()
        self.connected = True
        if self.pending and self.runner is None:
            self.runner = loop.create_task(self._run(), context=self.context)

    # --- ASGI send (the consumer's base_send) -----------------------------------------------

    async def __call__(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            text = message.get("text")
            if text is not None:
                self._write(_frame(TEXT, text.encode("utf-8")))
            elif message.get("bytes") is not None:
                self._write(_frame(BINARY, message["bytes"]))
        elif kind == "websocket.accept":
            self._accept()
        elif kind == "websocket.close":
            if not self.accepted:
                self._refuse()
            else:
                self._send_close(int(message.get("code") or 1000))

    def _accept(self) -> None:
        if self.accepted or self.transport is None or self.lost:
            return
        self.accepted = True
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nServer: daphne\r\nUpgrade: WebSocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept_key(self.key) + b"\r\n\r\n"
        )
        _keepalives.get().add(self)
        self.log_action("websocket", "connected", self._details())

    def _refuse(self) -> None:
        """Closed before it was accepted: the handshake's answer is a 403, as daphne's."""
        if self.transport is not None and not self.lost and not self.accepted:
            self.transport.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
        self.log_action("websocket", "rejected", self._details())

    def _write(self, data: bytes) -> None:
        if self.transport is not None and self.accepted and not self.close_sent and not self.lost:
            self.transport.write(data)

    def _send_close(self, code: int) -> None:
        if self.close_sent or self.transport is None or self.lost:
            return
        self.transport.write(_close_frame(code))
        self.close_sent = True
        # The client answers with its close frame (then the transport closes); one that does not
        # (it reads nothing, or it is gone) is dropped after a second.
        self.closer = asyncio.get_running_loop().call_later(CLOSE_HANDSHAKE_SECONDS, self.abort)

    # --- Wire (the consumer's direct send) --------------------------------------------------

    def backlog(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def send(self, frames: list[str | OpEvent], backlog: int | None = None) -> None:
        if not frames or self.close_sent or self.lost or self.transport is None or not self.accepted:
            return
        parts = [
            prepared(frame).payloadHybi if isinstance(frame, OpEvent) else _frame(TEXT, frame.encode("utf-8"))
            for frame in frames
        ]
        self.transport.write(parts[0] if len(parts) == 1 else b"".join(parts))

    def release(self) -> None:
        """Nothing kept: asyncio drops a lost transport's buffer with it."""

    def shed_handshake(self, scope: dict[str, Any]) -> None:
        """Nothing kept: the handshake was never stored."""

    def ping(self) -> None:
        self.last_ping = time.monotonic()
        self._write(_frame(PING, b""))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.last_seen = time.monotonic()
        buffer = self.buffer
        buffer += data
        position, end = 0, len(buffer)
        while end - position >= 2 and not self.lost:
            first, second = buffer[position], buffer[position + 1]
            opcode, fin, length = first & 0x0F, first & 0x80, second & 0x7F
            if first & 0x70 or not second & 0x80:  # reserved bits (no extension), or unmasked
                self._fail(1002)
                return
            start = position + 2
            if length == 126:
                if end - start < 2:
                    break
                length, start = int.from_bytes(buffer[start : start + 2], "big"), start + 2
            elif length == 127:
                if end - start < 8:
                    break
                length, start = int.from_bytes(buffer[start : start + 8], "big"), start + 8
            if length > self.max_message:
                self._fail(1009)
                return
            if end - start < 4 + length:
                break
            payload = _unmask(buffer[start + 4 : start + 4 + length], buffer[start : start + 4])
            position = start + 4 + length
            if not self._frame_received(opcode, bool(fin), payload):
                return
        del buffer[:position]

    def _frame_received(self, opcode: int, fin: bool, payload: bytes) -> bool:
        """Handle one frame; False if the connection was failed."""
        if opcode >= CLOSE:
            if not fin or len(payload) > 125:
                self._fail(1002)
                return False
            if opcode == PING:
                self._write(_frame(PONG, payload))
            elif opcode == CLOSE:
                self._close_received(payload)
                return False
            elif opcode != PONG:
                self._fail(1002)
                return False
            return True
        if opcode == CONTINUATION:
            if self.fragments is None:
                self._fail(1002)
                return False
        elif opcode in (TEXT, BINARY):
            if self.fragments is not None:
                self._fail(1002)
                return False
            if fin:
                return self._message(opcode, payload)
            self.fragments, self.fragment_opcode, self.fragment_size = [], opcode, 0
        else:
            self._fail(1002)
            return False
        self.fragments.append(payload)
        self.fragment_size += len(payload)
        if self.fragment_size > self.max_message:
            self._fail(1009)
            return False
        if fin:
            whole, self.fragments = b"".join(self.fragments), None
            return self._message(self.fragment_opcode, whole)
        return True

    def _message(self, opcode: int, payload: bytes) -> bool:
        if opcode == TEXT:
            try:
                message = {"type": "websocket.receive", "text": payload.decode("utf-8")}
            except UnicodeDecodeError:
                self._fail(1007)
                return False
        else:
            message = {"type": "websocket.receive", "bytes": payload}
        if self.close_sent:
            return True  # Closing: nothing more is handled (the consumer would drop it too).
        self._queue(message)
        return True

    def _queue(self, message: dict[str, Any]) -> None:
        self.pending.append(message)
        if len(self.pending) >= PAUSE_AT and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        if self.runner is None and self.connected:
            self.runner = asyncio.get_running_loop().create_task(self._run(), context=self.context)

    def _close_received(self, payload: bytes) -> None:
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        self.close_code = code
        if not self.close_sent and self.transport is not None:
            self.transport.write(_close_frame(code if code not in (1005, 1006, 1015) else 1000))
            self.close_sent = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, code: int) -> None:
        """A protocol error: say why, then drop the connection."""
        if self.transport is None or self.lost:
            return
        if self.accepted and not self.close_sent:
            self.transport.write(_close_frame(code))
            self.close_sent = True
        self.close_code = self.close_code or code
        self.transport.close()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.closer is not None:
            self.closer.cancel()
        _keepalives.get().discard(self)
        self.buffer = bytearray()
        self.fragments = None
        if self.accepted:
            self.log_action("websocket", "disconnected", self._details())
        if self.consumer is not None:
            self.pending.append({"type": "websocket.disconnect", "code": self.close_code or 1006})
            if self.runner is None and self.connected:
                self.runner = asyncio.get_running_loop().create_task(self._run(), context=self.context)

    # --- Handling, in order -----------------------------------------------------------------

    async def _run(self) -> None:
        """Dispatch what is pending, one message after the other, then end (no idle task)."""
        pending, consumer = self.pending, self.consumer
        try:
            while pending:
                message = pending.popleft()
                if self.paused and len(pending) < PAUSE_AT // 2 and self.transport is not None:
                    self.paused = False
                    if not self.lost:
                        self.transport.resume_reading()
                if message["type"] == "websocket.disconnect":
                    try:
                        await consumer.websocket_disconnect(message)
                    except StopConsumer:
                        pass
                    pending.clear()
                    self.consumer = None  # Nothing refers to a finished connection any more.
                    return
                await consumer.dispatch(message)
        except Exception:
            logger.exception("handling a WebSocket message failed")
            self._fail(1011)
        finally:
            self.runner = None
            if pending and self.consumer is not None:
                self.runner = asyncio.get_running_loop().create_task(self._run(), context=self.context)


# --- Taking the upgrade from daphne ---------------------------------------------------------


def _header(request: Any, name: bytes) -> bytes | None:
    values = request.requestHeaders.getRawHeaders(name)
    return values[0] if values else None


def _key(request: Any) -> bytes | None:
    """The handshake's key, if this is an upgrade the native socket takes (asked of every HTTP
    request, so the path is looked at first)."""
    if request.path != b"/ws/" or request.method != b"GET" or request.clientproto != b"HTTP/1.1":
        return None
    from daphne.utils import HEADER_NAME_RE, INVALID_HEADER_VALUE_BYTES
    from twisted.internet import tcp

    if not isinstance(getattr(request.channel, "transport", None), tcp.Server):
        return None  # TLS (a wrapping protocol) or something else: daphne's own way
    upgrade, connection = _header(request, b"upgrade"), _header(request, b"connection")
    if upgrade is None or upgrade.lower() != b"websocket" or connection is None:
        return None
    if b"upgrade" not in [part.strip() for part in connection.lower().split(b",")]:
        return None
    if _header(request, b"sec-websocket-version") != b"13":
        return None
    key = _header(request, b"sec-websocket-key")
    try:
        if key is None or len(base64.b64decode(key, validate=True)) != 16:
            return None
    except ValueError:
        return None
    for name, values in request.requestHeaders.getAllRawHeaders():
        if not HEADER_NAME_RE.fullmatch(name) or any(
            INVALID_HEADER_VALUE_BYTES.intersection(v) for v in values
        ):
            return None
    origin = _header(request, b"origin")
    if origin is None or not origin_allowed(origin.decode("latin1")):
        return None  # Channels refuses it, with daphne's answer
    return key


def _client(request: Any) -> list[Any] | None:
    from daphne.utils import parse_x_forwarded_for

    client = None
    if hasattr(request.client, "host") and hasattr(request.client, "port"):
        client = [str(request.client.host), request.client.port]
    server = request.server
    if server.proxy_forwarded_address_header:
        client, _ = parse_x_forwarded_for(
            request.requestHeaders,
            server.proxy_forwarded_address_header,
            server.proxy_forwarded_port_header,
            server.proxy_forwarded_proto_header,
            client,
            "http",
        )
    return client


def _session_key(request: Any) -> str | None:
    header = _header(request, b"cookie")
    if header is None:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header.decode("latin1"))
    except Exception:
        return None
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel is not None else None


def _detach(request: Any) -> socket.socket:
    """Take the socket from Twisted: out of the reactor, its descriptor ours, the HTTP objects
    let go (Twisted would otherwise keep them for the connection's life)."""
    channel = request.channel
    transport = channel.transport
    channel.setTimeout(None)
    transport.stopReading()
    transport.stopWriting()
    sock = socket.socket(fileno=transport.socket.detach())
    request.server.protocol_disconnected(request)
    # Twisted's objects refer to each other (transport, channel, request, producer): let them go
    # now rather than at the cyclic collector's next full pass, once Twisted has returned from
    # the request it is handling.
    asyncio.get_event_loop().call_soon(_forget, request, channel, transport)
    return sock


def _forget(request: Any, channel: Any, transport: Any) -> None:
    transport.producer = transport.protocol = None
    channel.transport = channel._networkProducer = None
    channel.requests = []
    request.channel = request.transport = request.content = None


def take(request: Any) -> bool:
    """Serve this request as a native WebSocket, if it is one; False leaves it to daphne."""
    try:
        key = _key(request)
    except Exception:
        logger.exception("could not read a WebSocket handshake")
        return False
    if key is None:
        return False
    native = Socket(request, key, _client(request), _session_key(request))
    sock = _detach(request)
    asyncio.get_event_loop().create_task(native.start(sock))
    return True


def install() -> None:
    """Under daphne, with COLLAB_NATIVE_SOCKETS on: take WebSocket upgrades before daphne does."""
    import sys

    if not settings.COLLAB_NATIVE_SOCKETS or "daphne.http_protocol" not in sys.modules:
        return
    from daphne.http_protocol import WebRequest

    if getattr(WebRequest.process, "native", False):
        return
    daphne_process = WebRequest.process

    def process(request: Any) -> Any:
        if take(request):
            return None
        return daphne_process(request)

    process.native = True  # type: ignore[attr-defined]
    WebRequest.process = process
