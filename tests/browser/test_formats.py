"""Formatting, Markdown shortcuts, undo/redo, find and replace, counts and the outline, used as a
person would in Chromium; a second browser sees every result, and the database holds it."""

from pathlib import Path
from typing import Any

import pytest

from documents import selectors, services
from documents.models import Document, Role

from .conftest import db, wait_converged, wait_until

pytestmark = pytest.mark.browser


def _stored(document_id: Any) -> list[dict[str, Any]]:
    return list(selectors.snapshot_at(document=Document.objects.get(pk=document_id)).content or [])


def stored(document_id: Any) -> list[dict[str, Any]]:
    return list(db(_stored, document_id))


@pytest.fixture
def pair(make_user: Any) -> Any:
    def make(content: list[dict[str, Any]], bob_role: str = Role.EDITOR) -> dict[str, Any]:
        alice = make_user("alice", "Alice Archer")
        bob = make_user("bob", "Bob Baker")
        document = db(services.create_document, owner=alice, title="Formats", content=content)
        db(services.add_member, actor=alice, document_id=document.pk, identifier="bob", role=bob_role)
        return {"alice": alice, "bob": bob, "document": document}

    return make


def lines(tab: Any) -> list[tuple[str, dict[str, Any]]]:
    """The editor's lines as (text, line formats), an embed shown as [divider]."""
    return [
        (text, formats)
        for text, formats in tab.page.evaluate(
            """() => window.collab.quill.getLines().map((line) => [
                 window.collab.quill.getContents(window.collab.quill.getIndex(line), line.length() - 1).ops
                   .map((op) => typeof op.insert === 'string' ? op.insert : '[' + Object.keys(op.insert)[0] + ']').join(''),
                 line.formats()])"""
        )
    ]


def pick(tab: Any, picker: str, value: str) -> None:
    tab.page.locator(f".ql-toolbar .ql-{picker} .ql-picker-label").click()
    tab.page.locator(f'.ql-toolbar .ql-{picker} .ql-picker-item[data-value="{value}"]').click()


