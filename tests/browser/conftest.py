"""Browser fixtures: one headless Chromium per session, signed-in contexts, and wait helpers.

The server is the real daphne from `live_server_url`; users and documents are made in the test
process with the ORM and services (the server shares the test database).
"""

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore

# Playwright's sync API keeps an asyncio loop on the test's thread, where Django refuses ORM calls
# and async_to_sync (used by services to broadcast). Database work runs on this one thread instead.
_DB_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser-tests-db")


def db(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run a service, selector or ORM call off the Playwright thread and return its result."""
    return _DB_THREAD.submit(fn, *args, **kwargs).result(timeout=60)


CHROMIUM = os.environ.get("COLLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 860}


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-django flushes the database on this thread while Playwright's loop is set on it."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Module scope: Playwright's loop must be gone before other test packages (async ones) run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def make_user(transactional_db: Any) -> Callable[..., Any]:
    def make(username: str, full_name: str = "") -> Any:
        first, _, last = full_name.partition(" ")
        return db(
            get_user_model().objects.create_user,
            username=username,
            email=f"{username}@example.com",
            password=PASSWORD,
            first_name=first,
            last_name=last,
        )

    return make


def session_cookie_for(user: Any) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return str(session.session_key)


class Tab:
    """A page in its own browser context, with the errors it logged kept for the test to check."""

    def __init__(self, context: Any, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # The browser logs every 4xx it fetches; the tests provoke some on purpose and check them.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def open_editor(self, document_id: Any) -> None:
        self.goto(f"/d/{document_id}/")
        self.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)

    def text(self) -> str:
        return str(self.page.evaluate("window.collab.quill.getText()"))

    def contents(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate("window.collab.quill.getContents().ops"))

    def unsent(self) -> int:
        return int(
            self.page.evaluate(
                "(() => { const d = window.collab.doc; return (d.inflightOp ? 1 : 0) + d.pendingOps.length; })()"
            )
        )

    def status(self) -> str:
        return str(self.page.locator("#connection-status").inner_text())

    def place_caret_at_end_of_first_line(self) -> None:
        self.page.locator(".ql-editor p").first.click()
        self.page.keyboard.press("End")

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        self.page.screenshot(path=str(path), full_page=full_page)


@pytest.fixture
def open_tab(browser: Any, live_server_url: str) -> Iterator[Callable[..., Tab]]:
    """Open a page for `user` (signed in with a session cookie), or signed out if user is None."""
    contexts: list[Any] = []

    def open_(user: Any = None, viewport: dict[str, int] | None = None) -> Tab:
        context = browser.new_context(viewport=viewport or DESKTOP, base_url=live_server_url)
        contexts.append(context)
        if user is not None:
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": db(session_cookie_for, user),
                        "url": live_server_url,
                    }
                ]
            )
        return Tab(context, live_server_url)

    yield open_
    for context in contexts:
        context.close()


def wait_until(
    condition: Callable[[], Any], *, timeout: float = 15.0, message: str = "condition", tab: Tab | None = None
) -> Any:
    """Poll `condition` until it is truthy; the waiting happens in the browser's own loop."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        if tab is not None:
            tab.page.wait_for_timeout(100)
        else:
            time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}; last value: {last!r}")


def plain_text(content: list[dict[str, Any]] | None) -> str:
    return "".join(op["insert"] for op in content or [] if isinstance(op.get("insert"), str))


def stored_text(document_id: Any) -> str:
    """A document's text as the database has it now."""
    from documents import selectors
    from documents.models import Document

    def read() -> str:
        return plain_text(selectors.snapshot_at(document=Document.objects.get(pk=document_id)).content)

    return str(db(read))


def wait_converged(*tabs: Tab, timeout: float = 30.0) -> str:
    """Wait until every tab has nothing unsent and all show the same text; return it."""

    def converged() -> str | None:
        texts = {tab.text() for tab in tabs}
        if len(texts) == 1 and all(tab.unsent() == 0 for tab in tabs):
            return texts.pop()
        return None

    return str(wait_until(converged, timeout=timeout, message="editors to converge", tab=tabs[0]))
