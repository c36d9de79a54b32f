"""Server-rendered pages: the document list, create, the editor, history, invite links, health."""

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods

from allauth.account.adapter import get_adapter as get_account_adapter

from . import search, selectors, services
from .errors import CollabError, DocumentNotFound
from .models import Document, Role

logger = logging.getLogger(__name__)

MAX_SEARCH_LENGTH = 200


def _not_found(request: HttpRequest, *, title: str, message: str) -> HttpResponse:
    """A friendly 404 that does not say whether the thing exists."""
    return render(request, "documents/not_found.html", {"title": title, "message": message}, status=404)


def _edited_label(edited: Any, now: Any) -> str:
    return "just now" if (now - edited).total_seconds() < 60 else f"{timesince(edited, now, depth=1)} ago"


@login_required
@require_http_methods(["GET"])
def document_list(request: HttpRequest) -> HttpResponse:
    """Documents the user owns or that are shared with them, newest first; with `q`, the
    full-text search of their titles and text, best first, with highlighted snippets."""
    query = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    context: dict[str, Any] = {"query": query, "memberships": [], "hits": [], "owned_count": 0}
    now = timezone.now()
    if query:
        try:
            hits = search.search_documents(user=request.user, query=query)
        except CollabError:
            # A search no text can match (control characters): no results, marked as a bad request.
            return render(request, "documents/list.html", {**context, "query": ""}, status=400)
        context["hits"] = [{"hit": hit, "edited_label": _edited_label(hit.updated_at, now)} for hit in hits]
        return render(request, "documents/list.html", context)
    memberships = list(selectors.documents_for_user(user=request.user))
    here = selectors.visitors_of(
        document_ids=[m.document_id for m in memberships], within_seconds=selectors.visitor_ttl()
    )
    for membership in memberships:
        membership.editing_now = [
            "You" if visitor["id"] == request.user.pk else visitor["name"]
            for visitor in here.get(str(membership.document_id), [])
        ]
        membership.edited_label = _edited_label(membership.document.updated_at, now)
    context["memberships"] = memberships
    context["owned_count"] = sum(1 for m in memberships if m.role == Role.OWNER)
    context["trash_count"] = selectors.trashed_documents(user=request.user).count()
    return render(request, "documents/list.html", context)


@login_required
@require_http_methods(["GET"])
def trash(request: HttpRequest) -> HttpResponse:
    """The owner's trashed documents, with when each is purged for good and a restore button."""
    now = timezone.now()
    rows = [
        {
            "document": document,
            "deleted_label": _edited_label(document.deleted_at, now),
            "purge_at": selectors.trash_expires_at(document),
        }
        for document in selectors.trashed_documents(user=request.user)[:500]
    ]
    return render(request, "documents/trash.html", {"rows": rows, "trash_days": settings.COLLAB_TRASH_DAYS})


@login_required
@require_http_methods(["POST"])
def trash_restore(request: HttpRequest, document_id: Any) -> HttpResponse:
    """Restore one of my trashed documents and open it (a plain form post, CSRF-checked)."""
    try:
        services.restore_document(user=request.user, document_id=document_id)
    except DocumentNotFound:
        return _document_not_found(request)
    except CollabError as error:
        messages.error(request, error.message)
        return redirect("document-trash")
    return redirect("document-editor", document_id=document_id)


@login_required
@require_http_methods(["GET", "POST"])
def document_create(request: HttpRequest) -> HttpResponse:
    """Create a document from a title and open it in the editor."""
    title = request.POST.get("title", "") if request.method == "POST" else ""
    error = None
    if request.method == "POST":
        try:
            document = services.create_document(owner=request.user, title=title)
        except CollabError as exc:
            error = exc.message
        else:
            return redirect("document-editor", document_id=document.pk)
    return render(
        request, "documents/create.html", {"title": title, "error": error}, status=400 if error else 200
    )


def _open_document(request: HttpRequest, document_id: Any) -> tuple[Document, str] | None:
    """The live document and my role, or None: missing, deleted and forbidden look the same."""
    try:
        return selectors.access_document(user=request.user, document_id=document_id)
    except DocumentNotFound:
        return None


def _document_not_found(request: HttpRequest) -> HttpResponse:
    return _not_found(
        request,
        title="Document not found",
        message="This document does not exist, was deleted, or has not been shared with you.",
    )


