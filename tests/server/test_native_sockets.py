"""WebSocket framing on a real daphne, served natively (documents/consumers/native.py) and, as
the reference, through daphne's own autobahn and an ASGI application per socket: every case ends
the same way on both, frame by frame, except that on a protocol error autobahn drops the TCP
connection without a word where the native socket first says why in a close frame (RFC 6455
7.1.7 allows either)."""

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from websockets.sync.client import connect

from documents import protocol
from tests.conftest import ServerProcess, database_url_for_test_db
from tests.server.conftest import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

HS = json.dumps({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2}).encode()


@pytest.fixture(params=["native", "asgi"])
def server(request: Any, transactional_db: Any) -> Iterator[ServerProcess]:
    env = {
        **database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "COLLAB_NATIVE_SOCKETS": "1" if request.param == "native" else "0",
    }
    process = ServerProcess(env, name=f"daphne-{request.param}", ping=(1, 1)).start()
    try:
        yield process
    finally:
        process.stop()


class Raw:
    """A WebSocket client at the level of frames: what it sends is exactly what the test says."""

    def __init__(self, server: ServerProcess, cookie: str | None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /ws/ HTTP/1.1",
            f"Host: 127.0.0.1:{server.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {server.url}",
        ]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._read()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])

    def _read(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        return data

    def send(self, opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0) -> None:
        first = (0x80 if fin else 0) | rsv | opcode
        length = len(payload)
        if length < 126:
            header = bytes((first, (0x80 if mask else 0) | length))
        elif length < 1 << 16:
            header = bytes((first, (0x80 if mask else 0) | 126)) + struct.pack("!H", length)
        else:
            header = bytes((first, (0x80 if mask else 0) | 127)) + struct.pack("!Q", length)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            header += key
        self.sock.sendall(header + payload)

    def recv(self) -> tuple[int, bytes]:
        """The next frame (opcode, payload); (-1, b"") when the server closed the TCP connection."""
        try:
            while True:
                if len(self.buffer) >= 2:
                    length, start = self.buffer[1] & 0x7F, 2
                    if length == 126 and len(self.buffer) >= 4:
                        length, start = struct.unpack("!H", self.buffer[2:4])[0], 4
                    elif length == 127 and len(self.buffer) >= 10:
                        length, start = struct.unpack("!Q", self.buffer[2:10])[0], 10
                    if length < 126 or start > 2:
                        if len(self.buffer) >= start + length:
                            opcode = self.buffer[0] & 0x0F
                            payload = self.buffer[start : start + length]
                            self.buffer = self.buffer[start + length :]
                            return opcode, payload
                self.buffer += self._read()
        except (EOFError, ConnectionResetError):
            return -1, b""

    def close_code(self) -> int | None:
        """Read up to the server's close frame: its code (None if the TCP connection just ended)."""
        while True:
            opcode, payload = self.recv()
            if opcode == -1:
                return None
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005

    def text(self) -> dict[str, Any]:
        while True:
            opcode, payload = self.recv()
            if opcode == 0x1:
                return json.loads(payload)
            assert opcode in (0x9, 0xA), (opcode, payload)  # (the server's keepalive pings)


@pytest.fixture
def cookie(users: Any) -> str:
    return session_cookie(users["olga"])


def test_a_message_in_fragments_is_handled_as_one(server: ServerProcess, cookie: str) -> None:
    raw = Raw(server, cookie)
    assert raw.status == 101
    raw.send(0x1, HS[:5], fin=False)
    raw.send(0x9, b"between")  # a control frame may come between fragments
    raw.send(0x0, HS[5:20], fin=False)
    raw.send(0x0, HS[20:])
    assert raw.recv() == (0xA, b"between")
    assert raw.text()["a"] == "hs"


def test_a_ping_is_answered_with_its_payload(server: ServerProcess, cookie: str) -> None:
    raw = Raw(server, cookie)
    raw.send(0x9, b"are you there")
    assert raw.recv() == (0xA, b"are you there")


def test_a_close_is_answered_with_a_close(server: ServerProcess, cookie: str) -> None:
    raw = Raw(server, cookie)
    raw.send(0x1, HS)
    assert raw.text()["a"] == "hs"
    raw.send(0x8, struct.pack("!H", 1000))
    assert raw.close_code() == 1000
    assert raw.recv() == (-1, b"")


FAILURES = {
    # What the client sends after its handshake, and the close code it gets back.
    "unmasked": (lambda raw: raw.send(0x1, HS, mask=False), 1002),
    "reserved-bits": (lambda raw: raw.send(0x1, HS, rsv=0x40), 1002),
    "continuation-first": (lambda raw: raw.send(0x0, HS), 1002),
    "unknown-opcode": (lambda raw: raw.send(0x3, b"x"), 1002),
    "fragmented-ping": (lambda raw: raw.send(0x9, b"x", fin=False), 1002),
    "bad-utf8": (lambda raw: raw.send(0x1, b'{"a": "\xff\xfe"}'), 1007),
    "too-big": (lambda raw: raw.send(0x1, b"x" * (1024 * 1024 + 1)), 1009),
    "binary": (lambda raw: raw.send(0x2, b"\x00\x01"), protocol.CLOSE_UNSUPPORTED_DATA),
}


@pytest.mark.parametrize(("send", "code"), list(FAILURES.values()), ids=list(FAILURES))
def test_a_broken_frame_closes_with_its_code(
    server: ServerProcess, cookie: str, send: Any, code: int
) -> None:
    raw = Raw(server, cookie)
    raw.send(0x1, HS)
    assert raw.text()["a"] == "hs"
    send(raw)
    said = raw.close_code()
    if server.name == "daphne-asgi" and code < 4000:
        assert said in (code, None)
    else:
        assert said == code
    # The server process is unharmed: a new connection is served.
    again = Raw(server, cookie)
    again.send(0x1, HS)
    assert again.text()["a"] == "hs"


def test_without_a_session_the_socket_is_accepted_then_closed(server: ServerProcess) -> None:
    raw = Raw(server, None)
    assert raw.status == 101
    assert raw.close_code() == protocol.CLOSE_SESSION_ENDED


def test_a_client_that_answers_no_ping_is_dropped_and_one_that_answers_stays(
    server: ServerProcess, cookie: str
) -> None:
    # The server pings after 1 s of silence and gives up 1 s later (ServerProcess's ping=(1, 1)).
    silent = Raw(server, cookie)
    silent.send(0x1, HS)
    assert silent.text()["a"] == "hs"
    with connect(
        server.url.replace("http", "ws") + "/ws/", origin=server.url, additional_headers={"Cookie": cookie}
    ) as answering:  # (websockets answers pings itself)
        answering.send(HS.decode())
        assert json.loads(answering.recv(timeout=10))["a"] == "hs"
        deadline = time.monotonic() + 20
        pinged = False
        silent.sock.settimeout(20)
        while True:
            opcode, _ = silent.recv()
            if opcode == 0x9:
                pinged = True  # ... and never answered
            if opcode in (-1, 0x8) or time.monotonic() > deadline:
                break
        assert pinged and time.monotonic() < deadline
        answering.send(json.dumps({"a": "pp"}))
        assert json.loads(answering.recv(timeout=10)) == {"a": "pp"}
