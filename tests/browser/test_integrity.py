"""The editor opens everything the content schema allows, and contains a change it cannot show."""

from pathlib import Path
from typing import Any

from documents import selectors, services
from documents.models import Document, Operation

from .conftest import db, plain_text, wait_until

EVERY_FORMAT = [
    {"insert": "Heading one"},
    {"insert": "\n", "attributes": {"header": 1}},
    {"insert": "Heading two"},
    {"insert": "\n", "attributes": {"header": 2}},
    {"insert": "Heading three"},
    {"insert": "\n", "attributes": {"header": 3}},
    {"insert": "bold", "attributes": {"bold": True}},
    {"insert": " "},
    {"insert": "italic", "attributes": {"italic": True}},
    {"insert": " "},
    {"insert": "underline", "attributes": {"underline": True}},
    {"insert": " "},
    {"insert": "strike", "attributes": {"strike": True}},
    {"insert": " "},
    {"insert": "code", "attributes": {"code": True}},
    {"insert": " "},
    {"insert": "a link", "attributes": {"link": "https://example.com/"}},
    {"insert": " "},
    {"insert": "all", "attributes": {"bold": True, "italic": True, "underline": True, "strike": True}},
    {"insert": "\nfirst"},
    {"insert": "\n", "attributes": {"list": "ordered"}},
    {"insert": "bullet"},
    {"insert": "\n", "attributes": {"list": "bullet"}},
    {"insert": "done"},
    {"insert": "\n", "attributes": {"list": "checked"}},
    {"insert": "to do"},
    {"insert": "\n", "attributes": {"list": "unchecked"}},
    {"insert": "a quote"},
    {"insert": "\n", "attributes": {"blockquote": True}},
    {"insert": "print('code block')"},
    {"insert": "\n", "attributes": {"code-block": "plain"}},
]


def stored(document_id: Any) -> Any:
    return db(lambda: selectors.snapshot_at(document=Document.objects.get(pk=document_id)).content)


def test_the_editor_opens_every_format_the_schema_allows(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    document = db(services.create_document, owner=alice, title="Every format", content=EVERY_FORMAT)
    tab = open_tab(alice)
    tab.open_editor(document.pk)
    # Quill shows the document exactly as stored: every format registered, none dropped.
    assert tab.contents() == EVERY_FORMAT
    assert tab.page.locator(".ql-editor h1").inner_text() == "Heading one"
    assert tab.page.locator(".ql-editor li[data-list='checked']").inner_text() == "done"
    assert tab.page.locator("#editor-notice").is_hidden()
    tab.screenshot(artifacts_dir / "browser-every-format.png", full_page=True)
    assert tab.errors == []


def test_a_change_the_editor_cannot_apply_is_contained_and_reloaded(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob Baker")
    document = db(services.create_document, owner=alice, title="Contained", content=[{"insert": "Hello\n"}])
    db(services.add_member, actor=alice, document_id=document.pk, identifier="bob@example.com", role="editor")
    tab = open_tab(bob)
    tab.open_editor(document.pk)
    # Simulate an editor that fails half-way through a remote change (as an unknown embed once did).
    tab.page.evaluate(
        """() => {
          const quill = window.collab.quill;
          quill.updateContents = function (delta) {
            quill.insertText(0, 'half-applied ', 'silent');
            throw new Error('simulated failure');
          };
        }"""
    )
    db(
        services.submit_operation,
        user=alice,
        document_id=document.pk,
        src=f"{services.SERVER_SRC}-alice-edit",
        seq=1,
        base_version=1,
        kind="edit",
        data=[{"retain": 5}, {"insert": " world"}],
    )
    # The page loads the document afresh from the server and says why.
    notice = tab.page.locator("#editor-notice", has_text="cannot show")
    notice.wait_for(timeout=20_000)
    tab.page.wait_for_selector("body[data-editor-ready='true']", timeout=20_000)
    wait_until(lambda: tab.text() == "Hello world\n", message="the reloaded document", tab=tab)
    tab.screenshot(artifacts_dir / "browser-contained-change.png")
    # Nothing of the half-applied state was sent back under Bob's name.
    authors = db(
        lambda: list(
            Operation.objects.filter(document_id=document.pk).values_list("author__username", flat=True)
        )
    )
    assert authors == ["alice", "alice"]
    assert plain_text(stored(document.pk)) == "Hello world\n"


def test_hostile_ops_from_a_raw_client_never_reach_other_editors(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    mallory = make_user("mallory", "Mallory Moss")
    document = db(services.create_document, owner=alice, title="Target", content=[{"insert": "Safe text\n"}])
    db(
        services.add_member,
        actor=alice,
        document_id=document.pk,
        identifier="mallory@example.com",
        role="editor",
    )
    victim = open_tab(alice)
    attacker = open_tab(mallory)
    victim.open_editor(document.pk)
    attacker.open_editor(document.pk)
    # Straight through the attacker's sharedb Doc as if the editor had made them (a tampered
    # editor): each is refused by the server and rolled back.
    for op in (
        [{"insert": {"image": "https://example.com/x.png"}}],
        [{"insert": {"formula": "e=mc^2"}}],
        [{"insert": "x", "attributes": {"header": 99}}],
        [{"insert": "x", "attributes": {"bold": "<b>"}}],
        [{"insert": "x", "attributes": {"link": "javascript:alert(1)"}}],
    ):
        attacker.page.evaluate("(op) => window.collab.doc.submitOp(op, { source: 'collab-local' })", op)
        attacker.page.locator("#editor-notice", has_text="not accepted").wait_for(timeout=10_000)
        wait_until(lambda: attacker.unsent() == 0, message="the rollback", tab=attacker)
    assert plain_text(stored(document.pk)) == "Safe text\n"
    assert victim.contents() == [{"insert": "Safe text\n"}]
    # The victim's editor still works and is still in step with everyone.
    victim.place_caret_at_end_of_first_line()
    victim.page.keyboard.type(" still")
    wait_until(lambda: attacker.text() == "Safe text still\n", message="the edit to arrive", tab=attacker)
    assert victim.page.locator("#editor-notice").is_hidden()
    victim.screenshot(artifacts_dir / "browser-hostile-ops-victim.png")
    assert victim.errors == []
