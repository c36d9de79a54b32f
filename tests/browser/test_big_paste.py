"""A paste bigger than one WebSocket message lands whole (in several ops), and a change the
server does refuse is never reported as saved. The server here has small limits, so a paste of
a few hundred kB stands for the ~150 pages that hit the default 256 kB limit."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from documents import selectors, services
from documents.models import Document, Operation
from tests.conftest import ServerProcess, database_url_for_test_db

from .conftest import db, plain_text, wait_until

pytestmark = pytest.mark.browser

MAX_MESSAGE_BYTES = 32 * 1024
MAX_DOCUMENT_LENGTH = 200_000


@pytest.fixture
def live_server_url(transactional_db: Any) -> Iterator[str]:
    env = {
        **database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "COLLAB_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
        "COLLAB_MAX_DOCUMENT_LENGTH": str(MAX_DOCUMENT_LENGTH),
    }
    server = ServerProcess(env, name="small-limits").start()
    try:
        yield server.url
    finally:
        server.stop()


def paste_html(tab: Any, html: str) -> None:
    tab.page.evaluate(
        """(html) => {
            const data = new DataTransfer();
            data.setData('text/html', html);
            data.setData('text/plain', html.replace(/<[^>]+>/g, ''));
            window.collab.quill.root.dispatchEvent(
                new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        html,
    )


def stored(document_id: Any) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        return list(selectors.snapshot_at(document=Document.objects.get(pk=document_id)).content)

    return list(db(read))


def paragraphs(count: int) -> str:
    return "".join(
        f"<p>Paragraph {i} of the pasted report, with <strong>bold {i}</strong> words.</p>"
        for i in range(count)
    )


def open_at_end(make_user: Any, open_tab: Any) -> tuple[Any, Any]:
    """A document "Start", open in Ada's editor with the caret at its end."""
    ada = make_user("ada", "Ada Lovelace")
    document = db(services.create_document, owner=ada, title="Report", content=[{"insert": "Start\n"}])
    tab = open_tab(ada)
    tab.open_editor(document.pk)
    tab.place_caret_at_end_of_first_line()
    return document, tab


def test_a_paste_over_the_message_limit_lands_whole_and_formatted(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    document, tab = open_at_end(make_user, open_tab)
    count = 2000  # about 130 kB of text, 4 times the message limit
    paste_html(tab, paragraphs(count))
    wait_until(lambda: tab.status() == "All changes saved", message="saved", tab=tab, timeout=60)
    content = stored(document.pk)
    assert plain_text(content) == tab.text()
    assert plain_text(content).count("of the pasted report") == count
    assert sum(1 for op in content if op.get("attributes", {}).get("bold")) == count
    assert tab.contents() == content
    ops = db(lambda: Operation.objects.filter(document_id=document.pk).count())
    assert ops >= 4, "the paste went as several ops under the limit"
    assert tab.page.locator("#lost-edits").is_hidden()
    tab.screenshot(artifacts_dir / "browser-big-paste-saved.png")
    assert tab.errors == []


def test_a_refused_change_is_never_reported_as_saved(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    document, tab = open_at_end(make_user, open_tab)
    # Past the document length limit: what fits is saved, the rest is refused and kept for copying.
    paste_html(tab, paragraphs(4000))
    tab.page.locator("#lost-edits").wait_for(state="visible", timeout=60_000)
    wait_until(lambda: tab.unsent() == 0, message="nothing in flight", tab=tab, timeout=30)
    assert tab.status() == "Some changes were not saved"
    assert tab.page.locator("#connection-status").get_attribute("data-tone") == "bad"
    assert "could not be saved" in tab.page.locator("#lost-edits").inner_text()
    assert len(plain_text(stored(document.pk))) <= MAX_DOCUMENT_LENGTH
    tab.screenshot(artifacts_dir / "browser-big-paste-refused.png")
    # Once the user has dealt with the text, the status tells the truth about the rest.
    tab.page.locator("[data-lost-dismiss]").click()
    wait_until(lambda: tab.status() == "All changes saved", message="saved after dismissing", tab=tab)
