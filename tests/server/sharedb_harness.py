"""Helpers for the real-sharedb-client tests: users, sessions and documents in a `cluster`'s
database, the Node driver (tests/server/js/sharedb_driver.js), and the invariant checks
(reliability anchors I1-I5) over the driver's history and the op log.
"""

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "js" / "sharedb_driver.js"
ROOT = HERE.parent.parent
FRONTEND = ROOT / "frontend"
MARK = "@@SHAREDB_JSON@@"
TOKEN_RE = re.compile(r"\[[^\]]*\]")


def node_binary() -> str:
    node = shutil.which("node")
    assert node, "node is needed for the sharedb client tests"
    return node


def _shell_json(cluster: Any, code: str) -> Any:
    out = cluster.shell(code)
    for line in out.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise AssertionError(f"no JSON from cluster.shell; output was:\n{out[-3000:]}")


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
    code = f"SPEC = {json.dumps(json.dumps(spec))}\nMARK = {MARK!r}\n" + SETUP_CODE
    return _shell_json(cluster, code)


DB_STATE_CODE = """
import json
from documents import selectors
from documents.models import Document, Operation
from documents.selectors import SnapshotData, OpRecord, apply_record

document = Document.objects.get(pk=DOC)
state = selectors.snapshot_at(document=document)
replay = SnapshotData(0, "", None)
for op in Operation.objects.filter(document=document).order_by("version"):
    replay = apply_record(replay, OpRecord.from_model(op))
print(MARK + json.dumps({
    "version": document.version,
    "length": document.length,
    "type": state.type,
    "content": state.content,
    "replay_version": replay.version,
    "replay_content": replay.content,
}))
"""


def db_state(cluster: Any, doc_id: str) -> dict[str, Any]:
    """The document as the database has it: snapshot_at(...) and a full replay of the op log."""
    code = f"DOC = {doc_id!r}\nMARK = {MARK!r}\n" + DB_STATE_CODE
    return _shell_json(cluster, code)


def op_log(cluster: Any, doc_id: str) -> list[dict[str, Any]]:
    """Rows of documents_operation for the document, in version order."""
    import psycopg

    with psycopg.connect(cluster.database_url) as conn:
        rows = conn.execute(
            "SELECT version, src, seq, kind FROM documents_operation WHERE document_id = %s ORDER BY version",
            (doc_id,),
        ).fetchall()
    return [{"version": v, "src": src, "seq": seq, "kind": kind} for v, src, seq, kind in rows]


def servers_spec(*servers: Any) -> list[dict[str, str]]:
    return [{"url": f"ws://127.0.0.1:{s.port}/ws/", "origin": f"http://127.0.0.1:{s.port}"} for s in servers]


