"""The owner's page of a document's audit log (the same events the API exports as JSON)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors
from .errors import CollabError
from .models import Role


@login_required
@require_GET
def document_audit(request: HttpRequest, document_id: Any) -> HttpResponse:
    """Who granted, changed or revoked access, used invites, restored or deleted: owners only."""
    try:
        document, _role = selectors.access_document(
            user=request.user, document_id=str(document_id), min_role=Role.OWNER
        )
    except CollabError:
        context = {
            "title": "This audit log is not available",
            "message": "Only the owner of a document can see who changed its access.",
        }
        return render(request, "documents/not_found.html", context, status=404)
    events = selectors.audit_events(document=document)
    return render(request, "documents/audit.html", {"document": document, "events": events})
