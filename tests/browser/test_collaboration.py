"""Two people in one document, in real browsers against a real daphne: text, cursors, viewers."""

from pathlib import Path
from typing import Any

import pytest

from documents import selectors, services
from documents.models import Document, Role

from .conftest import db, plain_text, wait_converged, wait_until

pytestmark = pytest.mark.browser

INITIAL = [{"insert": "Shared paragraph: \n"}]


def _stored_content(document_id: Any) -> list[dict[str, Any]]:
    document = Document.objects.get(pk=document_id)
    return list(selectors.snapshot_at(document=document).content or [])


def stored_content(document_id: Any) -> list[dict[str, Any]]:
    """The document as the database has it now (its latest snapshot plus later ops)."""
    return list(db(_stored_content, document_id))


@pytest.fixture
def shared_doc(make_user: Any) -> dict[str, Any]:
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob Baker")
    document = db(services.create_document, owner=alice, title="Pair writing", content=INITIAL)
    db(services.add_member, actor=alice, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    return {"alice": alice, "bob": bob, "document": document}


def test_concurrent_typing_in_one_paragraph_converges(
    shared_doc: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    alice = open_tab(shared_doc["alice"])
    bob = open_tab(shared_doc["bob"])
    doc_id = shared_doc["document"].pk
    alice.open_editor(doc_id)
    bob.open_editor(doc_id)
    alice.place_caret_at_end_of_first_line()
    bob.place_caret_at_end_of_first_line()

    # Alternate keystroke bursts without waiting for the network, so both have ops in flight at
    # once at the same spot. Alice types lowercase and dots, Bob capitals and dashes, so each
    # person's characters can be picked out of the merged text.
    a_words = ["apple.", "avocado.", "apricot.", "almond."]
    b_words = ["BANANA-", "BERRY-", "BASIL-", "BEAN-"]
    for a_word, b_word in zip(a_words, b_words, strict=True):
        alice.page.keyboard.type(a_word)
        bob.page.keyboard.type(b_word)

    text = wait_converged(alice, bob)
    prefix = "Shared paragraph: "
    assert text.startswith(prefix) and text.endswith("\n"), text
    merged = text[len(prefix) : -1]
    # Every keystroke landed exactly once, in its author's order, in the same paragraph.
    assert "".join(c for c in merged if c.islower() or c == ".") == "".join(a_words), merged
    assert "".join(c for c in merged if c.isupper() or c == "-") == "".join(b_words), merged
    assert len(merged) == len("".join(a_words + b_words))
    assert text.count("\n") == 1

    # The database holds exactly what both editors show, formats and all.
    wait_until(lambda: plain_text(stored_content(doc_id)) == text, message="the database", tab=alice)
    assert stored_content(doc_id) == alice.contents() == bob.contents()

    # Undo takes back only Alice's own typing, never Bob's.
    alice.page.keyboard.press("Control+z")
    undone = wait_converged(alice, bob)
    undone_merged = undone[len(prefix) : -1]
    alice_left = "".join(c for c in undone_merged if c.islower() or c == ".")
    assert len(alice_left) < len("".join(a_words)) and "".join(a_words).startswith(alice_left), undone
    assert "".join(c for c in undone_merged if c.isupper() or c == "-") == "".join(b_words), undone
    wait_until(
        lambda: plain_text(stored_content(doc_id)) == undone, message="the database after undo", tab=alice
    )

    alice.screenshot(artifacts_dir / "browser-concurrent-alice.png")
    bob.screenshot(artifacts_dir / "browser-concurrent-bob.png")
    assert alice.errors == [] and bob.errors == []


def test_each_sees_the_others_named_caret(
    shared_doc: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    alice = open_tab(shared_doc["alice"])
    bob = open_tab(shared_doc["bob"])
    doc_id = shared_doc["document"].pk
    alice.open_editor(doc_id)
    bob.open_editor(doc_id)
    alice.place_caret_at_end_of_first_line()
    alice.page.keyboard.type("hi from Alice")
    bob.page.locator(".ql-editor p").first.click()
    bob.page.keyboard.press("Home")

    alice_sees = alice.page.locator(
        ".ql-cursor", has=alice.page.locator(".ql-cursor-name", has_text="Bob Baker")
    )
    bob_sees = bob.page.locator(
        ".ql-cursor", has=bob.page.locator(".ql-cursor-name", has_text="Alice Archer")
    )
    alice_sees.locator(".ql-cursor-caret").wait_for(state="attached", timeout=10_000)
    bob_sees.locator(".ql-cursor-caret").wait_for(state="attached", timeout=10_000)

    # Bob's caret sits at the start of the line; Alice's after her text.
    wait_until(
        lambda: bob.page.evaluate(
            "(() => { const c = window.collab.cursors.cursors()[0]; return c && c.range && c.range.index; })()"
        )
        == len("Shared paragraph: hi from Alice"),
        message="Alice's caret at the end of her text, as Bob sees it",
        tab=bob,
    )
    wait_until(
        lambda: alice.page.evaluate(
            "(() => { const c = window.collab.cursors.cursors()[0]; return c ? c.range.index : null; })()"
        )
        == 0,
        message="Bob's caret at the start, as Alice sees it",
        tab=alice,
    )
    # Same colour for the same person on both sides, and both appear in the who-is-here list.
    bob_colour = alice.page.evaluate("window.collab.cursors.cursors()[0].color")
    assert alice.page.locator(f"#presence-list li[data-user-id='{shared_doc['bob'].pk}']").count() == 1
    assert bob.page.locator(f"#presence-list li[data-user-id='{shared_doc['alice'].pk}']").count() == 1
    bob_self_colour = bob.page.evaluate(
        f"getComputedStyle(document.querySelector(\"#presence-list li[data-user-id='{shared_doc['bob'].pk}']\")).getPropertyValue('--avatar-color').trim()"
    )
    assert bob_colour == bob_self_colour

    # The document list says who has it open right now.
    listing = open_tab(shared_doc["alice"])
    listing.goto("/")
    assert "Bob Baker" in listing.page.locator("[data-editing-now]").inner_text()
    listing.screenshot(artifacts_dir / "browser-list-open-now.png")

    # Flags show the name while the caret moves.
    bob.page.keyboard.type("Bob was here ")
    alice_sees.locator(".ql-cursor-flag").wait_for(state="visible", timeout=10_000)
    alice.screenshot(artifacts_dir / "browser-carets-alice.png")
    bob.screenshot(artifacts_dir / "browser-carets-bob.png")

    # Bob leaves: his caret and avatar disappear from Alice's page within seconds.
    bob.context.close()
    alice_sees.wait_for(state="detached", timeout=10_000)
    alice.page.locator(f"#presence-list li[data-user-id='{shared_doc['bob'].pk}']").wait_for(
        state="detached", timeout=10_000
    )
    assert alice.errors == []


def test_viewer_cannot_type_and_the_server_refuses_anyway(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    carol = make_user("carol", "Carol Clark")
    document = db(
        services.create_document, owner=alice, title="Read me", content=[{"insert": "Look, do not touch.\n"}]
    )
    db(
        services.add_member,
        actor=alice,
        document_id=document.pk,
        identifier="carol@example.com",
        role=Role.VIEWER,
    )

    owner = open_tab(alice)
    viewer = open_tab(carol)
    owner.open_editor(document.pk)
    viewer.open_editor(document.pk)

    editor = viewer.page.locator(".ql-editor")
    assert editor.get_attribute("contenteditable") == "false"
    assert viewer.page.locator(".ql-toolbar").is_hidden()
    assert viewer.page.locator("#role-badge").inner_text() == "View only"
    assert viewer.page.locator("#doc-title").get_attribute("readonly") is not None
    editor.click()
    viewer.page.keyboard.type("sneaky")
    viewer.page.keyboard.press("Enter")
    assert viewer.text() == "Look, do not touch.\n"

    # Live updates still reach the viewer.
    owner.place_caret_at_end_of_first_line()
    owner.page.keyboard.type(" Please.")
    wait_until(
        lambda: viewer.text() == "Look, do not touch. Please.\n",
        message="the viewer to see the edit",
        tab=viewer,
    )

    # Bypass the UI: an op submitted straight through the sharedb Doc is rejected by the server,
    # the client rolls back, and the page says so.
    viewer.page.evaluate("window.collab.doc.submitOp([{insert: 'HACKED '}])")
    viewer.page.locator("#editor-notice", has_text="not accepted").wait_for(timeout=10_000)
    wait_until(lambda: viewer.text() == "Look, do not touch. Please.\n", message="the rollback", tab=viewer)
    assert plain_text(stored_content(document.pk)) == "Look, do not touch. Please.\n"
    assert owner.text() == "Look, do not touch. Please.\n"
    viewer.screenshot(artifacts_dir / "browser-viewer.png")
    assert owner.errors == []
