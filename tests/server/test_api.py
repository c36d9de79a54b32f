"""The HTTP JSON API: every endpoint, every role, CSRF, validation and the shape of each answer."""

import json
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from documents import services
from documents.errors import DocumentNotFound
from documents.models import Document, Invite, Membership, Role

# Emoji (a surrogate pair in UTF-16), inline and line formats, so the round trip is not trivial.
RICH_CONTENT = [
    {"insert": "Launch plan 🚀 "},
    {"insert": "bold", "attributes": {"bold": True}},
    {"insert": " and "},
    {"insert": "linked", "attributes": {"italic": True, "link": "https://example.com/"}},
    {"insert": "\n", "attributes": {"header": 1}},
    {"insert": "Step one\n"},
]
DOCUMENT_FIELDS = {"id", "title", "owner", "role", "version", "created_at", "updated_at"}


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    user_model = get_user_model()
    people = {}
    for name in ("olga", "ed", "vera", "nina"):
        # No password: tests sign in with force_login, and hashing one per user is slow.
        people[name] = user_model.objects.create_user(
            username=name, email=f"{name}@example.com", password=None
        )
    people["olga"].first_name, people["olga"].last_name = "Olga", "Owner"
    people["olga"].save()
    return people


@pytest.fixture
def doc(people: dict[str, Any]) -> Document:
    """Owned by olga; ed edits, vera views, nina is not a member."""
    document = services.create_document(owner=people["olga"], title="Plan", content=[{"insert": "Hello\n"}])
    services.add_member(actor=people["olga"], document_id=document.pk, identifier="ed", role=Role.EDITOR)
    services.add_member(actor=people["olga"], document_id=document.pk, identifier="vera", role=Role.VIEWER)
    return document


@pytest.fixture
def as_user(people: dict[str, Any]) -> Any:
    """`as_user("olga")` is a test client signed in as olga (CSRF checks off; see the CSRF tests)."""

    def make(name: str) -> Client:
        client = Client()
        client.force_login(people[name])
        return client

    return make


def send(client: Client, method: str, url: str, body: Any = None, raw: str | None = None) -> Any:
    if method == "GET":
        return client.get(url)
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    return client.generic(method, url, data=data, content_type="application/json")


def error_code(response: Any) -> str:
    assert response["Content-Type"] == "application/json", response.content
    return str(response.json()["error"]["code"])


def doc_url(document: Any, suffix: str = "") -> str:
    return f"/api/documents/{document.pk if hasattr(document, 'pk') else document}/{suffix}"


def listed(client: Client, q: str | None = None) -> dict[str, dict[str, Any]]:
    response = client.get("/api/documents/", {"q": q} if q is not None else {})
    assert response.status_code == 200
    return {item["id"]: item for item in response.json()["documents"]}


# --- Authentication, methods, CSRF ------------------------------------------------------------


ENDPOINTS = [
    ("GET", "/api/documents/"),
    ("POST", "/api/documents/"),
    ("GET", "/api/documents/{id}/"),
    ("PATCH", "/api/documents/{id}/"),
    ("DELETE", "/api/documents/{id}/"),
    ("GET", "/api/documents/{id}/members/"),
    ("POST", "/api/documents/{id}/members/"),
    ("PATCH", "/api/documents/{id}/members/vera/"),
    ("DELETE", "/api/documents/{id}/members/vera/"),
    ("GET", "/api/documents/{id}/invites/"),
    ("POST", "/api/documents/{id}/invites/"),
    ("DELETE", "/api/documents/{id}/invites/sometoken/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_gets_401_json_not_a_redirect(
    client: Client, doc: Document, method: str, path: str
) -> None:
    response = send(
        client, method, path.format(id=doc.pk), {"title": "x", "role": "viewer", "username": "nina"}
    )
    assert response.status_code == 401
    assert error_code(response) == "ERR_NOT_AUTHENTICATED"
    assert Document.objects.count() == 1 and Membership.objects.count() == 3


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/documents/", "GET, POST"),
        ("DELETE", "/api/documents/", "GET, POST"),
        ("POST", "/api/documents/{id}/", "DELETE, GET, PATCH"),
        ("PUT", "/api/documents/{id}/members/", "GET, POST"),
        ("GET", "/api/documents/{id}/members/vera/", "DELETE, PATCH"),
        ("PATCH", "/api/documents/{id}/invites/", "GET, POST"),
        ("GET", "/api/documents/{id}/invites/sometoken/", "DELETE"),
    ],
)
def test_wrong_method_is_405_json(as_user: Any, doc: Document, method: str, path: str, allow: str) -> None:
    response = send(as_user("olga"), method, path.format(id=doc.pk), {})
    assert response.status_code == 405
    assert error_code(response) == "ERR_METHOD_NOT_ALLOWED"
    assert response["Allow"] == allow


