"""Doc presence (remote cursors) with real sharedb clients on two daphne processes.

A's cursor reaches B with A's name and user (added by the server) and A's src; B's typing moves
it (client-side transform, which needs the right src); a cursor sent at a stale version is
transformed to the head by the server; a newcomer sees existing cursors at once (the server fans
out `pr`); a closed socket's cursor is cleared (p:null) for everyone within a few seconds.
"""

from typing import Any

import pytest

from .sharedb_fixtures import TwoServers, two_servers  # noqa: F401  (fixture)
from .sharedb_harness import assert_server_logs_clean, require_ok, run_driver, servers_spec, setup_document

pytestmark = pytest.mark.integration

PRESENCE_ID = "presence-A"


def test_cursors_travel_between_processes_transform_and_clear(two_servers: TwoServers) -> None:
    ana, ben, cy = (two_servers.unique(n) for n in ("ana", "ben", "cy"))
    setup = setup_document(
        two_servers.cluster,
        users={ana: "Ana Tester", ben: "Ben Tester", cy: "Cy Tester"},
        owner=ana,
        members={ben: "editor", cy: "viewer"},
        content=[{"insert": "Hello world\n"}],
    )
    cookies = {n: f"sessionid={setup['sessions'][n]}" for n in (ana, ben, cy)}
    ana_id = setup["user_ids"][ana]
    steps: list[dict[str, Any]] = [
        {"do": "connect", "client": "A", "server": 0},
        {"do": "connect", "client": "B", "server": 1},
        {"do": "presenceSubscribe", "client": "A"},
        {"do": "presenceSubscribe", "client": "B"},
        {"do": "presenceSubmit", "client": "A", "id": PRESENCE_ID, "value": {"index": 5, "length": 2}},
        # 5: B sees A's range, with the name and user the server adds.
        {
            "do": "waitPresence",
            "client": "B",
            "id": PRESENCE_ID,
            "value": {"index": 5, "length": 2, "name": "Ana Tester", "user": ana_id},
        },
        # 6-7: B types before A's cursor: B's view of it moves right.
        {"do": "insert", "client": "B", "index": 0, "text": "XYZ", "wait": True},
        {"do": "waitPresence", "client": "B", "id": PRESENCE_ID, "value": {"index": 8, "length": 2}},
        {"do": "waitDoc", "client": "A", "contains": "XYZHello"},
        # 9-13: A misses B's next op and moves its cursor at its (now stale) version: the server
        # transforms it to the head, so B sees it shifted by B's insert.
        {"do": "drop", "client": "A", "kind": "ops"},
        {"do": "insert", "client": "B", "index": 0, "text": "QQ", "wait": True},
        {"do": "presenceSubmit", "client": "A", "value": {"index": 1, "length": 0}},
        {"do": "waitPresence", "client": "B", "id": PRESENCE_ID, "value": {"index": 3, "length": 0}},
        {"do": "drop", "client": "A", "kind": None},
        # 14-16: a newcomer on the other process sees A's cursor without A moving it.
        {"do": "connect", "client": "C", "server": 0},
        {"do": "presenceSubscribe", "client": "C"},
        {
            "do": "waitPresence",
            "client": "C",
            "id": PRESENCE_ID,
            "value": {"index": 3, "length": 0, "name": "Ana Tester"},
            "timeout_ms": 3000,
        },
        # 17-19: A's socket dies; B (other process) and C (same process) get the clear.
        {"do": "kill", "client": "A"},
        {"do": "waitPresence", "client": "B", "id": PRESENCE_ID, "value": None, "timeout_ms": 5000},
        {"do": "waitPresence", "client": "C", "id": PRESENCE_ID, "value": None, "timeout_ms": 5000},
        {"do": "record", "client": "B"},
    ]
    result = run_driver(
        {
            "doc": setup["doc"],
            "servers": servers_spec(two_servers.first, two_servers.second),
            "clients": {name: {"cookie": cookies[u]} for name, u in (("A", ana), ("B", ben), ("C", cy))},
            "steps": steps,
        },
        timeout=40,
    )
    require_ok(result)
    clients = result["clients"]
    a_src = clients["A"]["src"]
    seen = result["steps"][5]
    assert seen["src"] == a_src, (seen, a_src)
    assert seen["value"] == {"index": 5, "length": 2, "name": "Ana Tester", "user": ana_id}, seen
    assert result["steps"][7]["value"]["index"] == 8
    assert result["steps"][12]["value"] == {"index": 3, "length": 0, "name": "Ana Tester", "user": ana_id}

    # Every presence frame about A's cursor carried A's src, and was never someone else's.
    for name in ("B", "C"):
        frames = [f["frame"] for f in clients[name]["presence_frames"] if f["frame"].get("id") == PRESENCE_ID]
        assert frames, f"{name} got no presence frames"
        assert {f["src"] for f in frames} == {a_src}, frames
        assert not clients[name]["error_frames"], clients[name]["error_frames"]
        assert not clients[name]["errors"], clients[name]["errors"]
    # The stale-version update was shifted by the server, not by B's client (B was at the head).
    stale = [
        f["frame"]
        for f in clients["B"]["presence_frames"]
        if f["frame"].get("p") == {"index": 3, "length": 0, "name": "Ana Tester", "user": ana_id}
    ]
    assert stale and stale[0]["v"] == clients["B"]["version"], (stale, clients["B"]["version"])
    assert result["steps"][11]["version"] == stale[0]["v"] - 1, "A's update was not sent at a stale version"

    # The newcomer's view came promptly (the `pr` fan-out), and existing subscribers were asked.
    assert result["steps"][16]["waited_ms"] < 2000, result["steps"][16]
    assert clients["A"]["presence_requests"] >= 1
    # The clear arrived within a few seconds of the socket dying, on both processes.
    killed_at = result["steps"][17]["t"]
    for index in (18, 19):
        assert result["steps"][index]["t"] - killed_at < 5000, result["steps"][index]
    assert PRESENCE_ID not in (result["steps"][20]["remote_presence"] or {})
    # A's ops and presence never errored either.
    assert not clients["A"]["error_frames"] and not clients["A"]["rollbacks"], clients["A"]
    assert_server_logs_clean(two_servers.cluster)
    print(
        f"\nnewcomer saw the cursor after {result['steps'][16]['waited_ms']} ms; clear reached B after "
        f"{result['steps'][18]['t'] - killed_at} ms and C after {result['steps'][19]['t'] - killed_at} ms"
    )
