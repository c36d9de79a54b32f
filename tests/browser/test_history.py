"""History, restore, export, import and the reconnect window, in a real browser against daphne."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from documents import services
from documents.models import Role

from .conftest import stored_text, PHONE, Tab, db, wait_until

pytestmark = pytest.mark.browser

V1 = "Shopping: apples, milk.\n"
V2 = "Shopping: apples, milk, bread.\n"
V3 = "Shopping: PLUMS, milk, bread.\n"


def edit(user: Any, document: Any, seq: int, op: list[dict[str, Any]]) -> None:
    """Commit an edit as `user` through the services layer (each user has their own src)."""
    db(
        services.submit_operation,
        user=user,
        document_id=document.pk,
        src=f"{user.username:x<32}"[:32],
        seq=seq,
        base_version=None,
        kind="edit",
        data=op,
    )


@pytest.fixture
def pair(make_user: Any) -> dict[str, Any]:
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob Baker")
    document = db(services.create_document, owner=alice, title="Groceries", content=[{"insert": V1}])
    db(services.add_member, actor=alice, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    return {"alice": alice, "bob": bob, "document": document}


def open_history(tab: Tab, document_id: Any) -> None:
    tab.goto(f"/d/{document_id}/history/")
    tab.page.wait_for_selector("body[data-history-ready='true']", timeout=15_000)


def viewer_text(tab: Tab) -> str:
    return str(tab.page.evaluate("window.collabHistory.quill.getText()"))


def background(tab: Tab, selector: str) -> str:
    return str(tab.page.locator(selector).first.evaluate("node => getComputedStyle(node).backgroundColor"))


def heading_is(tab: Tab, text: str) -> None:
    """Wait until the preview shows `text` as its heading and has rendered."""
    tab.page.wait_for_function(
        "([text]) => document.body.dataset.historyReady === 'true'"
        " && document.querySelector('#history-heading').textContent === text",
        arg=[text],
    )


def test_history_compare_authors_and_restore_live(
    pair: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    alice_user, bob_user, document = pair["alice"], pair["bob"], pair["document"]
    edit(alice_user, document, 1, [{"retain": 22}, {"insert": ", bread"}])  # v2, Alice
    edit(bob_user, document, 1, [{"retain": 10}, {"delete": 6}, {"insert": "PLUMS"}])  # v3, Bob
    assert stored_text(document.pk) == V3

    bob = open_tab(bob_user)
    bob.open_editor(document.pk)
    alice = open_tab(alice_user)
    alice.open_editor(document.pk)

    # The editor links to the history page.
    alice.page.locator("[data-action=history]").click()
    alice.page.wait_for_selector("body[data-history-ready='true']", timeout=15_000)
    assert alice.page.url.endswith(f"/d/{document.pk}/history/")

    # 1. The timeline: sessions by both authors, newest first, with the size of each change.
    sessions = alice.page.locator("[data-session]")
    assert sessions.count() == 3
    assert [sessions.nth(i).get_attribute("data-author") for i in range(3)] == ["bob", "alice", "alice"]
    assert [sessions.nth(i).get_attribute("data-kind") for i in range(3)] == ["edit", "edit", "create"]
    assert "+5 \u22126" in sessions.nth(0).inner_text()
    assert "+7" in sessions.nth(1).inner_text()
    assert "Created the document" in sessions.nth(2).inner_text()
    # The newest is shown first, as the current version, and cannot be "restored".
    assert viewer_text(alice) == V3
    assert alice.page.locator("#history-heading").inner_text() == "Version 3 (current)"
    assert alice.page.locator("#history-restore").is_disabled()

    # 2. An old version, read-only.
    sessions.nth(1).locator("button").click()
    heading_is(alice, "Version 2")
    assert viewer_text(alice) == V2
    assert alice.page.locator("#history-viewer .ql-editor").get_attribute("contenteditable") == "false"
    assert sessions.nth(1).locator("button").get_attribute("aria-current") == "true"

    # 3. Compared with now: Bob's "PLUMS" added since (green underline), "apples" removed (red strike).
    alice.page.locator("[data-view=changes]").click()
    added = alice.page.locator("#history-viewer .ql-diff-added")
    removed = alice.page.locator("#history-viewer .ql-diff-removed")
    assert added.all_inner_texts() == ["PLUMS"]
    assert removed.all_inner_texts() == ["apples"]
    assert "underline" in added.first.evaluate("n => getComputedStyle(n).textDecorationLine")
    assert "line-through" in removed.first.evaluate("n => getComputedStyle(n).textDecorationLine")
    assert background(alice, ".ql-diff-added") != background(alice, ".ql-diff-removed")
    assert "+5 \u22126" in alice.page.locator("#history-legend").inner_text()
    alice.screenshot(artifacts_dir / "browser-history-changes.png")

    # 4. Who wrote what, on the current version: Bob's word in Bob's colour, the rest in Alice's.
    sessions.nth(0).locator("button").click()
    alice.page.locator("[data-view=authors]").click()
    heading_is(alice, "Version 3 (current)")
    alice.page.wait_for_selector(f"#history-viewer [data-author='{bob_user.pk}']")
    assert alice.page.locator(f"#history-viewer [data-author='{bob_user.pk}']").all_inner_texts() == ["PLUMS"]
    alice_runs = "".join(
        alice.page.locator(f"#history-viewer [data-author='{alice_user.pk}']").all_inner_texts()
    )
    assert "Shopping: " in alice_runs and ", milk, bread." in alice_runs
    bob_colour = background(alice, f"#history-viewer [data-author='{bob_user.pk}']")
    alice_colour = background(alice, f"#history-viewer [data-author='{alice_user.pk}']")
    assert bob_colour != alice_colour and "rgba(0, 0, 0, 0)" not in (bob_colour, alice_colour)
    legend = alice.page.locator("#history-legend [data-legend-author] .author-name")
    assert sorted(legend.all_inner_texts()) == ["Alice Archer", "Bob Baker"]
    # The legend's swatch is the same colour the cursors use for that person.
    swatch = alice.page.locator(f"[data-legend-author='{bob_user.pk}'] .author-swatch").evaluate(
        "n => getComputedStyle(n).getPropertyValue('--author-color').trim()"
    )
    cursor_colour = bob.page.locator(f"#presence-list [data-user-id='{bob_user.pk}']").evaluate(
        "n => n.style.getPropertyValue('--avatar-color')"
    )
    assert swatch == cursor_colour.strip()
    alice.screenshot(artifacts_dir / "browser-history-authors.png")

    # 5. Restore version 2 (after a confirmation); Bob's open editor follows live.
    sessions.nth(1).locator("button").click()
    heading_is(alice, "Version 2")
    alice.page.locator("[data-view=version]").click()
    restore = alice.page.locator("#history-restore")
    assert restore.is_enabled() and restore.inner_text() == "Restore this version"
    restore.click()
    dialog = alice.page.locator("#restore-dialog")
    assert dialog.is_visible()
    assert "Restore version 2?" in dialog.locator("h2").inner_text()
    alice.screenshot(artifacts_dir / "browser-history-restore-confirm.png")
    dialog.locator("[data-confirm]").click()

    wait_until(lambda: bob.text() == V2, message="Bob's editor to show the restored text", tab=bob)
    assert bob.unsent() == 0
    assert stored_text(document.pk) == V2
    notice = alice.page.locator("#history-notice")
    notice.wait_for(state="visible", timeout=10_000)
    assert "Restored version 2" in notice.inner_text() and "version 4" in notice.inner_text()
    # The restore is in the timeline: a new newest session by Alice, ending at version 4.
    heading_is(alice, "Version 4 (current)")
    newest = alice.page.locator("[data-session]").first
    assert newest.get_attribute("data-author") == "alice" and newest.get_attribute("data-to") == "4"
    assert alice.page.locator("[data-session]").count() == 4
    assert viewer_text(alice) == V2
    bob.screenshot(artifacts_dir / "browser-history-restored-bob.png")
    alice.screenshot(artifacts_dir / "browser-history-restored.png")

    # Bob keeps editing on top of the restored text.
    bob.place_caret_at_end_of_first_line()
    bob.page.keyboard.type(" Eggs.")
    wait_until(lambda: stored_text(document.pk) == V2[:-1] + " Eggs.\n", message="Bob's next edit", tab=bob)
    assert alice.errors == [] and bob.errors == []


def test_history_pages_older_sessions_and_viewers_cannot_restore(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice_user = make_user("alice", "Alice Archer")
    bob_user = make_user("bob", "Bob Baker")
    vera_user = make_user("vera", "Vera Viewer")
    document = db(services.create_document, owner=alice_user, title="Log", content=[{"insert": "\n"}])
    db(services.add_member, actor=alice_user, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    db(services.add_member, actor=alice_user, document_id=document.pk, identifier="vera", role=Role.VIEWER)
    # Alternate authors, so every edit is its own session: 25 edits + the create = 26 sessions.
    for i in range(25):
        edit(alice_user if i % 2 else bob_user, document, i + 1, [{"insert": f"{i}."}])

    vera = open_tab(vera_user, viewport=PHONE)
    open_history(vera, document.pk)
    sessions = vera.page.locator("[data-session]")
    assert sessions.count() == 20
    more = vera.page.locator("#history-more")
    assert more.is_visible() and more.inner_text() == "Load older"
    more.click()
    wait_until(lambda: sessions.count() == 26, message="the older page", tab=vera)
    assert more.is_hidden()
    assert sessions.last.get_attribute("data-kind") == "create"
    versions = [int(sessions.nth(i).get_attribute("data-to") or 0) for i in range(26)]
    assert versions == list(range(26, 0, -1))
    # A viewer can look at any version but has no restore button.
    sessions.nth(25).locator("button").click()
    heading_is(vera, "Version 1")
    assert vera.page.locator("#history-restore").count() == 0
    vera.screenshot(artifacts_dir / "browser-history-phone.png", full_page=True)
    assert vera.errors == []


def test_history_page_of_a_document_you_cannot_see_is_not_found(make_user: Any, open_tab: Any) -> None:
    alice_user = make_user("alice")
    mallory_user = make_user("mallory")
    document = db(services.create_document, owner=alice_user, title="Private")
    mallory = open_tab(mallory_user)
    response = mallory.goto(f"/d/{document.pk}/history/")
    assert response.status == 404
    assert "Document not found" in mallory.page.content()


def test_download_menu_exports_the_document(
    pair: dict[str, Any], open_tab: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    document = pair["document"]
    db(
        services.replace_content,
        user=pair["alice"],
        document_id=document.pk,
        content=[
            {"insert": "Plan"},
            {"insert": "\n", "attributes": {"header": 1}},
            {"insert": "Buy "},
            {"insert": "fresh", "attributes": {"bold": True}},
            {"insert": " bread\n"},
        ],
    )
    alice = open_tab(pair["alice"], viewport=PHONE)
    alice.open_editor(document.pk)
    menu = alice.page.locator("#export-menu")
    expected = {
        "md": "# Plan\n\nBuy **fresh** bread",
        "html": "<h1>Plan</h1>",
        "txt": "Plan\nBuy fresh bread\n",
    }
    for fmt, text in expected.items():
        menu.locator("summary").click()
        with alice.page.expect_download() as info:
            menu.locator(f"[data-export={fmt}]").click()
        download = info.value
        assert download.suggested_filename == f"Groceries.{fmt}"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        body = path.read_text(encoding="utf-8")
        assert text in body, body
        assert not menu.evaluate("m => m.open")  # choosing closes the menu
    menu.locator("summary").click()
    alice.screenshot(artifacts_dir / "browser-download-menu-phone.png")
    alice.page.keyboard.press("Escape")
    assert not menu.evaluate("m => m.open")
    assert alice.errors == []


def test_import_markdown_from_the_list_opens_the_new_document(
    make_user: Any, open_tab: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    alice_user = make_user("alice", "Alice Archer")
    source = tmp_path / "Meeting notes.md"
    source.write_text("# Agenda\n\nWe agreed on **three** things:\n\n- budget\n- dates\n", encoding="utf-8")
    alice = open_tab(alice_user)
    alice.goto("/")
    alice.page.locator("#import-file").set_input_files(str(source))
    alice.page.wait_for_url(re.compile(r"/d/[0-9a-f-]{36}/$"), timeout=15_000)
    alice.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    # The title is the file's first heading, as a person expects, not its name.
    assert alice.page.locator("#doc-title").input_value() == "Agenda"
    assert alice.page.locator(".ql-editor h1").inner_text() == "Agenda"
    assert alice.page.locator(".ql-editor strong").inner_text() == "three"
    assert alice.page.locator(".ql-editor li").all_inner_texts() == ["budget", "dates"]
    alice.screenshot(artifacts_dir / "browser-imported.png")

    # A file the server refuses says why, on the list page.
    bad = tmp_path / "picture.png"
    bad.write_bytes(b"\x89PNG\r\n")
    alice.goto("/")
    alice.page.locator("#import-file").set_input_files(str(bad))
    error = alice.page.locator("#import-error")
    error.wait_for(state="visible", timeout=10_000)
    assert error.inner_text()
    assert alice.page.url.endswith("/")


def test_edits_the_server_can_no_longer_take_are_shown_for_copying(
    pair: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    document = pair["document"]
    alice, bob = open_tab(pair["alice"]), open_tab(pair["bob"])
    alice.open_editor(document.pk)
    bob.open_editor(document.pk)

    # Alice goes offline with unsent edits; meanwhile Bob edits, and the server compacts its op
    # log past the version Alice holds, so her ops can be neither transformed nor caught up.
    alice.context.set_offline(True)
    alice.page.locator("#connection-status[data-phase='offline']").wait_for(timeout=5_000)
    alice.page.locator(".ql-editor p").first.click()
    alice.page.keyboard.press("End")
    alice.page.keyboard.type(" Also cheese.")
    alice.page.keyboard.press("Enter")
    alice.page.keyboard.type("Call mum")
    wait_until(lambda: alice.unsent() > 0, message="unsent edits", tab=alice)
    bob.page.locator(".ql-editor p").first.click()
    bob.page.keyboard.press("Home")
    bob.page.keyboard.type("BOB: ")
    server_text = "BOB: " + V1
    wait_until(
        lambda: stored_text(document.pk) == server_text and bob.unsent() == 0, message="Bob's edit", tab=bob
    )
    cutoff = timezone.now() + timedelta(days=1)  # everything is older: all ops go
    removed = db(services.compact_document, document_id=document.pk, cutoff=cutoff)
    assert removed >= 2

    # The page loads the document afresh and lists what could not be applied.
    with alice.page.expect_navigation(timeout=20_000):
        alice.context.set_offline(False)
    panel = alice.page.locator("#lost-edits")
    panel.wait_for(state="visible", timeout=20_000)
    alice.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    lost = alice.page.locator("#lost-edits-text").input_value()
    assert "Also cheese." in lost and "Call mum" in lost, lost
    assert "could not be saved" in panel.inner_text()
    assert "typed characters" in panel.locator("[data-lost-summary]").inner_text()
    wait_until(lambda: alice.text() == server_text, message="the server's text in Alice's editor", tab=alice)
    assert stored_text(document.pk) == server_text
    assert alice.page.locator("#connection-status").inner_text() == "All changes saved"
    alice.screenshot(artifacts_dir / "browser-lost-edits.png")

    # Alice is live again: her next edit reaches Bob.
    alice.place_caret_at_end_of_first_line()
    alice.page.keyboard.type(" Also cheese.")
    retyped = "BOB: Shopping: apples, milk. Also cheese.\n"
    wait_until(lambda: bob.text() == retyped, message="Alice's retyped edit", tab=bob)
    # Dismissing the panel hides it; it does not come back on the next load.
    panel.locator("[data-lost-dismiss]").click()
    assert panel.is_hidden()
    alice.open_editor(document.pk)
    assert alice.page.locator("#lost-edits").is_hidden()
    assert alice.page.locator("#editor-notice").is_hidden()
    assert alice.errors == [] and bob.errors == []
