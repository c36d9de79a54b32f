"""The per-document connection cap in a real browser: a newcomer past the cap is told so and
does not retry on its own; those already in the document keep editing together."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from documents import services
from documents.models import Role
from tests.conftest import ServerProcess, database_url_for_test_db

from .conftest import db, wait_converged, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server_url(transactional_db: Any) -> Iterator[str]:
    env = {
        **database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "COLLAB_MAX_CONNECTIONS_PER_DOCUMENT": "2",
    }
    server = ServerProcess(env, name="capped").start()
    try:
        yield server.url
    finally:
        server.stop()


def test_newcomer_past_the_cap_is_refused_and_the_others_are_not(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice, ben, cara = (
        make_user("alice", "Alice Archer"),
        make_user("ben", "Ben Okafor"),
        make_user("cara", "Cara Diaz"),
    )
    document = db(services.create_document, owner=alice, title="Crowded", content=[{"insert": "Hello\n"}])
    for user in (ben, cara):
        db(
            services.add_member,
            actor=alice,
            document_id=document.pk,
            identifier=user.username,
            role=Role.EDITOR,
        )
    first, second = open_tab(alice), open_tab(ben)
    first.open_editor(document.pk)
    second.open_editor(document.pk)

    third = open_tab(cara)
    sockets: list[Any] = []
    third.page.on("websocket", lambda ws: sockets.append(ws))
    third.goto(f"/d/{document.pk}/")
    notice = third.page.locator("#editor-notice", has_text="as many people editing it as this server allows")
    notice.wait_for(timeout=15_000)
    assert third.status() == "Document full"
    assert third.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert third.page.evaluate("window.collab.socket.retryInMs()") is None  # no retry loop
    third.page.wait_for_timeout(1500)
    assert len(sockets) == 1
    third.screenshot(artifacts_dir / "browser-document-full.png")

    first.place_caret_at_end_of_first_line()
    first.page.keyboard.type(" there", delay=20)
    assert wait_converged(first, second) == "Hello there\n"
    wait_until(lambda: second.status() == "All changes saved", tab=second, message="second saved")
    assert first.errors == second.errors == []
