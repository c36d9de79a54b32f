"""An open editor follows access changes made in the admin: read-only at once, nothing typed lost."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from documents import selectors, services
from documents.models import Document, Membership, Role

from .conftest import PASSWORD, db, plain_text, wait_until

pytestmark = pytest.mark.browser


def saved_text(document_id: Any) -> str:
    def read() -> str:
        return plain_text(selectors.snapshot_at(document=Document.objects.get(pk=document_id)).content)

    return str(db(read))


class HeldSocket:
    """Passes the editor's WebSocket through, except that ops can be held back and let go later."""

    def __init__(self) -> None:
        self.holding = False
        self.held: list[str] = []
        self.server: Any = None

    def route(self, ws: Any) -> None:
        self.server = ws.connect_to_server()
        ws.on_message(self._outgoing)

    def _outgoing(self, message: str | bytes) -> None:
        if self.holding and isinstance(message, str) and '"a":"op"' in message:
            self.held.append(message)
        else:
            self.server.send(message)

    def release(self) -> None:
        self.holding = False
        for message in self.held:
            self.server.send(message)
        self.held.clear()


def set_role_in_admin(admin: Any, membership_id: int, role: str) -> None:
    admin.goto(f"/admin/documents/membership/{membership_id}/change/")
    admin.page.select_option("#id_role", role)
    admin.page.click("input[name=_save]")
    admin.page.locator(".messagelist .success").wait_for()


def test_a_downgrade_in_the_admin_keeps_unsent_text_and_an_upgrade_needs_no_reload(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    olga = make_user("olga", "Olga Owner")
    bob = make_user("bob", "Bob Baker")
    root = db(get_user_model().objects.create_superuser, "root", "root@example.com", PASSWORD)
    document = db(services.create_document, owner=olga, title="Plans", content=[{"insert": "Saved line\n"}])
    db(services.add_member, actor=olga, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    membership_id = db(lambda: Membership.objects.get(document=document, user=bob).pk)

    socket = HeldSocket()
    editor = open_tab(bob)
    editor.page.route_web_socket(re.compile(r"/ws/(\?.*)?$"), socket.route)
    editor.open_editor(document.pk)
    admin = open_tab(root)

    # Bob types; his ops are still on their way when the operator makes him a viewer.
    socket.holding = True
    editor.place_caret_at_end_of_first_line()
    editor.page.keyboard.type(" and unsent words")
    wait_until(lambda: socket.held, message="Bob's op on its way", tab=editor)
    set_role_in_admin(admin, membership_id, Role.VIEWER)

    # The editor turns read-only at once, before any of those ops is answered.
    editor.page.locator("#editor-notice", has_text="only view").wait_for(timeout=2_000)
    assert editor.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert editor.page.locator("#role-badge").inner_text() == "View only"
    assert editor.text() == "Saved line and unsent words\n"

    # The ops arrive now and are refused; their text stays on screen, in one piece, for copying.
    socket.release()
    panel = editor.page.locator("#lost-edits")
    panel.wait_for(state="visible", timeout=10_000)
    assert editor.page.locator("#lost-edits-text").input_value() == " and unsent words"
    assert "access changed to view only" in panel.locator("[data-lost-summary]").inner_text()
    wait_until(lambda: editor.text() == "Saved line\n", message="the saved text", tab=editor)
    assert saved_text(document.pk) == "Saved line\n"
    editor.screenshot(artifacts_dir / "browser-access-downgraded.png")

    # Made an editor again: Bob types on without reloading.
    editor.page.evaluate("window.sameLoad = true")
    set_role_in_admin(admin, membership_id, Role.EDITOR)
    editor.page.locator("#editor-notice", has_text="can now edit").wait_for(timeout=2_000)
    assert editor.page.locator(".ql-editor").get_attribute("contenteditable") == "true"
    assert editor.page.evaluate("window.sameLoad") is True
    editor.place_caret_at_end_of_first_line()
    editor.page.keyboard.type(" again")
    wait_until(
        lambda: saved_text(document.pk) == "Saved line again\n", message="Bob's edit saved", tab=editor
    )

    # Removed from the document: a sticky no-access notice, the editor stays read-only.
    admin.goto(f"/admin/documents/membership/{membership_id}/delete/")
    admin.page.click("input[type=submit]")
    editor.page.locator("#editor-notice", has_text="no longer have access").wait_for(timeout=2_000)
    assert editor.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert editor.status() == "No access"
    editor.screenshot(artifacts_dir / "browser-access-removed-in-admin.png")
    assert editor.errors == [] and admin.errors == []


def test_a_downgrade_missed_while_offline_is_learned_from_the_refusal(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    olga = make_user("olga", "Olga Owner")
    bob = make_user("bob", "Bob Baker")
    root = db(get_user_model().objects.create_superuser, "root", "root@example.com", PASSWORD)
    document = db(services.create_document, owner=olga, title="Plans", content=[{"insert": "Saved line\n"}])
    db(services.add_member, actor=olga, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    membership_id = db(lambda: Membership.objects.get(document=document, user=bob).pk)
    editor = open_tab(bob)
    editor.open_editor(document.pk)
    admin = open_tab(root)

    # Bob types offline; meanwhile the operator makes him a viewer, which his page cannot hear.
    editor.context.set_offline(True)
    editor.page.locator("#connection-status[data-phase='offline']").wait_for(timeout=5_000)
    editor.place_caret_at_end_of_first_line()
    editor.page.keyboard.type(" typed offline")
    set_role_in_admin(admin, membership_id, Role.VIEWER)

    # Back online, the server refuses his op; the page asks for its role and turns read-only.
    editor.context.set_offline(False)
    editor.page.locator("#lost-edits").wait_for(state="visible", timeout=15_000)
    assert editor.page.locator("#lost-edits-text").input_value() == " typed offline"
    editor.page.locator("#role-badge", has_text="View only").wait_for(timeout=5_000)
    assert editor.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    assert saved_text(document.pk) == "Saved line\n"
    editor.screenshot(artifacts_dir / "browser-access-downgraded-offline.png")
    assert editor.errors == []
