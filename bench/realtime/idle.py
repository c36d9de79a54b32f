"""RSS per idle subscribed connection of one collab server process, read from /proc/<pid>/status
(VmRSS) before and after N readers subscribe to one document, under daphne (as the Procfile runs
it) or under uvicorn (websockets or wsproto) serving the same ASGI application.

    python bench/realtime/idle.py daphne [daphne-asgi uvicorn-websockets uvicorn-wsproto ...]

BENCH_IDLE_CLIENTS (1000) readers, on COLLAB_TEST_POSTGRES_URL's server (a database of its own)
and COLLAB_TEST_REDIS_URL. BENCH_IDLE_TRACE=1 also runs the server under tracemalloc
(memprobe/sitecustomize.py) and prints the per-connection bytes by package and by line.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

from memory import snapshot  # noqa: E402
from processes import free_port  # noqa: E402
from systems import DOCUMENTS_CODE, INITIAL, MARK, POPULATION_CODE, PROCFILE_PING  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_IDLE_CLIENTS", "1000"))
TRACE = os.environ.get("BENCH_IDLE_TRACE") == "1"
FRAMES = int(os.environ.get("BENCH_IDLE_FRAMES", "1"))  # > 1: also the callers of the biggest
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "artifacts"))
PACKAGES = ("twisted", "autobahn", "daphne", "channels", "uvicorn", "websockets", "wsproto", "h11")


def server_args(kind: str, port: int) -> list[str]:
    ping, timeout = (str(s) for s in PROCFILE_PING)
    if kind in ("daphne", "daphne-asgi"):
        return [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(port), "--proxy-headers",
                "--ping-interval", ping, "--ping-timeout", timeout, "collab.asgi:application"]  # fmt: skip
    ws, _, option = kind.removeprefix("uvicorn-").partition("+")
    # "+nodeflate": refuse permessage-deflate, which browsers offer and uvicorn accepts (daphne
    # does not): zlib's state for each direction is most of such a connection's memory.
    deflate = ["--ws-per-message-deflate", "false"] if option == "nodeflate" else []
    return [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--ws", ws,
            "--ws-ping-interval", ping, "--ws-ping-timeout", timeout, "--no-access-log", "--lifespan", "off",
            *deflate, "collab.asgi:application"]  # fmt: skip


def vm_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def open_readers(url: str, origin: str, doc: str, cookies: list[str]) -> list[object]:
    """Connect and subscribe every reader (a few at a time, as a crowd arriving would)."""
    gate = asyncio.Semaphore(20)

    async def one(cookie: str) -> object:
        async with gate:
            ws = await connect(url, origin=origin, additional_headers={"Cookie": cookie}, max_size=None)  # type: ignore[arg-type]
            await ws.send(json.dumps({"a": "s", "c": "documents", "d": doc}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("a") == "s":
                    assert "error" not in reply, reply
                    return ws

    return await asyncio.gather(*(one(c) for c in cookies))


def by_package(stats: list[tracemalloc.StatisticDiff]) -> dict[str, int]:
    groups: dict[str, int] = {}
    for stat in stats:
        name = stat.traceback[0].filename
        if "site-packages/" in name:
            package = name.split("site-packages/")[1].split("/")[0]
            group = package if package in PACKAGES else "other packages"
        elif "/documents/" in name or "/collab/" in name:
            group = "collab (documents/, collab/)"
        elif "/asyncio/" in name:
            group = "asyncio"
        else:
            group = "stdlib/other"
        groups[group] = groups.get(group, 0) + stat.size_diff
    return groups


def measure(kind: str, cluster: object, env: dict[str, str], cookies: list[str], doc: str) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    senv = {**os.environ, **env, "WS_ALLOWED_ORIGINS": origin, "CSRF_TRUSTED_ORIGINS": origin}
    senv["PYTHONPATH"] = os.pathsep.join(p for p in [os.environ.get("PYTHONPATH", "")] if p)
    # "daphne-asgi": every socket an ASGI application of its own, as before native sockets.
    senv["COLLAB_NATIVE_SOCKETS"] = "0" if kind == "daphne-asgi" else "1"
    probe = OUT / f"idle-{kind}"
    if TRACE:
        senv["PYTHONPATH"] = os.pathsep.join(p for p in [str(HERE / "memprobe"), senv["PYTHONPATH"]] if p)
        senv["COLLAB_MEMPROBE"] = str(probe)
        senv["COLLAB_MEMPROBE_FRAMES"] = str(FRAMES)
        for old in OUT.glob(probe.name + ".*"):
            old.unlink()
    log = open(OUT / f"idle-{kind}.log", "wb")
    server = subprocess.Popen(
        server_args(kind, port), cwd=ROOT, env=senv, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(origin + "/healthz", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not start: see {log.name}") from None
                time.sleep(0.3)
        url = f"ws://127.0.0.1:{port}/ws/"

        async def run() -> tuple[int, int, object, object]:
            warm = await open_readers(url, origin, doc, cookies[:50])  # imports, caches, first sessions
            for ws in warm:
                await ws.close()  # type: ignore[attr-defined]
            await asyncio.sleep(3)
            base = snapshot(server.pid, probe) if TRACE else None
            before = vm_rss(server.pid)
            readers = await open_readers(url, origin, doc, cookies)
            await asyncio.sleep(5)
            loaded = snapshot(server.pid, probe) if TRACE else None
            after = vm_rss(server.pid)
            for ws in readers:
                await ws.close()  # type: ignore[attr-defined]
            return before, after, base, loaded

        before, after, base, loaded = asyncio.run(run())
        print(f"{kind}: {CLIENTS} readers, VmRSS {before / 2**20:.1f} -> {after / 2**20:.1f} MiB: "
              f"{(after - before) / CLIENTS / 1024:.1f} kB per connection", flush=True)  # fmt: skip
        if TRACE:
            assert isinstance(loaded, tracemalloc.Snapshot) and isinstance(base, tracemalloc.Snapshot)
            stats = loaded.compare_to(base, "filename")
            total = sum(s.size_diff for s in stats)
            print(f"  tracemalloc {total / CLIENTS / 1024:.1f} kB per connection; by package:")
            for group, size in sorted(by_package(stats).items(), key=lambda kv: -kv[1]):
                print(f"    {size / CLIENTS / 1024:6.2f} kB  {group}")
            print("  by line:")
            for stat in loaded.compare_to(base, "lineno")[:30]:
                frame = stat.traceback[0]
                where = frame.filename.split("site-packages/")[-1].split(str(ROOT) + "/")[-1]
                print(f"    {stat.size_diff / CLIENTS:7.0f} B {stat.count_diff / CLIENTS:5.1f} blocks  {where}:{frame.lineno}")  # fmt: skip
            if FRAMES > 1:
                print("  by traceback (innermost last):")
                for stat in loaded.compare_to(base, "traceback")[:20]:
                    print(f"    {stat.size_diff / CLIENTS:7.0f} B {stat.count_diff / CLIENTS:5.1f} blocks")
                    for frame in stat.traceback:
                        name = frame.filename.split("site-packages/")[-1].split(str(ROOT) + "/")[-1]
                        print(f"        {name.split('lib/python3.11/')[-1]}:{frame.lineno}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    import secrets

    from tests.conftest import Cluster

    OUT.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(env={"SECRET_KEY": secrets.token_urlsafe(50)})
    try:

        def shell(code: str, **values: object) -> object:
            prelude = "".join(f"{name} = {value!r}\n" for name, value in values.items())
            out = cluster.shell(prelude + f"MARK = {MARK!r}\n" + code)
            line = next(line for line in out.splitlines() if line.startswith(MARK))
            return json.loads(line[len(MARK) :])

        sessions = shell(POPULATION_CODE, COUNT=CLIENTS + 1)
        assert isinstance(sessions, list)
        members = {f"bench{i}": "viewer" for i in range(1, CLIENTS + 1)}
        spec = {"docs": [{"owner": "bench0", "members": members}], "content": INITIAL}
        (doc,) = shell(DOCUMENTS_CODE, SPEC=json.dumps(spec))  # type: ignore[misc]
        env = {
            **cluster.env,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "EMAIL_URL": "console:",
            "MALLOC_MMAP_THRESHOLD_": "131072",  # the Procfile's
        }
        cookies = [f"sessionid={key}" for key in sessions[1:]]
        for kind in sys.argv[1:] or ["daphne"]:
            measure(kind, cluster, env, cookies, doc)
    finally:
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
