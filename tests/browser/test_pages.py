"""The pages with a keyboard only, on a phone-sized screen: sign in, list, create, rename, delete."""

from pathlib import Path
from typing import Any

import pytest

from documents import services
from documents.models import Document, Role

from .conftest import PASSWORD, PHONE, Tab, db

pytestmark = pytest.mark.browser


def fits_the_screen(tab: Tab) -> bool:
    return bool(tab.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def tab_to(tab: Tab, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching `selector` has focus (fails if it never does)."""
    for _ in range(limit):
        tab.page.keyboard.press("Tab")
        if tab.page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def test_pages_work_with_the_keyboard_on_a_phone(make_user: Any, open_tab: Any, artifacts_dir: Path) -> None:
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob Baker")
    shared = db(services.create_document, owner=bob, title="Bob's shared recipe")
    db(services.add_member, actor=bob, document_id=shared.pk, identifier="alice", role=Role.VIEWER)
    db(services.create_document, owner=alice, title="Groceries")
    db(services.create_document, owner=bob, title="Bob's private diary")

    tab = open_tab(None, viewport=PHONE)

    # Signed out, the list sends you to a sign-in page in the same look.
    tab.goto("/")
    assert "/accounts/login/" in tab.page.url
    assert tab.page.locator(".brand").is_visible()
    tab.screenshot(artifacts_dir / "browser-phone-login.png", full_page=True)
    assert fits_the_screen(tab)

    # A wrong password is explained; the real form signs in with the keyboard alone.
    tab.page.keyboard.type("alice")  # The username field has focus on arrival.
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.type("wrong password")
    tab.page.keyboard.press("Enter")
    tab.page.locator("[role=alert]").wait_for()
    tab.page.fill("#id_password", PASSWORD)
    tab.page.locator("#id_password").press("Enter")
    tab.page.wait_for_url(tab.base_url + "/")

    # The list shows mine and shared-with-me, with owner and role, never other people's.
    rows = tab.page.locator("[data-document-row]")
    titles = [t.strip() for t in rows.locator("[data-document-title]").all_inner_texts()]
    assert sorted(titles) == ["Bob's shared recipe", "Groceries"]
    shared_row = rows.filter(has_text="Bob's shared recipe")
    assert "Owner: Bob Baker" in shared_row.inner_text() and "View only" in shared_row.inner_text()
    assert "Edited" in shared_row.inner_text()
    # Only owners may delete.
    assert shared_row.locator("[data-action=delete]").count() == 0
    tab.screenshot(artifacts_dir / "browser-phone-list.png", full_page=True)
    assert fits_the_screen(tab)

    # Search by title.
    tab_to(tab, "#doc-search")
    tab.page.keyboard.type("groc")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**/?q=groc")
    assert [t.strip() for t in tab.page.locator("[data-document-title]").all_inner_texts()] == ["Groceries"]
    tab.page.get_by_role("link", name="Clear").click()
    tab.page.wait_for_url("**/")

    # Rename from the list with the keyboard.
    tab_to(tab, "[data-action=rename]")
    tab.page.keyboard.press("Enter")
    dialog = tab.page.locator("#rename-dialog")
    dialog.wait_for(state="visible")
    tab.page.keyboard.type("Weekly groceries")  # The title is selected, so typing replaces it.
    tab.page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")
    tab.page.locator("[data-document-title]", has_text="Weekly groceries").wait_for()
    assert db(lambda: Document.objects.get(owner=alice).title) == "Weekly groceries"

    # Delete asks first; Escape cancels, and confirming moves it to the trash.
    tab_to(tab, "[data-action=delete]")
    tab.page.keyboard.press("Enter")
    confirm = tab.page.locator("#delete-dialog")
    confirm.wait_for(state="visible")
    tab.screenshot(artifacts_dir / "browser-phone-delete-confirm.png")
    tab.page.keyboard.press("Escape")
    confirm.wait_for(state="hidden")
    assert tab.page.locator("[data-document-row]").count() == 2
    tab.page.locator("[data-action=delete]").focus()
    tab.page.keyboard.press("Enter")
    confirm.wait_for(state="visible")
    tab.page.keyboard.press("Tab")  # Cancel has focus first; the next stop is Delete.
    assert tab.page.evaluate("document.activeElement.hasAttribute('data-confirm')")
    tab.page.keyboard.press("Enter")
    tab.page.locator("[data-document-row]", has_text="Weekly groceries").wait_for(state="detached")
    assert tab.page.locator("[data-document-row]").count() == 1
    assert db(lambda: Document.objects.get(owner=alice).is_deleted)

    # Create a document from the list with the keyboard: it opens in the editor, ready to type.
    tab.goto("/")
    tab_to(tab, "#new-title")
    tab.page.keyboard.type("Packing list")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_selector("body[data-editor-ready='true']")
    assert tab.page.locator("#doc-title").input_value() == "Packing list"
    # Keyboard path into the text: skip link, then Tab through the header and toolbar to the text.
    tab_to(tab, ".ql-editor")
    tab.page.keyboard.type("Socks")
    tab.page.keyboard.press("Enter")
    tab.page.keyboard.press("Control+b")
    tab.page.keyboard.type("Passport")
    tab.page.wait_for_function("() => document.getElementById('connection-status').dataset.unsent === '0'")
    document = db(lambda: Document.objects.get(title="Packing list"))
    assert tab.contents() == [
        {"insert": "Socks\n"},
        {"insert": "Passport", "attributes": {"bold": True}},
        {"insert": "\n"},
    ]
    tab.screenshot(artifacts_dir / "browser-phone-editor.png", full_page=True)
    assert fits_the_screen(tab)

    # Rename in the editor's title field.
    tab.page.locator("#doc-title").fill("Packing list (summer)")
    tab.page.locator("#doc-title").press("Enter")
    tab.page.wait_for_function("() => document.title.startsWith('Packing list (summer)')")
    assert db(lambda: Document.objects.get(pk=document.pk).title) == "Packing list (summer)"

    # A document you cannot see and a bad invite get friendly 404 pages.
    diary = db(lambda: Document.objects.get(title="Bob's private diary"))
    response = tab.goto(f"/d/{diary.pk}/")
    assert response is not None and response.status == 404
    assert tab.page.get_by_role("link", name="Go to your documents").is_visible()
    response = tab.goto("/invite/not-a-real-token/")
    assert response is not None and response.status == 404
    tab.screenshot(artifacts_dir / "browser-phone-404.png")
    assert fits_the_screen(tab)

    # Sign out is a button in the header (POST), and lands on the sign-in page.
    tab.goto("/")
    tab.page.get_by_role("button", name="Sign out").click()
    tab.page.wait_for_url("**/accounts/login/")
    assert tab.errors == []
