"""Helpers for the real-sharedb-client tests: users, sessions and documents in a `cluster`'s
database, and the Node driver (tests/server/js/sharedb_driver.js), run to the end or in the
background. The invariant checks over the driver's history and the op log are tests/history.py.
"""

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.history import (  # noqa: F401  (the checks, for the tests that import them from here)
    MARK,
    assert_clean,
    canonical,
    check_converged,
    db_state,
    op_log,
    shell_json,
    text_of,
    verify,
)

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "js" / "sharedb_driver.js"
ROOT = HERE.parent.parent
FRONTEND = ROOT / "frontend"
DRIVER_MARK = "@@SHAREDB_MARK@@"


def node_binary() -> str:
    node = shutil.which("node")
    assert node, "node is needed for the sharedb client tests"
    return node


SETUP_CODE = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from documents import services

spec = json.loads(SPEC)
User = get_user_model()
users = {}
for name, full in spec["users"].items():
    first, _, last = full.partition(" ")
    users[name] = User.objects.create_user(
        username=name, email=name + "@example.com", password="pw-" + name, first_name=first, last_name=last
    )
owner = users[spec["owner"]]
document = services.create_document(owner=owner, title=spec["title"], content=spec["content"])
for name, role in spec["members"].items():
    services.add_member(actor=owner, document_id=document.pk, identifier=name, role=role)