def test_formats_and_shortcuts_reach_the_other_editor(pair: Any, open_tab: Any, artifacts_dir: Path) -> None:
    shared = pair([{"insert": "\n"}])
    doc_id = shared["document"].pk
    alice, bob = open_tab(shared["alice"]), open_tab(shared["bob"])
    alice.open_editor(doc_id)
    bob.open_editor(doc_id)
    page = alice.page
    page.locator(".ql-editor").click()
    keys = page.keyboard

    # Markdown shortcuts, typed.
    keys.type("# Plan")
    keys.press("Enter")
    keys.type("- one")
    keys.press("Enter")
    keys.type("nested")
    page.locator('.ql-toolbar button.ql-indent[value="+1"]').click()
    keys.press("Enter")
    keys.press("Enter")  # leaves the list... one level up
    keys.press("Enter")  # ...and out of it
    keys.type("[] task")
    keys.press("Enter")
    keys.press("Enter")
    keys.type("1. first")
    keys.press("Enter")
    keys.press("Enter")
    keys.type("> quoted")
    keys.press("Enter")
    keys.press("Enter")
    keys.type("Say **bold** and `code` and *it*.")
    keys.press("Enter")
    keys.type("---")
    keys.press("Enter")
    keys.type("Centred colour")
    keys.press("Shift+Home")
    pick(alice, "color", "#c92a2a")
    pick(alice, "background", "#fff3bf")
    page.wait_for_timeout(600)  # Quill's history joins changes made within half a second
    pick(alice, "align", "center")
    keys.press("End")

    wait_converged(alice, bob)
    expected = [
        ("Plan", {"header": 1}),
        ("one", {"list": "bullet"}),
        ("nested", {"list": "bullet", "indent": 1}),
        ("task", {"list": "unchecked"}),
        ("first", {"list": "ordered"}),
        ("quoted", {"blockquote": True}),
        ("Say bold and code and it.", {}),
        ("[divider]", {}),
        ("Centred colour", {"align": "center"}),
    ]
    got = lines(alice)
    assert [line for line in got if line != ("", {})] == expected, got
    assert lines(bob) == got
    content = alice.contents()
    assert {"insert": "bold", "attributes": {"bold": True}} in content
    assert {"insert": "code", "attributes": {"code": True}} in content
    assert {"insert": "it", "attributes": {"italic": True}} in content
    assert {
        "insert": "Centred colour",
        "attributes": {"color": "#c92a2a", "background": "#fff3bf"},
    } in content
    wait_until(lambda: stored(doc_id) == content, message="the database", tab=alice)
    assert bob.contents() == content
    # Bob's page renders them: a heading, a nested item, a rule, the colours, the alignment.
    for selector in [
        "h1",
        "li.ql-indent-1",
        'li[data-list="unchecked"]',
        "hr",
        "blockquote",
        "code",
        'span[style*="color: rgb(201, 42, 42)"]',
        ".ql-align-center",
    ]:
        assert bob.page.locator(f".ql-editor {selector}").count() == 1, selector
    alice.screenshot(artifacts_dir / "formats-alice.png")
    bob.screenshot(artifacts_dir / "formats-bob.png")

    # Undo and redo buttons, and Ctrl+Y: the alignment goes and comes back, for Bob too.
    page.locator(".ql-toolbar button.ql-undo").click()
    wait_until(lambda: lines(bob)[-1] == ("Centred colour", {}), message="undo at Bob", tab=bob)
    page.locator(".ql-toolbar button.ql-redo").click()
    wait_until(lambda: lines(bob)[-1] == ("Centred colour", {"align": "center"}), message="redo", tab=bob)
    page.locator(".ql-editor").click()
    keys.press("Control+z")
    wait_until(lambda: lines(bob)[-1] == ("Centred colour", {}), message="Ctrl+Z at Bob", tab=bob)
    keys.press("Control+y")
    wait_until(lambda: lines(bob)[-1] == ("Centred colour", {"align": "center"}), message="Ctrl+Y", tab=bob)
    # Undo right after a shortcut gives back what was typed.
    keys.press("Control+End")
    keys.press("Enter")
    keys.type("## ")
    wait_until(
        lambda: lines(alice)[-1] == ("", {"header": 2, "align": "center"}), message="the shortcut", tab=alice
    )
    keys.press("Control+z")
    wait_until(lambda: lines(bob)[-1] == ("## ", {"align": "center"}), message="the marker back", tab=bob)

    # Bob ticks the checklist item; Alice sees it ticked.
    box = bob.page.locator('.ql-editor li[data-list="unchecked"]')
    box.click(position={"x": 4, "y": 10})
    wait_until(lambda: ("task", {"list": "checked"}) in lines(alice), message="the tick at Alice", tab=alice)
    wait_converged(alice, bob)
    assert alice.errors == [] and bob.errors == []


def test_server_refuses_a_colour_off_the_palette(pair: Any, open_tab: Any) -> None:
    """A page that sends what the toolbar never offers is refused, and nothing is stored."""
    shared = pair([{"insert": "text\n"}])
    doc_id = shared["document"].pk
    alice = open_tab(shared["alice"])
    alice.open_editor(doc_id)
    error = alice.page.evaluate(
        """() => new Promise((resolve) => window.collab.doc.submitOp(
             [{ retain: 4, attributes: { color: '#123456' } }], { source: 'test' }, (err) => resolve(err && err.message)))"""
    )
    assert error and "color" in error
    wait_until(lambda: alice.contents() == [{"insert": "text\n"}], message="the rollback", tab=alice)
    assert stored(doc_id) == [{"insert": "text\n"}]


PARAGRAPHS = [
    {"insert": "Cats"},
    {"insert": "\n", "attributes": {"header": 1}},
    {"insert": "A cat sat. Another CAT ran.\n" * 40},
    {"insert": "Care"},
    {"insert": "\n", "attributes": {"header": 2}},
    {"insert": "The cat", "attributes": {"bold": True}},
    {"insert": " slept; concatenate.\n"},
]


