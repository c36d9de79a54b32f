"""Comments and suggestions in real browsers: two people discuss a passage live; a suggester
proposes and the owner accepts; a suggester's backspace withdraws their own text and strikes the
owner's; a commenter cannot type."""

from pathlib import Path
from typing import Any

import pytest

from documents import selectors, services
from documents.models import CommentThread, Document, Role

from .conftest import db, plain_text, wait_until

pytestmark = pytest.mark.browser


def saved_content(document_id: Any) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        return list(selectors.snapshot_at(document=Document.objects.get(pk=document_id)).content)

    return db(read)


def select_text(tab: Any, index: int, length: int) -> None:
    tab.page.evaluate(f"window.collab.quill.setSelection({index}, {length}, 'user')")


@pytest.fixture
def shared(make_user: Any) -> dict[str, Any]:
    people = {
        "olga": make_user("olga", "Olga Owner"),
        "carl": make_user("carl", "Carl Commenter"),
        "sue": make_user("sue", "Sue Suggester"),
    }
    document = db(
        services.create_document,
        owner=people["olga"],
        title="Plan",
        content=[{"insert": "Ship the launch plan on Monday.\n"}],
    )
    for name, role in (("carl", Role.COMMENTER), ("sue", Role.SUGGESTER)):
        db(services.add_member, actor=people["olga"], document_id=document.pk, identifier=name, role=role)
    return {**people, "document": document}


