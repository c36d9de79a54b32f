"""Closing a document to editing: every member reads as a viewer, on every path, until reopened."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from documents import selectors, services
from documents.errors import OpRejected, PermissionDenied
from documents.models import AuditAction, AuditEvent, OperationKind
from documents.services import SubmitRequest

pytestmark = pytest.mark.django_db(transaction=True)


def user(name: str, **fields: Any) -> Any:
    return get_user_model().objects.create_user(username=name, password="pw-correct-horse-42", **fields)


def edit(author: Any, document: Any, seq: int) -> Any:
    request = SubmitRequest(
        author, "closing-src", seq, document.version, OperationKind.EDIT, [{"insert": "x"}]
    )
    document.refresh_from_db()
    return services.submit_batch(document_id=str(document.pk), requests=[services.clean_request(request)])[0]


def test_closed_document_refuses_edits_and_reopens() -> None:
    olga, root = user("olga"), user("root", is_staff=True)
    document = services.create_document(owner=olga, title="Frozen", content=[{"insert": "Hi\n"}])
    with pytest.raises(PermissionDenied):
        services.set_editing_closed(operator=olga, document_id=document.pk, closed=True)  # staff only

    services.set_editing_closed(operator=root, document_id=document.pk, closed=True)
    assert selectors.access_document(user=olga, document_id=document.pk)[1] == "viewer"
    assert selectors.readers_roles(document_ids=[str(document.pk)], user_ids=[olga.pk]) == {
        str(document.pk): {olga.pk: "viewer"}
    }
    assert isinstance(edit(olga, document, 1), OpRejected)  # even from a client that ignores x-access

    services.set_editing_closed(operator=root, document_id=document.pk, closed=False)
    assert selectors.access_document(user=olga, document_id=document.pk)[1] == "owner"
    assert edit(olga, document, 1).version == 1
    assert list(AuditEvent.objects.filter(document=document).values_list("action", flat=True)) == [
        AuditAction.EDITING_REOPENED,
        AuditAction.EDITING_CLOSED,
    ]
