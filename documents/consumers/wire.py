"""The connection's socket as daphne holds it: how much the client has not read yet, and a direct
send that frames a broadcast op once for every connection of the process.

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

    def send(self, frame: str | OpEvent) -> None:
        """Write one frame now, without a coroutine per frame."""
        if not self.is_open():
            return  # Closing or closed: daphne would drop it too.
        if isinstance(frame, OpEvent):
            self.protocol.sendPreparedMessage(prepared(frame))
        else:
            self.protocol.sendMessage(frame.encode("utf-8"), False)