def test_one_comments_the_other_replies_and_resolves(
    shared: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    document = shared["document"]
    carl, olga = open_tab(shared["carl"]), open_tab(shared["olga"])
    for tab in (carl, olga):
        tab.open_editor(document.pk)
    # Carl, who may only comment, selects "launch plan" and comments on it.
    select_text(carl, 9, 11)
    carl.page.click("[data-review=comment]")
    carl.page.fill(".review-panel textarea[aria-label='New comment']", "Which launch?")
    carl.page.click(".review-panel .thread-form button[type=submit]")
    card = olga.page.locator(".thread[data-state=open]")
    card.wait_for()
    assert "Which launch?" in card.inner_text() and "launch plan" in card.inner_text()
    # The passage is highlighted for Olga, and clicking it brings its thread forward.
    highlighted = olga.page.locator(".ql-editor [data-comment]")
    wait_until(lambda: highlighted.count() > 0, message="the highlighted passage", tab=olga)
    assert highlighted.first.inner_text() == "launch plan"
    highlighted.first.click()
    olga.page.locator(".thread.thread-active").wait_for()
    # Olga types before the passage: the anchor moves with the text.
    olga.page.evaluate("window.collab.quill.insertText(0, 'Please ', 'user')")
    wait_until(lambda: carl.text().startswith("Please "), message="the edit at Carl", tab=carl)
    carl_highlight = carl.page.locator(".ql-editor [data-comment]").first
    assert carl_highlight.inner_text() == "launch plan"
    # Olga replies and resolves; Carl sees both live.
    olga.page.fill(".thread textarea[aria-label=Reply]", "The spring one.")
    olga.page.click(".thread [data-review=reply]")
    carl.page.locator(".thread .comment-body", has_text="The spring one.").wait_for()
    carl.screenshot(artifacts_dir / "browser-comment-thread.png")
    olga.page.click(".thread [data-review=resolve]")
    carl.page.locator("[data-review=show-resolved]", has_text="Resolved (1)").wait_for()
    assert carl.page.locator(".thread[data-state=open]").count() == 0
    wait_until(
        lambda: "comment-off" in (carl_highlight.get_attribute("class") or ""),
        message="the resolved passage to lose its highlight",
        tab=carl,
    )
    carl.page.click("[data-review=show-resolved]")
    carl.page.locator(".thread[data-state=resolved]").wait_for()
    carl.screenshot(artifacts_dir / "browser-comment-resolved.png")
    thread = db(lambda: CommentThread.objects.get())
    assert thread.resolved_at is not None and db(lambda: thread.comments.count()) == 2
    anchored = [op for op in saved_content(document.pk) if (op.get("attributes") or {}).get("comment")]
    assert anchored == [{"insert": "launch plan", "attributes": {"comment": thread.pk.hex}}]
    # Deleting the passage leaves the thread, shown as detached.
    olga.page.click("[data-review=show-resolved]")
    olga.page.click("[data-review=reopen]")
    carl.page.locator(".thread[data-state=open]").wait_for()
    olga.page.evaluate("window.collab.quill.deleteText(16, 11, 'user')")
    olga.page.locator(".thread[data-state=detached]").wait_for()
    carl.page.locator(".thread[data-state=detached]").wait_for()
    assert carl.errors == [] and olga.errors == []


def open_suggester_and_owner(shared: dict[str, Any], open_tab: Any) -> tuple[Any, Any]:
    """Sue (suggester) and Olga (owner), each in the shared document's editor."""
    sue, olga = open_tab(shared["sue"]), open_tab(shared["olga"])
    for tab in (sue, olga):
        tab.open_editor(shared["document"].pk)
    return sue, olga


def test_a_suggester_proposes_and_the_owner_accepts(
    shared: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    document = shared["document"]
    sue, olga = open_suggester_and_owner(shared, open_tab)
    # Sue replaces "Monday" with "Friday" by typing: a struck deletion and a marked insertion.
    sue.page.locator(".ql-editor p").first.click()
    sue.page.evaluate(
        "window.__log = []; window.collab.quill.on('text-change', (d, o, s) => window.__log.push([s, JSON.stringify(d.ops)]))"
    )
    select_text(sue, 24, 6)
    sue.page.keyboard.type("Frid")
    # Backspace withdraws the suggester's own text outright; then type on.
    sue.page.keyboard.press("Backspace")
    sue.page.keyboard.type("day")
    wait_until(lambda: sue.unsent() == 0, message="Sue's suggestions to be saved", tab=sue)
    assert plain_text(saved_content(document.pk)) == "Ship the launch plan on FridayMonday.\n"
    suggestions = olga.page.locator(".suggestion")
    wait_until(lambda: suggestions.count() == 2, message="two suggestions at Olga", tab=olga)
    added, deleted = suggestions.all_inner_texts()
    assert "Add “Friday”" in added and "Delete “Monday”" in deleted and "Sue Suggester" in added
    assert "".join(olga.page.locator(".ql-editor [data-suggest-delete]").all_inner_texts()) == "Monday"
    # Sue sees no accept buttons; the owner does.
    assert sue.page.locator("[data-review=accept]").count() == 0
    olga.screenshot(artifacts_dir / "browser-suggestions-proposed.png")
    olga.page.click("[data-review=accept-all]")
    wait_until(
        lambda: sue.text() == "Ship the launch plan on Friday.\n", message="the acceptance at Sue", tab=sue
    )
    wait_until(lambda: olga.unsent() == 0, message="the acceptance to be saved", tab=olga)
    assert saved_content(document.pk) == [{"insert": "Ship the launch plan on Friday.\n"}]
    sue.screenshot(artifacts_dir / "browser-suggestions-accepted.png")
    # The acceptance is an ordinary op in the log, by the owner.
    history = db(
        lambda: list(document.operations.order_by("-version").values_list("author_id", flat=True)[:1])
    )
    assert history == [shared["olga"].pk]
    # The owner switches herself into suggesting mode: her typing becomes her suggestion.
    olga.page.check("#suggest-mode")
    olga.page.locator(".ql-editor p").first.click()
    olga.page.keyboard.press("End")
    olga.page.keyboard.type("!")
    wait_until(lambda: olga.unsent() == 0, message="the owner's suggestion to be saved", tab=olga)
    [marked] = [op for op in saved_content(document.pk) if "attributes" in op]
    assert marked["insert"] == "!"
    assert marked["attributes"]["suggest-insert"].startswith(f"{shared['olga'].pk}:")
    sue.page.locator(".suggestion", has_text="Olga Owner").wait_for()
    # The history page says who accepted what.
    wait_until(
        lambda: db(lambda: document.operations.filter(review__isnull=False).count()) == 1,
        message="the acceptance labelled",
        tab=olga,
    )
    history = open_tab(shared["olga"])
    history.goto(f"/d/{document.pk}/history/")
    review = history.page.locator("[data-kind=review] .session-summary")
    review.wait_for(timeout=10_000)
    assert review.inner_text() == "Accepted 2 suggestions by Sue Suggester"
    history.screenshot(artifacts_dir / "browser-history-who-accepted.png")
    assert sue.errors == [] and olga.errors == [] and history.errors == []


def test_a_suggesters_backspace_withdraws_their_own_text_and_strikes_the_owners(
    shared: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    document = shared["document"]
    sue, olga = open_suggester_and_owner(shared, open_tab)
    sue.page.locator(".ql-editor p").first.click()
    select_text(sue, 30, 0)  # after "Monday"
    sue.page.keyboard.type("ish")
    wait_until(lambda: sue.unsent() == 0, message="Sue's word to be saved", tab=sue)
    # Three backspaces take her "ish" back: gone, not struck.
    for _ in range(3):
        sue.page.keyboard.press("Backspace")
    wait_until(lambda: sue.unsent() == 0, message="the withdrawal to be saved", tab=sue)
    assert saved_content(document.pk) == [{"insert": "Ship the launch plan on Monday.\n"}]
    # Two more reach Olga's text: struck, one character after the other, and still there.
    sue.page.keyboard.press("Backspace")
    sue.page.keyboard.press("Backspace")
    wait_until(lambda: sue.unsent() == 0, message="the strikes to be saved", tab=sue)
    [before, struck, after] = saved_content(document.pk)
    assert (before, after) == ({"insert": "Ship the launch plan on Mond"}, {"insert": ".\n"})
    assert struck["insert"] == "ay" and struck["attributes"]["suggest-delete"].startswith(
        f"{shared['sue'].pk}:"
    )
    suggestion = olga.page.locator(".suggestion")
    wait_until(lambda: suggestion.count() == 1, message="one suggestion at Olga", tab=olga)
    assert "Delete “ay”" in suggestion.inner_text()
    assert sue.page.locator(".ql-editor [data-suggest-insert]").count() == 0
    assert sue.page.locator(".ql-editor [data-suggest-delete]").inner_text() == "ay"
    sue.screenshot(artifacts_dir / "browser-suggester-backspace.png")
    assert sue.errors == [] and olga.errors == []


def test_a_suggester_proposes_bold_and_the_owner_accepts_it(
    shared: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    document = shared["document"]
    sue, olga = open_suggester_and_owner(shared, open_tab)
    sue.page.locator(".ql-editor p").first.click()
    select_text(sue, 9, 6)  # "launch"
    sue.page.keyboard.press("Control+b")
    wait_until(lambda: sue.unsent() == 0, message="Sue's format suggestion saved", tab=sue)
    [marked] = [op for op in saved_content(document.pk) if "attributes" in op]
    assert marked["insert"] == "launch" and "bold" not in marked["attributes"]  # proposed, not applied
    assert marked["attributes"]["suggest-format"].startswith(f"{shared['sue'].pk}:")
    suggestion = olga.page.locator(".suggestion-format")
    suggestion.wait_for(timeout=10_000)
    assert "Make “launch” bold" in suggestion.inner_text() and "Sue Suggester" in suggestion.inner_text()
    assert olga.page.locator(".ql-editor [data-suggest-format] strong").count() == 0
    olga.screenshot(artifacts_dir / "browser-format-suggested.png")
    suggestion.locator("[data-review=accept]").click()
    wait_until(
        lambda: saved_content(document.pk)
        == [
            {"insert": "Ship the "},
            {"insert": "launch", "attributes": {"bold": True}},
            {"insert": " plan on Monday.\n"},
        ],
        message="the bold accepted",
        tab=olga,
    )
    sue.page.locator(".ql-editor strong", has_text="launch").wait_for(timeout=5_000)
    wait_until(
        lambda: db(
            lambda: list(document.operations.filter(review__isnull=False).values_list("review", flat=True))
        )
        == [{"accepted": {str(shared["sue"].pk): 1}, "rejected": {}}],
        message="the acceptance labelled",
        tab=olga,
    )
    sue.screenshot(artifacts_dir / "browser-format-accepted.png")
    assert sue.errors == [] and olga.errors == []


def test_a_commenter_cannot_type(shared: dict[str, Any], open_tab: Any, artifacts_dir: Path) -> None:
    document = shared["document"]
    carl = open_tab(shared["carl"])
    carl.open_editor(document.pk)
    assert carl.page.locator(".ql-editor").get_attribute("contenteditable") == "false"
    carl.page.locator(".ql-editor p").first.click()
    carl.page.keyboard.type("sneaky")
    assert carl.text() == "Ship the launch plan on Monday.\n"
    assert carl.page.locator("#role-badge").inner_text() == "Can comment"
    assert carl.page.locator("[data-review=comment]").is_visible()
    carl.screenshot(artifacts_dir / "browser-commenter-read-only.png")
    assert plain_text(saved_content(document.pk)) == "Ship the launch plan on Monday.\n"


def test_a_mention_rings_the_bell_live(shared: dict[str, Any], open_tab: Any, artifacts_dir: Path) -> None:
    document = shared["document"]
    carl = open_tab(shared["carl"])
    carl.open_editor(document.pk)
    bell = carl.page.locator("#notification-bell")
    assert bell.get_attribute("data-unread") == "0"
    # Sue mentions Carl from her editor (the server process publishes the change).
    sue = open_tab(shared["sue"])
    sue.open_editor(document.pk)
    select_text(sue, 0, 4)
    sue.page.click("[data-review=comment]")
    box = sue.page.locator(".review-panel textarea[aria-label='New comment']")
    box.press_sequentially("@ca")
    sue.page.click("[data-mention=carl]")
    box.press_sequentially("can you check?")
    assert box.input_value() == "@carl can you check?"
    sue.page.click(".review-panel .thread-form button[type=submit]")
    carl.page.locator("#notification-bell[data-unread='1']").wait_for()
    assert carl.page.locator("#notification-bell [data-unread]").inner_text() == "1"
    carl.page.click("#notification-bell summary")
    item = carl.page.locator(
        ".notification-list .notification", has_text="Sue Suggester mentioned you in “Plan”"
    )
    item.wait_for()
    carl.page.locator("#notification-bell[data-unread='0']").wait_for()
    carl.screenshot(artifacts_dir / "browser-notification-bell.png")
    assert carl.errors == []