def csrf_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_get_sets_the_csrf_cookie(people: dict[str, Any]) -> None:
    client = csrf_client(people["olga"])
    assert "csrftoken" not in client.cookies
    assert client.get("/api/documents/").status_code == 200
    assert client.cookies["csrftoken"].value


def test_csrf_refuses_unsafe_requests_without_the_header(people: dict[str, Any], doc: Document) -> None:
    client = csrf_client(people["olga"])
    client.get("/api/documents/")  # Has the cookie, but will not send the header.
    attempts = [
        ("POST", "/api/documents/", {"title": "Forged"}),
        ("PATCH", doc_url(doc), {"title": "Forged"}),
        ("DELETE", doc_url(doc), None),
        ("POST", doc_url(doc, "members/"), {"username": "nina", "role": "editor"}),
        ("PATCH", doc_url(doc, "members/vera/"), {"role": "editor"}),
        ("DELETE", doc_url(doc, "members/ed/"), None),
        ("POST", doc_url(doc, "invites/"), {"role": "editor"}),
    ]
    for method, url, body in attempts:
        response = send(client, method, url, body)
        assert response.status_code == 403, (method, url)
        assert error_code(response) == "ERR_CSRF_FAILED"
    # A wrong token is no better than none.
    response = client.post(
        "/api/documents/",
        data=json.dumps({"title": "Forged"}),
        content_type="application/json",
        headers={"X-CSRFToken": "x" * 32},
    )
    assert response.status_code == 403
    doc.refresh_from_db()
    assert doc.title == "Plan" and not doc.is_deleted
    assert Document.objects.count() == 1
    assert Membership.objects.filter(document=doc).count() == 3 and not Invite.objects.exists()