def test_find_replace_counts_and_outline(pair: Any, open_tab: Any, artifacts_dir: Path) -> None:
    shared = pair(PARAGRAPHS)
    doc_id = shared["document"].pk
    alice, bob = open_tab(shared["alice"]), open_tab(shared["bob"])
    alice.open_editor(doc_id)
    bob.open_editor(doc_id)
    page = alice.page

    counts = page.locator("#doc-counts")
    wait_until(
        lambda: counts.get_attribute("data-words") == str(1 + 40 * 6 + 1 + 4), message="word count", tab=alice
    )
    assert counts.inner_text() == "246 words · 1,115 characters"  # newlines not counted

    # Ctrl+F: every "cat" (not "concatenate" with whole words), stepping with Enter and Shift+Enter.
    page.locator(".ql-editor").click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("Control+f")
    find = page.locator("[data-find='query']")
    assert find.evaluate("node => node === document.activeElement")
    find.fill("cat")
    status = page.locator("[data-find='count']")
    wait_until(lambda: status.inner_text() == "1 of 83", message="the matches", tab=alice)
    page.locator("[data-find='word']").check()
    wait_until(lambda: status.inner_text() == "1 of 81", message="whole words", tab=alice)
    find.press("Enter")
    assert status.inner_text() == "2 of 81"
    find.press("Shift+Enter")
    find.press("Shift+Enter")
    assert status.inner_text() == "81 of 81"
    assert page.locator(".find-match.find-current").count() == 1
    alice.screenshot(artifacts_dir / "find-current-match.png")

    # Replace one, then all: Bob sees them; one undo takes back the whole "Replace all".
    page.locator("[data-find='replacement']").fill("dog")
    page.locator("[data-find='replace']").click()
    wait_until(lambda: "The dog slept" in bob.text(), message="one replaced", tab=bob)
    assert status.inner_text() == "1 of 80"
    page.locator("[data-find='replace-all']").click()
    text = wait_converged(alice, bob)
    assert status.inner_text() == "Replaced 80"
    assert text.lower().count("cat") == 2 and text.count("dog") == 81  # "Cats", "concatenate" stay
    assert {"insert": "The dog", "attributes": {"bold": True}} in bob.contents()
    alice.screenshot(artifacts_dir / "find-replaced-all.png")
    assert page.locator("[data-find='query']").evaluate("node => node === document.activeElement")
    page.keyboard.press("Escape")
    assert page.locator("#find-bar").is_hidden()
    page.keyboard.press("Control+z")
    undone = wait_converged(alice, bob)
    assert undone.count("dog") == 1, "one undo takes back every replacement of Replace all"

    # The outline lists the headings; a click puts the caret at one and scrolls it into view.
    page.locator("[data-action='outline']").click()
    items = page.locator("#outline-panel .outline-item button")
    wait_until(lambda: items.all_inner_texts() == ["Cats", "Care"], message="the outline", tab=alice)
    page.evaluate("window.scrollTo(0, 0)")
    care = page.locator(".ql-editor h2")
    assert care.bounding_box()["y"] > 860, "the heading starts out of view"
    items.nth(1).click()
    wait_until(lambda: 0 <= care.bounding_box()["y"] < 800, message="the heading in view", tab=alice)
    index = page.evaluate("window.collab.quill.getSelection().index")
    assert page.evaluate(f"window.collab.quill.getText({index}, 4)") == "Care"
    alice.screenshot(artifacts_dir / "outline-panel.png")
    # A heading Bob adds appears in Alice's outline.
    bob.page.locator(".ql-editor").click()
    bob.page.keyboard.press("Control+End")
    bob.page.keyboard.press("Enter")
    bob.page.keyboard.type("## Cat naps")
    wait_until(
        lambda: items.all_inner_texts() == ["Cats", "Care", "Cat naps"], message="Bob's heading", tab=alice
    )
    assert alice.errors == [] and bob.errors == []


