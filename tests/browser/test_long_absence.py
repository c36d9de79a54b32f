"""Coming back after the document moved on by more than the server catches up on
(`COLLAB_MAX_CATCH_UP`, 30 here): with nothing unsent the page loads the document afresh; with
unsent edits it gets every op since, rebases them and loses nothing."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from documents import services
from documents.models import Role
from tests.conftest import ServerProcess, database_url_for_test_db

from .conftest import stored_text, db, wait_until

pytestmark = pytest.mark.browser

BOUND = 30
V1 = "Minutes.\n"


@pytest.fixture
def live_server_url(transactional_db: Any) -> Iterator[str]:
    env = {**database_url_for_test_db(), "REDIS_URL": settings.REDIS_URL, "COLLAB_MAX_CATCH_UP": str(BOUND)}
    server = ServerProcess(env, name="bounded-catch-up").start()
    try:
        yield server.url
    finally:
        server.stop()


def commit_many(user: Any, document_id: Any, count: int, tag: str) -> None:
    """`count` edits by another person, each its own op (a busy meeting while one laptop sleeps)."""
    for seq in range(1, count + 1):
        db(
            services.submit_operation,
            user=user,
            document_id=document_id,
            src=f"{tag}{seq:04d}".ljust(32, "0"),
            seq=1,
            base_version=None,
            kind="edit",
            data=[{"insert": "b"}],
        )


def test_far_behind_the_page_reloads_or_rebases_and_nothing_is_lost(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice, bob = make_user("alice", "Alice Archer"), make_user("bob", "Bob Baker")
    document = db(services.create_document, owner=alice, title="Meeting", content=[{"insert": V1}])
    db(services.add_member, actor=alice, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    tab = open_tab(alice)
    tab.open_editor(document.pk)

    # Offline with nothing unsent while the document moves on by more than the bound: back
    # online, the page loads the document afresh (one snapshot, not every op) and says so.
    tab.context.set_offline(True)
    tab.page.locator("#connection-status[data-phase='offline']").wait_for(timeout=5_000)
    commit_many(bob, document.pk, BOUND + 10, "a")
    with tab.page.expect_navigation(timeout=20_000):
        tab.context.set_offline(False)
    tab.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    expected = "b" * (BOUND + 10) + V1
    wait_until(lambda: tab.text() == expected, message="the current text after loading afresh", tab=tab)
    assert tab.page.locator("#lost-edits").is_hidden()
    assert "changed too much while you were away" in tab.page.locator("#editor-notice").inner_text()
    tab.screenshot(artifacts_dir / "browser-long-absence-reloaded.png")

    # Offline again, this time with unsent typing: back online the page resends its edit, gets
    # every op since (no reload) and both people's text is there, once.
    tab.context.set_offline(True)
    tab.page.locator("#connection-status[data-phase='offline']").wait_for(timeout=5_000)
    tab.page.locator(".ql-editor p").first.click()
    tab.page.keyboard.press("End")
    tab.page.keyboard.type(" Agreed.")
    wait_until(lambda: tab.unsent() > 0, message="unsent edits", tab=tab)
    commit_many(bob, document.pk, BOUND + 10, "c")
    navigations: list[str] = []
    tab.page.on("framenavigated", lambda frame: navigations.append(frame.url))
    tab.context.set_offline(False)
    final = "b" * (2 * BOUND + 20) + "Minutes. Agreed.\n"
    wait_until(lambda: stored_text(document.pk) == final, message="the rebased edit committed", tab=tab)
    wait_until(lambda: tab.text() == final and tab.unsent() == 0, message="the page converged", tab=tab)
    assert navigations == [], "the page reloaded and would have set unsent text aside"
    assert tab.page.locator("#lost-edits").is_hidden()
    assert tab.page.locator("#connection-status").inner_text() == "All changes saved"
    tab.screenshot(artifacts_dir / "browser-long-absence-rebased.png")
    assert tab.errors == []
