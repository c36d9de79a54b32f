import pytest
from documents import services
from documents.models import Role
from .conftest import db

pytestmark = pytest.mark.browser

def test_debug(make_user, open_tab):
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob B")
    document = db(services.create_document, owner=alice, title="Pair", content=[{"insert": "Hi\n"}])
    db(services.add_member, actor=alice, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    a = open_tab(alice); b = open_tab(bob)
    a.open_editor(document.pk); b.open_editor(document.pk)
    a.place_caret_at_end_of_first_line()
    b.place_caret_at_end_of_first_line()
    a.page.keyboard.type("a")
    print("A focus", a.page.evaluate("[window.collab.quill.hasFocus(), JSON.stringify(window.collab.quill.getSelection())]"))
    b.page.keyboard.type("XYZ")
    a.page.wait_for_timeout(500)
    print("A after", a.page.evaluate("[window.collab.quill.hasFocus(), JSON.stringify(window.collab.quill.getSelection()), window.collab.quill.getText()]"))
    a.page.keyboard.type("b")
    a.page.wait_for_timeout(500)
    print("A final", a.text(), b.text())
