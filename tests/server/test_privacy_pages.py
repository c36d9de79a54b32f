"""Pages that decide who learns what: invite links need a confirmed POST; password resets tell the truth."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from documents import services
from documents.models import Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga() -> Any:
    return get_user_model().objects.create_user("olga", "olga@example.com", None, first_name="Olga")


@pytest.fixture
def nina() -> Any:
    return get_user_model().objects.create_user("nina", "nina@example.com", None)


def signed_in(user: Any, *, csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


def test_opening_an_invite_link_asks_and_only_a_post_joins(olga: Any, nina: Any) -> None:
    document = services.create_document(owner=olga, title="Plans")
    token = services.create_invite(actor=olga, document_id=document.pk, role=Role.EDITOR).token
    client = signed_in(nina, csrf_checks=True)
    page = client.get(f"/invite/{token}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Join “Plans”?" in body and "Join as an editor" in body and "csrfmiddlewaretoken" in body
    assert not Membership.objects.filter(user=nina).exists()
    # A forged cross-site POST carries no token: refused, and nobody joins.
    assert client.post(f"/invite/{token}/").status_code == 403
    assert not Membership.objects.filter(user=nina).exists()
    csrf = page.cookies["csrftoken"].value
    joined = client.post(f"/invite/{token}/", {"csrfmiddlewaretoken": csrf})
    assert joined.status_code == 302 and joined["Location"] == f"/d/{document.pk}/"
    assert Membership.objects.get(user=nina, document=document).role == Role.EDITOR
    # A member who already has that role goes straight to the document.
    again = client.get(f"/invite/{token}/")
    assert again.status_code == 302 and again["Location"] == f"/d/{document.pk}/"


def test_revoked_and_deleted_invites_answer_not_found_on_get_and_post(olga: Any, nina: Any) -> None:
    document = services.create_document(owner=olga, title="Plans")
    revoked = services.create_invite(actor=olga, document_id=document.pk, role=Role.VIEWER).token
    services.revoke_invite(actor=olga, document_id=document.pk, token=revoked)
    other = services.create_document(owner=olga, title="Gone")
    orphan = services.create_invite(actor=olga, document_id=other.pk, role=Role.VIEWER).token
    services.delete_document(user=olga, document_id=other.pk)
    client = signed_in(nina)
    for token in (revoked, orphan, "never-issued", "x" * 65):
        for response in (client.get(f"/invite/{token}/"), client.post(f"/invite/{token}/")):
            assert response.status_code == 404 and "does not work" in response.content.decode()
    assert not Membership.objects.filter(user=nina).exists()


@override_settings(COLLAB_PASSWORD_RESET_BY_EMAIL=False)
def test_without_mail_the_reset_page_says_so_and_sends_nothing(olga: Any, mailoutbox: list[Any]) -> None:
    client = Client()
    login = client.get("/accounts/login/").content.decode()
    assert "Forgot your password?" not in login
    for response in (
        client.get("/accounts/password_reset/"),
        client.post("/accounts/password_reset/", {"email": "olga@example.com"}),
    ):
        body = response.content.decode()
        assert response.status_code == 200 and "does not send email" in body
        assert "emailed" not in body.lower()
    assert mailoutbox == []


@override_settings(COLLAB_PASSWORD_RESET_BY_EMAIL=True)
def test_with_mail_the_reset_link_sets_the_password_through_the_service(
    olga: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    olga.set_password("the-old-password-1")  # Reset mail goes only to accounts with a password.
    olga.save()
    client = Client()
    assert "Forgot your password?" in client.get("/accounts/login/").content.decode()
    sent = client.post("/accounts/password_reset/", {"email": "olga@example.com"})
    assert sent.status_code == 302 and len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line).strip()
    path = link[link.index("/accounts/reset/") :]
    form = client.get(path, follow=True)
    ended: list[Any] = []
    monkeypatch.setattr(
        services.accounts.broadcast, "publish_session_end", lambda *, user_id: ended.append(user_id)
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": "A-long-new-pass-42", "new_password2": "A-long-new-pass-42"},
        )
    assert done.status_code == 302
    olga.refresh_from_db()
    assert olga.check_password("A-long-new-pass-42") and ended == [olga.pk]


def test_changing_ones_password_goes_through_the_service(
    olga: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    olga.set_password("the-old-password-1")
    olga.save()
    client = signed_in(olga)
    ended: list[Any] = []
    monkeypatch.setattr(
        services.accounts.broadcast, "publish_session_end", lambda *, user_id: ended.append(user_id)
    )
    fields = {
        "old_password": "the-old-password-1",
        "new_password1": "A-long-new-pass-42",
        "new_password2": "A-long-new-pass-42",
    }
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/accounts/password_change/", fields)
    assert done.status_code == 302
    olga.refresh_from_db()
    # Every open editor of the account closes; this browser stays signed in.
    assert olga.check_password("A-long-new-pass-42") and ended == [olga.pk]
    assert client.get("/").status_code == 200
