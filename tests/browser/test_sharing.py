"""Sharing from the dialog: members by name or email, roles that change live, invite links."""

from pathlib import Path
from typing import Any

import pytest

from documents import services
from documents.models import Membership

from .conftest import db, wait_until

pytestmark = pytest.mark.browser


def test_sharing_from_the_dialog_lets_the_other_user_in(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob Baker")
    carol = make_user("carol", "Carol Clark")
    dave = make_user("dave", "Dave Dunn")
    document = db(
        services.create_document, owner=alice, title="Plans", content=[{"insert": "Secret plans\n"}]
    )

    owner = open_tab(alice)
    guest = open_tab(bob)

    # Before sharing, Bob gets the same friendly 404 as for a document that does not exist.
    response = guest.goto(f"/d/{document.pk}/")
    assert response is not None and response.status == 404
    assert guest.page.locator("h1").inner_text() == "Document not found"

    owner.open_editor(document.pk)
    page = owner.page
    page.get_by_role("button", name="Share").click()
    dialog = page.locator("#share-dialog")
    dialog.wait_for(state="visible")
    # The owner is listed; the input has focus so the keyboard can go straight on.
    dialog.locator("[data-member='alice']").wait_for()
    assert page.evaluate("document.activeElement.id") == "share-identifier"
    page.keyboard.type("bob@example.com")
    dialog.locator("#share-role").select_option("editor")
    dialog.get_by_role("button", name="Add").click()
    dialog.locator("[data-member='bob']").wait_for()
    added = "If that person has an account, they now have access."
    assert dialog.locator("#share-status").inner_text() == added
    # The owner sees members' emails (she shared by email).
    assert "bob@example.com" in dialog.locator("[data-member='bob']").inner_text()
    # Someone without an account gets the very same answer: the dialog cannot probe accounts.
    dialog.locator("#share-status").evaluate("node => { node.textContent = ''; }")
    page.fill("#share-identifier", "nobody-here@example.com")
    dialog.get_by_role("button", name="Add").click()
    dialog.locator("#share-status", has_text=added).wait_for()
    assert dialog.locator("#share-error").is_hidden()
    assert "nobody-here" not in dialog.inner_text()

    # Bob can now open and edit it.
    guest.open_editor(document.pk)
    assert guest.page.locator("#role-badge").inner_text() == "Can edit"
    guest.page.locator(".ql-editor p").first.click()
    guest.page.keyboard.press("End")
    guest.page.keyboard.type(" (Bob agrees)")
    wait_until(
        lambda: owner.text() == "Secret plans (Bob agrees)\n", message="Bob's edit at Alice", tab=owner
    )

    # Alice makes Bob a viewer: his open editor turns read-only at once.
    dialog.locator("select[data-member-role='bob']").select_option("viewer")
    guest.page.locator("#editor-notice", has_text="only view").wait_for(timeout=10_000)
    assert guest.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert db(lambda: Membership.objects.get(document=document, user=bob).role) == "viewer"

    # An invite link: Carol follows it and lands in the editor as a viewer.
    dialog.locator("#invite-role").select_option("viewer")
    dialog.get_by_role("button", name="Create link").click()
    link_field = dialog.locator(".invite-url").first
    link_field.wait_for()
    link = link_field.input_value()
    assert "/invite/" in link
    page.screenshot(path=str(artifacts_dir / "browser-share-dialog.png"))

    # Opening the link only asks; Carol joins by confirming.
    visitor = open_tab(carol)
    visitor.page.goto(link)
    assert visitor.page.locator("h1").inner_text() == "Join “Plans”?"
    assert not db(lambda: Membership.objects.filter(document=document, user=carol).exists())
    visitor.screenshot(artifacts_dir / "browser-invite-confirm.png")
    visitor.page.get_by_role("button", name="Join as a viewer").click()
    visitor.page.wait_for_selector("body[data-editor-ready='true']")
    assert visitor.page.url.endswith(f"/d/{document.pk}/")
    assert visitor.page.locator("#role-badge").inner_text() == "View only"
    assert visitor.text() == "Secret plans (Bob agrees)\n"

    # Revoked, the link stops working for anyone new.
    dialog.locator("[data-invite-revoke]").first.click()
    dialog.locator(".invite-url").wait_for(state="detached")
    late = open_tab(dave)
    response = late.page.goto(link)
    assert response is not None and response.status == 404
    assert "does not work" in late.page.locator("h1").inner_text()
    late.screenshot(artifacts_dir / "browser-invite-revoked.png")

    # Removing Bob takes his access away live.
    dialog.locator("[data-member-remove='bob']").click()
    dialog.locator("[data-member='bob']").wait_for(state="detached")
    guest.page.locator("#editor-notice", has_text="no longer have access").wait_for(timeout=15_000)
    assert guest.page.locator("#connection-status").inner_text() == "No access"
    guest.screenshot(artifacts_dir / "browser-access-removed.png")

    # Escape closes the dialog.
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # The owner deletes the document from the editor; Carol, still in it, is told at once.
    page.locator("button[data-action=delete]").click()
    page.locator("#delete-dialog [data-confirm]").click()
    page.wait_for_url(owner.base_url + "/")
    visitor.page.locator("#editor-notice", has_text="moved to the trash").wait_for(timeout=10_000)
    assert visitor.page.locator("#connection-status").inner_text() == "In the trash"
    assert visitor.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    visitor.screenshot(artifacts_dir / "browser-document-deleted.png")
    assert owner.errors == [] and visitor.errors == []
