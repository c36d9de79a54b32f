"""Comment threads and notifications reach open sockets on both server processes.

Two daphne processes share PostgreSQL and Redis; a third process (a Django shell, as a Celery
worker or the admin would be) opens a thread that mentions a member and resolves it. Raw
protocol sockets on both processes see each change.
"""

from pathlib import Path

import pytest

from .sharedb_fixtures import TwoServers, two_servers  # noqa: F401  (fixture)
from .sharedb_harness import driver_result, servers_spec, setup_document, start_driver
from .test_live_access_admin import wait_for_file

pytestmark = pytest.mark.integration

WITHIN_MS = 2000

CHANGE = """
from django.contrib.auth import get_user_model
from documents import services
users = {name: get_user_model().objects.get(username=name) for name in (ED, CARL)}
thread = services.create_thread(user=users[ED], document_id=DOC, body="@" + CARL + " please look", quote="Hi")
services.set_thread_resolved(user=users[ED], thread_id=thread["id"], resolved=True)
"""


def test_threads_and_notifications_reach_both_processes(two_servers: TwoServers, tmp_path: Path) -> None:
    ed, carl, vera = (two_servers.unique(name) for name in ("ed", "carl", "vera"))
    setup = setup_document(
        two_servers.cluster,
        users={ed: "Ed Editor", carl: "Carl Commenter", vera: "Vera Viewer"},
        owner=ed,
        members={carl: "commenter", vera: "viewer"},
        content=[{"insert": "Hi\n"}],
    )
    doc = setup["doc"]
    ready, go = str(tmp_path / "ready"), str(tmp_path / "go")
    subscribe = {"a": "s", "c": "documents", "d": doc, "v": None}
    steps = [
        {"do": "rawConnect", "name": "vera", "client": "V", "server": 1},
        {"do": "rawSend", "name": "vera", "frame": subscribe},
        {"do": "rawWait", "name": "vera", "match": {"a": "s"}},
        {"do": "rawConnect", "name": "carl", "client": "C", "server": 0},
        {"do": "rawSend", "name": "carl", "frame": subscribe},
        {"do": "rawWait", "name": "carl", "match": {"a": "s"}},
        {"do": "touch", "path": ready},
        {"do": "waitFile", "path": go},
        {"do": "rawWait", "name": "carl", "match": {"a": "x-notify", "unread": 1}, "timeout_ms": WITHIN_MS},
        {"do": "rawWait", "name": "vera", "match": {"a": "x-comment"}, "timeout_ms": WITHIN_MS},
        {"do": "rawWait", "name": "carl", "match": {"a": "x-comment"}, "timeout_ms": WITHIN_MS},
    ]
    scenario = {
        "doc": doc,
        "servers": servers_spec(two_servers.first, two_servers.second),
        "clients": {
            name[0].upper(): {"cookie": f"sessionid={setup['sessions'][name]}"} for name in (carl, vera)
        },
        "steps": steps,
        "timeout_ms": 60_000,
    }
    driver, out_path = start_driver(scenario, tmp_path)
    wait_for_file(Path(ready), driver)
    two_servers.cluster.shell(f"ED, CARL, DOC = {ed!r}, {carl!r}, {doc!r}\n" + CHANGE)
    Path(go).touch()
    result = driver_result(driver, out_path)
    for name in ("vera", "carl"):
        comments = [f["thread"] for f in result["raw"][name]["frames"] if f.get("a") == "x-comment"]
        assert [c["resolved"] for c in comments] == [False, True], comments
        assert comments[0]["comments"][0]["body"] == f"@{carl} please look"
    notified = [f for f in result["raw"]["vera"]["frames"] if f.get("a") == "x-notify"]
    assert notified == []  # Vera was not mentioned
