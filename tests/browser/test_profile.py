"""The profile page in a real browser: the display name and colour show to others, one session
can be signed out from the list, and signing out everywhere closes the editors still open."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session

from documents import services

from .conftest import db, wait_until

pytestmark = pytest.mark.browser


def test_sessions_are_listed_and_signed_out_one_by_one_or_everywhere(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice")
    document = db(services.create_document, owner=alice, title="Diary", content=[{"insert": "Dear diary\n"}])
    laptop = open_tab(alice)
    laptop.open_editor(document.pk)
    tablet = open_tab(alice)  # another browser: its own session
    tablet.open_editor(document.pk)
    phone = open_tab(alice)
    assert db(lambda: len(services.sessions_of(user_id=alice.pk))) == 3

    phone.goto("/")
    phone.page.locator(".site-user").click()
    phone.page.wait_for_url("**/accounts/profile/")
    phone.page.fill("#id_name", "Alice Archer")
    phone.page.get_by_role("button", name="Save", exact=True).click()
    phone.page.locator(".notice", has_text="Your name and colour are saved").wait_for()
    assert phone.page.locator(".site-user").inner_text() == "Alice Archer"
    assert phone.page.locator("[data-session-count]").inner_text() == "Signed in in 3 browsers."
    rows = phone.page.locator(".session")
    assert rows.first.inner_text().startswith("Chrome on Linux (this browser)")
    assert "last seen" in rows.nth(1).inner_text()
    phone.screenshot(artifacts_dir / "browser-profile.png", full_page=True)

    # Signing out one other browser closes its editor only.
    laptop_key = db(lambda: {s.session_key for s in services.sessions_of(user_id=alice.pk)})
    laptop_cookie = next(c["value"] for c in laptop.context.cookies() if c["name"] == "sessionid")
    assert laptop_cookie in laptop_key
    from documents.selectors import session_public_id

    phone.page.locator(f"[data-session='{session_public_id(laptop_cookie)}'] [data-sign-out-session]").click()
    phone.page.locator(".notice", has_text="That browser is signed out").wait_for()
    laptop.page.locator("#editor-notice", has_text="signed out").wait_for(timeout=5_000)
    assert laptop.status() == "Signed out"
    assert phone.page.locator("[data-session-count]").inner_text() == "Signed in in 2 browsers."
    assert tablet.status() != "Signed out"

    phone.page.locator("[data-sign-out-everywhere]").click()
    phone.page.wait_for_url("**/accounts/login/")
    notice = tablet.page.locator("#editor-notice", has_text="signed out")
    notice.wait_for(timeout=15_000)
    assert tablet.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert tablet.status() == "Signed out"
    tablet.screenshot(artifacts_dir / "browser-signed-out-everywhere.png")
    assert db(lambda: Session.objects.filter(expire_date__isnull=False).count()) == 0
    assert laptop.errors == [] and phone.errors == [] and tablet.errors == []


def test_the_colour_chosen_on_the_profile_colours_the_cursor_others_see(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob Baker")
    document = db(services.create_document, owner=alice, title="Colours", content=[{"insert": "Hello\n"}])
    db(services.add_member, actor=alice, document_id=document.pk, identifier="bob", role="editor")
    mine = open_tab(alice)
    mine.goto("/accounts/profile/")
    picked = mine.page.locator("#id_color").input_value()
    assert picked.startswith("#") and len(picked) == 7  # starts at the colour others see today
    mine.page.fill("#id_color", "#c2185b")
    mine.page.get_by_role("button", name="Save", exact=True).click()
    mine.page.locator(".notice", has_text="Your name and colour are saved").wait_for()

    theirs = open_tab(bob)
    theirs.open_editor(document.pk)
    mine.open_editor(document.pk)
    mine.place_caret_at_end_of_first_line()
    mine.page.keyboard.type("!")
    cursor = theirs.page.locator(
        ".ql-cursor", has=theirs.page.locator(".ql-cursor-name", has_text="Alice Archer")
    )
    cursor.locator(".ql-cursor-caret").wait_for(state="attached", timeout=10_000)
    wait_until(
        lambda: theirs.page.evaluate("window.collab.cursors.cursors()[0].color") == "#c2185b",
        message="Alice's cursor in her colour",
        tab=theirs,
    )
    avatar = f"#presence-list li[data-user-id='{alice.pk}']"
    theirs.page.locator(avatar).wait_for()
    colour = theirs.page.evaluate(
        f"getComputedStyle(document.querySelector(\"{avatar}\")).getPropertyValue('--avatar-color').trim()"
    )
    assert colour == "#c2185b"
    mine_self = mine.page.evaluate(
        f"getComputedStyle(document.querySelector(\"{avatar}\")).getPropertyValue('--avatar-color').trim()"
    )
    assert mine_self == "#c2185b"
    theirs.screenshot(artifacts_dir / "browser-profile-colour-cursor.png")
    assert mine.errors == [] and theirs.errors == []
