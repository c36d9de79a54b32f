"""JSON logs of a whole browser session: ids on the lines about the connection, and never the
text typed or the session cookie."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from documents import services
from tests.conftest import ServerProcess, database_url_for_test_db

from .conftest import db, wait_until

pytestmark = pytest.mark.browser

TYPED = "Quartz zebra 7319 sings"


@pytest.fixture
def json_server(transactional_db: Any) -> Iterator[ServerProcess]:
    env = {
        **database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
    }
    server = ServerProcess(env, name="json-logs").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server_url(json_server: ServerProcess) -> str:
    return json_server.url


def test_json_logs_carry_ids_and_no_content_or_cookie(
    json_server: ServerProcess, make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    document = db(services.create_document, owner=alice, title="Logbook", content=[{"insert": "Start\n"}])
    tab = open_tab(alice)
    tab.open_editor(document.pk)
    tab.place_caret_at_end_of_first_line()
    tab.page.keyboard.type(" " + TYPED, delay=15)
    wait_until(lambda: TYPED in tab.text() and tab.unsent() == 0, message="typing saved", tab=tab)
    tab.screenshot(artifacts_dir / "browser-json-logs.png")
    cookie = next(c["value"] for c in tab.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    tab.context.close()
    log = wait_until(
        lambda: (text := json_server.log()) and '"disconnected' in text and text, message="disconnect"
    )

    assert TYPED not in log and "zebra" not in log
    assert cookie not in log
    records = []
    for line in log.splitlines():
        if line.strip():
            records.append(json.loads(line))  # every line is one JSON object, daphne's access log too
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    about_connection = [r for r in records if r["logger"] == "documents.consumers.sharedb"]
    connected = next(r for r in about_connection if r["message"] == "connected")
    assert connected["user_id"] == alice.pk and connected["connection_id"].startswith("conn.")
    subscribed = next(r for r in about_connection if r["message"] == "subscribed")
    assert subscribed["document_id"] == str(document.pk)
    assert subscribed["connection_id"] == connected["connection_id"]
    assert all(r.get("connection_id") == connected["connection_id"] for r in about_connection)
    editor_page = [r for r in records if r["logger"] == "documents.requests" and "d/<uuid" in r["message"]]
    assert editor_page and editor_page[0]["user_id"] == alice.pk and len(editor_page[0]["request_id"]) >= 8
    access = [r for r in records if r["logger"] == "daphne.access"]
    page_hit = next(r for r in access if r.get("route", "").startswith("/d/<uuid"))
    assert page_hit["method"] == "GET" and page_hit["status"] == 200 and page_hit["duration_ms"] >= 0
    assert {("WSCONNECT", "/ws/"), ("WSDISCONNECT", "/ws/")} <= {(r.get("event"), r["route"]) for r in access}
    assert any(r["route"].startswith(settings.STATIC_URL) for r in access)
    # The pattern, never the path: no document id (or token) from a URL in the access log.
    assert not any(str(document.pk) in json.dumps(r) for r in access)
