"""The profile's session list (device, last seen, sign out one) and colour, on the server side:
one session signed out closes only that session's sockets; a colour reaches presence."""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from documents import selectors, services
from documents.errors import DocumentNotFound, ValidationFailed
from documents.models import AuditEvent, Profile

from .conftest import ProtocolClient

pytestmark = pytest.mark.django_db(transaction=True)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def signed_in(user: Any, user_agent: str) -> Client:
    browser = Client(HTTP_USER_AGENT=user_agent)
    browser.force_login(user)
    assert browser.get("/").status_code == 200  # a page load records device and last seen
    return browser


def test_the_profile_lists_each_browser_and_signs_out_one(users: Any) -> None:
    olga = users["olga"]
    laptop, phone = signed_in(olga, FIREFOX), signed_in(olga, SAFARI)
    signed_in(users["ed"], FIREFOX)
    page = phone.get("/accounts/profile/").content.decode()
    assert "Signed in in 2 browsers." in page
    assert "Safari on iOS</strong> (this browser)" in page and "Firefox on Linux</strong>" in page
    rows = selectors.sessions_list(user_id=olga.pk, current_key=phone.session.session_key)
    assert [(row["device"], row["current"]) for row in rows] == [
        ("Safari on iOS", True),
        ("Firefox on Linux", False),
    ]
    assert all(row["last_seen"] is not None for row in rows)
    # The page names sessions by a public id, never by the key that signs in.
    assert laptop.session.session_key not in page

    answer = phone.post("/accounts/profile/sign-out/", {"session": rows[1]["id"]})
    assert answer.status_code == 302
    assert laptop.get("/").status_code == 302  # signed out
    assert phone.get("/").status_code == 200  # this one stays
    assert AuditEvent.objects.filter(action="signed_out_session", actor=olga).count() == 1
    with pytest.raises(DocumentNotFound):  # someone else's session is not found, whatever its id
        ed_session = selectors.sessions_list(user_id=users["ed"].pk, current_key=None)[0]["id"]
        services.sign_out_session(user_id=olga.pk, session_id=ed_session)
    assert phone.get("/accounts/profile/sign-out/").status_code == 405  # a link cannot do it


async def test_signing_out_one_session_closes_its_sockets_only(users: Any) -> None:
    olga = users["olga"]
    laptop = await database_sync_to_async(signed_in)(olga, FIREFOX)
    phone = await database_sync_to_async(signed_in)(olga, SAFARI)
    sockets = []
    for browser in (laptop, phone):
        cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
        sockets.append(ProtocolClient(cookie))
        await sockets[-1].handshake()
    laptop_id = selectors.session_public_id(laptop.session.session_key)
    await database_sync_to_async(services.sign_out_session)(user_id=olga.pk, session_id=laptop_id)
    assert await sockets[0].recv() == {"a": "x-session", "reason": "signed-out"}
    assert await sockets[0].close_code() == 4401
    assert await sockets[1].nothing_more(0.5)
    await sockets[1].send({"a": "pp"})
    assert await sockets[1].recv() == {"a": "pp"}
    await sockets[1].disconnect()


def test_a_colour_is_checked_and_saved_from_the_profile(users: Any) -> None:
    olga = users["olga"]
    browser = Client()
    browser.force_login(olga)
    assert browser.post("/accounts/profile/", {"name": "Olga", "color": "#C2185B"}).status_code == 302
    assert Profile.objects.get(user=olga).color == "#c2185b"
    olga.refresh_from_db()
    assert selectors.identity_of(user=olga) == {
        "id": olga.pk,
        "name": "Olga",
        "color": "#c2185b",
        "guest": False,
    }
    bad = browser.post("/accounts/profile/", {"name": "Olga Other", "color": "red;}"})
    assert bad.status_code == 400 and "#rrggbb" in bad.content.decode()
    olga.refresh_from_db()
    assert (
        olga.get_full_name() == "Olga" and Profile.objects.get(user=olga).color == "#c2185b"
    )  # all or nothing
    with pytest.raises(ValidationFailed):
        services.set_color(user=olga, color=None)
    services.set_color(user=olga, color="")
    assert selectors.identity_of(user=olga)["color"] == ""


async def test_the_chosen_colour_travels_with_the_cursor(users: Any, document: Any) -> None:
    await database_sync_to_async(services.set_color)(user=users["ed"], color="#00897b")
    doc_id = str(document.pk)
    ed = ProtocolClient(await database_sync_to_async(_cookie)(users["ed"]))
    olga = ProtocolClient(await database_sync_to_async(_cookie)(users["olga"]))
    for client in (ed, olga):
        await client.handshake()
        await client.subscribe(doc_id)
        await client.send({"a": "ps", "ch": f"documents.{doc_id}", "seq": 1})
        await client.recv_until(lambda m: m.get("a") == "ps")
    await ed.send(
        {
            "a": "p",
            "ch": f"documents.{doc_id}",
            "id": "c1",
            "pv": 0,
            "c": "documents",
            "d": doc_id,
            "v": 1,
            "t": "rich-text",
            "p": {"index": 2, "length": 0, "color": "#000000", "name": "Mallory"},
        }
    )
    [seen] = [m for m in await olga.recv_until(lambda m: m.get("a") == "p" and m.get("p")) if m.get("p")]
    assert seen["p"] == {"index": 2, "length": 0, "name": "ed", "user": users["ed"].pk, "color": "#00897b"}
    for client in (ed, olga):
        await client.disconnect()


def _cookie(user: Any) -> str:
    from .conftest import session_cookie

    return session_cookie(user)


def test_history_shows_each_author_in_their_colour(users: Any, document: Any) -> None:
    services.set_color(user=users["olga"], color="#c2185b")
    client = Client()
    client.force_login(users["olga"])
    [created] = client.get(f"/api/documents/{document.pk}/history/").json()["sessions"]
    assert created["author"]["color"] == "#c2185b"
    version = client.get(f"/api/documents/{document.pk}/versions/1/").json()
    assert version["authors"][str(users["olga"].pk)]["color"] == "#c2185b"