def run_driver(scenario: dict[str, Any], *, timeout: float = 60) -> dict[str, Any]:
    """Run the Node driver on a scenario; return its JSON result (and fail loudly if it broke)."""
    env = {**os.environ, "COLLAB_FRONTEND": str(FRONTEND)}
    scenario = {"timeout_ms": int(timeout * 1000) - 2000, **scenario}
    proc = subprocess.run(
        [node_binary(), str(DRIVER), "-"],
        input=json.dumps(scenario),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(HERE),
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise AssertionError(
            f"driver exited {proc.returncode} without a result\nstdout:\n{proc.stdout[-3000:]}\n"
            f"stderr:\n{proc.stderr[-3000:]}"
        )
    result = json.loads(lines[-1])
    result["stderr"] = proc.stderr
    dump = os.environ.get("COLLAB_SHAREDB_DUMP")  # a directory: keep every driver result for debugging
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        name = f"sharedb-{os.getpid()}-{len(list(Path(dump).iterdir()))}.json"
        (Path(dump) / name).write_text(json.dumps({"scenario": scenario, "result": result}))
    return result


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


def canonical(ops: Any) -> str:
    return json.dumps(ops, sort_keys=True, ensure_ascii=False)


def text_of(ops: list[dict[str, Any]] | None) -> str:
    """Plain text; a surrogate pair split across two ops (formatting half an emoji) is re-joined."""
    text = "".join(op["insert"] if isinstance(op.get("insert"), str) else "\ufffc" for op in ops or [])
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def check_history(
    result: dict[str, Any], log: list[dict[str, Any]], clients: list[str] | None = None
) -> dict[str, int]:
    """I1, I2, I4 and ack versions: every acked (src, seq) is in the op log exactly once, at the
    version its ack named; versions are contiguous; each src's ops commit in seq order."""
    versions = [row["version"] for row in log]
    assert versions == list(range(len(log))), f"op log versions are not contiguous 0..N: {versions[:50]}"
    counts = Counter((row["src"], row["seq"]) for row in log)
    dupes = [key for key, n in counts.items() if n > 1]
    assert not dupes, f"(src, seq) committed more than once: {dupes}"
    where = {(row["src"], row["seq"]): row["version"] for row in log}
    acked = 0
    names = clients or list(result["clients"])
    client_srcs = set()
    for name in names:
        client = result["clients"][name]
        last_version = -1
        for entry in client["history"]:
            key = (entry["src"], entry["seq"])
            client_srcs.add(entry["src"])
            assert "src_changed" not in entry, f"{name} resent seq {entry['seq']} under another src: {entry}"
            if entry["ack_v"] is None:
                assert entry["error"] is None, f"{name} op seq {entry['seq']} failed: {entry}"
                raise AssertionError(f"{name} op seq {entry['seq']} was never acked: {entry}")
            acked += 1
            assert key in where, f"{name}'s acked op {key} is not in the op log"
            assert where[key] == entry["ack_v"], (
                f"{name}'s op {key} was acked at v{entry['ack_v']} but committed at v{where[key]}"
            )
            assert where[key] > last_version, f"{name}'s ops committed out of seq order at {key}"
            last_version = where[key]
    # Nothing in the log from these clients that they did not send (no phantom or doubled ops).
    sent = {(e["src"], e["seq"]) for n in names for e in result["clients"][n]["history"]}
    phantom = [key for key in counts if key[0] in client_srcs and key not in sent]
    assert not phantom, f"op log has ops no client sent: {phantom}"
    return {"acked_ops": acked, "log_ops": len(log)}


def check_tokens(result: dict[str, Any], text: str, clients: list[str] | None = None) -> int:
    """I5: every token whose submit was acked appears exactly once in the final text."""
    found = Counter(TOKEN_RE.findall(text))
    total = 0
    for name in clients or list(result["clients"]):
        for submit in result["clients"][name]["submits"]:
            token = submit.get("token")
            if token is None:
                continue
            assert submit["acked"], f"{name}'s token {token} was never acked: {submit}"
            assert found[token] == 1, f"token {token} appears {found[token]} times in the final text"
            total += 1
    extra = [t for t, n in found.items() if n != 1]
    assert not extra, f"tokens not exactly once: {extra}"
    return total


def assert_clean(
    result: dict[str, Any], clients: list[str] | None = None, *, allow_closes: bool = False
) -> None:
    """No error frames, no rollbacks, no connection/doc errors, no 'Invalid version' fetches."""
    for name in clients or list(result["clients"]):
        client = result["clients"][name]
        assert not client["error_frames"], f"{name} got error frames: {client['error_frames'][:3]}"
        assert not client["rollbacks"], f"{name} rolled back: {client['rollbacks'][:3]}"
        assert not client["errors"], f"{name} had errors: {client['errors'][:3]}"
        if not allow_closes:
            server_closes = [c for c in client["closes"] if c["by"] == "server"]
            assert not server_closes, f"{name}'s socket was closed by the server: {server_closes}"
    warnings = [e for e in result.get("log") or [] if e["level"] in ("warn", "error")]
    assert not warnings, f"sharedb client warnings: {warnings[:5]}"


def check_converged(
    cluster: Any, doc_id: str, result: dict[str, Any], clients: list[str] | None = None
) -> dict[str, Any]:
    """I1-I5 after a `settle` step: clients, the fresh fetch, snapshot_at() and a replay of the op
    log agree; the history checks hold; every acked token is there exactly once."""
    fresh = next(step["fresh"] for step in reversed(result["steps"]) if step["do"] == "settle")
    db = db_state(cluster, doc_id)
    log = op_log(cluster, doc_id)
    assert db["version"] == fresh["version"] == len(log), (db["version"], fresh["version"], len(log))
    assert canonical(db["content"]) == canonical(db["replay_content"]), "snapshot_at() != op log replay"
    assert canonical(fresh["data"]["ops"]) == canonical(db["content"]), (
        f"fresh fetch and database differ:\n{fresh['text']!r}\n{text_of(db['content'])!r}"
    )
    names = clients or list(result["clients"])
    for name in names:
        client = result["clients"][name]
        assert client["version"] == db["version"], f"{name} at v{client['version']}, db at v{db['version']}"
        assert canonical(client["data"]["ops"]) == canonical(db["content"]), (
            f"{name} diverged:\n{client['text']!r}\n{text_of(db['content'])!r}"
        )
    counts = check_history(result, log, names)
    counts["tokens"] = check_tokens(result, text_of(db["content"]), names)
    return {"db": db, "log": log, "text": text_of(db["content"]), **counts}


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
