"""A deleted document is not found on every read path, and only its owner may bring it back.

The WebSocket reads (`f`, `s`, `bf`, `nf`, `nt`) and the HTTP pages and API all answer not-found;
members cannot read the content it had before the delete, nor undo the delete with a `create`.
"""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from documents import selectors, services
from documents.models import Document, Operation

from .conftest import connected

pytestmark = pytest.mark.django_db(transaction=True)

NOT_FOUND = "ERR_DOC_NOT_FOUND"


@database_sync_to_async
def delete(users: dict[str, Any], document: Any) -> None:
    services.replace_content(user=users["ed"], document_id=document.pk, content=[{"insert": "Secret\n"}])
    services.delete_document(user=users["olga"], document_id=document.pk)


@database_sync_to_async
def stored(document_id: Any) -> tuple[int, str, Any]:
    document = Document.objects.get(pk=document_id)
    state = selectors.snapshot_at(document=document)
    return document.version, state.type, state.content


@pytest.mark.parametrize(
    "frame",
    [
        {"a": "f", "v": None},
        {"a": "s", "v": None},
        {"a": "nf", "v": 2, "id": 1},
        {"a": "nf", "v": None, "id": 2},
        {"a": "nt", "ts": None, "id": 3},
        {"a": "nt", "ts": 4_102_444_800_000, "id": 4},
    ],
    ids=[
        "fetch",
        "subscribe",
        "snapshot-at-version",
        "snapshot-now",
        "snapshot-at-time-now",
        "snapshot-at-time",
    ],
)
async def test_members_cannot_read_a_deleted_document(
    cookies: dict[str, str], users: dict[str, Any], document: Any, frame: dict[str, Any]
) -> None:
    await delete(users, document)
    for name in ("olga", "ed", "vera"):
        [client] = await connected(cookies, name)
        await client.send({**frame, "c": "documents", "d": str(document.pk)})
        reply = await client.recv()
        assert reply.get("error", {}).get("code") == NOT_FOUND, (name, reply)
        assert "Secret" not in str(reply)
        await client.disconnect()


async def test_bulk_fetch_of_a_deleted_document_is_not_found(
    cookies: dict[str, str], users: dict[str, Any], document: Any
) -> None:
    await delete(users, document)
    [ed] = await connected(cookies, "ed")
    await ed.send({"a": "bf", "c": "documents", "b": [str(document.pk)]})
    reply = await ed.recv()
    assert "Secret" not in str(reply) and NOT_FOUND in str(reply), reply
    await ed.disconnect()


async def test_an_editor_cannot_undo_the_owners_delete(
    cookies: dict[str, str], users: dict[str, Any], document: Any
) -> None:
    await delete(users, document)
    before = await stored(document.pk)
    [ed] = await connected(cookies, "ed")
    create = {"type": "rich-text", "data": [{"insert": "Replaced\n"}]}
    await ed.send({"a": "op", "c": "documents", "d": str(document.pk), "v": None, "seq": 1, "create": create})
    reply = await ed.recv()
    assert reply.get("error", {}).get("code") in (NOT_FOUND, "ERR_OP_SUBMIT_REJECTED"), reply
    assert await stored(document.pk) == before
    await ed.disconnect()


async def test_the_owner_can_re_create_a_deleted_document(
    cookies: dict[str, str], users: dict[str, Any], document: Any
) -> None:
    """Re-creating is the owner's call alone."""
    await delete(users, document)
    version, _type, _content = await stored(document.pk)
    [olga] = await connected(cookies, "olga")
    create = {"type": "rich-text", "data": [{"insert": "Fresh start\n"}]}
    await olga.send(
        {"a": "op", "c": "documents", "d": str(document.pk), "v": None, "seq": 1, "create": create}
    )
    reply = await olga.recv()
    assert "error" not in reply and reply["v"] == version, reply
    assert (await stored(document.pk))[2] == [{"insert": "Fresh start\n"}]
    await olga.disconnect()


def test_every_http_read_of_a_deleted_document_is_not_found(users: dict[str, Any], document: Any) -> None:
    services.create_invite(actor=users["olga"], document_id=document.pk, role="viewer")
    services.delete_document(user=users["olga"], document_id=document.pk)
    assert Operation.objects.filter(document=document).count() == 2
    for name in ("olga", "ed", "vera"):
        client = Client()
        client.force_login(users[name])
        base = f"/api/documents/{document.pk}/"
        for path in (
            f"/d/{document.pk}/",
            f"/d/{document.pk}/history/",
            base,
            f"{base}members/",
            f"{base}history/",
            f"{base}versions/1/",
            f"{base}export/txt/",
        ):
            response = client.get(path)
            assert response.status_code == 404, (name, path, response.status_code)
            assert b"Hello" not in response.content
        assert str(document.pk) not in client.get("/api/documents/").content.decode()
