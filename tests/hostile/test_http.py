"""Hostile HTTP input: every odd body, id, text and number gets its documented 4xx, never a 500.

Run against PostgreSQL as well as SQLite: PostgreSQL refuses NUL characters and out-of-range
integers that SQLite stores, so a missing check there surfaces as a 500.
"""

import json
from typing import Any

import pytest

from documents.models import Document, Membership

from .conftest import signed_in

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000

# (method, path under the document, body) for every JSON write.
JSON_WRITES = [
    ("POST", "/api/documents/", None),
    ("PATCH", "{doc}", None),
    ("POST", "{doc}members/", None),
    ("PATCH", "{doc}members/vera/", None),
    ("POST", "{doc}invites/", None),
    ("POST", "{doc}restore/", None),
]


def call(client: Any, method: str, url: str, body: Any = None, raw: str | None = None) -> Any:
    if method == "GET":
        return client.get(url)
    data = raw if raw is not None else json.dumps(body)
    return client.generic(method, url, data=data, content_type="application/json")


def expect(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


def url_for(document: Any, path: str) -> str:
    return path.replace("{doc}", f"/api/documents/{document.pk}/")


@pytest.mark.parametrize(
    ("method", "path", "_body"), JSON_WRITES, ids=[f"{m} {p}" for m, p, _ in JSON_WRITES]
)
@pytest.mark.parametrize(
    "raw",
    [DEEP, DEEP_OBJECT, "{not json", "[1, 2]", '{"a": NaN}' + "x"],
    ids=["deep-array", "deep-object", "not-json", "array", "trailing-garbage"],
)
def test_bodies_that_are_not_one_json_object(
    users: Any, document: Any, method: str, path: str, _body: Any, raw: str
) -> None:
    before = Document.objects.get(pk=document.pk).title, Membership.objects.count()
    expect(
        call(signed_in(users["olga"]), method, url_for(document, path), raw=raw),
        400,
        "ERR_MESSAGE_BADLY_FORMED",
    )
    assert (Document.objects.get(pk=document.pk).title, Membership.objects.count()) == before


TITLES = {"nul-inside": "a\x00b", "nul-only": "\x00", "nul-then-text": "Plan\x00xx", "escape": "a\x1bb"}
# A form post cannot carry a lone surrogate; JSON can.
JSON_TITLES = {**TITLES, "lone-surrogate": "\ud800"}
TITLE_CASES = [
    pytest.param(where, title, id=f"{where}-{name}")
    for where in ("create", "rename", "page-create")
    for name, title in (TITLES if where == "page-create" else JSON_TITLES).items()
]


@pytest.mark.parametrize(("where", "title"), TITLE_CASES)
def test_titles_with_control_characters(users: Any, document: Any, title: str, where: str) -> None:
    client = signed_in(users["olga"])
    count = Document.objects.count()
    if where == "page-create":
        response = client.post("/documents/new/", {"title": title})
        assert response.status_code == 400 and b"title" in response.content.lower()
    else:
        method, path = ("POST", "/api/documents/") if where == "create" else ("PATCH", "{doc}")
        raw = json.dumps({"title": title}, ensure_ascii=True)
        expect(call(client, method, url_for(document, path), raw=raw), 400, "ERR_VALIDATION")
    assert Document.objects.count() == count and Document.objects.get(pk=document.pk).title == "Plan"


def test_imported_title_with_nul(users: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(users["olga"])
    upload = SimpleUploadedFile("notes.md", b"# Hi\n", content_type="text/markdown")
    expect(client.post("/api/documents/import/", {"file": upload, "title": "a\x00b"}), 400, "ERR_VALIDATION")
    upload = SimpleUploadedFile("no\x00tes.md", b"# Hi\n", content_type="text/markdown")
    # Django's upload parser drops the NUL from a file name; the title comes from what is left.
    response = client.post("/api/documents/import/", {"file": upload})
    assert response.status_code == 201 and response.json()["title"] == "notes"


@pytest.mark.parametrize(
    "q",
    ["a\x00b", "\x00", "%", "_", "\\", "x" * 10_000],
    ids=["nul-inside", "nul-only", "percent", "underscore", "backslash", "10kB"],
)
@pytest.mark.parametrize("where", ["api", "page", "full-text"])
def test_searches(users: Any, document: Any, q: str, where: str) -> None:
    client = signed_in(users["olga"])
    if where == "full-text":
        response = client.get("/api/search/", {"q": q})
        if "\x00" in q or len(q) > 200:
            expect(response, 400, "ERR_VALIDATION")
        else:
            assert response.status_code == 200 and response.json()["results"] == []
    elif where == "api":
        response = client.get("/api/documents/", {"q": q})
        if "\x00" in q:
            expect(response, 400, "ERR_VALIDATION")
        else:
            assert response.status_code == 200 and response.json()["documents"] == []
    else:
        response = client.get("/", {"q": q})
        assert response.status_code == (400 if "\x00" in q else 200)


MEMBER_NAMES = ["ve\x00ra", "\x00", "vera\x00", "VERA", "x" * 10_000, "../olga", "vera%00"]
NAME_IDS = ["nul-inside", "nul-only", "nul-after", "upper-case", "10kB", "dot-dot", "escaped-nul"]


@pytest.mark.parametrize("name", MEMBER_NAMES, ids=NAME_IDS)
def test_adding_odd_member_names_is_no_oracle_and_no_500(users: Any, document: Any, name: str) -> None:
    response = call(
        signed_in(users["olga"]),
        "POST",
        url_for(document, "{doc}members/"),
        {"username": name, "role": "editor"},
    )
    if "\x00" in name or len(name) > 254:
        expect(response, 400, "ERR_VALIDATION")
    else:
        assert response.status_code == 202
    assert not Membership.objects.filter(document=document, user=users["nina"]).exists()


@pytest.mark.parametrize(
    "name",
    ["ve%00ra", "%00", "x" * 5000, "VERA", "%2e%2e"],
    ids=["nul-inside", "nul-only", "5kB", "upper-case", "dot-dot"],
)
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_member_urls_with_odd_names(users: Any, document: Any, name: str, method: str) -> None:
    response = call(
        signed_in(users["olga"]), method, f"/api/documents/{document.pk}/members/{name}/", {"role": "editor"}
    )
    expect(response, 404, "ERR_DOC_NOT_FOUND")
    assert Membership.objects.get(document=document, user=users["vera"]).role == "viewer"


ODD_IDS = {
    "braces": "{%s}",
    "urn": "urn:uuid:%s",
    "upper-case": "UPPER",
    "nul": "%s%%00",
    "10kB": "x" * 10_000,
    "no-dashes": "NODASH",
    "trailing-space": "%s%%20",
}


def odd_id(document: Any, kind: str) -> str:
    template = ODD_IDS[kind]
    if template == "UPPER":
        return str(document.pk).upper()
    if template == "NODASH":
        return document.pk.hex
    return template % document.pk if "%s" in template else template


@pytest.mark.parametrize("kind", sorted(ODD_IDS))
@pytest.mark.parametrize("suffix", ["", "members/", "history/", "versions/1/", "export/md/"])
def test_document_ids_are_canonical_or_not_found(users: Any, document: Any, kind: str, suffix: str) -> None:
    response = signed_in(users["olga"]).get(f"/api/documents/{odd_id(document, kind)}/{suffix}")
    expect(response, 404, "ERR_DOC_NOT_FOUND")


@pytest.mark.parametrize(
    "query",
    [
        "before=-1",
        "before=1.5",
        "before=9007199254740993",
        "before=99999999999999999999999",
        "before=%C2%B2",
        "before=%D9%A3",
        "limit=0x10",
        "limit=%00",
        "limit=201",
    ],
    ids=[
        "negative",
        "fractional",
        "over-2^53",
        "over-int64",
        "superscript-two",
        "arabic-digit",
        "hex",
        "nul",
        "over-limit",
    ],
)
def test_history_cursors(users: Any, document: Any, query: str) -> None:
    expect(
        signed_in(users["vera"]).get(f"/api/documents/{document.pk}/history/?{query}"), 400, "ERR_VALIDATION"
    )


@pytest.mark.parametrize(
    "version",
    ["99999999999999999999999", "9223372036854775808", "9007199254740993"],
    ids=["over-int64-far", "int64-max-plus-one", "over-2^53"],
)
def test_versions_out_of_range(users: Any, document: Any, version: str) -> None:
    response = signed_in(users["vera"]).get(f"/api/documents/{document.pk}/versions/{version}/")
    expect(response, 400, "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT")


@pytest.mark.parametrize(
    "version",
    [-1, 1.5, "1", True, None, 2**53, 2**63, 2**70, [1], {"v": 1}, 0],
    ids=[
        "negative",
        "fractional",
        "string",
        "boolean",
        "missing",
        "2^53",
        "2^63",
        "2^70",
        "list",
        "object",
        "zero",
    ],
)
def test_restore_versions(users: Any, document: Any, version: Any) -> None:
    response = call(signed_in(users["ed"]), "POST", url_for(document, "{doc}restore/"), {"version": version})
    expect(response, 400, "ERR_VALIDATION")
    assert Document.objects.get(pk=document.pk).version == 1


@pytest.mark.parametrize(
    "body",
    [
        {"title": 5},
        {"title": None},
        {"title": {"x": 1}},
        {"content": "text"},
        {"content": {"ops": 5}},
        {"content": [{"insert": "a\x00\n"}]},
    ],
    ids=["title-number", "title-null", "title-object", "content-string", "content-ops-number", "content-nul"],
)
def test_create_with_wrong_types(users: Any, body: Any) -> None:
    response = call(signed_in(users["olga"]), "POST", "/api/documents/", body)
    assert response.status_code == 400 and response.json()["error"]["code"] in (
        "ERR_VALIDATION",
        "ERR_OT_OP_BADLY_FORMED",
    )
    assert Document.objects.count() == 0
