"""The access stamp: every change to who may read a document moves it in the change's own
transaction, and the hub re-reads its readers' roles when, and only when, it moved (or a new
reader arrived), so a lost access event still never lets an op reach someone who lost access."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from documents import broadcast, services
from documents.broadcast import hub as hub_module
from documents.models import Document, Role
from documents.services import SubmitRequest

from .conftest import connected

SRC_E = "e" * 32


def _stamp(document: Any) -> int:
    return Document.objects.values_list("access_stamp", flat=True).get(pk=document.pk)


def _root() -> Any:
    return get_user_model().objects.create_user(username="root", password=None, is_staff=True)


def _guest_link_off(users: Any, document: Any) -> None:
    link = services.set_guest_link(actor=users["olga"], document_id=document.pk, role=Role.VIEWER)
    assert link is not None
    services.join_by_link(user=users["nina"], token=link.token)
    services.set_guest_link(actor=users["olga"], document_id=document.pk, role=None)


def _deactivated_in_the_admin(users: Any, document: Any) -> None:
    vera = users["vera"]
    vera.is_active = False
    services.save_user(user=vera, by_operator=True)


CHANGES: dict[str, Callable[[Any, Any], Any]] = {
    "member added": lambda u, d: services.add_member(
        actor=u["olga"], document_id=d.pk, identifier="nina", role=Role.VIEWER
    ),
    "role changed": lambda u, d: services.set_member_role(
        actor=u["olga"], document_id=d.pk, username="vera", role=Role.EDITOR
    ),
    "member removed": lambda u, d: services.remove_member(actor=u["olga"], document_id=d.pk, username="vera"),
    "member left": lambda u, d: services.remove_member(actor=u["vera"], document_id=d.pk, username="vera"),
    "role changed by an operator": lambda u, d: services.set_role_as_operator(
        operator=_root(), document_id=d.pk, user_id=u["vera"].pk, role=Role.EDITOR
    ),
    "removed by an operator": lambda u, d: services.remove_member_as_operator(
        operator=_root(), document_id=d.pk, user_id=u["vera"].pk
    ),
    "guest link turned off": _guest_link_off,
    "ownership transferred": lambda u, d: services.transfer_ownership(
        operator=_root(), document_id=d.pk, new_owner_id=u["ed"].pk
    ),
    "closed to editing": lambda u, d: services.set_editing_closed(
        operator=_root(), document_id=d.pk, closed=True
    ),
    "trashed": lambda u, d: services.delete_document(user=u["olga"], document_id=d.pk),
    "member deactivated": lambda u, d: services.set_active(user_id=u["vera"].pk, active=False),
    "member deactivated in the admin": _deactivated_in_the_admin,
    "member's account deleted": lambda u, d: services.delete_user(operator=_root(), user_id=u["vera"].pk),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_to_who_may_read_moves_the_access_stamp(users: Any, document: Any, change: str) -> None:
    before = _stamp(document)
    CHANGES[change](users, document)
    assert _stamp(document) > before


def test_a_restore_from_the_trash_moves_it_too(users: Any, document: Any) -> None:
    services.delete_document(user=users["olga"], document_id=document.pk)
    before = _stamp(document)
    services.restore_document(user=users["olga"], document_id=document.pk)
    assert _stamp(document) > before


def test_edits_titles_and_comments_leave_it_alone(users: Any, document: Any) -> None:
    before = _stamp(document)
    services.submit_batch(
        document_id=str(document.pk),
        requests=[services.clean_request(SubmitRequest(users["ed"], SRC_E, 1, 1, "edit", [{"insert": "x"}]))],
    )
    services.rename_document(user=users["olga"], document_id=document.pk, title="Renamed")
    assert _stamp(document) == before


class _CountingReads:
    """The hub's role reads, counted, each with the users it asked about."""

    def __init__(self, monkeypatch: Any) -> None:
        self.asked: list[set[Any]] = []
        real = hub_module._read_roles

        async def counting(document_ids: list[str], user_ids: list[Any]) -> Any:
            self.asked.append(set(user_ids))
            return await real(document_ids, user_ids)

        monkeypatch.setattr(hub_module, "_read_roles", counting)


async def test_the_sweep_reads_roles_for_a_new_reader_then_only_after_the_stamp_moved(
    cookies: dict[str, str], document: Any, users: Any, monkeypatch: Any
) -> None:
    reads = _CountingReads(monkeypatch)
    doc_id = str(document.pk)
    [vera] = await connected(cookies, "vera")
    await vera.subscribe(doc_id)
    await asyncio.sleep(1.6)  # three sweeps: one asks about vera, the others read nothing
    assert reads.asked == [{users["vera"].pk}]
    [ed] = await connected(cookies, "ed")
    await ed.subscribe(doc_id)
    await asyncio.sleep(1.1)  # ed is asked about alone
    assert reads.asked[1:] == [{users["ed"].pk}]
    # A change to someone else's access, its event lost: the stamp alone makes the sweep re-read.
    monkeypatch.setattr(broadcast, "publish_access_changed_on_commit", lambda **kwargs: None)
    await database_sync_to_async(services.add_member)(
        actor=users["olga"], document_id=doc_id, identifier="nina", role=Role.VIEWER
    )
    await asyncio.sleep(1.1)
    assert reads.asked[2:] == [{users["vera"].pk, users["ed"].pk}]
    assert await vera.nothing_more(0.1)  # vera's role did not change: she is told nothing
    await vera.disconnect()
    await ed.disconnect()