def test_a_viewer_can_find_but_not_replace(pair: Any, open_tab: Any) -> None:
    shared = pair(PARAGRAPHS, bob_role=Role.VIEWER)
    bob = open_tab(shared["bob"])
    bob.open_editor(shared["document"].pk)
    bob.page.locator(".ql-editor").click()
    bob.page.keyboard.press("Control+f")
    bob.page.locator("[data-find='query']").fill("cat")
    wait_until(
        lambda: bob.page.locator("[data-find='count']").inner_text() == "1 of 83", message="matches", tab=bob
    )
    assert bob.page.locator("[data-find='replace-all']").is_hidden()


def test_paste_keeps_schema_formats_and_the_rule_button(
    pair: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    """Pasted colours off the palette and unsafe links are dropped before they are sent; palette
    colours, alignment and <hr> come in; the toolbar's rule goes on a line of its own."""
    shared = pair([{"insert": "\n"}])
    doc_id = shared["document"].pk
    alice, bob = open_tab(shared["alice"]), open_tab(shared["bob"])
    alice.open_editor(doc_id)
    bob.open_editor(doc_id)
    alice.page.locator(".ql-editor").click()
    alice.page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.setData('text/html', '<p><span style="color: rgb(201, 42, 42)">palette</span> '
            + '<span style="color: #123456; background-color: #00ff00">off</span> '
            + '<a href="javascript:alert(1)">bad link</a></p><hr><p style="text-align: right">right</p>');
          data.setData('text/plain', 'palette off bad link right');
          window.collab.quill.root.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        }"""
    )
    wait_converged(alice, bob)
    content = bob.contents()
    assert {"insert": "palette", "attributes": {"color": "#c92a2a"}} in content, content
    assert all(
        "off" not in op["insert"] or "attributes" not in op for op in content if isinstance(op["insert"], str)
    )
    assert all("link" not in (op.get("attributes") or {}) for op in content)
    assert {"insert": {"divider": True}} in content
    assert ("right", {"align": "right"}) in lines(bob)
    # The rule button, with the caret inside a word: the text is split around a rule of its own.
    alice.page.locator(".ql-editor p").first.click()
    alice.page.keyboard.press("Home")
    alice.page.keyboard.press("ArrowRight")
    alice.page.locator(".ql-toolbar button.ql-divider").click()
    wait_until(
        lambda: lines(bob)[:3] == [("p", {}), ("[divider]", {}), ("alette off bad link", {})],
        message="the rule",
        tab=bob,
    )
    wait_converged(alice, bob)
    # While suggesting, a marker stays as typed (a suggestion cannot format).
    alice.page.locator("#suggest-mode").check()
    alice.page.locator(".ql-editor").click()
    alice.page.keyboard.press("Control+End")
    alice.page.keyboard.press("Enter")
    alice.page.keyboard.type("# idea")
    wait_until(lambda: lines(bob)[-1][0] == "# idea", message="the suggestion", tab=bob)
    assert "header" not in lines(bob)[-1][1]
    alice.page.locator("#suggest-mode").uncheck()
    # Bob's counter follows Alice's edits (the rule counts as nothing).
    counts = bob.page.locator("#doc-counts")
    wait_until(lambda: counts.inner_text() == "7 words · 31 characters", message="Bob's counts", tab=bob)
    # Bold around several paragraphs (as word processors copy it): the text keeps its bold, the
    # newlines carry none (the server refuses a text format on a newline), and it all lands.
    alice.page.locator(".ql-editor").click()
    alice.page.keyboard.press("Control+End")
    alice.page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.setData('text/html', '<b><p>one</p><p>two</p><div>three<br>four</div></b>');
          data.setData('text/plain', 'one two three four');
          window.collab.quill.root.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        }"""
    )
    wait_until(lambda: "four" in bob.text(), message="the bold paste", tab=bob)
    wait_converged(alice, bob)
    assert (
        alice.unsent() == 0 and alice.page.locator("#connection-status").inner_text() == "All changes saved"
    )
    for op in bob.contents():
        if isinstance(op["insert"], str) and "\n" in op["insert"]:
            assert "bold" not in (op.get("attributes") or {}), op
    assert {"insert": "four", "attributes": {"bold": True}} in bob.contents()
    assert alice.errors == [] and bob.errors == []
    bob.screenshot(artifacts_dir / "formats-paste-and-rule.png")
