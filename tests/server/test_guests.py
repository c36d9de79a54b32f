"""Guest links ("anyone with the link"): who gets in, as whom, what they may do, and how it ends."""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.test import Client, override_settings

from documents import selectors, services
from documents.errors import DocumentNotFound, PermissionDenied, ValidationFailed
from documents.models import AuditAction, AuditEvent, Guest, GuestLink, Membership, Operation, Role

from .conftest import ProtocolClient, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def turn_on(users: Any, document: Any, role: str = Role.EDITOR) -> GuestLink:
    link = services.set_guest_link(actor=users["olga"], document_id=document.pk, role=role)
    assert link is not None
    return link


def join_as_guest(token: str) -> tuple[Client, Any]:
    """Open the link in a fresh browser and continue as a guest: the client and its user."""
    browser = Client()
    assert browser.get(f"/link/{token}/").status_code == 200  # a GET only asks
    answer = browser.post(f"/link/{token}/")
    assert answer.status_code == 302, answer.content
    user = Guest.objects.latest("created_at").user
    return browser, user


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def test_the_owner_turns_the_link_on_over_the_api_and_a_stranger_joins_as_a_named_guest(
    users: Any, document: Any
) -> None:
    owner = Client()
    owner.force_login(users["olga"])
    url = f"/api/documents/{document.pk}/guest-link/"
    assert owner.get(url).json() == {"available": True, "role": None, "url": None, "joined": 0}
    link = owner.put(url, {"role": "editor"}, content_type="application/json").json()
    assert link["role"] == "editor" and link["url"].endswith("/") and link["joined"] == 0
    token = link["url"].rstrip("/").rsplit("/", 1)[1]

    browser, guest = join_as_guest(token)
    assert guest.get_full_name().startswith("Guest ") and not guest.has_usable_password() and not guest.email
    assert selectors.access_document(user=guest, document_id=document.pk)[1] == Role.EDITOR
    # The one identity the socket reads: a guest, so its ops get COLLAB_GUEST_OP_RATE.
    assert selectors.identity_of(user=guest)["guest"] is True
    assert selectors.identity_of(user=users["olga"])["guest"] is False
    assert browser.get(f"/d/{document.pk}/").status_code == 200
    assert owner.get(url).json()["joined"] == 1
    # Counted apart from the people given access by name.
    assert "guest" not in str(owner.get(f"/api/documents/{document.pk}/members/").json())
    assert AuditEvent.objects.filter(action=AuditAction.GUEST_JOINED, actor=guest).exists()
    # Opening the link again goes straight in, as the same guest.
    assert browser.get(f"/link/{token}/")["Location"] == f"/d/{document.pk}/"
    assert Guest.objects.count() == 1


def test_only_the_owner_changes_the_link_and_roles_are_checked(users: Any, document: Any) -> None:
    editor = Client()
    editor.force_login(users["ed"])
    answer = editor.put(
        f"/api/documents/{document.pk}/guest-link/", {"role": "editor"}, content_type="application/json"
    )
    assert answer.status_code == 403 and not GuestLink.objects.exists()
    with pytest.raises(ValidationFailed):
        services.set_guest_link(actor=users["olga"], document_id=document.pk, role="owner")
    with pytest.raises(DocumentNotFound):
        services.set_guest_link(actor=users["nina"], document_id=document.pk, role="viewer")


def test_a_guest_is_fenced_into_their_document(users: Any, document: Any) -> None:
    other = services.create_document(owner=users["olga"], title="Private")
    browser, guest = join_as_guest(turn_on(users, document, Role.VIEWER).token)
    home = f"/d/{document.pk}/"
    for page in ("/", "/documents/new/", "/accounts/profile/", "/accounts/password/change/", "/admin/"):
        assert browser.get(page)["Location"] == home, page
    assert browser.get(f"/d/{other.pk}/")["Location"] == home
    assert browser.get("/api/documents/").status_code == 403
    assert browser.post("/api/documents/", {"title": "x"}, content_type="application/json").status_code == 403
    assert browser.get(f"/api/documents/{document.pk}/").json()["role"] == Role.VIEWER
    assert browser.get(f"/d/{document.pk}/history/").status_code == 200
    # The owner cannot add a guest by name, so a guest account never reaches another document.
    services.add_member(actor=users["olga"], document_id=other.pk, identifier=guest.username, role="editor")
    assert not Membership.objects.filter(document=other, user=guest).exists()


