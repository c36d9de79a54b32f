"""Reconnects with real sharedb clients across two daphne processes (catalogue F1/F6, small):
an op in flight plus pending ops when the socket dies, a lost ack, a lost ack after a concurrent
op, and another user trying to pass a victim's src off as theirs.

Every scenario ends with the full convergence check (clients == fresh fetch == snapshot_at() ==
replay of the op log; every acked (src, seq) in documents_operation exactly once, at its ack's
version; contiguous versions; every acked token exactly once).
"""

from typing import Any

import pytest

from .sharedb_fixtures import TwoServers, two_servers  # noqa: F401  (fixture)
from tests.history import assert_clean, canonical, check_converged, db_state, op_log, text_of

from .sharedb_harness import (
    assert_server_logs_clean,
    history_entry,
    require_ok,
    run_driver,
    servers_spec,
    setup_document,
)

pytestmark = pytest.mark.integration


def make_doc(two_servers: TwoServers, *names: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Users (unique per test), a doc owned by the first, the others editors; name -> cookie."""
    real = {name: two_servers.unique(name) for name in names}
    setup = setup_document(
        two_servers.cluster,
        users={real[n]: f"{n.title()} Tester" for n in names},
        owner=real[names[0]],
        members={real[n]: "editor" for n in names[1:]},
        content=[{"insert": "Hello world\n"}],
    )
    cookies = {n: f"sessionid={setup['sessions'][real[n]]}" for n in names}
    return setup, cookies


def scenario(
    two_servers: TwoServers, setup: dict[str, Any], clients: dict[str, Any], steps: list[Any]
) -> dict[str, Any]:
    return {
        "doc": setup["doc"],
        "servers": servers_spec(two_servers.first, two_servers.second),
        "clients": clients,
        "steps": steps,
    }


def test_op_in_flight_and_pending_ops_land_once_after_reconnecting_to_the_other_process(
    two_servers: TwoServers,
) -> None:
    setup, cookies = make_doc(two_servers, "ana", "ben", "cy")
    clients = {name: {"cookie": cookies[user]} for name, user in (("A", "ana"), ("B", "ben"), ("C", "cy"))}
    steps = [
        {"do": "connect", "client": "A", "server": 0},
        {"do": "connect", "client": "B", "server": 1},
        {"do": "connect", "client": "C", "server": 0},
        {"do": "insert", "client": "A", "index": "end", "text": "[A.base]", "wait": True},
        # A: one op in flight, two pending; the socket dies as soon as the op is on the wire.
        {"do": "insert", "client": "A", "index": 0, "text": "[A.inflight]"},
        {"do": "insert", "client": "A", "index": "end", "text": "[A.pending1]"},
        {"do": "insert", "client": "A", "index": 0, "text": "[A.pending2]"},
        {"do": "kill", "client": "A", "after_flush": True},  # step 7
        # The op reached process 0 and was committed there (B sees it), but A never got the ack.
        {"do": "waitDoc", "client": "B", "contains": "[A.inflight]"},
        # C: the op is lost on the way out (process 0 never sees it), then the socket dies.
        {"do": "dropOut", "client": "C", "kind": "ops"},
        {"do": "insert", "client": "C", "index": 0, "text": "[C.lost]"},
        {"do": "insert", "client": "C", "index": "end", "text": "[C.pending]"},
        {"do": "kill", "client": "C"},  # step 12
        {"do": "dropOut", "client": "C", "kind": None},
        # B edits while both are away.
        {"do": "insert", "client": "B", "index": 0, "text": "[B.meanwhile]", "wait": True},
        # Both come back on the OTHER process; the same Connection, bound to a new socket.
        {"do": "reconnect", "client": "A", "server": 1},
        {"do": "reconnect", "client": "C", "server": 1},
        {"do": "waitAcked", "clients": ["A", "C"]},
        {"do": "insert", "client": "A", "index": "end", "text": "[A.after]", "wait": True},
        {"do": "settle", "fresh_client": "B", "fresh_server": 0},
    ]
    result = run_driver(scenario(two_servers, setup, clients, steps), timeout=40)
    require_ok(result)
    assert_clean(result)

    killed_a, killed_c = result["steps"][7], result["steps"][12]
    assert killed_a["inflight"] is not None and killed_a["pending"] >= 1, killed_a
    assert killed_c["inflight"] is not None and killed_c["pending"] >= 1, killed_c
    resent_a = history_entry(result, "A", killed_a["inflight"])
    resent_c = history_entry(result, "C", killed_c["inflight"])
    # Each in-flight op went out on process 0, then again (same src and seq) on process 1.
    assert resent_a["sends"] == 2 and resent_a["sent_on"] == [0, 1], resent_a
    assert resent_c["sends"] == 2 and resent_c["sent_on"] == [0, 1], resent_c
    assert result["clients"]["A"]["servers"] == [0, 1] and result["clients"]["C"]["servers"] == [0, 1]

    state = check_converged(two_servers.cluster, setup["doc"], result)
    log = {(row["src"], row["seq"]): row["version"] for row in state["log"]}
    meanwhile = next(
        e
        for e in result["clients"]["B"]["history"]
        if e["ack_v"] == log[(e["src"], e["seq"])] and "[B.meanwhile]" in str(e["op"])
    )
    # A's op was committed once, before B's later edit (it landed before the socket died) ...
    assert log[(resent_a["src"], resent_a["seq"])] < meanwhile["ack_v"]
    # ... and C's, which process 0 never saw, once, after it.
    assert log[(resent_c["src"], resent_c["seq"])] > meanwhile["ack_v"]
    for token in (
        "[A.base]",
        "[A.inflight]",
        "[A.pending1]",
        "[A.pending2]",
        "[A.after]",
        "[C.lost]",
        "[C.pending]",
        "[B.meanwhile]",
    ):
        assert state["text"].count(token) == 1, (token, state["text"])
    assert_server_logs_clean(two_servers.cluster)


def test_lost_ack_resend_is_acked_once_and_pending_edits_survive(two_servers: TwoServers) -> None:
    setup, cookies = make_doc(two_servers, "ana", "ben")
    clients = {"A": {"cookie": cookies["ana"]}, "B": {"cookie": cookies["ben"]}}
    steps = [
        {"do": "connect", "client": "A", "server": 0},
        {"do": "connect", "client": "B", "server": 1},
        {"do": "insert", "client": "A", "index": "end", "text": "[A.base]", "wait": True},
        {"do": "drop", "client": "A", "kind": "ack", "count": 1},
        {"do": "insert", "client": "A", "index": 0, "text": "[A.ack-lost]"},  # step 4
        {"do": "waitDropped", "client": "A", "ack": True},  # committed; the ack never reached sharedb
        {"do": "waitDoc", "client": "B", "contains": "[A.ack-lost]"},
        # Edits pile up behind the op whose ack was lost.
        {"do": "insert", "client": "A", "index": "end", "text": "[A.pending1]"},
        {"do": "insert", "client": "A", "index": 0, "text": "[A.pending2]"},
        {"do": "sleep", "ms": 200},
        {"do": "kill", "client": "A"},  # step 10
        # (B edits only now: an op from B reaching A earlier would make A fetch, and the fetched
        # copy of its own op would stand in for the lost ack.)
        {"do": "insert", "client": "B", "index": 0, "text": "[B.meanwhile]", "wait": True},
        {"do": "reconnect", "client": "A", "server": 1},
        {"do": "waitAcked", "clients": ["A"]},
        {"do": "settle", "fresh_server": 0},
    ]
    result = run_driver(scenario(two_servers, setup, clients, steps), timeout=40)
    require_ok(result)
    # No error frame at all: in particular never ERR_OP_ALREADY_SUBMITTED, and no rollback.
    assert_clean(result)

    lost_seq = result["steps"][4]["inflight"]
    assert result["steps"][10]["inflight"] == lost_seq and result["steps"][10]["pending"] >= 1
    dropped = result["clients"]["A"]["dropped"]
    assert [d["frame"]["seq"] for d in dropped] == [lost_seq], dropped
    entry = history_entry(result, "A", lost_seq)
    assert entry["sends"] == 2 and entry["sent_on"] == [0, 1], entry
    # The resend's ack names the version of the original commit.
    assert entry["ack_v"] == dropped[0]["frame"]["v"], (entry, dropped)

    state = check_converged(two_servers.cluster, setup["doc"], result)
    assert sum(1 for row in state["log"] if (row["src"], row["seq"]) == (entry["src"], lost_seq)) == 1
    for token in ("[A.base]", "[A.ack-lost]", "[A.pending1]", "[A.pending2]", "[B.meanwhile]"):
        assert state["text"].count(token) == 1, (token, state["text"])
    assert_server_logs_clean(two_servers.cluster)


def test_lost_ack_of_an_op_transformed_past_a_concurrent_op(two_servers: TwoServers) -> None:
    """A hears nothing while B commits at v and A's op (based on v) lands at v+1; A's resend must
    get B's op and then the ack at v+1 (stock ShareDB sends the ack alone and the client has to
    fetch after an 'Invalid version' warning; here the warning must not happen)."""
    setup, cookies = make_doc(two_servers, "ana", "ben")
    clients = {"A": {"cookie": cookies["ana"]}, "B": {"cookie": cookies["ben"]}}
    steps = [
        {"do": "connect", "client": "A", "server": 0},
        {"do": "connect", "client": "B", "server": 1},
        {"do": "insert", "client": "A", "index": "end", "text": "[A.base]", "wait": True},
        {"do": "drop", "client": "A", "kind": "all"},
        {"do": "insert", "client": "B", "index": 0, "text": "[B.first]", "wait": True},
        {"do": "insert", "client": "A", "index": 6, "text": "[A.second]"},  # step 5
        {"do": "waitDropped", "client": "A", "ack": True},
        {"do": "insert", "client": "A", "index": 0, "text": "[A.pending]"},
        {"do": "drop", "client": "A", "kind": None},
        {"do": "kill", "client": "A"},
        {"do": "reconnect", "client": "A", "server": 1},
        {"do": "waitAcked", "clients": ["A"]},
        {"do": "settle", "fresh_server": 1},
    ]
    result = run_driver(scenario(two_servers, setup, clients, steps), timeout=40)
    require_ok(result)
    assert_clean(result)  # includes: no "Invalid version from server" warning

    seq = result["steps"][5]["inflight"]
    entry = history_entry(result, "A", seq)
    b_first = next(e for e in result["clients"]["B"]["history"] if "[B.first]" in str(e["op"]))
    assert entry["v"] == b_first["ack_v"], "A's op was not based on the version B's op took"
    assert entry["ack_v"] == b_first["ack_v"] + 1, (entry, b_first)
    assert entry.get("version_mismatch") is None, entry
    state = check_converged(two_servers.cluster, setup["doc"], result)
    assert state["text"] == "[B.first][A.pending]Hello [A.second]world[A.base]\n", state["text"]
    assert_server_logs_clean(two_servers.cluster)


def test_another_user_cannot_reuse_a_victims_src(two_servers: TwoServers) -> None:
    setup, cookies = make_doc(two_servers, "vic", "mal")
    clients = {"V": {"cookie": cookies["vic"]}, "M": {"cookie": cookies["mal"]}}
    steps = [
        {"do": "connect", "client": "V", "server": 0},
        {"do": "insert", "client": "V", "index": "end", "text": "[V.base]", "wait": True},
        # Mallory, an editor of the same document, on the other process: asks for V's id ...
        {"do": "rawConnect", "name": "mal", "client": "M", "server": 1, "hs_id_of": "V"},  # step 2
        # ... and pre-submits an op under V's src with the seq V will use next.
        {"do": "rawSpoofOp", "name": "mal", "victim": "V", "op": [{"insert": "[EVIL]"}]},  # step 3
        # The same from a second raw socket on V's own process.
        {"do": "rawConnect", "name": "mal2", "client": "M", "server": 0},
        {"do": "rawSpoofOp", "name": "mal2", "victim": "V", "op": [{"insert": "[EVIL2]"}]},  # step 5
        {"do": "insert", "client": "V", "index": 0, "text": "[V.real]", "wait": True},  # step 6
        {"do": "settle", "clients": ["V"], "fresh_client": "V", "fresh_server": 1},
    ]
    result = run_driver(scenario(two_servers, setup, clients, steps), timeout=30)
    require_ok(result)
    assert_clean(result, ["V"])

    victim_src = result["clients"]["V"]["src"]
    assert result["steps"][2]["hs"]["id"] != victim_src, "the server handed the victim's id to another user"
    for index in (3, 5):
        spoof = result["steps"][index]
        assert spoof["frame"]["src"] == victim_src
        assert spoof["reply"].get("error", {}).get("code") == "ERR_OP_SUBMIT_REJECTED", spoof["reply"]
    spoofed_seq = result["steps"][3]["frame"]["seq"]
    # V's real op used exactly the seq Mallory tried to take, and it was applied, not "deduplicated".
    real = next(e for e in result["clients"]["V"]["history"] if "[V.real]" in str(e["op"]))
    assert real["seq"] == spoofed_seq, (real, spoofed_seq)
    state = check_converged(two_servers.cluster, setup["doc"], result, ["V"])
    assert state["text"].count("[V.real]") == 1 and "EVIL" not in state["text"], state["text"]
    foreign = [r for r in state["log"] if r["src"] != victim_src and not r["src"].startswith("server-")]
    assert not foreign, foreign
    assert_server_logs_clean(two_servers.cluster)


def test_the_same_ops_resent_concurrently_to_both_processes_commit_once(two_servers: TwoServers) -> None:
    """F6: a client that reconnected to process 1 while process 0 still handles its op. The same
    20 ops (one src, seqs 1..20, all based on the same stale version) go to both processes at
    once: each commits exactly once, and every copy is acked (never an error) at that version."""
    setup, cookies = make_doc(two_servers, "ana")
    count = 20
    steps = [
        {"do": "rawConnect", "name": "first", "client": "A", "server": 0},
        {"do": "rawConnect", "name": "second", "client": "A", "server": 1, "hs_id_of_raw": "first"},  # 1
        {
            "do": "rawBurst",
            "names": ["first", "second"],
            "src_of": "first",
            "v": setup["version"],
            "count": count,
        },  # 2
        {"do": "fetchFresh", "client": "A", "server": 1},  # 3
    ]
    result = run_driver(scenario(two_servers, setup, {"A": {"cookie": cookies["ana"]}}, steps), timeout=30)
    require_ok(result)
    burst = result["steps"][2]
    assert result["steps"][1]["hs"]["id"] == burst["src"], "the same user could not keep its own id"
    log = op_log(two_servers.cluster, setup["doc"])
    committed = {row["seq"]: row["version"] for row in log if row["src"] == burst["src"]}
    assert sorted(committed) == burst["seqs"], committed
    assert len([row for row in log if row["src"] == burst["src"]]) == count
    for replies in burst["replies"]:
        assert not [f for f in replies if f.get("error")], [f for f in replies if f.get("error")]
        assert {f["seq"]: f["v"] for f in replies} == committed, (replies, committed)
    assert [row["version"] for row in log] == list(range(len(log)))
    db = db_state(two_servers.cluster, setup["doc"])
    fresh = result["steps"][3]
    assert fresh["version"] == db["version"] == len(log)
    assert canonical(fresh["data"]["ops"]) == canonical(db["content"]) == canonical(db["replay_content"])
    text = text_of(db["content"])
    for seq in burst["seqs"]:
        assert text.count(f"[dup.{seq}]") == 1, text
    assert_server_logs_clean(two_servers.cluster)