def test_csrf_accepts_the_header_from_the_cookie(people: dict[str, Any], doc: Document) -> None:
    client = csrf_client(people["olga"])
    token = (client.get("/api/documents/"), client.cookies["csrftoken"].value)[1]
    headers = {"X-CSRFToken": token}
    created = client.post(
        "/api/documents/",
        data=json.dumps({"title": "Real"}),
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201
    renamed = client.patch(
        doc_url(doc), data=json.dumps({"title": "Renamed"}), content_type="application/json", headers=headers
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    assert client.delete(doc_url(created.json()["id"]), headers=headers).status_code == 204


def test_csrf_failure_outside_the_api_keeps_djangos_page(people: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "olga", "password": "x"})
    assert response.status_code == 403
    assert not response["Content-Type"].startswith("application/json")


# --- The document list ------------------------------------------------------------------------


def test_list_shows_each_member_their_role(as_user: Any, doc: Document) -> None:
    for name, role in [("olga", "owner"), ("ed", "editor"), ("vera", "viewer")]:
        documents = listed(as_user(name))
        assert list(documents) == [str(doc.pk)]
        item = documents[str(doc.pk)]
        assert set(item) == DOCUMENT_FIELDS | {"editing_now"}
        assert item["role"] == role
        assert item["title"] == "Plan"
        assert item["owner"] == {"username": "olga", "name": "Olga Owner"}
        assert item["version"] == doc.version == 1
        assert "content" not in item
    assert listed(as_user("nina")) == {}


def test_list_search_and_order(as_user: Any, people: dict[str, Any], doc: Document) -> None:
    other = services.create_document(owner=people["olga"], title="Shopping list")
    client = as_user("olga")
    assert list(listed(client)) == [str(other.pk), str(doc.pk)]  # Newest first.
    assert list(listed(client, "shop")) == [str(other.pk)]
    assert list(listed(client, "PLAN")) == [str(doc.pk)]
    assert listed(client, "nothing like it") == {}
    assert listed(as_user("ed"), "shop") == {}  # Search never widens what I can see.


# --- Create and read --------------------------------------------------------------------------


def test_create_then_get_round_trips_rich_content(as_user: Any, people: dict[str, Any]) -> None:
    client = as_user("nina")
    created = send(client, "POST", "/api/documents/", {"title": "  Launch   🚀 ", "content": RICH_CONTENT})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == DOCUMENT_FIELDS | {"content"}
    assert body["title"] == "Launch 🚀"
    assert body["role"] == "owner"
    assert body["owner"] == {"username": "nina", "name": "nina"}
    assert body["version"] == 1
    assert body["content"] == RICH_CONTENT

    fetched = client.get(doc_url(body["id"]))
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert Membership.objects.get(document_id=body["id"], user=people["nina"]).role == Role.OWNER
    assert listed(client)[body["id"]]["title"] == "Launch 🚀"


def test_create_accepts_a_delta_object_and_defaults(as_user: Any) -> None:
    client = as_user("nina")
    wrapped = send(client, "POST", "/api/documents/", {"title": "Wrapped", "content": {"ops": RICH_CONTENT}})
    assert wrapped.status_code == 201 and wrapped.json()["content"] == RICH_CONTENT
    bare = send(client, "POST", "/api/documents/", {})
    assert bare.status_code == 201
    assert bare.json()["title"] == "Untitled" and bare.json()["content"] == [{"insert": "\n"}]
    empty_body = client.post("/api/documents/", data="", content_type="application/json")
    assert empty_body.status_code == 201 and empty_body.json()["title"] == "Untitled"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "ERR_MESSAGE_BADLY_FORMED"),
        ("[1, 2]", "ERR_MESSAGE_BADLY_FORMED"),
        ('"a string"', "ERR_MESSAGE_BADLY_FORMED"),
        ("null", "ERR_MESSAGE_BADLY_FORMED"),
        (json.dumps({"title": "x" * 201}), "ERR_VALIDATION"),
        (json.dumps({"title": 42}), "ERR_VALIDATION"),
        (json.dumps({"title": None}), "ERR_VALIDATION"),
        (json.dumps({"title": "t", "content": "plain text"}), "ERR_OT_OP_BADLY_FORMED"),
        (json.dumps({"title": "t", "content": [{"insert": 5}]}), "ERR_OT_OP_BADLY_FORMED"),
        (json.dumps({"title": "t", "content": [{"insert": "x", "bogus": 1}]}), "ERR_OT_OP_BADLY_FORMED"),
        (json.dumps({"title": "t", "content": [{"retain": 3}]}), "ERR_OT_OP_BADLY_FORMED"),
        (json.dumps({"title": "t", "content": {"ops": [{"delete": 1}]}}), "ERR_OT_OP_BADLY_FORMED"),
        (json.dumps({"title": "t", "content": {"not_ops": []}}), "ERR_OT_OP_BADLY_FORMED"),
    ],
)
def test_create_validation_errors_are_400(as_user: Any, people: dict[str, Any], raw: str, code: str) -> None:
    response = send(as_user("olga"), "POST", "/api/documents/", raw=raw)
    assert response.status_code == 400, response.content
    assert error_code(response) == code
    assert set(response.json()["error"]) == {"code", "message"}
    assert not Document.objects.exists()


