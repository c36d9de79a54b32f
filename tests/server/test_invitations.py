"""Invitations by email: single use, expiring, revocable, into the offered document and role only."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

from documents import services
from documents.errors import DocumentNotFound, PermissionDenied
from documents.models import AuditEvent, EmailInvitation, Membership, Role

# Mail goes out through a Celery task; run it here, whatever broker REDIS_URL names.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

PASSWORD = "A-long-new-pass-42"


@pytest.fixture
def olga() -> Any:
    return services.create_user(username="olga", email="olga@example.com", password=PASSWORD)


@pytest.fixture
def owner_client(olga: Any) -> Client:
    client = Client()
    client.force_login(olga)
    return client


def invite(client: Client, document_id: Any, email: str, role: str = "editor") -> Any:
    return client.post(
        f"/api/documents/{document_id}/invitations/",
        {"email": email, "role": role},
        content_type="application/json",
    )


def link_in(message: Any) -> str:
    return re.search(r"https?://[^/\s]+(/invitations/\S+/)", message.body).group(1)


@override_settings(COLLAB_SIGNUP="invite")
def test_an_invitation_leads_a_new_person_through_sign_up_into_the_document(
    olga: Any, owner_client: Client, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    document = services.create_document(owner=olga, title="Plans")
    with django_capture_on_commit_callbacks(execute=True):
        created = invite(owner_client, document.pk, "nina@example.com", "viewer")
    assert created.status_code == 201 and created.json()["email"] == "nina@example.com"
    [message] = mailoutbox
    assert message.to == ["nina@example.com"] and "Plans" in message.subject
    link = link_in(message)
    # The token is only in the email: the database keeps its hash.
    assert link.split("/")[2] not in EmailInvitation.objects.get().token_hash

    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200 and "Create your account" in page.content.decode()
    # An invite-only site opens sign-up for this address alone, and asks for no confirmation.
    other = visitor.post(
        "/accounts/signup/",
        {"username": "nina", "email": "someone@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert other.status_code == 200 and "invitation was sent to" in other.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        joined = visitor.post(
            "/accounts/signup/",
            {"username": "nina", "email": "nina@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert joined.status_code == 302 and joined["Location"] == f"/d/{document.pk}/"
    nina = get_user_model().objects.get(username="nina")
    assert Membership.objects.get(user=nina, document=document).role == Role.VIEWER
    assert visitor.get(f"/d/{document.pk}/").status_code == 200
    assert len(mailoutbox) == 1  # no confirmation email: the link came from that inbox
    # Used once: the link does not work again, for anybody.
    assert visitor.get(link).status_code == 404
    assert owner_client.get(f"/api/documents/{document.pk}/invitations/").json() == {"invitations": []}
    # The audit log says who invited whom into what, and who joined; never the token.
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor_name", "details"))
    invitation_id = EmailInvitation.objects.get().pk
    assert events[-2:] == [
        ("invitation_sent", "olga", {"invitation": invitation_id, "role": "viewer"}),
        ("invitation_accepted", "nina", {"invitation": invitation_id, "role": "viewer"}),
    ]


def test_pending_invitations_are_listed_and_revocable(
    olga: Any, owner_client: Client, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    document = services.create_document(owner=olga, title="Plans")
    with django_capture_on_commit_callbacks(execute=True):
        first = invite(owner_client, document.pk, "a@example.com").json()
        invite(owner_client, document.pk, "b@example.com", "viewer")
    listed = owner_client.get(f"/api/documents/{document.pk}/invitations/").json()["invitations"]
    assert [(i["email"], i["role"]) for i in listed] == [
        ("a@example.com", "editor"),
        ("b@example.com", "viewer"),
    ]
    assert owner_client.delete(f"/api/documents/{document.pk}/invitations/{first['id']}/").status_code == 204
    assert owner_client.delete(f"/api/documents/{document.pk}/invitations/{first['id']}/").status_code == 404
    listed = owner_client.get(f"/api/documents/{document.pk}/invitations/").json()["invitations"]
    assert [i["email"] for i in listed] == ["b@example.com"]
    assert Client().get(link_in(mailoutbox[0])).status_code == 404


def test_only_the_owner_invites_and_only_as_editor_or_viewer(olga: Any, owner_client: Client) -> None:
    document = services.create_document(owner=olga, title="Plans")
    ed = services.create_user(username="ed", email="ed@example.com", password=PASSWORD)
    services.add_member(actor=olga, document_id=document.pk, identifier="ed", role=Role.EDITOR)
    as_ed = Client()
    as_ed.force_login(ed)
    assert invite(as_ed, document.pk, "x@example.com").status_code == 403
    assert invite(owner_client, document.pk, "x@example.com", "owner").status_code == 400
    assert invite(owner_client, document.pk, "not an email").status_code == 400
    assert not EmailInvitation.objects.exists()


def test_an_invitation_grants_only_its_document_and_role_to_its_address(
    olga: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    document = services.create_document(owner=olga, title="Plans")
    services.create_document(owner=olga, title="Other")
    links = {}
    for email in ("nina@example.com", "late@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            services.invite_by_email(
                actor=olga,
                document_id=document.pk,
                email=email,
                role=Role.VIEWER,
                link_for=lambda t: f"http://x/invitations/{t}/",
            )
        links[email] = link_in(mailoutbox[-1]).split("/")[2]
    nina = services.create_user(username="nina", email="nina@example.com", password=PASSWORD)
    mallory = services.create_user(username="mallory", email="mallory@example.com", password=PASSWORD)
    # Someone else holding the link cannot use it, and sees why.
    with pytest.raises(PermissionDenied):
        services.accept_invitation(user=mallory, token=links["nina@example.com"])
    as_mallory = Client()
    as_mallory.force_login(mallory)
    assert as_mallory.post(f"/invitations/{links['nina@example.com']}/").status_code == 403
    # The invitee, already a member with a higher role, keeps it; nothing else is granted.
    services.add_member(actor=olga, document_id=document.pk, identifier="nina", role=Role.EDITOR)
    as_nina = Client()
    as_nina.force_login(nina)
    assert as_nina.post(f"/invitations/{links['nina@example.com']}/")["Location"] == f"/d/{document.pk}/"
    assert list(Membership.objects.filter(user=nina).values_list("document__title", "role")) == [
        ("Plans", "editor")
    ]
    assert not Membership.objects.filter(user=mallory).exists()
    # Expired invitations do not work.
    EmailInvitation.objects.filter(email="late@example.com").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    late = services.create_user(username="late", email="late@example.com", password=PASSWORD)
    with pytest.raises(DocumentNotFound):
        services.accept_invitation(user=late, token=links["late@example.com"])
