"""CSRF on every HTTP write: each URL pattern the site routes, the admin's included, refuses every
unsafe method from a signed-in browser that does not send the token."""

import uuid
from typing import Any

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from documents.models import Document, Membership

from .conftest import signed_in

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Values tried for each URL argument until the pattern reverses.
CANDIDATES: dict[str, list[Any]] = {
    "int": [1],
    "uuid": [uuid.UUID("6f1c5e0e-5bd5-4c5e-9c55-6b8f5b7d2a11")],
    "default": ["documents", "auth", "1", "x"],
}


def _arguments(pattern: Any) -> dict[str, Any]:
    """A pattern's own arguments, each with its converter (None for a regex group)."""
    converters = getattr(pattern.pattern, "converters", {})
    return dict(converters) or {name: None for name in pattern.pattern.regex.groupindex}


def _named_patterns(
    resolver: URLResolver, namespace: str = "", inherited: dict[str, Any] | None = None
) -> list[tuple[str, URLPattern, dict[str, Any]]]:
    """Every named route, with the arguments its including patterns add (`<provider_id>/...`)."""
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _named_patterns(entry, inner, {**(inherited or {}), **_arguments(entry)})
        elif entry.name:
            found.append((namespace + entry.name, entry, {**(inherited or {}), **_arguments(entry)}))
    return found


def _url(name: str, pattern: URLPattern, arguments: dict[str, Any]) -> str:
    converters = arguments
    names = list(arguments)

    def options(arg: str) -> list[Any]:
        kind = type(converters.get(arg)).__name__.removesuffix("Converter").lower()
        return CANDIDATES.get(kind, CANDIDATES["default"])

    def attempt(chosen: dict[str, Any], rest: list[str]) -> str | None:
        if not rest:
            try:
                return reverse(name, kwargs=chosen)
            except NoReverseMatch:
                return None
        for value in options(rest[0]):
            url = attempt({**chosen, rest[0]: value}, rest[1:])
            if url:
                return url
        return None

    url = attempt({}, names)
    assert url, f"cannot build a URL for {name}"
    return url


ROUTES = sorted(_named_patterns(get_resolver()), key=lambda item: item[0])


@pytest.mark.parametrize(("name", "pattern", "arguments"), ROUTES, ids=[name for name, _, _ in ROUTES])
def test_unsafe_methods_without_the_token_are_refused(
    users: Any, document: Any, name: str, pattern: URLPattern, arguments: dict[str, Any]
) -> None:
    users["olga"].is_staff = users["olga"].is_superuser = True
    users["olga"].save()
    client = signed_in(users["olga"], csrf=True)
    client.get("/api/documents/")  # The browser has the cookie; a forged request cannot send the header.
    url = _url(name, pattern, arguments).replace(str(CANDIDATES["uuid"][0]), str(document.pk))
    for method in UNSAFE_METHODS:
        response = client.generic(method, url, data="title=Forged&role=editor&username=nina")
        assert response.status_code == 403, (method, url, response.status_code)
        if url.startswith("/api/"):
            assert response.json()["error"]["code"] == "ERR_CSRF_FAILED"
    document.refresh_from_db()
    assert document.title == "Plan" and not document.is_deleted
    assert Membership.objects.filter(document=document).count() == 3 and Document.objects.count() == 1
