"""A real layer-7 load balancer (HAProxy, Debian package) in front of several daphne processes,
as a Heroku-style router puts one in front of a platform's web dynos.

    balancer = LoadBalancer([server_a.port, server_b.port]).start()
    balancer.url, balancer.port      # clients connect here; the Origin they send must be allowed
    balancer.stop()

Connections are spread round-robin, so the clients of one document land on every process; with
`affinity=True` a socket whose URL names its document (`/ws/?doc=<id>`, as the editor page's
does) goes to the process the document hashes to, as docs/operations.md configures it, and one
without falls back to round-robin.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
global
    maxconn 8000
    log stdout format raw local0 warning

defaults
    mode http
    log global
    option dontlognull
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    # A refused connection (a full accept queue, or a process that stopped listening on SIGTERM)
    # is tried again on another server, as a platform router does.
    retries 3
    option redispatch 1

frontend web
    bind 127.0.0.1:{port}
    default_backend daphne

backend daphne
{balance}
    option forwardfor
    option httpchk GET /readyz
{servers}
"""


def install_haproxy() -> str:
    """Return the haproxy binary, installing the Debian package when it is missing."""
    binary = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if binary:
        return binary
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], env=env, check=False, capture_output=True)
    if not shutil.which("haproxy") and not os.path.exists("/usr/sbin/haproxy"):
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "haproxy"], env=env, check=True, capture_output=True
        )
    return shutil.which("haproxy") or "/usr/sbin/haproxy"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoadBalancer:
    """HAProxy on a free loopback port over the given backend ports: round-robin, or by document."""

    def __init__(self, backend_ports: list[int], *, port: int | None = None, affinity: bool = False) -> None:
        self.backend_ports = list(backend_ports)
        self.affinity = affinity
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        self.origin = self.url
        self._dir = Path(tempfile.mkdtemp(prefix="collab-haproxy-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "LoadBalancer":
        binary = install_haproxy()
        servers = "\n".join(
            f"    server s{i} 127.0.0.1:{port} check inter 1s fall 2 rise 1"
            for i, port in enumerate(self.backend_ports)
        )
        config = self._dir / "haproxy.cfg"
        balance = (
            "    balance url_param doc\n    hash-type consistent"
            if self.affinity
            else "    balance roundrobin"
        )
        config.write_text(CONFIG.format(port=self.port, servers=servers, balance=balance))
        log = open(self._dir / "haproxy.log", "wb")
        self.process = subprocess.Popen(
            [binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {(self._dir / 'haproxy.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("haproxy did not start listening")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)
