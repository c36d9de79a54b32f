"""The JSON API of comment threads (list and open on a document, reply, resolve, edit, delete)
and of suggestions (accept or reject them all).

Same plumbing and authorization as `documents.api`: a thread on a document the user may not
read answers exactly like one that does not exist.
"""

from typing import Any

from django.http import HttpRequest, JsonResponse

from . import selectors, services
from .api import _endpoint, _json_body
from .errors import ValidationFailed


def _list(request: HttpRequest, document_id: str) -> JsonResponse:
    return JsonResponse({"threads": selectors.threads_of(user=request.user, document_id=document_id)})


def _open(request: HttpRequest, document_id: str) -> JsonResponse:
    body = _json_body(request)
    thread = services.create_thread(
        user=request.user, document_id=document_id, body=body.get("body"), quote=body.get("quote", "")
    )
    return JsonResponse(thread, status=201)


def _resolve(request: HttpRequest, thread_id: str) -> JsonResponse:
    resolved = _json_body(request).get("resolved") is True
    return JsonResponse(
        services.set_thread_resolved(user=request.user, thread_id=thread_id, resolved=resolved)
    )


def _reply(request: HttpRequest, thread_id: str) -> JsonResponse:
    body = _json_body(request).get("body")
    return JsonResponse(
        services.reply_to_thread(user=request.user, thread_id=thread_id, body=body), status=201
    )


def _edit(request: HttpRequest, comment_id: Any) -> JsonResponse:
    body = _json_body(request).get("body")
    return JsonResponse(services.edit_comment(user=request.user, comment_id=comment_id, body=body))


def _delete(request: HttpRequest, comment_id: Any) -> JsonResponse:
    return JsonResponse(services.delete_comment(user=request.user, comment_id=comment_id))


def _resolve_suggestions(request: HttpRequest, document_id: str) -> JsonResponse:
    accept = _json_body(request).get("accept")
    if not isinstance(accept, bool):
        raise ValidationFailed("Say whether to accept (true) or reject (false) the suggestions.")
    result = services.resolve_all_suggestions(user=request.user, document_id=document_id, accept=accept)
    return JsonResponse({"version": None if result is None else result.version + 1})


def _record_review(request: HttpRequest, document_id: str) -> JsonResponse:
    """{"version": v}: the page's accept or reject op at v is labelled for history."""
    version = _json_body(request).get("version")
    return JsonResponse(
        {"review": services.record_review(user=request.user, document_id=document_id, version=version)}
    )


def _notifications(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.notifications_of(user=request.user))


def _read(request: HttpRequest) -> JsonResponse:
    unread = services.mark_read(user=request.user, ids=_json_body(request).get("ids"))
    return JsonResponse({"unread": unread})


threads = _endpoint(GET=_list, POST=_open)
notifications = _endpoint(GET=_notifications)
notifications_read = _endpoint(POST=_read)
suggestions = _endpoint(POST=_resolve_suggestions)
reviews = _endpoint(POST=_record_review)
thread_detail = _endpoint(PATCH=_resolve)
replies = _endpoint(POST=_reply)
comment_detail = _endpoint(PATCH=_edit, DELETE=_delete)
