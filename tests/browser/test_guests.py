"""Anyone with the link, in real browsers: a guest without an account edits live beside the owner,
then the owner turns the link off and the guest's open editor loses access at once."""

from pathlib import Path
from typing import Any

import pytest

from documents import services
from documents.models import Operation

from .conftest import db, wait_converged, wait_until

pytestmark = pytest.mark.browser


def test_a_guest_edits_live_until_the_owner_turns_the_link_off(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    olga = make_user("olga", "Olga Owner")
    document = db(services.create_document, owner=olga, title="Open plan", content=[{"insert": "Agenda\n"}])
    owner = open_tab(olga)
    owner.open_editor(document.pk)

    # The owner turns the link on from the share dialog and copies it.
    owner.page.locator("[data-action=share]").first.click()
    owner.page.select_option("#guest-link-role", "editor")
    url_field = owner.page.locator("#share-guest-link input.guest-link-url")
    url_field.wait_for(state="visible")
    url = url_field.input_value()
    assert "/link/" in url
    owner.screenshot(artifacts_dir / "browser-guest-link-on.png")
    owner.page.keyboard.press("Escape")

    # Someone with no account opens it and continues as a guest.
    guest = open_tab()
    guest.page.goto(url)
    guest.page.locator("[data-guest-join]").click()
    guest.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    name = guest.page.locator(".site-user").inner_text()
    assert name.startswith("Guest ") and name.endswith("(guest)")
    guest.place_caret_at_end_of_first_line()
    guest.page.keyboard.type(" and coffee")
    assert wait_converged(owner, guest) == "Agenda and coffee\n"
    guest_id = db(lambda: Operation.objects.filter(document=document).latest("version").author_id)
    assert guest_id is not None and guest_id != olga.pk  # the op log names the guest
    # The owner sees the guest in who-is-here, under the generated name.
    owner.page.locator(f"#presence-list li[data-user-id='{guest_id}']").wait_for(timeout=10_000)
    assert owner.page.locator(f"#presence-list li[data-user-id='{guest_id}']").get_attribute(
        "aria-label"
    ) == name.removesuffix(" (guest)")
    owner.screenshot(artifacts_dir / "browser-guest-editing.png")

    # The owner turns the link off: the guest's open editor loses access at once.
    owner.page.locator("[data-action=share]").first.click()
    owner.page.select_option("#guest-link-role", "")
    owner.page.locator("#share-status", has_text="The link is off").wait_for(timeout=5_000)
    guest.page.locator("#editor-notice", has_text="no longer have access").wait_for(timeout=3_000)
    assert guest.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert guest.status() == "No access"
    guest.screenshot(artifacts_dir / "browser-guest-link-off.png")
    # And the link itself is dead.
    guest.page.goto(url)
    assert "This link does not work" in guest.page.content()
    wait_until(lambda: owner.text() == "Agenda and coffee\n", message="owner's text kept", tab=owner)
    assert owner.errors == [] and guest.errors == []
