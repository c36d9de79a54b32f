"""What a new user hit on the editor page (issue #13): a keyboard trap, content styled as UI,
a clipped link tooltip, a collaborator's name box eating clicks, and printing the whole app."""

from pathlib import Path
from typing import Any

import pytest

from documents import services
from documents.models import Role

from .conftest import db, wait_until

pytestmark = pytest.mark.browser


def focus_info(tab: Any) -> dict[str, Any]:
    return dict(
        tab.page.evaluate(
            """(() => {
                const node = document.activeElement;
                return {id: node.id, inText: !!node.closest('.ql-editor'), tag: node.tagName};
            })()"""
        )
    )


def test_a_keyboard_user_can_leave_the_named_text(make_user: Any, open_tab: Any, artifacts_dir: Path) -> None:
    ada = make_user("ada", "Ada Lovelace")
    document = db(services.create_document, owner=ada, title="Keys", content=[{"insert": "Hello\n"}])
    tab = open_tab(ada)
    tab.open_editor(document.pk)

    # The editable text is a named multi-line text box, and says how to leave it.
    text_box = tab.page.get_by_role("textbox", name="Document text")
    assert text_box.count() == 1
    assert text_box.get_attribute("aria-multiline") == "true"
    assert "Esc" in tab.page.locator("#" + str(text_box.get_attribute("aria-describedby"))).inner_text()

    tab.place_caret_at_end_of_first_line()
    tab.page.keyboard.press("Tab")  # Tab still indents inside the text...
    wait_until(lambda: tab.text() == "Hello\t\n", message="the tab character", tab=tab)
    assert focus_info(tab)["inText"]
    tab.page.keyboard.press("Escape")  # ...and Esc leaves it.
    assert focus_info(tab) == {"id": "editor-keys", "inText": False, "tag": "P"}
    tab.screenshot(artifacts_dir / "browser-editor-left-with-esc.png")
    tab.page.keyboard.press("Tab")
    assert not focus_info(tab)["inText"]
    tab.page.keyboard.press("Shift+Tab")
    assert focus_info(tab)["inText"], "Shift+Tab comes back to the text"
    assert tab.text() == "Hello\t\n"
    assert tab.errors == []


def test_a_heading_3_looks_like_a_heading_not_a_label(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    ada = make_user("ada", "Ada Lovelace")
    content = [
        {"insert": "Third level"},
        {"insert": "\n", "attributes": {"header": 3}},
        {"insert": "Body text\n"},
    ]
    document = db(services.create_document, owner=ada, title="Styles", content=content)
    tab = open_tab(ada)
    tab.open_editor(document.pk)

    heading = tab.page.evaluate(
        """(() => {
            const s = getComputedStyle(document.querySelector('.ql-editor h3'));
            const p = getComputedStyle(document.querySelector('.ql-editor p'));
            return {transform: s.textTransform, color: s.color, text: p.color,
                    size: parseFloat(s.fontSize), body: parseFloat(p.fontSize)};
        })()"""
    )
    assert heading["transform"] == "none"
    assert heading["color"] == heading["text"]
    assert heading["size"] > heading["body"]
    tab.screenshot(artifacts_dir / "browser-editor-heading-3.png")


def test_a_link_tooltip_at_the_left_edge_shows_whole(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    ada = make_user("ada", "Ada Lovelace")
    content = [
        {"insert": "site", "attributes": {"link": "https://example.com/a/rather/long/path/to/a/page"}},
        {"insert": " at the very left edge\n"},
    ]
    document = db(services.create_document, owner=ada, title="Links", content=content)
    tab = open_tab(ada)
    tab.open_editor(document.pk)
    tab.page.locator(".ql-editor a").click()
    tooltip = tab.page.locator(".ql-tooltip:not(.ql-hidden)")
    tooltip.wait_for(timeout=5_000)
    box = tooltip.bounding_box()
    editor = tab.page.locator("#editor").bounding_box()
    assert box is not None and editor is not None
    assert box["x"] >= editor["x"] - 0.5, (box, editor)
    assert box["x"] + box["width"] <= editor["x"] + editor["width"] + 0.5
    tab.screenshot(artifacts_dir / "browser-editor-link-tooltip.png")


def test_a_collaborators_name_box_does_not_take_clicks(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    ada, bob = make_user("ada", "Ada Lovelace"), make_user("bob", "Bob Baker")
    document = db(
        services.create_document,
        owner=ada,
        title="Cursors",
        content=[{"insert": "First line of text\nSecond line of text that is long enough\n"}],
    )
    db(services.add_member, actor=ada, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    ada_tab, bob_tab = open_tab(ada), open_tab(bob)
    ada_tab.open_editor(document.pk)
    bob_tab.open_editor(document.pk)
    # Bob's caret at the start of the second line: his name box covers the first line above it.
    bob_tab.page.locator(".ql-editor p").nth(1).click()
    bob_tab.page.keyboard.press("Home")
    flag = ada_tab.page.locator(".ql-cursor-flag")
    flag.wait_for(state="visible", timeout=10_000)
    # The flag may first show where Bob's click put his caret: wait for it to come to rest at the
    # start of his line (after Home), at the text's left edge.
    left = ada_tab.page.locator(".ql-editor p").first.bounding_box()
    assert left is not None

    def at_rest() -> Any:
        first = flag.bounding_box()
        ada_tab.page.wait_for_timeout(100)
        if first and first == flag.bounding_box() and first["x"] < left["x"] + 40:
            return first
        return None

    box = wait_until(at_rest, message="Bob's flag at the start of his line", tab=ada_tab)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    ada_tab.screenshot(artifacts_dir / "browser-editor-remote-flag.png")
    under = ada_tab.page.evaluate(
        "([x, y]) => !!document.elementFromPoint(x, y).closest('.ql-editor')", [x, y]
    )
    assert under, "the point under the name box belongs to the text"
    ada_tab.page.mouse.click(x, y)
    selection = ada_tab.page.evaluate("window.collab.quill.getSelection()")
    assert selection is not None and selection["index"] < len("First line of text"), selection


def test_printing_prints_only_the_document(make_user: Any, open_tab: Any, artifacts_dir: Path) -> None:
    ada, bob = make_user("ada", "Ada Lovelace"), make_user("bob", "Bob Baker")
    document = db(
        services.create_document, owner=ada, title="Printable", content=[{"insert": "Only this text\n"}]
    )
    db(services.add_member, actor=ada, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    ada_tab, bob_tab = open_tab(ada), open_tab(bob)
    ada_tab.open_editor(document.pk)
    bob_tab.open_editor(document.pk)
    bob_tab.place_caret_at_end_of_first_line()
    ada_tab.page.locator(".ql-cursor").wait_for(state="attached", timeout=10_000)

    page = ada_tab.page
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    hidden = page.evaluate(
        """(() => ['.site-header', '.doc-header', '.ql-toolbar', '.ql-cursors', '.editor-keys', '#review-panel']
            .filter((s) => document.querySelector(s))
            .map((s) => [s, getComputedStyle(document.querySelector(s)).display]))()"""
    )
    assert hidden and all(display == "none" for _, display in hidden), hidden
    assert page.locator(".ql-editor").is_visible()
    assert page.locator("#print-title").inner_text() == "Printable"
    assert page.locator("#print-title").is_visible()
    page.screenshot(path=str(artifacts_dir / "browser-editor-print.png"), full_page=True)
    pdf = page.pdf()
    (artifacts_dir / "browser-editor-print.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    assert page.locator(".doc-header").is_visible()
    assert not page.locator("#print-title").is_visible()
