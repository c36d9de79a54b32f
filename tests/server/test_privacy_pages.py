"""Pages that decide who learns what: invite links need a confirmed POST."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

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
