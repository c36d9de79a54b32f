"""The JSON API of full-text search and of the trash (list the owner's trashed documents, restore).

Same plumbing as `documents.api`. Search reads only documents the user can read; the trash
only the user's own trashed documents, and anything else answers like a missing document.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from . import search, selectors, services
from .api import _endpoint, _int_param
from .models import Document


def _search(request: HttpRequest) -> HttpResponse:
    limit = _int_param(request, "limit", 20, maximum=search.MAX_RESULTS) or 20
    hits = search.search_documents(user=request.user, query=request.GET.get("q", ""), limit=limit)
    return JsonResponse({"results": [hit.as_dict() for hit in hits]})


def trashed_json(document: Document) -> dict[str, Any]:
    return {
        "id": str(document.pk),
        "title": document.title,
        "deleted_at": document.deleted_at,
        "purge_at": selectors.trash_expires_at(document),
    }


def _list_trash(request: HttpRequest) -> HttpResponse:
    documents = selectors.trashed_documents(user=request.user)[:500]
    return JsonResponse({"documents": [trashed_json(document) for document in documents]})


def _restore(request: HttpRequest, document_id: str) -> HttpResponse:
    result = services.restore_document(user=request.user, document_id=document_id)
    return JsonResponse({"id": document_id, "version": result.version + 1})


search_documents = _endpoint(GET=_search)
trash = _endpoint(GET=_list_trash)
trash_restore = _endpoint(POST=_restore)
