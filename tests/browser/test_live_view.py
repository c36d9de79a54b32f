"""The staff's live view in a real browser: who is in which document now, and disconnecting a
user everywhere (their open editor is closed at once)."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from documents import services
from documents.models import AuditAction, AuditEvent

from .conftest import db, wait_until

pytestmark = pytest.mark.browser


def test_staff_see_who_is_in_and_disconnect_them(make_user: Any, open_tab: Any, artifacts_dir: Path) -> None:
    alice = make_user("alice", "Alice Archer")
    staff = make_user("root", "Rita Root")
    db(get_user_model().objects.filter(pk=staff.pk).update, is_staff=True, is_superuser=True)
    document = db(services.create_document, owner=alice, title="Launch plan", content=[{"insert": "Go\n"}])
    editor = open_tab(alice)
    editor.open_editor(document.pk)
    editor.place_caret_at_end_of_first_line()
    editor.page.keyboard.type(" now", delay=20)
    wait_until(lambda: editor.unsent() == 0 and "Go now" in editor.text(), tab=editor, message="saved")

    admin = open_tab(db(get_user_model().objects.get, pk=staff.pk))
    admin.goto("/admin/")
    admin.page.get_by_role("link", name="Live: documents open now", exact=False).click()
    row = admin.page.locator(f"#live-documents tr[data-document='{document.pk}']")
    row.wait_for()
    assert "Launch plan" in row.inner_text() and "Alice Archer" in row.inner_text()
    assert int(row.locator("td.ops").inner_text()) == db(
        lambda: document.operations.count()
    )  # every op of this document is from the last minute
    admin.screenshot(artifacts_dir / "browser-live-view.png", full_page=True)

    # Closing the document to editing turns the open editor read-only at once; reopening undoes it.
    row.get_by_role("button", name="Close to editing").click()
    admin.page.get_by_text("Closed to editing.").wait_for()
    editor.page.locator("#editor-notice", has_text="only view").wait_for(timeout=10_000)
    wait_until(
        lambda: editor.page.locator(".ql-editor").get_attribute("contenteditable") == "false",
        tab=editor,
        message="read-only editor",
    )
    editor.screenshot(artifacts_dir / "browser-closed-to-editing.png")
    row = admin.page.locator(f"#live-documents tr[data-document='{document.pk}']")
    row.get_by_role("button", name="Reopen to editing").click()
    admin.page.get_by_text("Reopened to editing.").wait_for()
    wait_until(
        lambda: editor.page.locator(".ql-editor").get_attribute("contenteditable") == "true",
        tab=editor,
        message="editable again",
    )
    editor.place_caret_at_end_of_first_line()
    editor.page.keyboard.type("!", delay=20)
    wait_until(lambda: editor.unsent() == 0 and "Go now!" in editor.text(), tab=editor, message="saved again")

    row = admin.page.locator(f"#live-documents tr[data-document='{document.pk}']")
    row.get_by_role("button", name="Disconnect everywhere").click()
    admin.page.get_by_text("Disconnected everywhere").wait_for()
    editor.page.locator("#editor-notice", has_text="signed out").wait_for(timeout=10_000)
    assert editor.status() == "Signed out"
    event = db(AuditEvent.objects.get, action=AuditAction.USER_DISCONNECTED)
    assert (event.actor_name, event.subject_name) == ("root", "alice")
    assert editor.errors == [] and admin.errors == []
