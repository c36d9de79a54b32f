"""Guest links on the web: the page a link opens, and the fence around a guest's account.

A guest (see `services.guests`) is signed in like anyone else, so every page and socket knows
them; `GuestMiddleware` keeps that account to its one document: its editor and history, its
API, comments and notifications, signing out. Everything else sends them back to the document.
"""

import re
from collections.abc import Callable
from typing import Any

from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .errors import CollabError, PermissionDenied, RateLimited

# Paths a guest may use besides their document's own; each checks access by itself.
GUEST_PATHS = re.compile(
    r"^/(link/|accounts/logout/|api/threads/|api/comments/|api/notifications/|static/|healthz$|readyz$)"
)


class GuestMiddleware:
    """Confine a guest's session to the document they came for (one query per request)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        document_id = selectors.guest_document_id(user=request.user)
        request.guest_document_id = document_id  # type: ignore[attr-defined]
        if document_id is None or self._allowed(request.path, str(document_id)):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            error = PermissionDenied("A guest can only use the document they were given a link to.")
            return JsonResponse({"error": error.as_dict()}, status=error.http_status)
        return redirect("document-editor", document_id=document_id)

    @staticmethod
    def _allowed(path: str, document_id: str) -> bool:
        return bool(
            GUEST_PATHS.match(path)
            or path.startswith((f"/d/{document_id}/", f"/api/documents/{document_id}/"))
        )


def guest_context(request: HttpRequest) -> dict[str, Any]:
    """Templates show a guest their name and a way out, not the account menu."""
    return {
        "is_guest": getattr(request, "guest_document_id", None) is not None,
        "guest_links": settings.COLLAB_GUEST_LINKS,
    }


def _link_gone(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "documents/not_found.html",
        {
            "title": "This link does not work",
            "message": "Its owner may have turned it off, or the document was deleted. Ask them for a new link.",
        },
        status=404,
    )


@require_http_methods(["GET", "POST"])
def open_guest_link(request: HttpRequest, token: str) -> HttpResponse:
    """The guest link: GET asks, a POST (with its CSRF token) lets the person in.

    Signed in, they join with their own account; otherwise (or signed in as another document's
    guest) they become a guest with a generated name. Guests made are rate-limited per address.
    """
    link = selectors.live_guest_link(token=token)
    if link is None:
        return _link_gone(request)
    user = request.user
    guest_of = getattr(request, "guest_document_id", None)
    as_guest = not user.is_authenticated or guest_of is not None
    if as_guest and guest_of == link.document_id:
        return redirect("document-editor", document_id=link.document_id)
    if not as_guest and selectors.role_on(user=user, document_id=link.document_id) is not None:
        return redirect("document-editor", document_id=link.document_id)
    context = {"link": link, "document": link.document, "as_guest": as_guest, "token": token}
    if request.method == "GET":
        return render(request, "documents/guest_link.html", context)
    try:
        if not as_guest:
            services.join_by_link(user=user, token=token)
        else:
            if not ratelimit.consume(request, action="guest_join"):
                raise RateLimited("Too many guests from your address; try again in a while.")
            guest = services.create_guest(token=token)
            if user.is_authenticated:
                logout(request)
            login(request, guest, backend="django.contrib.auth.backends.ModelBackend")
    except CollabError as error:
        if error.http_status == 404:
            return _link_gone(request)
        return render(
            request,
            "documents/guest_link.html",
            {**context, "error": error.message},
            status=error.http_status,
        )
    return redirect(reverse("document-editor", kwargs={"document_id": link.document_id}))
