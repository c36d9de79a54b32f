"""The JSON API used by the browser UI, scripts and tests: parse, call selectors/services, serialize.

Session authentication with Django's CSRF protection on: unsafe methods need the `X-CSRFToken`
header carrying the `csrftoken` cookie, which every response here sets. Errors are
`{"error": {"code", "message"}}` with the status of the CollabError raised; a document the user
may not see answers exactly like one that does not exist.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import ensure_csrf_cookie

from . import selectors, services
from .errors import CollabError, DocumentNotFound, MessageBadlyFormed, ValidationFailed
from .models import Document, Invite, Membership, Role

logger = logging.getLogger(__name__)

# CSRF failures under this prefix answer JSON instead of Django's HTML page.
API_PREFIX = "/api/"

Handler = Callable[..., HttpResponse]


class NotAuthenticated(CollabError):
    """The request has no signed-in session."""

    code = "ERR_NOT_AUTHENTICATED"
    http_status = 401
    default_message = "Sign in to use the API."


class MethodNotAllowed(CollabError):
    """The endpoint does not answer this HTTP method."""

    code = "ERR_METHOD_NOT_ALLOWED"
    http_status = 405
    default_message = "This method is not allowed here."


class CsrfFailed(CollabError):
    """The unsafe request lacks a valid CSRF token (or comes from an untrusted origin)."""

    code = "ERR_CSRF_FAILED"
    http_status = 403
    default_message = "CSRF verification failed; send the csrftoken cookie's value as X-CSRFToken."


# --- Plumbing ---------------------------------------------------------------------------------


def error_response(error: CollabError) -> JsonResponse:
    return JsonResponse({"error": error.as_dict()}, status=error.http_status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a JSON error for the API, Django's page everywhere else."""
    if request.path.startswith(API_PREFIX):
        return error_response(CsrfFailed())
    return django_csrf_failure(request, reason=reason)


def _endpoint(**handlers: Handler) -> Callable[..., HttpResponse]:
    """Build a view that dispatches on the HTTP method to `handlers` (GET=..., POST=...)."""
    allowed = ", ".join(sorted(handlers))

    @ensure_csrf_cookie
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is None:
            response: HttpResponse = error_response(MethodNotAllowed())
            response["Allow"] = allowed
            return response
        if not request.user.is_authenticated:
            return error_response(NotAuthenticated())
        try:
            return handler(request, **kwargs)
        except CollabError as error:
            return error_response(error)
        except Exception:
            logger.exception("API %s %s failed", request.method, request.path)
            response = error_response(CollabError("Internal error."))
            response.status_code = 500
            return response

    return view


