"""The history checker shared by every test that edits with real sharedb clients.

It reads what each client sent and what was acknowledged (the Node driver's JSON history) and the
database (the op log, the latest snapshot, every stored snapshot) and checks the invariants
(reliability anchors I1-I5):

- every acked (src, seq) is in the op log exactly once, at the version its ack named, and each
  client's ops are committed in seq order (nothing lost, nothing applied twice);
- the op log has no op from these clients that they never sent;
- versions are contiguous 0..head-1;
- replaying the op log equals the latest snapshot, every stored snapshot, a fresh fetch and every
  client's final document;
- no op was answered with an error and no client rolled back (typed text thrown away);
- every acked token appears exactly once in the final text.

`verify(...)` collects every violation instead of stopping at the first, so fault tests can report
figures ("0 lost / 0 duplicated of 2,191 acked ops") even when something broke;
`check_converged(...)` is `verify(...)` that must hold.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MARK = "@@SHAREDB_JSON@@"
TOKEN_RE = re.compile(r"\[[^\]]*\]")


def canonical(ops: Any) -> str:
    return json.dumps(ops, sort_keys=True, ensure_ascii=False)


def text_of(ops: list[dict[str, Any]] | None) -> str:
    """Plain text; a surrogate pair split across two ops (formatting half an emoji) is re-joined."""
    text = "".join(op["insert"] if isinstance(op.get("insert"), str) else "\ufffc" for op in ops or [])
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def shell_json(cluster: Any, code: str) -> Any:
    """Run Django code in the cluster's database; it prints MARK + JSON."""
    out = cluster.shell(f"MARK = {MARK!r}\n" + code)
    for line in out.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise AssertionError(f"no JSON from cluster.shell; output was:\n{out[-3000:]}")


DB_STATE_CODE = """
import json
from documents import selectors
from documents.models import Document, Operation, Snapshot
from documents.selectors import SnapshotData, OpRecord, apply_record

document = Document.objects.get(pk=DOC)
state = selectors.snapshot_at(document=document)
stored = {s.version: s.content for s in Snapshot.objects.filter(document=document)}
replay = SnapshotData(0, "", None)
snapshot_mismatches = [v for v, content in stored.items() if v == 0 and content != replay.content]
for op in Operation.objects.filter(document=document).order_by("version"):
    replay = apply_record(replay, OpRecord.from_model(op))
    if replay.version in stored and stored[replay.version] != replay.content:
        snapshot_mismatches.append(replay.version)
print(MARK + json.dumps({
    "version": document.version,
    "length": document.length,
    "type": state.type,
    "content": state.content,
    "replay_version": replay.version,
    "replay_content": replay.content,
    "snapshots": sorted(stored),
    "snapshot_mismatches": snapshot_mismatches,
}))
"""


def db_state(cluster: Any, doc_id: str) -> dict[str, Any]:
    """The document as the database has it: snapshot_at(...), a full replay of the op log, and
    the versions of stored snapshots that differ from the replay at their version."""
    return shell_json(cluster, f"DOC = {doc_id!r}\n" + DB_STATE_CODE)


def op_log(cluster: Any, doc_id: str) -> list[dict[str, Any]]:
    """Rows of documents_operation for the document, in version order."""
    import psycopg

    with psycopg.connect(cluster.database_url) as conn:
        rows = conn.execute(
            "SELECT version, src, seq, kind FROM documents_operation WHERE document_id = %s ORDER BY version",
            (doc_id,),
        ).fetchall()
    return [{"version": v, "src": src, "seq": seq, "kind": kind} for v, src, seq, kind in rows]


@dataclass
class Verdict:
    """What the checker found; `problems` is empty when every invariant holds."""

    acked_ops: int = 0
    lost: list[Any] = field(default_factory=list)
    duplicated: list[Any] = field(default_factory=list)
    rejected: list[Any] = field(default_factory=list)
    unacked: list[Any] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    tokens: int = 0
    db: dict[str, Any] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    @property
    def figures(self) -> str:
        return (
            f"{len(self.lost)} lost / {len(self.duplicated)} duplicated of {self.acked_ops:,} acked ops "
            f"({len(self.rejected)} answered with an error, {len(self.unacked)} never acked, "
            f"{len(self.log):,} ops in the log)"
        )

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def assert_holds(self) -> "Verdict":
        assert not self.problems, f"{self.figures}\n" + "\n".join(self.problems[:20])
        return self


def _check_log(verdict: Verdict, log: list[dict[str, Any]]) -> dict[tuple[str, int], int]:
    versions = [row["version"] for row in log]
    if versions != list(range(len(log))):
        gaps = [v for i, v in enumerate(versions) if v != i][:10]
        verdict.fail(f"op log versions are not contiguous 0..N (first off: {gaps})")
    counts = Counter((row["src"], row["seq"]) for row in log)
    verdict.duplicated = [key for key, n in counts.items() if n > 1]
    if verdict.duplicated:
        verdict.fail(f"(src, seq) committed more than once: {verdict.duplicated[:10]}")
    return {(row["src"], row["seq"]): row["version"] for row in log}