def test_turning_the_link_off_ends_access_and_an_old_link_stays_dead(users: Any, document: Any) -> None:
    first = turn_on(users, document)
    browser, guest = join_as_guest(first.token)
    services.add_member(actor=users["olga"], document_id=document.pk, identifier="nina", role="viewer")
    assert services.set_guest_link(actor=users["olga"], document_id=document.pk, role=None) is None
    assert selectors.role_on(user=guest, document_id=document.pk) is None
    assert selectors.role_on(user=users["nina"], document_id=document.pk) == Role.VIEWER  # named: kept
    assert browser.get(f"/link/{first.token}/").status_code == 404
    again = turn_on(users, document)
    assert again.token != first.token
    assert Client().get(f"/link/{first.token}/").status_code == 404
    assert selectors.role_on(user=guest, document_id=document.pk) is None  # needs the new link


def test_a_signed_in_person_joins_with_their_account_until_the_link_goes(users: Any, document: Any) -> None:
    link = turn_on(users, document, Role.COMMENTER)
    nina = Client()
    nina.force_login(users["nina"])
    assert b"Open as nina" in nina.get(f"/link/{link.token}/").content
    assert nina.post(f"/link/{link.token}/")["Location"] == f"/d/{document.pk}/"
    assert not Guest.objects.exists()
    assert selectors.role_on(user=users["nina"], document_id=document.pk) == Role.COMMENTER
    # A member by name keeps their own role; the link's role follows the link.
    vera = Client()
    vera.force_login(users["vera"])
    assert vera.get(f"/link/{link.token}/")["Location"] == f"/d/{document.pk}/"
    services.set_guest_link(actor=users["olga"], document_id=document.pk, role=Role.EDITOR)
    assert selectors.role_on(user=users["nina"], document_id=document.pk) == Role.EDITOR
    assert selectors.role_on(user=users["vera"], document_id=document.pk) == Role.VIEWER
    services.set_guest_link(actor=users["olga"], document_id=document.pk, role=None)
    assert selectors.role_on(user=users["nina"], document_id=document.pk) is None
    assert selectors.role_on(user=users["vera"], document_id=document.pk) == Role.VIEWER


def test_the_operator_switch_turns_every_link_off_at_once(users: Any, document: Any) -> None:
    link = turn_on(users, document)
    _browser, guest = join_as_guest(link.token)
    with override_settings(COLLAB_GUEST_LINKS=False):
        assert selectors.role_on(user=guest, document_id=document.pk) is None
        assert selectors.readers_roles(document_ids=[str(document.pk)], user_ids=[guest.pk]) == {
            str(document.pk): {}
        }
        assert Client().get(f"/link/{link.token}/").status_code == 404
        with pytest.raises(PermissionDenied):
            services.set_guest_link(actor=users["olga"], document_id=document.pk, role=Role.VIEWER)
        with pytest.raises(DocumentNotFound):
            services.submit_operation(
                user=guest,
                document_id=document.pk,
                src="g" * 32,
                seq=1,
                base_version=1,
                kind="edit",
                data=[{"insert": "x"}],
            )
    assert selectors.role_on(user=guest, document_id=document.pk) == Role.EDITOR


def test_guests_are_rate_limited_per_address_and_capped_per_document(users: Any, document: Any) -> None:
    link = turn_on(users, document)
    made = [Client().post(f"/link/{link.token}/").status_code for _ in range(11)]
    assert made == [302] * 10 + [429]
    assert Guest.objects.count() == 10
    cache.clear()
    with override_settings(COLLAB_MAX_GUESTS_PER_DOCUMENT=10):
        answer = Client().post(f"/link/{link.token}/")
    assert answer.status_code == 403 and b"as many guests" in answer.content
    assert Guest.objects.count() == 10