sessions = {}
for name, user in users.items():
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    sessions[name] = session.session_key
print(MARK + json.dumps({
    "doc": str(document.pk),
    "version": document.version,
    "sessions": sessions,
    "user_ids": {name: user.pk for name, user in users.items()},
}))
"""


def setup_document(
    cluster: Any,
    *,
    users: dict[str, str],
    owner: str,
    members: dict[str, str] | None = None,
    content: list[dict[str, Any]] | None = None,
    title: str = "Shared",
) -> dict[str, Any]:
    """Create users (name -> full name), a document owned by `owner` with `members` (name -> role),
    and a Django session per user; return {doc, version, sessions, user_ids}."""
    spec = {
        "users": users,
        "owner": owner,
        "members": members or {},
        "content": content or [{"insert": "\n"}],
        "title": title,
    }
    return shell_json(cluster, f"SPEC = {json.dumps(json.dumps(spec))}\n" + SETUP_CODE)


def servers_spec(*servers: Any) -> list[dict[str, str]]:
    return [{"url": f"ws://127.0.0.1:{s.port}/ws/", "origin": f"http://127.0.0.1:{s.port}"} for s in servers]


class Driver:
    """The Node driver running a scenario in the background; a fault test acts at its `mark` steps.

    driver = Driver(scenario, timeout=90)
    driver.wait_mark("typing")      # the scenario reached {"do": "mark", "name": "typing"}
    ...                             # kill a server, restart Redis, ...
    result = driver.result()
    """

    def __init__(self, scenario: dict[str, Any], *, timeout: float = 60) -> None:
        self.timeout = timeout
        self.scenario = {"timeout_ms": int(timeout * 1000) - 2000, **scenario}
        self.marks: dict[str, float] = {}
        self._offset = 0.0
        self._stderr: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [node_binary(), str(DRIVER), "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLLAB_FRONTEND": str(FRONTEND)},
            cwd=str(HERE),
            start_new_session=True,
        )
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=lambda: self._stdout.extend(self.process.stdout), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.process.stdin.write(json.dumps(self.scenario))
        self.process.stdin.close()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            if line.startswith(DRIVER_MARK):
                mark = json.loads(line[len(DRIVER_MARK) :])
                with self._changed:
                    self.marks[mark["name"]] = time.monotonic()
                    self._offset = time.monotonic() - mark["t"] / 1000
                    self._changed.notify_all()
            else:
                self._stderr.append(line)
        with self._changed:
            self._changed.notify_all()

    def wait_mark(self, name: str, timeout: float = 30) -> bool:
        """Wait until the scenario passes `{"do": "mark", "name": name}`; False if it never did."""
        with self._changed:
            self._changed.wait_for(lambda: name in self.marks or self.process.poll() is not None, timeout)
            return name in self.marks

    def driver_ms(self, at: float) -> float:
        """A time.monotonic() of ours on the driver's clock (the `t` and `*_ms` of its result)."""
        return (at - self._offset) * 1000

    def result(self) -> dict[str, Any]:
        """Wait for the end of the scenario; its JSON result (fail loudly if the driver broke)."""
        try:
            self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        for reader in self._readers:
            reader.join(timeout=10)
        lines = [line for line in self._stdout if line.startswith("{")]
        stderr = "".join(self._stderr)
        if not lines:
            raise AssertionError(
                f"driver exited {self.process.returncode} without a result\nstdout:\n"
                f"{''.join(self._stdout)[-3000:]}\nstderr:\n{stderr[-3000:]}"
            )
        result = json.loads(lines[-1])
        result["stderr"] = stderr
        dump = os.environ.get("COLLAB_SHAREDB_DUMP")  # a directory: keep every driver result for debugging
        if dump:
            Path(dump).mkdir(parents=True, exist_ok=True)
            name = f"sharedb-{os.getpid()}-{len(list(Path(dump).iterdir()))}.json"
            (Path(dump) / name).write_text(json.dumps({"scenario": self.scenario, "result": result}))
        return result

    def stop(self) -> None:
        """End the driver and anything it started (its own process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)


def run_driver(scenario: dict[str, Any], *, timeout: float = 60) -> dict[str, Any]:
    """Run the Node driver on a scenario; return its JSON result (and fail loudly if it broke)."""
    driver = Driver(scenario, timeout=timeout)
    try:
        return driver.result()
    finally:
        driver.stop()


def require_ok(result: dict[str, Any]) -> None:
    assert result.get("ok"), f"driver failed: {result.get('error')}\n{summary(result)}"


def summary(result: dict[str, Any]) -> str:
    """A short human description of a driver result, for assertion messages."""
    lines = [f"error={result.get('error')} elapsed={result.get('elapsed_ms')}ms"]
    for name, client in (result.get("clients") or {}).items():
        lines.append(
            f"  {name}: v{client['version']} state={client['state']} pending={client['pending']} "
            f"ops={len(client['history'])} errors={client['errors'][:3]} "
            f"err_frames={client['error_frames'][:2]} "
            f"rollbacks={client['rollbacks'][:2]} closes={client['closes'][:3]}"
        )
    warnings = [entry for entry in result.get("log") or [] if entry["level"] != "info"]
    if warnings:
        lines.append(f"  sharedb log: {warnings[:5]}")
    if result.get("stderr"):
        lines.append(f"  stderr: {result['stderr'][-1500:]}")
    return "\n".join(lines)


def history_entry(result: dict[str, Any], client: str, seq: int) -> dict[str, Any]:
    return next(e for e in result["clients"][client]["history"] if e["seq"] == seq)


def step_result(result: dict[str, Any], index: int) -> dict[str, Any]:
    return result["steps"][index]


def assert_server_logs_clean(cluster: Any) -> None:
    """No tracebacks, errors or channel-layer drops in any daphne log of the cluster."""
    for server in cluster.servers:
        log = server.log()
        bad = [
            line
            for line in log.splitlines()
            if "Traceback" in line or " ERROR " in line or "CRITICAL" in line or "over capacity" in line
        ]
        assert not bad, f"{server.name} logged problems:\n" + "\n".join(bad[:20]) + f"\n...\n{log[-3000:]}"


def ack_latencies(result: dict[str, Any]) -> dict[str, float]:
    """p50/p99/max of send-to-ack time over every acked wire op (ms)."""
    samples = sorted(
        e["acked_ms"] - e["sent_ms"]
        for c in result["clients"].values()
        for e in c["history"]
        if e["acked_ms"] is not None
    )
    if not samples:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    pick = lambda q: float(samples[min(len(samples) - 1, int(q * len(samples)))])  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "max": float(samples[-1])}


def broadcast_latencies(result: dict[str, Any]) -> dict[str, float]:
    """p50/p99/max of (remote client applied op v) - (author saw the ack of v), in ms."""
    acked_at = {
        e["ack_v"]: e["acked_ms"]
        for c in result["clients"].values()
        for e in c["history"]
        if e["acked_ms"] is not None
    }
    samples = sorted(
        t - acked_at[v]
        for c in result["clients"].values()
        for v, t in c.get("remote_applied", [])
        if v in acked_at
    )
    if not samples:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    pick = lambda q: float(samples[min(len(samples) - 1, int(q * len(samples)))])  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "max": float(samples[-1])}


def start_driver(scenario: dict[str, Any], tmp_path: Any) -> tuple[subprocess.Popen[str], Any]:
    """Start the Node driver on a scenario in the background (for steps that wait on files)."""
    scenario_path, out_path = tmp_path / "scenario.json", tmp_path / "result.out"
    scenario_path.write_text(json.dumps(scenario))
    with open(out_path, "w") as out:
        driver = subprocess.Popen(
            [node_binary(), str(DRIVER), str(scenario_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=str(HERE),
            env={"PATH": "/usr/bin:/bin", "COLLAB_FRONTEND": str(FRONTEND)},
        )
    return driver, out_path


def driver_result(driver: subprocess.Popen[str], out_path: Any) -> dict[str, Any]:
    """Wait for a driver from `start_driver` and return its result, failing loudly if it broke."""
    driver.wait(timeout=60)
    output = out_path.read_text()
    lines = [line for line in output.splitlines() if line.startswith("{")]
    assert lines, f"no result from the driver:\n{output[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert result["ok"], f"{result.get('error')}\n{json.dumps(result['steps'], default=str)[-3000:]}"
    return result
