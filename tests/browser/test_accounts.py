"""Account flows in a real browser: sign-up confirmed from the emailed link, a password reset, and
an invitation by email that brings a new person through sign-up into the document.

The server writes its mail to files (EMAIL_URL=file:...), which the test reads as a person reads
their inbox; it runs embedded (tasks in-process), so the mail is written before the page answers.
"""

import re
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from documents import services
from documents.models import Membership
from tests.conftest import ServerProcess, database_url_for_test_db

from .conftest import DESKTOP, PASSWORD, db, session_cookie_for

pytestmark = pytest.mark.browser

NEW_PASSWORD = "A-long-new-pass-42"


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def mail_server_url(transactional_db: Any, mail_dir: Path) -> Iterator[str]:
    server = ServerProcess(
        {**database_url_for_test_db(), "REDIS_URL": "", "EMAIL_URL": f"file://{mail_dir}"}, name="daphne-mail"
    ).start()
    try:
        yield server.url
    finally:
        server.stop()


def inbox(mail_dir: Path) -> list[Any]:
    if not mail_dir.is_dir():
        return []
    # The file backend appends each message to the file of its connection, separated by dashes.
    messages = []
    for path in sorted(mail_dir.iterdir(), key=lambda p: p.stat().st_mtime):
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(message_from_bytes(chunk, policy=policy.default))
    return messages


def text_of(message: Any) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return str(part.get_payload(decode=True).decode())
    raise AssertionError("no text part")


def link(message: Any, path: str) -> str:
    return re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", text_of(message)).group(1)


@pytest.fixture
def tab(browser: Any, mail_server_url: str) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def open_(user: Any = None) -> Any:
        context = browser.new_context(viewport=DESKTOP, base_url=mail_server_url)
        contexts.append(context)
        if user is not None:
            cookie = db(session_cookie_for, user)
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": mail_server_url}]
            )
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def test_sign_up_is_confirmed_from_the_emailed_link(tab: Any, mail_dir: Path, artifacts_dir: Path) -> None:
    page = tab()
    page.goto("/")
    page.click("text=Create account")
    assert page.title().split() == ["Signup", "·", "collab"]
    page.fill("#id_email", "nina@example.com")
    page.fill("#id_username", "nina")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    page.screenshot(path=str(artifacts_dir / "browser-signup.png"), full_page=True)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert "Verify Your Email Address" in page.content() or "verification" in page.content().lower()
    page.screenshot(path=str(artifacts_dir / "browser-signup-check-your-email.png"), full_page=True)
    # Not signed in yet: the documents page sends back to sign-in.
    page.goto("/")
    assert "/accounts/login/" in page.url

    [message] = inbox(mail_dir)
    assert message["To"] == "nina@example.com" and message["Subject"].startswith("[collab] ")
    home = page.url  # the documents page's address
    page.goto(link(message, "/accounts/confirm-email/"))
    page.screenshot(path=str(artifacts_dir / "browser-signup-confirm.png"), full_page=True)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(home.split("/accounts/")[0] + "/")
    assert page.locator(".site-user").inner_text() == "nina"
    page.screenshot(path=str(artifacts_dir / "browser-signup-done.png"), full_page=True)
    assert db(lambda: get_user_model().objects.get(username="nina").emailaddress_set.get().verified)


def test_password_reset_from_the_emailed_link(tab: Any, mail_dir: Path, artifacts_dir: Path) -> None:
    db(services.create_user, username="olga", email="olga@example.com", password=PASSWORD)
    page = tab()
    page.goto("/accounts/login/")
    page.click("text=Forgot your password?")
    page.fill("#id_email", "olga@example.com")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/accounts/password/reset/done/")
    page.screenshot(path=str(artifacts_dir / "browser-reset-sent.png"), full_page=True)

    [message] = inbox(mail_dir)
    page.goto(link(message, "/accounts/password/reset/key/"))
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    page.screenshot(path=str(artifacts_dir / "browser-reset-new-password.png"), full_page=True)
    page.get_by_role("button", name="Change Password").click()
    page.wait_for_url("**/accounts/password/reset/key/done/")

    page.goto("/accounts/login/")
    page.fill("#id_login", "olga@example.com")
    page.fill("#id_password", NEW_PASSWORD)
    page.keyboard.press("Enter")
    # Wait for the page the sign-in leads to: the sign-in page itself is already loaded, so
    # waiting for a load state could return before the navigation and shoot a page mid-swap.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.locator(".site-user").wait_for()
    page.screenshot(path=str(artifacts_dir / "browser-reset-signed-in.png"), full_page=True)
    assert page.locator(".site-user").inner_text() == "olga"


def test_an_invitation_by_email_ends_in_the_document(tab: Any, mail_dir: Path, artifacts_dir: Path) -> None:
    olga = db(
        services.create_user, username="olga", email="olga@example.com", password=PASSWORD, first_name="Olga"
    )
    document = db(services.create_document, owner=olga, title="Launch plan")
    owner = tab(olga)
    owner.goto(f"/d/{document.pk}/")
    owner.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    owner.click("[data-action=share]")
    dialog = owner.locator("#share-dialog")
    dialog.locator("#invitation-email").fill("nina@example.com")
    dialog.locator("#invitation-role").select_option("viewer")
    dialog.get_by_role("button", name="Send invitation").click()
    dialog.locator("[data-invitation='nina@example.com']").wait_for()
    assert dialog.locator("#share-status").inner_text() == "Invitation sent to nina@example.com."
    owner.screenshot(path=str(artifacts_dir / "browser-invitation-sent.png"))

    [message] = inbox(mail_dir)
    assert message["To"] == "nina@example.com" and "Launch plan" in message["Subject"]
    page = tab()
    page.goto(link(message, "/invitations/"))
    page.screenshot(path=str(artifacts_dir / "browser-invitation-open.png"), full_page=True)
    page.click("[data-invitation-signup]")
    page.fill("#id_email", "nina@example.com")
    page.fill("#id_username", "nina")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    assert page.url.endswith(f"/d/{document.pk}/")
    page.screenshot(path=str(artifacts_dir / "browser-invitation-joined.png"))
    assert db(lambda: Membership.objects.get(user__username="nina", document=document).role) == "viewer"
    # The owner's list of waiting invitations empties once it is used.
    owner.reload()
    owner.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    owner.click("[data-action=share]")
    owner.locator("#share-invitations", has_text="No invitations waiting.").wait_for()
    assert len(inbox(mail_dir)) == 1  # no confirmation email: the link came from that inbox
