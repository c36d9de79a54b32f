"""Mentions and replies notify members only, live and by one batched email with an unsubscribe link."""

import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.test import Client

from documents import services
from documents.models import Notification, Role
from documents.tasks import send_notification_email

from .conftest import ProtocolClient, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The users whose email task was queued after a commit (sent here by calling the service)."""
    users: list[int] = []
    monkeypatch.setattr(send_notification_email, "apply_async", lambda args, **_: users.append(args[0]))
    return users


def send(user: Any) -> int:
    return services.send_notification_email(user_id=user.pk, base_url="https://collab.example")


def test_mentions_and_replies_notify_members_but_never_the_author_or_outsiders(
    users: dict[str, Any], document: Any, queued: list[int]
) -> None:
    # ed edits, vera views, nina is not a member (tests/server/conftest.py).
    thread = services.create_thread(
        user=users["ed"], document_id=document.pk, body="@vera and @nina, see this. @ed", quote="Hello"
    )
    assert set(Notification.objects.values_list("user__username", "reason")) == {("vera", "mention")}
    services.reply_to_thread(user=users["olga"], thread_id=thread["id"], body="Agreed.")
    assert set(Notification.objects.filter(reason="reply").values_list("user__username", flat=True)) == {"ed"}
    assert sorted(queued) == sorted([users["vera"].pk, users["ed"].pk])


def test_one_email_for_several_with_a_working_unsubscribe_link(
    users: dict[str, Any], document: Any, queued: list[int]
) -> None:
    for body in ("@vera first", "@vera second"):
        services.create_thread(user=users["ed"], document_id=document.pk, body=body, quote="Hello")
    assert send(users["vera"]) == 2 and send(users["vera"]) == 0
    [message] = mail.outbox
    assert message.to == ["vera@example.com"] and message.subject == "2 new comments for you"
    assert "“Plan”" in message.body and "first" in message.body and "second" in message.body
    link = re.search(r"https://collab\.example(/notifications/unsubscribe/[^/\s]+/)", message.body).group(1)
    client = Client()
    assert b"data-unsubscribe" in client.get(link).content  # a GET changes nothing
    assert b"data-unsubscribed" in client.post(link).content
    services.create_thread(user=users["ed"], document_id=document.pk, body="@vera third", quote="Hello")
    assert send(users["vera"]) == 0 and len(mail.outbox) == 1
    assert Notification.objects.filter(user=users["vera"]).count() == 3  # still in the app


def test_no_email_or_listing_once_access_is_gone(
    users: dict[str, Any], document: Any, queued: list[int]
) -> None:
    services.create_thread(user=users["ed"], document_id=document.pk, body="@vera look", quote="Hello")
    services.remove_member(actor=users["olga"], document_id=document.pk, username="vera")
    assert send(users["vera"]) == 0 and mail.outbox == []
    client = Client()
    client.force_login(users["vera"])
    assert client.get("/api/notifications/").json() == {"unread": 0, "notifications": []}


def test_the_notifications_api(users: dict[str, Any], document: Any, queued: list[int]) -> None:
    services.create_thread(user=users["ed"], document_id=document.pk, body="@vera look", quote="Hello")
    client = Client()
    client.force_login(users["vera"])
    listing = client.get("/api/notifications/").json()
    assert listing["unread"] == 1
    [item] = listing["notifications"]
    assert item["reason"] == "mention" and item["document"]["title"] == "Plan" and item["author"] == "ed"
    response = client.post("/api/notifications/read/", {}, content_type="application/json")
    assert response.json() == {"unread": 0}
    assert client.get("/api/notifications/").json()["notifications"][0]["read"] is True


async def test_the_unread_count_reaches_open_pages(
    users: dict[str, Any], document: Any, queued: list[int]
) -> None:
    vera = ProtocolClient(await database_sync_to_async(session_cookie)(users["vera"]))
    await vera.handshake()
    await database_sync_to_async(services.create_thread)(
        user=users["ed"], document_id=document.pk, body="@vera look", quote="Hello"
    )
    assert await vera.recv() == {"a": "x-notify", "unread": 1}
    await database_sync_to_async(services.mark_read)(user=users["vera"])
    assert await vera.recv() == {"a": "x-notify", "unread": 0}
    await vera.disconnect()


def test_a_commenter_mentioned_is_notified(users: dict[str, Any], document: Any, queued: list[int]) -> None:
    services.set_member_role(
        actor=users["olga"], document_id=document.pk, username="vera", role=Role.COMMENTER
    )
    thread = services.create_thread(user=users["vera"], document_id=document.pk, body="@olga why?", quote="H")
    services.reply_to_thread(user=users["ed"], thread_id=thread["id"], body="Because.")
    assert set(Notification.objects.values_list("user__username", "reason")) == {
        ("olga", "mention"),
        ("vera", "reply"),  # a mention alone does not make olga a participant of the thread
    }


def test_the_owners_picker_offers_people_they_already_share_with_and_inviting_makes_the_mention_land(
    users: dict[str, Any], document: Any, queued: list[int]
) -> None:
    olga, nina = users["olga"], users["nina"]
    other = services.create_document(owner=olga, title="Other")
    services.add_member(actor=olga, document_id=other.pk, identifier="nina", role=Role.VIEWER)
    stranger = services.create_user(username="stan", email="stan@example.com")
    owner = Client()
    owner.force_login(olga)
    people = owner.get(f"/api/documents/{document.pk}/people/").json()["people"]
    # nina shares Olga's other document; members here (ed, vera) and strangers are not offered.
    assert people == [{"username": "nina", "name": "nina"}]
    assert stranger.username not in str(people)
    editor = Client()
    editor.force_login(users["ed"])
    assert editor.get(f"/api/documents/{document.pk}/people/").status_code == 403
    # Choosing her adds her as a commenter, so the mention then notifies her.
    added = owner.post(
        f"/api/documents/{document.pk}/members/",
        {"username": "nina", "role": "commenter"},
        content_type="application/json",
    )
    assert added.status_code == 202
    services.create_thread(user=olga, document_id=document.pk, body="@nina can you check?", quote="Hello")
    assert list(Notification.objects.filter(user=nina).values_list("reason", flat=True)) == ["mention"]
    assert owner.get(f"/api/documents/{document.pk}/people/").json()["people"] == []