def _json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; an empty body counts as `{}`."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise MessageBadlyFormed("The request body is too large.") from None
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MessageBadlyFormed("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MessageBadlyFormed("The request body must be a JSON object.")
    return data


def _visible_document(
    request: HttpRequest, document_id: str, min_role: str = Role.VIEWER
) -> tuple[Document, str]:
    """The live document and my role; deleted, missing and forbidden all look the same."""
    document, role = selectors.access_document(user=request.user, document_id=document_id, min_role=min_role)
    if document.is_deleted:
        raise DocumentNotFound()
    return document, role


def _display_name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


# --- Serializers ------------------------------------------------------------------------------


def _document_json(document: Document, role: str) -> dict[str, Any]:
    return {
        "id": str(document.pk),
        "title": document.title,
        "owner": {"username": document.owner.get_username(), "name": _display_name(document.owner)},
        "role": role,
        "version": document.version,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
    }


def _member_json(membership: Membership) -> dict[str, Any]:
    user = membership.user
    return {
        "username": user.get_username(),
        "name": _display_name(user),
        "email": user.email,
        "role": membership.role,
    }


def _invite_json(request: HttpRequest, invite: Invite) -> dict[str, Any]:
    return {
        "token": invite.token,
        "role": invite.role,
        "url": request.build_absolute_uri(reverse("invite-accept", kwargs={"token": invite.token})),
        "created_at": invite.created_at,
    }


# --- Documents --------------------------------------------------------------------------------


def _list_documents(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    memberships = selectors.documents_for_user(user=request.user, search=search)
    return JsonResponse({"documents": [_document_json(m.document, m.role) for m in memberships]})


def _create_document(request: HttpRequest) -> HttpResponse:
    body = _json_body(request)
    content = body.get("content")
    # Accept a bare ops list or a Delta-shaped {"ops": [...]}; the service validates either way.
    if isinstance(content, dict) and "ops" in content:
        content = content["ops"]
    document = services.create_document(
        owner=request.user, title=body.get("title", "Untitled"), content=content
    )
    state = selectors.snapshot_at(document=document)
    return JsonResponse({**_document_json(document, Role.OWNER.value), "content": state.content}, status=201)


def _get_document(request: HttpRequest, document_id: str) -> HttpResponse:
    document, role = _visible_document(request, document_id)
    state = selectors.snapshot_at(document=document)
    return JsonResponse({**_document_json(document, role), "content": state.content})


def _rename_document(request: HttpRequest, document_id: str) -> HttpResponse:
    _document, role = _visible_document(request, document_id)
    body = _json_body(request)
    if "title" not in body:
        raise ValidationFailed("Give the new title.")
    document = services.rename_document(user=request.user, document_id=document_id, title=body["title"])
    return JsonResponse(_document_json(document, role))


def _delete_document(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    services.delete_document(user=request.user, document_id=document_id)
    return HttpResponse(status=204)


# --- Members ----------------------------------------------------------------------------------


def _list_members(request: HttpRequest, document_id: str) -> HttpResponse:
    document, _role = _visible_document(request, document_id)
    return JsonResponse({"members": [_member_json(m) for m in selectors.members_of(document=document)]})


def _add_member(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    body = _json_body(request)
    membership = services.add_member(
        actor=request.user, document_id=document_id, identifier=body.get("username"), role=body.get("role")
    )
    return JsonResponse(_member_json(membership), status=201)


def _change_member(request: HttpRequest, document_id: str, username: str) -> HttpResponse:
    _visible_document(request, document_id)
    body = _json_body(request)
    membership = services.set_member_role(
        actor=request.user, document_id=document_id, username=username, role=body.get("role")
    )
    return JsonResponse(_member_json(membership))


def _remove_member(request: HttpRequest, document_id: str, username: str) -> HttpResponse:
    _visible_document(request, document_id)
    services.remove_member(actor=request.user, document_id=document_id, username=username)
    return HttpResponse(status=204)


# --- Invite links -----------------------------------------------------------------------------


def _list_invites(request: HttpRequest, document_id: str) -> HttpResponse:
    document, _role = _visible_document(request, document_id, min_role=Role.OWNER)
    active = document.invites.filter(revoked_at__isnull=True).order_by("created_at")
    return JsonResponse({"invites": [_invite_json(request, invite) for invite in active]})


def _create_invite(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    body = _json_body(request)
    invite = services.create_invite(actor=request.user, document_id=document_id, role=body.get("role"))
    return JsonResponse(_invite_json(request, invite), status=201)


def _revoke_invite(request: HttpRequest, document_id: str, token: str) -> HttpResponse:
    _visible_document(request, document_id)
    services.revoke_invite(actor=request.user, document_id=document_id, token=token)
    return HttpResponse(status=204)


documents = _endpoint(GET=_list_documents, POST=_create_document)
document_detail = _endpoint(GET=_get_document, PATCH=_rename_document, DELETE=_delete_document)
members = _endpoint(GET=_list_members, POST=_add_member)
member_detail = _endpoint(PATCH=_change_member, DELETE=_remove_member)
invites = _endpoint(GET=_list_invites, POST=_create_invite)
invite_detail = _endpoint(DELETE=_revoke_invite)
