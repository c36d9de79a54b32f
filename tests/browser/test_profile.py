"""The profile page in a real browser: the display name shows to others, and signing out
everywhere closes the editor open in another browser."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session

from documents import services

from .conftest import db

pytestmark = pytest.mark.browser


def test_sign_out_everywhere_closes_another_browsers_editor(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice")
    document = db(services.create_document, owner=alice, title="Diary", content=[{"insert": "Dear diary\n"}])
    laptop = open_tab(alice)
    laptop.open_editor(document.pk)
    phone = open_tab(alice)  # another browser: its own session
    assert db(lambda: len(services.sessions_of(user_id=alice.pk))) == 2

    phone.goto("/")
    phone.page.locator(".site-user").click()
    phone.page.wait_for_url("**/accounts/profile/")
    phone.page.fill("#id_name", "Alice Archer")
    phone.page.get_by_role("button", name="Save name").click()
    phone.page.locator(".notice", has_text="Your name is saved").wait_for()
    assert phone.page.locator(".site-user").inner_text() == "Alice Archer"
    assert phone.page.locator("[data-session-count]").inner_text() == "Signed in in 2 browsers."
    phone.screenshot(artifacts_dir / "browser-profile.png", full_page=True)

    phone.page.locator("[data-sign-out-everywhere]").click()
    phone.page.wait_for_url("**/accounts/login/")
    notice = laptop.page.locator("#editor-notice", has_text="signed out")
    notice.wait_for(timeout=15_000)
    assert laptop.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert laptop.status() == "Signed out"
    laptop.screenshot(artifacts_dir / "browser-signed-out-everywhere.png")
    assert db(lambda: Session.objects.filter(expire_date__isnull=False).count()) == 0
    assert laptop.errors == [] and phone.errors == []
