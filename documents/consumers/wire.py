"""The connection's socket as daphne holds it: how much the client has not read yet, and a direct
send that frames a broadcast op once for every connection of the process and writes whatever is
queued in one go.

daphne hands each connection `partial(server.handle_reply, protocol)` as its send callable (under
Channels' session wrapper). Where there is no daphne socket (the tests' communicators), `Wire`
is inert and the consumer sends through Channels as usual.
"""

from typing import Any

from autobahn.websocket.protocol import PreparedMessage

from ..broadcast.hub import OpEvent


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

    @property
    def direct(self) -> bool:
        return self.protocol is not None

    def is_open(self) -> bool:
        return self.protocol is not None and self.protocol.state == self.protocol.STATE_OPEN

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

    def send(self, frames: list[str | OpEvent]) -> None:
        """Write frames now, in one write: a catch-up of thousands of ops costs one syscall."""
        if not frames or not self.is_open():
            return  # Closing or closed: daphne would drop them too.
        data = b"".join(
            (prepared(frame) if isinstance(frame, OpEvent) else _framed(frame)).payloadHybi
            for frame in frames
        )
        self.protocol.sendData(data)