async def test_a_guest_edits_live_under_their_name_and_loses_the_open_socket_when_the_link_goes(
    users: Any, document: Any
) -> None:
    doc_id = str(document.pk)
    link = await database_sync_to_async(turn_on)(users, document)
    _browser, guest = await database_sync_to_async(join_as_guest)(link.token)
    guest_socket = ProtocolClient(await database_sync_to_async(session_cookie)(guest))
    ed = ProtocolClient(await database_sync_to_async(session_cookie)(users["ed"]))
    for client in (guest_socket, ed):
        await client.handshake()
        await client.subscribe(doc_id)
    await guest_socket.submit(doc_id, 1, 1, [{"retain": 5}, {"insert": " from a guest"}])
    [seen] = await ed.recv_until(lambda m: m.get("a") == "op")
    assert seen["op"] == [{"retain": 5}, {"insert": " from a guest"}]
    author = await database_sync_to_async(
        lambda: Operation.objects.get(document_id=doc_id, version=1).author_id
    )()
    assert author == guest.pk  # the op log attributes it to the guest
    who = await database_sync_to_async(selectors.visitors_of)(document_ids=[doc_id], within_seconds=60)
    assert guest.get_full_name() in {person["name"] for person in who[doc_id]}

    await database_sync_to_async(services.set_guest_link)(actor=users["olga"], document_id=doc_id, role=None)
    assert await guest_socket.recv() == {"a": "x-access", "c": "documents", "d": doc_id, "role": None}
    await guest_socket.send(
        {"a": "op", "c": "documents", "d": doc_id, "v": 2, "seq": 2, "op": [{"insert": "X"}]}
    )
    assert (await guest_socket.recv())["error"]["code"] in {"ERR_DOC_NOT_FOUND", "ERR_OP_SUBMIT_REJECTED"}
    assert await ed.nothing_more(0.3)  # ed keeps the document and sees nothing from the guest
    for client in (guest_socket, ed):
        await client.disconnect()


def test_a_named_grant_outlasts_the_link_someone_first_came_through(users: Any, document: Any) -> None:
    link = turn_on(users, document, Role.VIEWER)
    services.join_by_link(user=users["nina"], token=link.token)
    services.add_member(actor=users["olga"], document_id=document.pk, identifier="nina", role=Role.VIEWER)
    invite = services.create_invite(actor=users["olga"], document_id=document.pk, role=Role.COMMENTER)
    nobody = services.create_user(username="nobody", email="nobody@example.com")
    services.join_by_link(user=nobody, token=link.token)
    services.accept_invite(user=nobody, token=invite.token)
    services.set_guest_link(actor=users["olga"], document_id=document.pk, role=None)
    assert selectors.role_on(user=users["nina"], document_id=document.pk) == Role.VIEWER
    assert selectors.role_on(user=nobody, document_id=document.pk) == Role.COMMENTER


def test_nobody_joins_through_a_link_turned_off_or_changed_while_they_were_joining(
    users: Any, document: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from documents.services import guests as guest_service

    link = turn_on(users, document, Role.EDITOR)
    read = guest_service.live_guest_link

    # The link is read, then turned off before the joining transaction takes the lock.
    def read_then_turn_off(*, token: Any) -> Any:
        found = read(token=token)
        services.set_guest_link(actor=users["olga"], document_id=document.pk, role=None)
        return found

    monkeypatch.setattr(guest_service, "live_guest_link", read_then_turn_off)
    with pytest.raises(DocumentNotFound):
        services.create_guest(token=link.token)
    with pytest.raises(DocumentNotFound):
        services.join_by_link(user=users["nina"], token=link.token)
    assert not Membership.objects.filter(document=document, via_link=True).exists()
    assert not Guest.objects.exists()
