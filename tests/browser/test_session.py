"""Signing out elsewhere ends the editing session: the page says so and stops reconnecting."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session

from documents import services

from .conftest import PASSWORD, db

pytestmark = pytest.mark.browser


def test_signed_out_elsewhere_stops_the_editor(make_user: Any, open_tab: Any, artifacts_dir: Path) -> None:
    alice = make_user("alice", "Alice Archer")
    document = db(services.create_document, owner=alice, title="Diary", content=[{"insert": "Dear diary\n"}])
    tab = open_tab(alice)
    tab.open_editor(document.pk)
    sockets: list[Any] = []
    tab.page.on("websocket", lambda ws: sockets.append(ws))

    # Sign out in another tab of the same browser.
    other = tab.context.new_page()
    other.goto(tab.base_url + "/")
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url("**/accounts/login/")
    assert db(lambda: Session.objects.count()) == 0

    notice = tab.page.locator("#editor-notice", has_text="signed out")
    notice.wait_for(timeout=10_000)
    link = notice.get_by_role("link", name="Sign in again")
    assert link.get_attribute("href") == f"/accounts/login/?next=%2Fd%2F{document.pk}%2F"
    assert tab.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert tab.status() == "Signed out"
    assert tab.page.evaluate("[window.collab.socket.status(), window.collab.connection.state]") == [
        "stopped",
        "stopped",
    ]
    # No reconnect loop: the socket stays stopped, with no retry scheduled.
    assert tab.page.evaluate("window.collab.socket.retryInMs()") is None
    assert sockets == []
    tab.screenshot(artifacts_dir / "browser-signed-out.png")

    # The link leads back to this document after signing in.
    link.click()
    tab.page.wait_for_url("**/accounts/login/?next=*")
    tab.page.fill("#id_login", "alice")
    tab.page.fill("#id_password", PASSWORD)
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_selector("body[data-editor-ready='true']")
    assert tab.page.url.endswith(f"/d/{document.pk}/")
    assert tab.errors == []
