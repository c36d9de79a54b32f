"""The trash: a deleted document is kept for COLLAB_TRASH_DAYS, restorable by its owner (and by
operators), purged by the beat task afterwards; open editors hear both ways, and renames.

Every other read path of a trashed document is not-found (tests/server/test_deleted_documents.py);
here, the owner's trash view is the one exception, and only for the owner.
"""

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from documents import selectors, services, tasks
from documents.errors import DocumentNotFound, PermissionDenied, ValidationFailed
from documents.models import AuditAction, AuditEvent, Document, Operation, SearchText

from .conftest import connected

pytestmark = pytest.mark.django_db(transaction=True)

CONTENT = [{"insert": "Budget "}, {"insert": "draft", "attributes": {"bold": True}}, {"insert": "\n"}]


def api_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/api/documents/")  # sets the csrftoken cookie
    return client


def post(client: Client, path: str) -> Any:
    return client.post(
        path, content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )


def test_the_owner_lists_and_restores_a_trashed_document_as_it_was(
    users: dict[str, Any], document: Any
) -> None:
    olga, ed = users["olga"], users["ed"]
    services.replace_content(user=ed, document_id=document.pk, content=CONTENT)
    services.delete_document(user=olga, document_id=document.pk)

    owner = api_client(olga)
    listed = owner.get("/api/trash/").json()["documents"]
    assert [(row["id"], row["title"]) for row in listed] == [(str(document.pk), "Plan")]
    deleted_at = Document.objects.get(pk=document.pk).deleted_at
    assert listed[0]["purge_at"] is not None
    assert selectors.trash_expires_at(Document.objects.get(pk=document.pk)) == deleted_at + timedelta(days=30)
    # Members other than the owner see no trash entry, and cannot restore.
    for name in ("ed", "vera", "nina"):
        other = api_client(users[name])
        assert other.get("/api/trash/").json() == {"documents": []}
        response = post(other, f"/api/trash/{document.pk}/restore/")
        assert response.status_code == 404 and response.json()["error"]["code"] == "ERR_DOC_NOT_FOUND"
        assert other.get(f"/api/documents/{document.pk}/").status_code == 404

    response = post(owner, f"/api/trash/{document.pk}/restore/")
    assert response.status_code == 200, response.content
    restored = Document.objects.get(pk=document.pk)
    assert restored.deleted_at is None and not restored.is_deleted
    assert response.json() == {"id": str(document.pk), "version": restored.version}
    assert selectors.snapshot_at(document=restored).content == CONTENT
    # Everyone it was shared with has it back, with the same role.
    assert selectors.role_on(user=ed, document_id=document.pk) == "editor"
    assert api_client(ed).get(f"/api/documents/{document.pk}/").json()["content"] == CONTENT
    # One restore in history and in the audit log.
    last = Operation.objects.filter(document=document).order_by("-version").first()
    assert (last.kind, last.restored_from, last.author_id) == ("create", restored.version - 2, olga.pk)
    sessions, _ = selectors.history_sessions(document=restored)
    assert sessions[0]["kind"] == "restore"
    assert AuditEvent.objects.filter(document=document, action=AuditAction.DOCUMENT_RESTORED).count() == 1
    assert owner.get("/api/trash/").json() == {"documents": []}
    # Restoring what is not in the trash is not found.
    assert post(owner, f"/api/trash/{document.pk}/restore/").status_code == 404


def test_a_restore_finds_the_content_after_the_op_log_was_compacted(
    users: dict[str, Any], document: Any
) -> None:
    services.replace_content(user=users["ed"], document_id=document.pk, content=CONTENT)
    services.delete_document(user=users["olga"], document_id=document.pk)
    # Retention folds every op away (cutoff in the future): the restore needs no op of the log.
    services.compact_document(document_id=document.pk, cutoff=timezone.now() + timedelta(days=1))
    assert not Operation.objects.filter(document=document).exists()
    services.restore_document(user=users["olga"], document_id=document.pk)
    assert selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content == CONTENT


def test_operators_restore_from_the_trash_and_others_cannot(users: dict[str, Any], document: Any) -> None:
    services.delete_document(user=users["olga"], document_id=document.pk)
    with pytest.raises(PermissionDenied):
        services.restore_document_as_operator(operator=users["ed"], document_id=document.pk)
    with pytest.raises(DocumentNotFound):
        services.restore_document(user=users["ed"], document_id=document.pk)
    root = get_user_model().objects.create_user("root", "root@example.com", None, is_staff=True)
    services.restore_document_as_operator(operator=root, document_id=document.pk)
    assert not Document.objects.get(pk=document.pk).is_deleted
    event = AuditEvent.objects.get(document=document, action=AuditAction.DOCUMENT_RESTORED)
    assert event.actor == root
    with pytest.raises(ValidationFailed):
        services.restore_document_as_operator(operator=root, document_id=document.pk)


