"""The WebSocket handshake against a real daphne: the Origin matrix (refused with HTTP 403) and
the cookie matrix (accepted, then closed with 4401 unless the session is live)."""

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.server.conftest import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

# Each Origin and the status that refuses it: 403 from the app's exact check, or 400 from daphne
# itself for a header it cannot parse (a port that is not a number).
ORIGINS = {
    "missing": (None, 403),
    "null": ("null", 403),
    "foreign": ("https://evil.example.com", 403),
    "suffix-trick": ("{origin}.evil.com", 400),
    "subdomain-trick": ("http://127.0.0.1.evil.com:{port}", 403),
    "userinfo-trick": ("http://127.0.0.1:{port}@evil.com", 403),
    "path-trick": ("https://evil.com/{origin}", 403),
    "other-port": ("http://127.0.0.1:1", 403),
    "https-scheme": ("https://127.0.0.1:{port}", 403),
    "ws-scheme": ("ws://127.0.0.1:{port}", 403),
    "junk-port": ("http://127.0.0.1:{port}x", 400),
    "two-origins": ("{origin} https://evil.example.com", 400),
}


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws/"


@pytest.mark.parametrize(("origin", "status"), list(ORIGINS.values()), ids=list(ORIGINS))
def test_foreign_origins_are_refused_at_the_handshake(
    live_server_url: str, users: Any, origin: str | None, status: int
) -> None:
    port = urlsplit(live_server_url).port
    origin = origin.format(origin=live_server_url, port=port) if origin else None
    headers = {"Cookie": session_cookie(users["olga"])}
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(live_server_url), origin=origin, additional_headers=headers, open_timeout=10)  # type: ignore[arg-type]
    assert refused.value.response.status_code == status


def expired(cookie: str) -> str:
    key = cookie.split("=", 1)[1]
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    return cookie


def deactivated(user: Any, cookie: str) -> str:
    user.is_active = False
    user.save(update_fields=["is_active"])
    return cookie


def password_changed(user: Any, cookie: str) -> str:
    user.set_password("a new one entirely")
    user.save()
    return cookie


COOKIES = {
    "none": lambda users: None,
    "forged-session": lambda users: "sessionid=" + "a" * 32,
    "garbage-session": lambda users: 'sessionid="<script>"; csrftoken=x',
    "expired-session": lambda users: expired(session_cookie(users["olga"])),
    "deactivated-user": lambda users: deactivated(users["olga"], session_cookie(users["olga"])),
    "password-changed": lambda users: password_changed(users["olga"], session_cookie(users["olga"])),
}


@pytest.mark.parametrize("make_cookie", list(COOKIES.values()), ids=list(COOKIES))
def test_sockets_without_a_live_session_close_with_4401(
    live_server_url: str, users: Any, make_cookie: Any
) -> None:
    cookie = make_cookie(users)
    headers = {"Cookie": cookie} if cookie else {}
    with connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers=headers, open_timeout=10
    ) as ws:  # type: ignore[arg-type]
        with pytest.raises(ConnectionClosed) as closed:
            ws.send(json.dumps({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2}))
            while True:  # nothing but the session-ended notice before the close
                assert "id" not in json.loads(ws.recv(timeout=10))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_live_session_from_the_right_origin_is_served(live_server_url: str, users: Any) -> None:
    headers = {"Cookie": session_cookie(users["olga"])}
    with connect(
        ws_url(live_server_url), origin=live_server_url, additional_headers=headers, open_timeout=10
    ) as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2}))
        assert len(json.loads(ws.recv(timeout=10))["id"]) == 32
