"""The owner's audit log page in a real browser: each access change, newest first."""

from pathlib import Path
from typing import Any

import pytest

from documents import services

from .conftest import db

pytestmark = pytest.mark.browser


def test_owner_sees_who_changed_access(make_user: Any, open_tab: Any, artifacts_dir: Path) -> None:
    olga = make_user("olga", "Olga Berg")
    make_user("eli", "Eli Stone")
    document = db(services.create_document, owner=olga, title="Budget", content=[{"insert": "Q1\n"}])
    db(services.add_member, actor=olga, document_id=document.pk, identifier="eli", role="viewer")
    db(services.set_member_role, actor=olga, document_id=document.pk, username="eli", role="editor")
    db(services.create_invite, actor=olga, document_id=document.pk, role="viewer")

    tab = open_tab(olga)
    tab.goto(f"/d/{document.pk}/history/")
    tab.page.get_by_role("link", name="Audit log").click()
    tab.page.wait_for_url(f"**/d/{document.pk}/audit/")
    rows = tab.page.locator("table.audit-log tbody tr")
    assert [rows.nth(i).get_attribute("data-action") for i in range(rows.count())] == [
        "invite_created",
        "role_changed",
        "member_added",
    ]
    assert rows.nth(1).inner_text().split("\t")[1:] == ["olga", "Changed a role", "eli", "role editor"]
    tab.screenshot(artifacts_dir / "browser-audit-log.png", full_page=True)
    assert tab.errors == []