def test_the_trash_page_shows_only_my_trashed_documents_and_restores_by_post(
    users: dict[str, Any], document: Any
) -> None:
    mine = services.create_document(owner=users["ed"], title="Ed's <b>notes</b>")
    services.delete_document(user=users["ed"], document_id=mine.pk)
    services.delete_document(user=users["olga"], document_id=document.pk)
    client = Client()
    client.force_login(users["ed"])
    page = client.get("/trash/").content.decode()
    assert "Ed&#x27;s &lt;b&gt;notes&lt;/b&gt;" in page and "Plan" not in page
    assert client.get(f"/trash/{mine.pk}/restore/").status_code == 405
    # Someone else's trashed document: the same not-found page as anything missing.
    assert client.post(f"/trash/{document.pk}/restore/").status_code == 404
    response = client.post(f"/trash/{mine.pk}/restore/")
    assert response.status_code == 302 and response["Location"] == f"/d/{mine.pk}/"
    assert not Document.objects.get(pk=mine.pk).is_deleted


def test_the_beat_task_purges_only_what_outlived_the_trash_period(
    users: dict[str, Any], document: Any, settings: Any
) -> None:
    olga = users["olga"]
    old = services.create_document(owner=olga, title="Old", content=[{"insert": "old\n"}])
    recent = services.create_document(owner=olga, title="Recent", content=[{"insert": "recent\n"}])
    for doc in (old, recent):
        services.delete_document(user=olga, document_id=doc.pk)
    now = timezone.now()
    Document.objects.filter(pk=old.pk).update(deleted_at=now - timedelta(days=30, minutes=1))
    Document.objects.filter(pk=recent.pk).update(deleted_at=now - timedelta(days=29, hours=23))

    settings.COLLAB_TRASH_DAYS = 0  # Kept until restored.
    assert tasks.purge_expired_trash() == 0
    settings.COLLAB_TRASH_DAYS = 30
    assert tasks.purge_expired_trash() == 1
    assert not Document.objects.filter(pk=old.pk).exists()
    assert not SearchText.objects.filter(document_id=old.pk).exists()
    assert Document.objects.filter(pk=recent.pk).exists() and Document.objects.filter(pk=document.pk).exists()
    assert tasks.purge_expired_trash() == 0
    assert "purge-expired-trash" in settings.CELERY_BEAT_SCHEDULE


async def test_open_editors_hear_the_trash_both_ways_and_renames(
    cookies: dict[str, str], users: dict[str, Any], document: Any
) -> None:
    doc_id = str(document.pk)
    ed, vera, nina = await connected(cookies, "ed", "vera", "nina")
    await ed.subscribe(doc_id)
    # Vera has the list open elsewhere (no subscription); Nina is not a member.

    await database_sync_to_async(services.rename_document)(
        user=users["olga"], document_id=doc_id, title="Q3 plan"
    )
    assert await ed.recv() == {"a": "x-title", "c": "documents", "d": doc_id, "title": "Q3 plan"}
    assert await vera.nothing_more()

    await database_sync_to_async(services.delete_document)(user=users["olga"], document_id=doc_id)
    frames = await ed.recv_until(lambda m: m.get("a") == "x-trash")
    assert frames[0].get("del") is True and frames[-1] == {
        "a": "x-trash",
        "c": "documents",
        "d": doc_id,
        "trashed": True,
    }
    assert (await vera.recv())["trashed"] is True
    # The subscription of a trashed document is let go.
    await ed.recv_until(lambda m: m.get("a") == "x-access" and m["role"] is None)

    await database_sync_to_async(services.restore_document)(user=users["olga"], document_id=doc_id)
    back = await ed.recv_until(lambda m: m.get("a") == "x-trash")
    assert back[-1]["trashed"] is False
    assert (await vera.recv())["trashed"] is False
    assert await nina.nothing_more()
    # Subscribing again reads it as it was.
    [reply] = await ed.subscribe(doc_id)
    assert reply["data"]["data"] == {"ops": [{"insert": "Hello\n"}]}
    for client in (ed, vera, nina):
        await client.disconnect()


async def test_an_operator_rename_reaches_open_editors(
    cookies: dict[str, str], users: dict[str, Any], document: Any
) -> None:
    doc_id = str(document.pk)
    [vera] = await connected(cookies, "vera")
    await vera.subscribe(doc_id)
    root = await database_sync_to_async(get_user_model().objects.create_user)(
        "root", None, None, is_staff=True
    )
    await database_sync_to_async(services.rename_document_as_operator)(
        operator=root, document_id=doc_id, title="  Renamed\tby ops "
    )
    assert await vera.recv() == {"a": "x-title", "c": "documents", "d": doc_id, "title": "Renamed by ops"}
    await vera.disconnect()
