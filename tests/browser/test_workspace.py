"""The workspace as people see it: a rename, a move to the trash and a restore reach the other open
editor live; the trash page; the full-text search box of the document list."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from documents import services
from documents.models import Document, Role

from .conftest import db, wait_until

pytestmark = pytest.mark.browser


def reloaded_and_ready(page: Any) -> bool:
    """The page loaded afresh (not the trashed one) and its editor is ready."""
    try:
        return bool(
            page.evaluate(
                "document.body.dataset.editorReady === 'true' && !!window.collab && !window.collab.ended"
            )
        )
    except PlaywrightError:  # evaluated while the page was reloading
        return False


def test_rename_trash_and_restore_reach_the_other_open_editor(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    olga = make_user("olga", "Olga Owner")
    ed = make_user("ed", "Ed Editor")
    document = db(
        services.create_document, owner=olga, title="Roadmap", content=[{"insert": "Ship the trash\n"}]
    )
    db(services.add_member, actor=olga, document_id=document.pk, identifier="ed", role=Role.EDITOR)
    owner, guest = open_tab(olga), open_tab(ed)
    owner.open_editor(document.pk)
    guest.open_editor(document.pk)

    # A rename in one editor shows in the other at once, in the field and the tab's title.
    title = owner.page.locator("#doc-title")
    title.fill("Roadmap 2027")
    title.press("Enter")
    wait_until(lambda: guest.page.locator("#doc-title").input_value() == "Roadmap 2027", tab=guest)
    assert guest.page.title() == "Roadmap 2027 · collab"

    # The owner moves it to the trash: the other editor is told at once and stops editing.
    owner.page.get_by_role("button", name="Delete").click()
    dialog = owner.page.locator("#delete-dialog")
    dialog.wait_for(state="visible")
    assert "restore it from the Trash" in dialog.inner_text()
    owner.screenshot(artifacts_dir / "browser-trash-confirm.png")
    dialog.get_by_role("button", name="Move to trash").click()
    owner.page.wait_for_url("**/")
    notice = guest.page.locator("#editor-notice", has_text="moved to the trash")
    notice.wait_for(timeout=10_000)
    assert "Its owner can restore it" in notice.inner_text()
    assert guest.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    guest.screenshot(artifacts_dir / "browser-trash-open-editor.png")
    assert db(lambda: Document.objects.get(pk=document.pk).is_deleted)

    # The owner finds it in the trash and restores it: she lands in it, and Ed's page reloads into it.
    owner.page.locator("[data-trash-link]").click()
    row = owner.page.locator("[data-trash-row]", has_text="Roadmap 2027")
    row.wait_for()
    assert "Removed for good on" in row.inner_text()
    owner.screenshot(artifacts_dir / "browser-trash-page.png")
    row.get_by_role("button", name="Restore Roadmap 2027").click()
    owner.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    assert owner.text() == "Ship the trash\n"
    wait_until(lambda: reloaded_and_ready(guest.page), tab=guest, message="Ed's page to reload into it")
    assert guest.text() == "Ship the trash\n"
    assert guest.page.locator(".ql-editor").get_attribute("contenteditable") == "true"
    guest.place_caret_at_end_of_first_line()
    guest.page.keyboard.type(" (back)")
    wait_until(
        lambda: owner.text() == "Ship the trash (back)\n", tab=owner, message="Ed's edit after the restore"
    )
    guest.screenshot(artifacts_dir / "browser-trash-restored.png")
    assert owner.errors == [] and guest.errors == []


def test_the_search_box_finds_text_with_highlights_and_nothing_unreadable(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    olga = make_user("olga", "Olga Owner")
    nina = make_user("nina", "Nina Other")
    db(
        services.create_document,
        owner=olga,
        title="Harbour plan",
        content=[{"insert": "Dredging starts in May.\n"}],
    )
    db(
        services.create_document,
        owner=olga,
        title="Minutes",
        content=[
            {"insert": "Talked about the "},
            {"insert": "harbour", "attributes": {"bold": True}},
            {"insert": ' budget. <img src=x onerror="window.pwned=1"> Next: ferries.\n'},
        ],
    )
    db(
        services.create_document,
        owner=nina,
        title="Nina's harbour secrets",
        content=[{"insert": "harbour\n"}],
    )
    db(services.create_document, owner=olga, title="Groceries", content=[{"insert": "Milk\n"}])

    tab = open_tab(olga)
    tab.goto("/")
    box = tab.page.get_by_role("searchbox", name="Search documents")
    box.fill("harbour")
    box.press("Enter")
    results = tab.page.locator("[data-search-hit]")
    results.first.wait_for()
    titles = [
        t.strip() for t in tab.page.locator("[data-search-hit] [data-document-title]").all_inner_texts()
    ]
    # The title match ranks first; Nina's document and the unrelated one are not there.
    assert titles == ["Harbour plan", "Minutes"]
    snippet = tab.page.locator("[data-search-hit]", has_text="Minutes").locator("[data-snippet]")
    assert snippet.locator("mark").all_inner_texts() == ["harbour"]
    assert "budget" in snippet.inner_text()
    assert (
        tab.page.evaluate("window.pwned === undefined")
        and tab.page.locator("[data-snippet] img").count() == 0
    )
    assert tab.page.locator("[data-search-summary]").inner_text() == "2 documents match “harbour”"
    tab.screenshot(artifacts_dir / "browser-search-results.png", full_page=True)

    # A result opens the document; no match says so.
    tab.page.locator("[data-search-hit] [data-document-title]", has_text="Minutes").click()
    tab.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    tab.goto("/?q=zeppelin")
    assert "No documents match “zeppelin”" in tab.page.locator(".empty-state").inner_text()
    assert tab.errors == []
