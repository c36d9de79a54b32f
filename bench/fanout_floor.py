"""The floor under a broadcast to many readers on this machine: what one write per socket costs.

One op for N readers is N writes to N TCP sockets, whatever the server (W4 in
docs/performance.md). This measures that write, against one reader process on loopback that
drains N connections, as the load generator does:

- raw: `socket.send` of the frame in a Python loop, the anchor: the kernel's cost plus the least
  a Python loop adds;
- asyncio: `transport.write`, the write of collab's native sockets;
- collab: `consumers.native.Socket.send` of a committed op (`OpEvent`), the whole per-socket send
  the hub makes (frame prepared once, then written);
- node: `net.Socket.write` from Node, the write under a ShareDB server's `ws` sockets.

Each line is the median over the rounds, in µs per socket, and its ratio to raw in the same run.

    .venv/bin/python bench/fanout_floor.py            # 2,000 sockets, 9 rounds, 200-byte frames
    FLOOR_SOCKETS=1000 FLOOR_ROUNDS=15 .venv/bin/python bench/fanout_floor.py
"""

import asyncio
import os
import selectors
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOCKETS = int(os.environ.get("FLOOR_SOCKETS", "2000"))
ROUNDS = int(os.environ.get("FLOOR_ROUNDS", "9"))
PAYLOAD = int(os.environ.get("FLOOR_PAYLOAD", "200"))


def reader(listener: socket.socket, expected: int) -> None:
    """The child: accept and drain connections until every one of them has closed."""
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    open_count, accepted = 0, 0
    while accepted < expected or open_count:
        for key, _ in selector.select():
            if key.fileobj is listener:
                conn, _ = listener.accept()
                conn.setblocking(False)
                selector.register(conn, selectors.EVENT_READ)
                open_count, accepted = open_count + 1, accepted + 1
                continue
            conn = key.fileobj  # type: ignore[assignment]
            try:
                data = conn.recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:
                selector.unregister(conn)
                conn.close()
                open_count -= 1
    os._exit(0)


def connect(port: int) -> list[socket.socket]:
    sockets = []
    for _ in range(SOCKETS):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sockets.append(sock)
    time.sleep(0.3)
    return sockets


def raw_rounds(sockets: list[socket.socket], frame: bytes) -> list[float]:
    out = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for sock in sockets:
            sock.send(frame)
        out.append((time.perf_counter() - start) / len(sockets) * 1e6)
        time.sleep(0.2)
    return out


async def transport_rounds(sockets: list[socket.socket], frame: bytes, *, whole_send: bool) -> list[float]:
    """asyncio transports over the same sockets; with `whole_send`, collab's native Socket.send."""
    from documents.broadcast.hub import OpEvent
    from documents.consumers.native import Socket
    from documents.records import OpRecord

    loop = asyncio.get_running_loop()
    transports = []
    for sock in sockets:
        sock.setblocking(False)
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, sock)
        transports.append(transport)
    natives = []
    for transport in transports:
        native = Socket.__new__(Socket)
        native.transport, native.accepted, native.close_sent, native.lost = transport, True, False, False
        natives.append(native)
    await asyncio.sleep(0.3)
    out = []
    for round_number in range(ROUNDS):
        record = OpRecord(
            document_id="0" * 32,
            version=round_number,
            kind="edit",
            data=[{"retain": 5}, {"insert": "x" * (PAYLOAD - 120)}],
            src="f" * 32,
            seq=round_number + 1,
            author_id=1,
        )
        event = OpEvent.of(record)
        start = time.perf_counter()
        if whole_send:
            for native in natives:
                native.send([event])
        else:
            for transport in transports:
                transport.write(frame)
        out.append((time.perf_counter() - start) / len(sockets) * 1e6)
        await asyncio.sleep(0.2)
    assert all(t.get_write_buffer_size() == 0 for t in transports), "the reader fell behind"
    for transport in transports:
        transport.abort()
    return out


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")
    os.environ.setdefault("DATABASE_URL", "")
    os.environ.setdefault("REDIS_URL", "")
    import django

    django.setup()
    from documents.consumers.native import TEXT, _frame

    frame = _frame(TEXT, b"x" * PAYLOAD)  # as the native sockets frame a text message
    results: dict[str, list[float]] = {}
    for name in ("raw", "asyncio", "collab", "node"):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4096)
        port = listener.getsockname()[1]
        pid = os.fork()
        if pid == 0:
            reader(listener, SOCKETS)
        listener.close()
        if name == "node":
            out = subprocess.run(
                [
                    "node",
                    str(ROOT / "bench/realtime/fanout_floor.js"),
                    str(port),
                    str(SOCKETS),
                    str(ROUNDS),
                    str(PAYLOAD),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[name] = [float(line.split()[1]) for line in out.splitlines() if line.startswith("round ")]
        else:
            sockets = connect(port)
            if name == "raw":
                results[name] = raw_rounds(sockets, frame)
            else:
                results[name] = asyncio.run(transport_rounds(sockets, frame, whole_send=name == "collab"))
            for sock in sockets:
                sock.close()
        os.waitpid(pid, 0)
    anchor = statistics.median(results["raw"])
    print(
        f"one write to each of {SOCKETS:,} loopback sockets, {PAYLOAD}-byte frames, median of {ROUNDS} rounds"
    )
    print(f"{'write':>10} {'µs/socket':>10} {'vs raw':>8}   rounds")
    for name, rounds in results.items():
        median = statistics.median(rounds)
        spread = " ".join(f"{r:.1f}" for r in rounds)
        print(f"{name:>10} {median:>10.1f} {median / anchor:>7.2f}×   {spread}")


if __name__ == "__main__":
    main()