def test_oversized_body_is_400(as_user: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(
        as_user("olga"), "POST", "/api/documents/", {"title": "t", "content": [{"insert": "x" * 2000 + "\n"}]}
    )
    assert response.status_code == 400 and error_code(response) == "ERR_MESSAGE_BADLY_FORMED"
    assert not Document.objects.exists()


def test_title_of_exactly_the_maximum_length_is_fine(as_user: Any) -> None:
    response = send(as_user("olga"), "POST", "/api/documents/", {"title": "x" * 200})
    assert response.status_code == 201 and response.json()["title"] == "x" * 200


def test_get_gives_each_member_role_version_and_content(
    as_user: Any, people: dict[str, Any], doc: Document
) -> None:
    services.replace_content(user=people["ed"], document_id=doc.pk, content=RICH_CONTENT)
    for name, role in [("olga", "owner"), ("ed", "editor"), ("vera", "viewer")]:
        response = as_user(name).get(doc_url(doc))
        assert response.status_code == 200
        body = response.json()
        assert body["role"] == role
        assert body["version"] == 2
        assert body["content"] == RICH_CONTENT


def test_missing_and_forbidden_documents_look_the_same(as_user: Any, doc: Document) -> None:
    nina = as_user("nina")
    forbidden = nina.get(doc_url(doc))
    missing = nina.get(doc_url(uuid.uuid4()))
    garbage = nina.get("/api/documents/not-a-uuid/")
    assert forbidden.status_code == missing.status_code == garbage.status_code == 404
    assert forbidden.content == missing.content == garbage.content
    assert error_code(forbidden) == "ERR_DOC_NOT_FOUND"
    # The same holds for every sub-resource and method.
    for method, path in ENDPOINTS[2:]:
        body = {"title": "x", "role": "viewer", "username": "ed"}
        answers = [send(nina, method, path.format(id=target), body) for target in (doc.pk, uuid.uuid4())]
        assert [a.status_code for a in answers] == [404, 404], (method, path)
        assert answers[0].content == answers[1].content == missing.content, (method, path)
    doc.refresh_from_db()
    assert doc.title == "Plan" and not doc.is_deleted


# --- Rename and delete ------------------------------------------------------------------------


def test_rename_by_owner_and_editor_not_viewer(as_user: Any, doc: Document) -> None:
    response = send(as_user("olga"), "PATCH", doc_url(doc), {"title": "Owner's name"})
    assert response.status_code == 200
    assert set(response.json()) == DOCUMENT_FIELDS and response.json()["role"] == "owner"
    assert response.json()["title"] == "Owner's name"

    response = send(as_user("ed"), "PATCH", doc_url(doc), {"title": "Editor's name"})
    assert response.status_code == 200 and response.json()["role"] == "editor"
    for name in ("olga", "ed", "vera"):
        assert listed(as_user(name))[str(doc.pk)]["title"] == "Editor's name"

    response = send(as_user("vera"), "PATCH", doc_url(doc), {"title": "Viewer's name"})
    assert response.status_code == 403 and error_code(response) == "ERR_PERMISSION_DENIED"
    doc.refresh_from_db()
    assert doc.title == "Editor's name"


@pytest.mark.parametrize("body", [{}, {"title": "x" * 201}, {"title": ["a list"]}, {"name": "wrong field"}])
def test_rename_validation(as_user: Any, doc: Document, body: dict[str, Any]) -> None:
    response = send(as_user("olga"), "PATCH", doc_url(doc), body)
    assert response.status_code == 400 and error_code(response) == "ERR_VALIDATION"
    doc.refresh_from_db()
    assert doc.title == "Plan"


def test_rename_bad_json(as_user: Any, doc: Document) -> None:
    response = send(as_user("olga"), "PATCH", doc_url(doc), raw="{")
    assert response.status_code == 400 and error_code(response) == "ERR_MESSAGE_BADLY_FORMED"


def test_delete_is_for_the_owner_only(as_user: Any, doc: Document) -> None:
    for name in ("ed", "vera"):
        response = as_user(name).delete(doc_url(doc))
        assert response.status_code == 403 and error_code(response) == "ERR_PERMISSION_DENIED"
    assert as_user("nina").delete(doc_url(doc)).status_code == 404
    doc.refresh_from_db()
    assert not doc.is_deleted

    olga = as_user("olga")
    response = olga.delete(doc_url(doc))
    assert response.status_code == 204 and response.content == b""
    missing = olga.get(doc_url(uuid.uuid4()))
    for name in ("olga", "ed", "vera"):
        client = as_user(name)
        assert listed(client) == {}
        gone = client.get(doc_url(doc))
        assert gone.status_code == 404 and gone.content == missing.content
        assert client.get(doc_url(doc, "members/")).status_code == 404
    assert olga.get(doc_url(doc, "invites/")).status_code == 404
    assert olga.delete(doc_url(doc)).status_code == 404
    assert send(olga, "PATCH", doc_url(doc), {"title": "Back?"}).status_code == 404


# --- Members ----------------------------------------------------------------------------------


def members_of(client: Client, document: Document) -> dict[str, dict[str, Any]]:
    response = client.get(doc_url(document, "members/"))
    assert response.status_code == 200
    return {m["username"]: m for m in response.json()["members"]}


def test_every_member_sees_the_member_list_and_only_the_owner_sees_emails(
    as_user: Any, doc: Document
) -> None:
    for name in ("olga", "ed", "vera"):
        members = members_of(as_user(name), doc)
        assert {u: m["role"] for u, m in members.items()} == {
            "olga": "owner",
            "ed": "editor",
            "vera": "viewer",
        }
        owner = {"username": "olga", "name": "Olga Owner", "role": "owner"}
        if name == "olga":
            owner["email"] = "olga@example.com"
        assert members["olga"] == owner
        assert all(("email" in m) == (name == "olga") for m in members.values())


ADDED = {"message": "If that person has an account, they now have access."}


def test_owner_adds_a_member_by_username_or_email(
    as_user: Any, people: dict[str, Any], doc: Document
) -> None:
    olga = as_user("olga")
    response = send(
        olga, "POST", doc_url(doc, "members/"), {"username": "NINA@example.com", "role": "viewer"}
    )
    assert response.status_code == 202 and response.json() == ADDED
    assert listed(as_user("nina"))[str(doc.pk)]["role"] == "viewer"
    assert as_user("nina").get(doc_url(doc)).status_code == 200

    other = services.create_document(owner=people["olga"], title="Other")
    response = send(olga, "POST", doc_url(other, "members/"), {"username": "ed", "role": "editor"})
    assert response.status_code == 202 and response.json() == ADDED
    assert listed(as_user("ed"))[str(other.pk)]["role"] == "editor"


@pytest.mark.parametrize(
    "identifier", ["nobody-by-that-name", "nobody@example.com", "olga", "gone", "gone@example.com"]
)
def test_adding_someone_without_an_account_answers_like_adding_someone_with_one(
    as_user: Any, people: dict[str, Any], doc: Document, identifier: str
) -> None:
    """No lookup oracle: unknown, inactive and the owner herself get the very same answer."""
    get_user_model().objects.create_user("gone", "gone@example.com", "pw", is_active=False)
    known = send(as_user("olga"), "POST", doc_url(doc, "members/"), {"username": "nina", "role": "viewer"})
    unknown = send(
        as_user("olga"), "POST", doc_url(doc, "members/"), {"username": identifier, "role": "viewer"}
    )
    assert (unknown.status_code, unknown.content) == (known.status_code, known.content)
    assert identifier not in unknown.content.decode()
    assert Membership.objects.filter(document=doc).count() == 4


def test_only_the_owner_adds_members(as_user: Any, doc: Document) -> None:
    body = {"username": "nina", "role": "editor"}
    for name in ("ed", "vera"):
        response = send(as_user(name), "POST", doc_url(doc, "members/"), body)
        assert response.status_code == 403 and error_code(response) == "ERR_PERMISSION_DENIED"
    assert send(as_user("nina"), "POST", doc_url(doc, "members/"), body).status_code == 404
    assert listed(as_user("nina")) == {}


@pytest.mark.parametrize(
    "body",
    [
        {"username": "nina", "role": "owner"},
        {"username": "nina", "role": "admin"},
        {"username": "nina"},
        {"role": "viewer"},
        {"username": 7, "role": "viewer"},
    ],
)
def test_add_member_validation(as_user: Any, doc: Document, body: dict[str, Any]) -> None:
    response = send(as_user("olga"), "POST", doc_url(doc, "members/"), body)
    assert response.status_code == 400 and error_code(response) == "ERR_VALIDATION"
    assert Membership.objects.filter(document=doc).count() == 3


def test_owner_changes_a_role(as_user: Any, doc: Document) -> None:
    response = send(as_user("olga"), "PATCH", doc_url(doc, "members/vera/"), {"role": "editor"})
    assert response.status_code == 200
    assert response.json() == {
        "username": "vera",
        "name": "vera",
        "email": "vera@example.com",
        "role": "editor",
    }
    assert listed(as_user("vera"))[str(doc.pk)]["role"] == "editor"
    assert send(as_user("vera"), "PATCH", doc_url(doc), {"title": "Now I edit"}).status_code == 200


def test_role_changes_that_are_refused(as_user: Any, doc: Document) -> None:
    olga, ed = as_user("olga"), as_user("ed")
    cases = [
        (ed, "members/vera/", {"role": "editor"}, 403, "ERR_PERMISSION_DENIED"),
        (as_user("vera"), "members/vera/", {"role": "editor"}, 403, "ERR_PERMISSION_DENIED"),
        (olga, "members/olga/", {"role": "viewer"}, 403, "ERR_PERMISSION_DENIED"),
        (olga, "members/nina/", {"role": "viewer"}, 404, "ERR_DOC_NOT_FOUND"),
        (olga, "members/vera/", {"role": "owner"}, 400, "ERR_VALIDATION"),
        (olga, "members/vera/", {}, 400, "ERR_VALIDATION"),
    ]
    for client, suffix, body, status, code in cases:
        response = send(client, "PATCH", doc_url(doc, suffix), body)
        assert (response.status_code, error_code(response)) == (status, code), (suffix, body)
    assert {m.user.username: m.role for m in doc.memberships.select_related("user")} == {
        "olga": "owner",
        "ed": "editor",
        "vera": "viewer",
    }


def test_owner_removes_a_member(as_user: Any, doc: Document) -> None:
    response = as_user("olga").delete(doc_url(doc, "members/ed/"))
    assert response.status_code == 204
    ed = as_user("ed")
    assert listed(ed) == {}
    assert ed.get(doc_url(doc)).status_code == 404
    assert set(members_of(as_user("olga"), doc)) == {"olga", "vera"}


def test_a_member_may_leave_but_not_remove_others(as_user: Any, doc: Document) -> None:
    ed, vera = as_user("ed"), as_user("vera")
    response = ed.delete(doc_url(doc, "members/vera/"))
    assert response.status_code == 403 and error_code(response) == "ERR_PERMISSION_DENIED"
    assert vera.delete(doc_url(doc, "members/vera/")).status_code == 204
    assert listed(vera) == {}
    response = as_user("olga").delete(doc_url(doc, "members/olga/"))
    assert response.status_code == 403 and error_code(response) == "ERR_PERMISSION_DENIED"
    assert as_user("olga").delete(doc_url(doc, "members/nina/")).status_code == 404
    assert set(members_of(as_user("olga"), doc)) == {"olga", "ed"}


# --- Invite links -----------------------------------------------------------------------------


def test_invite_lifecycle(as_user: Any, people: dict[str, Any], doc: Document) -> None:
    olga = as_user("olga")
    created = send(olga, "POST", doc_url(doc, "invites/"), {"role": "editor"})
    assert created.status_code == 201
    invite = created.json()
    assert set(invite) == {"token", "role", "url", "created_at"}
    assert invite["role"] == "editor"
    assert invite["url"] == f"http://testserver/invite/{invite['token']}/"

    second = send(olga, "POST", doc_url(doc, "invites/"), {"role": "viewer"}).json()
    listing = olga.get(doc_url(doc, "invites/"))
    assert listing.status_code == 200
    assert [i["token"] for i in listing.json()["invites"]] == [invite["token"], second["token"]]
    assert listing.json()["invites"][0] == invite

    assert olga.delete(doc_url(doc, f"invites/{invite['token']}/")).status_code == 204
    assert [i["token"] for i in olga.get(doc_url(doc, "invites/")).json()["invites"]] == [second["token"]]
    again = olga.delete(doc_url(doc, f"invites/{invite['token']}/"))
    assert again.status_code == 404 and error_code(again) == "ERR_DOC_NOT_FOUND"
    assert olga.delete(doc_url(doc, "invites/never-issued/")).status_code == 404
    # A revoked link no longer admits anyone.
    with pytest.raises(DocumentNotFound):
        services.accept_invite(user=people["nina"], token=invite["token"])


def test_invites_are_for_the_owner_only(as_user: Any, people: dict[str, Any], doc: Document) -> None:
    token = services.create_invite(actor=people["olga"], document_id=doc.pk, role=Role.VIEWER).token
    for name in ("ed", "vera"):
        client = as_user(name)
        for response in (
            client.get(doc_url(doc, "invites/")),
            send(client, "POST", doc_url(doc, "invites/"), {"role": "viewer"}),
            client.delete(doc_url(doc, f"invites/{token}/")),
        ):
            assert response.status_code == 403 and error_code(response) == "ERR_PERMISSION_DENIED", name
    nina = as_user("nina")
    assert nina.get(doc_url(doc, "invites/")).status_code == 404
    assert nina.delete(doc_url(doc, f"invites/{token}/")).status_code == 404
    assert Invite.objects.filter(document=doc, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize("body", [{"role": "owner"}, {"role": "boss"}, {}, {"role": None}])
def test_invite_role_validation(as_user: Any, doc: Document, body: dict[str, Any]) -> None:
    response = send(as_user("olga"), "POST", doc_url(doc, "invites/"), body)
    assert response.status_code == 400 and error_code(response) == "ERR_VALIDATION"
    assert not Invite.objects.exists()