def _check_clients(verdict: Verdict, result: dict[str, Any], where: dict[tuple[str, int], int]) -> None:
    """I1, I4 and ack versions, from every client's own record of what it sent."""
    client_srcs = set()
    sent = set()
    for name, client in result["clients"].items():
        last_version = -1
        for entry in client["history"]:
            key = (entry["src"], entry["seq"])
            client_srcs.add(entry["src"])
            sent.add(key)
            if "src_changed" in entry:
                verdict.fail(f"{name} resent seq {entry['seq']} under another src: {entry}")
            if entry["error"] is not None:
                verdict.rejected.append((name, entry["seq"], entry["error"]))
                committed = f" (yet committed at v{where[key]})" if key in where else ""
                verdict.fail(f"{name}'s op seq {entry['seq']} was answered with {entry['error']}{committed}")
                continue
            if entry["ack_v"] is None:
                verdict.unacked.append((name, entry["seq"]))
                verdict.fail(f"{name}'s op seq {entry['seq']} was never acked: {entry}")
                continue
            verdict.acked_ops += 1
            if key not in where:
                verdict.lost.append((name, key))
                verdict.fail(f"{name}'s acked op {key} is not in the op log")
                continue
            if where[key] != entry["ack_v"]:
                verdict.fail(
                    f"{name}'s op {key} was acked at v{entry['ack_v']} but committed at v{where[key]}"
                )
            if where[key] <= last_version:
                verdict.fail(f"{name}'s ops committed out of seq order at {key}")
            last_version = where[key]
        for rollback in client["rollbacks"]:
            verdict.fail(f"{name} rolled back (its unsent text was thrown away): {rollback}")
    # Nothing in the log from these clients that they did not send (no phantom or doubled ops).
    phantom = [key for key in where if key[0] in client_srcs and key not in sent]
    if phantom:
        verdict.fail(f"op log has ops no client sent: {phantom[:10]}")


def _check_tokens(verdict: Verdict, result: dict[str, Any]) -> None:
    """I5: every token whose submit was acked appears exactly once in the final text."""
    found = Counter(TOKEN_RE.findall(verdict.text))
    for name, client in result["clients"].items():
        for submit in client["submits"]:
            token = submit.get("token")
            if token is None or not submit["acked"]:
                continue
            verdict.tokens += 1
            if found[token] != 1:
                verdict.fail(f"{name}'s acked token {token} appears {found[token]} times in the final text")
    extra = [t for t, n in found.items() if n != 1]
    if extra:
        verdict.fail(f"tokens not exactly once: {extra[:10]}")


def verify(cluster: Any, doc_id: str, result: dict[str, Any], clients: list[str] | None = None) -> Verdict:
    """Check every invariant; `clients` (default: all) are those whose final document must equal
    the database (a client left disconnected on purpose is still counted for its acks)."""
    verdict = Verdict()
    verdict.log = op_log(cluster, doc_id)
    verdict.db = db = db_state(cluster, doc_id)
    verdict.text = text_of(db["content"])
    where = _check_log(verdict, verdict.log)
    if db["version"] != len(verdict.log):
        verdict.fail(f"document at v{db['version']} but {len(verdict.log)} ops in the log")
    if canonical(db["content"]) != canonical(db["replay_content"]):
        verdict.fail("snapshot_at() (the latest snapshot plus later ops) != replay of the op log")
    if db["snapshot_mismatches"]:
        verdict.fail(f"stored snapshots differ from the replay at versions {db['snapshot_mismatches']}")
    settle = next((s for s in reversed(result.get("steps") or []) if s.get("do") == "settle"), None)
    fresh = settle.get("fresh") if settle else None
    if fresh is None:
        verdict.diverged.append("settle")
        verdict.fail(f"the clients did not settle: {settle.get('error') if settle else 'no settle step'}")
    elif fresh["version"] != db["version"] or canonical(fresh["data"]["ops"]) != canonical(db["content"]):
        verdict.diverged.append("a fresh fetch")
        verdict.fail(f"a fresh fetch (v{fresh['version']}) differs from the database (v{db['version']})")
    for name in clients or list(result["clients"]):
        client = result["clients"][name]
        if client["version"] != db["version"] or canonical((client["data"] or {}).get("ops")) != canonical(
            db["content"]
        ):
            verdict.diverged.append(name)
            verdict.fail(
                f"{name} diverged: v{client['version']} vs the database's v{db['version']}:\n"
                f"{client['text']!r}\n{verdict.text!r}"
            )
    _check_clients(verdict, result, where)
    _check_tokens(verdict, result)
    return verdict


def check_converged(
    cluster: Any, doc_id: str, result: dict[str, Any], clients: list[str] | None = None
) -> Verdict:
    """`verify`, and every invariant must hold."""
    return verify(cluster, doc_id, result, clients).assert_holds()


def client_errors(result: dict[str, Any], clients: list[str] | None = None) -> list[str]:
    """What the clients saw go wrong: error frames, rollbacks, connection or document errors."""
    found = []
    for name in clients or list(result["clients"]):
        client = result["clients"][name]
        for kind in ("error_frames", "rollbacks", "errors"):
            if client[kind]:
                found.append(f"{name} {kind.replace('_', ' ')} ({len(client[kind])}): {client[kind][:3]}")
    return found


def assert_clean(
    result: dict[str, Any], clients: list[str] | None = None, *, allow_closes: bool = False
) -> None:
    """No error frames, no rollbacks, no connection/doc errors, no 'Invalid version' fetches."""
    problems = client_errors(result, clients)
    assert not problems, "\n".join(problems)
    for name in clients or list(result["clients"]):
        server_closes = [c for c in result["clients"][name]["closes"] if c["by"] == "server"]
        assert allow_closes or not server_closes, f"{name}'s socket was closed by the server: {server_closes}"
    warnings = [e for e in result.get("log") or [] if e["level"] in ("warn", "error")]
    assert not warnings, f"sharedb client warnings: {warnings[:5]}"
