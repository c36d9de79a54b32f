"""Account pages through allauth: who may sign up, confirmed emails, resets that tell the truth,
no account enumeration, rate limits, and every password saved through `services.accounts`."""

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from celery import Celery, current_app
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

from documents import services
from documents.models import AuditEvent

# Mail goes out through a Celery task; run it here, whatever broker REDIS_URL names.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

PASSWORD = "A-long-new-pass-42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate limits count in the cache; each test starts with none used."""
    cache.clear()


@pytest.fixture
def olga() -> Any:
    return services.create_user(username="olga", email="olga@example.com", password="the-old-password-1")


@pytest.fixture
def ended(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """User ids whose open sockets were told to close (the pub/sub side of `broadcast`); one
    session's end as (user id, session id)."""
    calls: list[Any] = []
    monkeypatch.setattr(
        services.accounts.broadcast,
        "publish_session_end",
        lambda *, user_id, session=None: calls.append(user_id if session is None else (user_id, session)),
    )
    return calls


def sign_up(client: Client, username: str, email: str) -> Any:
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def link_in(message: Any, path: str) -> str:
    return re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", message.body).group(1)


def test_open_sign_up_needs_the_emailed_confirmation_before_signing_in(mailoutbox: list[Any]) -> None:
    client = Client()
    response = sign_up(client, "nina", "nina@example.com")
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    nina = get_user_model().objects.get(username="nina")
    assert nina.check_password(PASSWORD)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["nina@example.com"]
    assert mailoutbox[0].subject.startswith("[collab] ")
    # Not signed in until the address is confirmed, even with the right password.
    assert client.get("/").status_code == 302
    refused = Client().post("/accounts/login/", {"login": "nina", "password": PASSWORD})
    assert refused.status_code == 302 and refused["Location"] == "/accounts/confirm-email/"
    confirm = link_in(mailoutbox[0], "/accounts/confirm-email/")
    assert client.post(confirm).status_code == 302
    assert client.get("/").status_code == 200


def test_sign_up_with_a_known_email_answers_as_for_a_new_one(olga: Any, mailoutbox: list[Any]) -> None:
    fresh = sign_up(Client(), "first", "new@example.com")
    known = sign_up(Client(), "second", "olga@example.com")
    assert (known.status_code, known["Location"]) == (fresh.status_code, fresh["Location"])
    assert not get_user_model().objects.filter(username="second").exists()
    # The owner of the address learns someone tried; the visitor learns nothing.
    assert [m.to for m in mailoutbox] == [["new@example.com"], ["olga@example.com"]]
    assert "already" in mailoutbox[1].body.lower()


def test_reset_answers_the_same_for_known_and_unknown_emails(olga: Any, mailoutbox: list[Any]) -> None:
    known = Client().post("/accounts/password/reset/", {"email": "olga@example.com"})
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert mailoutbox[0].to == ["olga@example.com"]


def test_the_reset_link_sets_the_password_through_the_service(
    olga: Any, mailoutbox: list[Any], ended: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.post("/accounts/password/reset/", {"email": "olga@example.com"})
    form = client.get(link_in(mailoutbox[0], "/accounts/password/reset/key/"), follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(form.redirect_chain[-1][0], {"password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302
    olga.refresh_from_db()
    assert olga.check_password(PASSWORD) and ended == [olga.pk]


def test_changing_ones_password_ends_the_other_sockets_and_keeps_this_browser(
    olga: Any, ended: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(olga)
    fields = {"oldpassword": "the-old-password-1", "password1": PASSWORD, "password2": PASSWORD}
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/accounts/password/change/", fields)
    assert done.status_code == 302
    olga.refresh_from_db()
    assert olga.check_password(PASSWORD) and ended == [olga.pk]
    assert client.get("/").status_code == 200


def test_weak_passwords_are_refused_by_djangos_validators() -> None:
    response = Client().post(
        "/accounts/signup/",
        {"username": "weak", "email": "w@example.com", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert not get_user_model().objects.filter(username="weak").exists()


@override_settings(COLLAB_SIGNUP="invite")
def test_invite_only_turns_strangers_away(mailoutbox: list[Any]) -> None:
    client = Client()
    page = client.get("/accounts/signup/").content.decode()
    assert "Sign Up Closed" in page or "closed" in page.lower()
    sign_up(client, "stranger", "stranger@example.com")
    assert not get_user_model().objects.filter(username="stranger").exists() and mailoutbox == []
    assert "Create an account" not in client.get("/accounts/login/").content.decode()


@override_settings(COLLAB_SIGNUP="domains", COLLAB_SIGNUP_DOMAINS=["example.org"])
def test_domain_sign_up_takes_only_listed_domains(mailoutbox: list[Any]) -> None:
    refused = sign_up(Client(), "outsider", "outsider@example.com")
    assert refused.status_code == 200 and "example.org" in refused.content.decode()
    assert sign_up(Client(), "insider", "insider@EXAMPLE.org").status_code == 302
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["insider"]


def test_accounts_made_by_an_operator_sign_in_without_a_confirmation(
    olga: Any, mailoutbox: list[Any]
) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": "olga", "password": "the-old-password-1"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert mailoutbox == []


def test_failed_sign_ins_are_rate_limited(olga: Any) -> None:
    client = Client()
    bodies = [
        client.post("/accounts/login/", {"login": "olga", "password": f"wrong-{i}"}).content.decode()
        for i in range(6)
    ]
    assert all("Too many failed" not in body for body in bodies[:5]) and "Too many failed" in bodies[5]
    # The right password is refused too while the limit holds, from any browser.
    held = Client().post("/accounts/login/", {"login": "olga", "password": "the-old-password-1"})
    assert held.status_code == 200 and "Too many failed" in held.content.decode()


@override_settings(COLLAB_PASSWORD_RESET_BY_EMAIL=False)
def test_reset_switched_off_says_so_and_sends_nothing(olga: Any, mailoutbox: list[Any]) -> None:
    client = Client()
    assert "Forgot your password?" not in client.get("/accounts/login/").content.decode()
    for response in (
        client.get("/accounts/password/reset/"),
        client.post("/accounts/password/reset/", {"email": "olga@example.com"}),
    ):
        assert response.status_code == 200 and "does not send email" in response.content.decode()
    assert mailoutbox == []


def test_a_reset_that_cannot_be_queued_says_so(olga: Any, mailoutbox: list[Any]) -> None:
    """A real broker that is not there (nothing listens on the port): no claim that mail went out."""
    previous = current_app._get_current_object()
    down = Celery("collab-broker-down", broker="redis://127.0.0.1:9/0")
    down.conf.update(task_always_eager=False, task_publish_retry=False, broker_connection_timeout=2)
    down.set_current()
    try:
        response = Client().post("/accounts/password/reset/", {"email": "olga@example.com"})
    finally:
        previous.set_current()
        down.close()
    body = response.content.decode()
    assert response.status_code == 503 and "could not send" in body.lower()
    assert mailoutbox == []


def test_the_profile_saves_the_display_name_through_the_service(olga: Any) -> None:
    client = Client()
    client.force_login(olga)
    assert client.post("/accounts/profile/", {"name": "  Olga Orlova "}).status_code == 302
    olga.refresh_from_db()
    assert olga.get_full_name() == "Olga Orlova"
    too_long = client.post("/accounts/profile/", {"name": "x" * 151})
    assert too_long.status_code == 400 and "at most 150" in too_long.content.decode()
    assert "Olga Orlova" in client.get("/").content.decode()


def test_sign_out_everywhere_ends_every_session_and_socket(
    olga: Any, ended: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    nina = services.create_user(username="nina", email="nina@example.com", password=PASSWORD)
    browsers = [Client() for _ in range(3)]
    for browser in browsers:
        browser.force_login(olga)
    other = Client()
    other.force_login(nina)
    assert len(services.sessions_of(user_id=olga.pk)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = browsers[0].post("/accounts/profile/sign-out-everywhere/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    # Every socket of the account closes; the browser that asked is signed out too (its own end).
    assert ended.count(olga.pk) == 1 and len(ended) == 2 and ended[0][0] == olga.pk
    assert [browser.get("/").status_code for browser in browsers] == [302, 302, 302]
    event = AuditEvent.objects.get(action="signed_out_everywhere")
    assert (event.actor_id, event.subject_id, event.details) == (olga.pk, olga.pk, {"sessions": 3})
    assert other.get("/").status_code == 200  # someone else's sessions are untouched
    # Only a POST (with its CSRF token) signs out: a link cannot do it.
    assert other.get("/accounts/profile/sign-out-everywhere/").status_code == 405
    assert other.get("/").status_code == 200


def test_changing_the_email_takes_effect_once_the_new_address_is_confirmed(
    olga: Any, mailoutbox: list[Any]
) -> None:
    client = Client()
    client.force_login(olga)
    response = client.post("/accounts/email/", {"action_add": "", "email": "olga@new.example"})
    assert response.status_code == 302
    olga.refresh_from_db()
    assert olga.email == "olga@example.com"  # not before the new address is confirmed
    [message] = mailoutbox
    assert message.to == ["olga@new.example"]
    assert client.post(link_in(message, "/accounts/confirm-email/")).status_code == 302
    olga.refresh_from_db()
    assert olga.email == "olga@new.example"


def test_a_second_factor_is_asked_after_the_password_once_set_up(olga: Any) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
    from allauth.mfa.totp.internal.auth import yield_hotp_counters_from_time

    secret = generate_totp_secret()
    TOTP.activate(olga, secret)
    client = Client()
    step = client.post("/accounts/login/", {"login": "olga", "password": "the-old-password-1"})
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/").status_code == 302  # the password alone does not sign in
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and client.get("/").status_code == 302
    counters = list(yield_hotp_counters_from_time())
    counter = counters[len(counters) // 2]  # the current period
    code = format_hotp_value(hotp_value(secret, counter))
    done = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302 and client.get("/").status_code == 200
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200 and "Authenticator App" in page.content.decode()


def test_what_allauth_changes_on_an_account_is_recorded_through_the_services(
    olga: Any, mailoutbox: list[Any]
) -> None:
    from allauth.mfa import signals as mfa_signals
    from allauth.mfa.models import Authenticator

    client = Client()
    client.force_login(olga)
    assert client.post("/accounts/email/", {"action_add": "", "email": "olga@new.example"}).status_code == 302
    [message] = mailoutbox
    assert client.post(link_in(message, "/accounts/confirm-email/")).status_code == 302
    authenticator = Authenticator.objects.create(user=olga, type=Authenticator.Type.RECOVERY_CODES, data={})
    mfa_signals.authenticator_added.send(
        sender=Authenticator, request=None, user=olga, authenticator=authenticator
    )
    events = list(AuditEvent.objects.filter(subject=olga).order_by("id").values_list("action", "details"))
    added = EmailAddress.objects.get(email="olga@new.example").pk
    assert ("email_added", {"address": added}) in events
    assert ("email_confirmed", {"address": added}) in events
    assert ("second_factor_added", {"authenticator": authenticator.pk}) in events
    # Ids only: the audit log never keeps the addresses themselves.
    assert "olga@new.example" not in str(events)
