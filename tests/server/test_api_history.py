"""History, versions with authorship, restore, export and import over the JSON API."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from documents import services
from documents.models import Operation

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit(user: Any, document: Any, seq: int, op: Any, src: str) -> None:
    services.submit_operation(
        user=user, document_id=document.pk, src=src, seq=seq, base_version=None, kind="edit", data=op
    )


def test_history_lists_sessions_and_pages(users: Any, document: Any) -> None:
    edit(users["ed"], document, 1, [{"retain": 5}, {"insert": "!"}], "e" * 32)
    body = client_for(users["vera"]).get(f"/api/documents/{document.pk}/history/").json()
    assert body["version"] == 2
    assert [(s["author"]["username"], s["from_version"], s["to_version"]) for s in body["sessions"]] == [
        ("ed", 1, 2),
        ("olga", 0, 1),
    ]
    page = client_for(users["vera"]).get(f"/api/documents/{document.pk}/history/?limit=1").json()
    assert len(page["sessions"]) == 1 and page["next_before"] == 1
    assert client_for(users["vera"]).get(f"/api/documents/{document.pk}/history/?limit=x").status_code == 400
    assert client_for(users["nina"]).get(f"/api/documents/{document.pk}/history/").status_code == 404


def test_version_view_colours_text_by_author(users: Any, document: Any) -> None:
    edit(users["ed"], document, 1, [{"retain": 5}, {"insert": " ed"}], "e" * 32)
    body = client_for(users["olga"]).get(f"/api/documents/{document.pk}/versions/2/").json()
    assert body["content"] == [{"insert": "Hello ed\n"}]
    olga, ed = str(users["olga"].pk), str(users["ed"].pk)
    assert [(op["insert"], str(op["attributes"]["author"])) for op in body["authorship"]] == [
        ("Hello", olga),
        (" ed", ed),
        ("\n", olga),
    ]
    assert body["authors"][ed]["username"] == "ed"
    old = client_for(users["olga"]).get(f"/api/documents/{document.pk}/versions/1/").json()
    assert old["content"] == [{"insert": "Hello\n"}]
    assert client_for(users["olga"]).get(f"/api/documents/{document.pk}/versions/9/").status_code == 400


def test_restore_is_one_new_op_by_the_restorer(users: Any, document: Any) -> None:
    edit(users["ed"], document, 1, [{"delete": 5}, {"insert": "Bye"}], "e" * 32)
    ed = client_for(users["ed"])
    response = ed.post(
        f"/api/documents/{document.pk}/restore/", {"version": 1}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json() == {"version": 3}
    assert ed.get(f"/api/documents/{document.pk}/").json()["content"] == [{"insert": "Hello\n"}]
    restore_op = Operation.objects.get(document=document, version=2)
    assert restore_op.author_id == users["ed"].pk and restore_op.kind == "edit"
    viewer = client_for(users["vera"]).post(
        f"/api/documents/{document.pk}/restore/", {"version": 1}, content_type="application/json"
    )
    assert viewer.status_code == 403
    bad = ed.post(f"/api/documents/{document.pk}/restore/", {"version": "1"}, content_type="application/json")
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "fmt, content_type, needle",
    [
        ("html", "text/html", "<strong>bold</strong>"),
        ("md", "text/markdown", "**bold**"),
        ("txt", "text/plain", "Hello bold"),
    ],
)
def test_export_downloads(users: Any, fmt: str, content_type: str, needle: str) -> None:
    document = services.create_document(
        owner=users["olga"],
        title="Notes/<b>",
        content=[
            {"insert": "Hello "},
            {"insert": "bold", "attributes": {"bold": True}},
            {"insert": "\n"},
        ],
    )
    response = client_for(users["olga"]).get(f"/api/documents/{document.pk}/export/{fmt}/")
    assert response.status_code == 200 and response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"] == f'attachment; filename="Notes__b_.{fmt}"'
    assert needle in response.content.decode()
    assert client_for(users["nina"]).get(f"/api/documents/{document.pk}/export/{fmt}/").status_code == 404


def test_import_creates_a_document_from_a_file(users: Any) -> None:
    client = client_for(users["ed"])
    upload = SimpleUploadedFile(
        "Plan.md", "# Plan\n\n- one\n- **two**\n".encode(), content_type="text/markdown"
    )
    response = client.post("/api/documents/import/", {"file": upload})
    assert response.status_code == 201
    body = client.get(f"/api/documents/{response.json()['id']}/").json()
    assert body["title"] == "Plan" and body["role"] == "owner"
    assert body["content"] == [
        {"insert": "Plan"},
        {"insert": "\n", "attributes": {"header": 1}},
        {"insert": "one"},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "two", "attributes": {"bold": True}},
        {"insert": "\n", "attributes": {"list": "bullet"}},
    ]
    evil = SimpleUploadedFile(
        "x.html", b"<p onclick=alert(1)>hi<script>alert(2)</script></p>", content_type="text/html"
    )
    body = client.get(
        f"/api/documents/{client.post('/api/documents/import/', {'file': evil}).json()['id']}/"
    ).json()
    assert body["content"] == [{"insert": "hi\n"}]
    assert (
        client.post("/api/documents/import/", {"file": SimpleUploadedFile("a.exe", b"x")}).status_code == 400
    )
    assert (
        client.post(
            "/api/documents/import/", {"file": SimpleUploadedFile("a.txt", b"\xff\xfe\x00")}
        ).status_code
        == 400
    )


def test_list_shows_who_is_editing_now(users: Any, document: Any) -> None:
    services.record_visits(user=users["ed"], channel_name="specific.abc", document_ids=[str(document.pk)])
    listed = client_for(users["olga"]).get("/api/documents/").json()["documents"]
    [entry] = [d for d in listed if d["id"] == str(document.pk)]
    assert [v["username"] for v in entry["editing_now"]] == ["ed"]
    services.end_visits(channel_name="specific.abc")
    listed = client_for(users["olga"]).get("/api/documents/").json()["documents"]
    assert [d for d in listed if d["id"] == str(document.pk)][0]["editing_now"] == []


def test_a_restore_is_its_own_session_in_history(users: Any, document: Any) -> None:
    edit(users["ed"], document, 1, [{"insert": "x"}], "e" * 32)
    services.restore_version(user=users["ed"], document_id=document.pk, version=1)
    sessions = client_for(users["ed"]).get(f"/api/documents/{document.pk}/history/").json()["sessions"]
    assert [(s["kind"], s["restored_from"], s["from_version"]) for s in sessions] == [
        ("restore", 1, 2),
        ("edit", None, 1),
        ("create", None, 0),
    ]
    assert sessions[0]["author"] == {"id": users["ed"].pk, "username": "ed", "name": "ed", "color": ""}


def test_create_with_content_the_editor_cannot_render_is_refused(users: Any) -> None:
    client = client_for(users["ed"])
    for content in (
        [{"insert": {"image": "https://example.com/x.png"}}, {"insert": "\n"}],
        [{"insert": "a", "attributes": {"bold": "<b>"}}, {"insert": "\n"}],
        [{"insert": "no final newline"}],
    ):
        response = client.post(
            "/api/documents/", {"title": "t", "content": content}, content_type="application/json"
        )
        assert response.status_code == 400 and response.json()["error"]["code"] == "ERR_OT_OP_BADLY_FORMED", (
            content
        )


def test_import_keeps_what_the_editor_renders_and_drops_the_rest(users: Any) -> None:
    client = client_for(users["ed"])
    source = (
        '<h5 style="color:red">Deep</h5><p><img src="https://example.com/x.png">'
        '<a href="javascript:alert(1)">bad</a> <a href="https://example.com/">good</a>'
        '<font color="red">red</font></p><ul><li data-list="checked">done</li></ul>'
    )
    upload = SimpleUploadedFile("x.html", source.encode(), content_type="text/html")
    body = client.get(
        f"/api/documents/{client.post('/api/documents/import/', {'file': upload}).json()['id']}/"
    ).json()
    assert body["content"] == [
        {"insert": "Deep"},
        {"insert": "\n", "attributes": {"header": 3}},
        # A remote image is never fetched: it stays as a link to where it is (and a warning says so).
        {"insert": "[image]", "attributes": {"link": "https://example.com/x.png"}},
        {"insert": "bad "},
        {"insert": "good", "attributes": {"link": "https://example.com/"}},
        {"insert": "red\ndone"},
        {"insert": "\n", "attributes": {"list": "checked"}},
    ]
