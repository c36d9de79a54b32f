"""The audit log: each access-changing service appends one event; owners export it as JSON; the
admin lists it read-only and records user changes made there."""

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from documents import services
from documents.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "pw-correct-horse-42"


def user(name: str, **fields: Any) -> Any:
    return get_user_model().objects.create_user(username=name, password=PASSWORD, **fields)


def actions(document: Any) -> list[tuple[str, str, str]]:
    events = AuditEvent.objects.filter(document=document).order_by("created_at", "id")
    return [(e.actor_name, e.action, e.subject_name) for e in events]


def test_every_access_change_is_recorded_once() -> None:
    olga, eli, vik = user("olga"), user("eli"), user("vik")
    document = services.create_document(owner=olga, title="Plans", content=[{"insert": "v1\n"}])
    services.add_member(actor=olga, document_id=document.pk, identifier="eli", role="viewer")
    services.add_member(actor=olga, document_id=document.pk, identifier="eli", role="viewer")  # no change
    services.set_member_role(actor=olga, document_id=document.pk, username="eli", role="editor")
    invite = services.create_invite(actor=olga, document_id=document.pk, role="viewer")
    services.accept_invite(user=vik, token=invite.token)
    services.revoke_invite(actor=olga, document_id=document.pk, token=invite.token)
    services.remove_member(actor=olga, document_id=document.pk, username="vik")
    services.restore_version(user=eli, document_id=document.pk, version=1)
    services.delete_document(user=olga, document_id=document.pk)

    assert actions(document) == [
        ("olga", AuditAction.MEMBER_ADDED, "eli"),
        ("olga", AuditAction.ROLE_CHANGED, "eli"),
        ("olga", AuditAction.INVITE_CREATED, ""),
        ("vik", AuditAction.INVITE_ACCEPTED, ""),
        ("olga", AuditAction.INVITE_REVOKED, ""),
        ("olga", AuditAction.MEMBER_REMOVED, "vik"),
        ("eli", AuditAction.VERSION_RESTORED, ""),
        ("olga", AuditAction.DOCUMENT_DELETED, ""),
    ]
    stored = json.dumps(list(AuditEvent.objects.values("details")))
    assert invite.token not in stored  # invite links are secrets: only their ids are kept


def test_owner_exports_the_log_as_json_and_others_cannot() -> None:
    olga, eli = user("olga"), user("eli")
    document = services.create_document(owner=olga, title="Plans")
    services.add_member(actor=olga, document_id=document.pk, identifier="eli", role="editor")
    services.set_member_role(actor=olga, document_id=document.pk, username="eli", role="viewer")
    client = Client()
    client.force_login(olga)
    response = client.get(f"/api/documents/{document.pk}/audit/")
    assert response.status_code == 200
    events = response.json()["events"]
    assert [(e["actor"], e["action"], e["subject"], e["details"]) for e in events] == [
        ("olga", "role_changed", "eli", {"role": "viewer"}),
        ("olga", "member_added", "eli", {"role": "editor"}),
    ]
    assert events[0]["document"] == str(document.pk) and events[0]["description"] == "Changed a role"
    page = client.get(f"/d/{document.pk}/audit/")
    assert page.status_code == 200 and b"Changed a role" in page.content

    client.force_login(eli)  # an editor or viewer sees neither
    assert client.get(f"/api/documents/{document.pk}/audit/").status_code in (403, 404)
    assert client.get(f"/d/{document.pk}/audit/").status_code == 404


def test_admin_lists_the_log_read_only_and_audits_user_changes() -> None:
    admin = user("root", is_staff=True, is_superuser=True)
    eli = user("eli", first_name="Eli")
    client = Client()
    client.force_login(admin)
    form = client.get(f"/admin/auth/user/{eli.pk}/change/")
    assert form.status_code == 200
    response = client.post(
        f"/admin/auth/user/{eli.pk}/change/",
        {
            "username": "eli",
            "first_name": "Elias",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.get(action=AuditAction.USER_CHANGED)
    assert (event.actor_name, event.subject_name) == ("root", "eli")
    assert "First name" in event.details["change"]

    listing = client.get("/admin/documents/auditevent/?action__exact=user_changed")
    assert listing.status_code == 200 and b"eli" in listing.content
    assert client.get("/admin/documents/auditevent/add/").status_code == 403
    detail = client.get(f"/admin/documents/auditevent/{event.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content  # view only
