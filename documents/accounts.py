"""Account pages through django-allauth: our policy, mail and write path plugged into its hooks.

allauth runs sign-up, sign-in, email confirmation, password reset and change; the adapter decides
who may sign up (COLLAB_SIGNUP), queues every email on Celery, and saves accounts and passwords
through `services.accounts`, so a new password ends every open editor of the account.
"""

import logging
import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from kombu.exceptions import KombuError

from . import selectors, services
from .errors import CollabError

logger = logging.getLogger(__name__)

# The document an invitation made the new account a member of, for the redirect after sign-up.
JOINED_SESSION_KEY = "collab_joined_document"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on: who the issuer may bring in is COLLAB_OIDC_DOMAINS (empty: anyone)."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        allowed = settings.COLLAB_OIDC_DOMAINS
        return not allowed or email_domain(sociallogin.user.email or "") in allowed


class AccountAdapter(DefaultAccountAdapter):
    """allauth's hooks, answered by collab's settings and services."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Open and domain-limited sites take sign-ups; invite-only ones only from an invitation."""
        if settings.COLLAB_SIGNUP in {"open", "domains"}:
            return True
        return settings.COLLAB_SIGNUP == "invite" and services.invited_email(request=request) is not None

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        invited = services.invited_email(request=self.request)
        if invited is not None and email.lower() != invited.lower():
            raise forms.ValidationError(f"Use the address the invitation was sent to: {invited}.")
        if (
            invited is None
            and settings.COLLAB_SIGNUP == "domains"
            and email_domain(email) not in settings.COLLAB_SIGNUP_DOMAINS
        ):
            allowed = ", ".join(settings.COLLAB_SIGNUP_DOMAINS)
            raise forms.ValidationError(f"Sign-up here is for addresses at {allowed}.")
        return email

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """Save through the service; someone who came with an invitation joins its document now."""
        user = super().save_user(request, user, form, commit=False)
        if not commit:
            return user
        services.save_user(user=user)
        token = request.session.pop(services.INVITATION_SESSION_KEY, None)
        if token is not None:
            try:
                membership = services.accept_invitation(user=user, token=token)
            except CollabError:
                logger.info("an invitation used for sign-up was no longer valid")
            else:
                request.session[JOINED_SESSION_KEY] = str(membership.document_id)
        return user

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        document_id = request.session.pop(JOINED_SESSION_KEY, None)
        if document_id is not None:
            return reverse("document-editor", kwargs={"document_id": document_id})
        return super().get_signup_redirect_url(request)

    def set_password(self, user: Any, password: str) -> None:
        """Reset and change both land here: the service ends the account's open sockets."""
        services.set_password(user=user, password=password)

    def get_login_stages(self) -> list[str]:
        stage = "allauth.account.stages.EmailVerificationStage"
        # Loaded by allauth when a sign-in runs: importing its stages here would be circular.
        ours = "documents.login_stages.EmailVerificationStage"
        return [ours if s == stage else s for s in super().get_login_stages()]

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render here, send from a Celery task (with retries); say so when it cannot be queued."""
        request = context.get("request")
        message = self.render_mail(template_prefix, email, {"email": email, **context})
        try:
            services.queue_email(message=message)
        except (KombuError, OSError) as exc:
            logger.error("could not queue an email (%s): %s", template_prefix, exc)
            raise ImmediateHttpResponse(
                render(request, "account/email_unavailable.html", status=503)
            ) from exc


def account_links(request: HttpRequest) -> dict[str, Any]:
    """What the header and sign-in page offer: sign-up where strangers may, reset where mail goes."""
    return {
        "signup_open": settings.COLLAB_SIGNUP in {"open", "domains"},
        "password_reset_by_email": settings.COLLAB_PASSWORD_RESET_BY_EMAIL,
        "sso_name": settings.COLLAB_OIDC_NAME if settings.COLLAB_OIDC_ISSUER else None,
    }


def password_reset(request: HttpRequest) -> HttpResponse:
    """Reset by email unless the operator switched it off; then say who can help instead."""
    from allauth.account.views import password_reset as allauth_password_reset

    if not settings.COLLAB_PASSWORD_RESET_BY_EMAIL:
        return render(request, "account/password_reset_unavailable.html")
    return allauth_password_reset(request)


# Browsers and systems named on the profile's session list, first match wins (Edge says Chrome too).
BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
# A session's "last seen" is written at most this often, so browsing does not save it on every page.
SEEN_EVERY_SECONDS = 60


def device_label(user_agent: str) -> str:
    """ "Firefox on Linux" from a User-Agent header: enough to tell one's own browsers apart."""
    browser = next((name for token, name in BROWSERS if token in user_agent), "A browser")
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    return f"{browser} on {system}" if system else browser


class SessionDeviceMiddleware:
    """Keep in each signed-in session which browser it is and when it was last used."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and getattr(request, "user", None) and request.user.is_authenticated:
            now = int(time.time())
            if now - int(session.get(selectors.SESSION_SEEN_KEY) or 0) >= SEEN_EVERY_SECONDS:
                session[selectors.SESSION_SEEN_KEY] = now
                session[selectors.SESSION_DEVICE_KEY] = device_label(
                    request.headers.get("User-Agent", "")[:512]
                )
        return response


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The account's own page: name and colour, sign-in methods, and its sessions."""
    error = None
    if request.method == "POST":
        try:
            with transaction.atomic():
                services.set_display_name(user=request.user, name=request.POST.get("name", ""))
                services.set_color(user=request.user, color=request.POST.get("color", ""))
        except CollabError as exc:
            error = exc.message
        else:
            messages.success(
                request, "Your name and colour are saved; open documents show them after a reload."
            )
            return redirect("account_profile")
    return render(
        request,
        "account/profile.html",
        {
            "error": error,
            "color": selectors.identity_of(user=request.user)["color"],
            "sessions": selectors.sessions_list(
                user_id=request.user.pk, current_key=request.session.session_key
            ),
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["POST"])
def sign_out_session(request: HttpRequest) -> HttpResponse:
    """End one of the account's sessions (another browser); its open editors close at once."""
    session_id = request.POST.get("session", "")
    try:
        services.sign_out_session(user_id=request.user.pk, session_id=session_id)
    except CollabError as exc:
        messages.error(request, exc.message)
        return redirect("account_profile")
    if session_id == selectors.session_public_id(request.session.session_key or ""):
        logout(request)
        return redirect("account_login")
    messages.success(request, "That browser is signed out.")
    return redirect("account_profile")


@login_required
@require_http_methods(["POST"])
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the account, this one included; every open editor closes at once."""
    services.sign_out_everywhere(user_id=request.user.pk)
    logout(request)  # this browser's session row is gone: start a fresh, signed-out one
    return redirect("account_login")