@login_required
@require_http_methods(["GET"])
def document_editor(request: HttpRequest, document_id: Any) -> HttpResponse:
    """The collaborative editor; missing, deleted and forbidden documents all look the same."""
    found = _open_document(request, document_id)
    if found is None:
        return _document_not_found(request)
    document, role = found
    user = request.user
    config = {
        "documentId": str(document.pk),
        "role": role,
        "userId": user.pk,
        "userName": user.get_full_name() or user.get_username(),
        "userColor": selectors.identity_of(user=user)["color"],
        "username": user.get_username(),
        # Who made each suggestion: members see each other's names (see the invite page).
        "memberNames": {
            m.user_id: m.user.get_full_name() or m.user.get_username()
            for m in document.memberships.select_related("user")
        },
        # The document rides along as a routing hint only (a balancer may send every socket of one
        # document to one process; docs/operations.md): the server ignores the query string.
        "wsPath": f"/ws/?doc={document.pk}",
        # The client splits a bigger change into several ops (a long paste lands whole).
        "maxMessageBytes": settings.COLLAB_MAX_MESSAGE_BYTES,
        "maxImageBytes": settings.COLLAB_MAX_IMAGE_BYTES,
        "loginUrl": reverse("account_login"),
        "listUrl": reverse("document-list"),
    }
    return render(
        request,
        "documents/editor.html",
        {
            "document": document,
            "role": role,
            "is_owner": role == Role.OWNER,
            "can_edit": role in (Role.OWNER, Role.EDITOR),
            "editor_config": config,
        },
    )


@login_required
@require_http_methods(["GET"])
def document_history(request: HttpRequest, document_id: Any) -> HttpResponse:
    """Revisions in sessions; any version read-only, compared with now or by author; restore."""
    found = _open_document(request, document_id)
    if found is None:
        return _document_not_found(request)
    document, role = found
    can_edit = role in (Role.OWNER, Role.EDITOR)
    config = {"documentId": str(document.pk), "role": role, "canEdit": can_edit, "userId": request.user.pk}
    return render(
        request,
        "documents/history.html",
        {"document": document, "role": role, "can_edit": can_edit, "history_config": config},
    )


def _invite_not_found(request: HttpRequest) -> HttpResponse:
    return _not_found(
        request,
        title="This invite link does not work",
        message="It may have been revoked, or the document was deleted. Ask the owner for a new link.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join through an invite link: GET asks, only a POST (with its CSRF token) joins.

    A plain GET must not join: any page could otherwise make a signed-in visitor a member, and
    so show the visitor's name to the document's members.
    """
    invite = selectors.live_invite(token=token)
    if invite is None:
        return _invite_not_found(request)
    if request.method == "POST":
        try:
            membership = services.accept_invite(user=request.user, token=token)
        except DocumentNotFound:
            return _invite_not_found(request)
        return redirect("document-editor", document_id=membership.document_id)
    current = selectors.role_on(user=request.user, document_id=invite.document_id)
    if current is not None and selectors.role_allows(current, invite.role):
        return redirect("document-editor", document_id=invite.document_id)
    return render(request, "documents/invite.html", {"invite": invite, "document": invite.document})


INVITATION_GONE = {
    "title": "This invitation does not work",
    "message": "It was used already, has expired or was withdrawn. Ask the owner to invite you again.",
}


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """An emailed invitation: signed out, it leads through sign-up (or sign-in); signed in, a POST joins."""
    invitation = selectors.live_email_invitation(token=token)
    if invitation is None:
        return _not_found(request, **INVITATION_GONE)
    context = {"invitation": invitation, "document": invitation.document, "token": token}
    if not request.user.is_authenticated:
        # Sign-up opens for this address (even on an invite-only site), and the address counts as
        # confirmed: the link was read from its inbox.
        request.session[services.INVITATION_SESSION_KEY] = token
        get_account_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "documents/invitation.html", context)
    if not services.holds_address(user=request.user, email=invitation.email):
        return render(request, "documents/invitation.html", {**context, "wrong_account": True}, status=403)
    if request.method == "POST":
        try:
            membership = services.accept_invitation(user=request.user, token=token)
        except DocumentNotFound:
            return _not_found(request, **INVITATION_GONE)
        return redirect("document-editor", document_id=membership.document_id)
    return render(request, "documents/invitation.html", context)


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in notification email: a page asking to confirm, so a mail scanner's GET changes nothing."""
    if request.method == "POST":
        done = services.unsubscribe(token=token)
        return render(request, "documents/unsubscribe.html", {"done": done, "invalid": not done})
    return render(request, "documents/unsubscribe.html", {})


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
