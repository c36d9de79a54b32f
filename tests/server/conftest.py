"""Fixtures for consumer tests: users with sessions, documents, and a protocol-speaking client."""

import asyncio
import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore

from documents import services
from documents.models import Role

ORIGIN = settings.WS_ALLOWED_ORIGINS[0]


def session_cookie(user: Any) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class ProtocolClient:
    """A WebSocket client for the ShareDB protocol, over the real ASGI application."""

    def __init__(self, cookie: str | None, origin: str | None = ORIGIN) -> None:
        from collab.asgi import application

        headers = []
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        if cookie is not None:
            headers.append((b"cookie", cookie.encode()))
        self.communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        self.src: str | None = None

    async def connect(self) -> bool:
        connected, _ = await self.communicator.connect()
        return bool(connected)

    async def handshake(self) -> dict[str, Any]:
        assert await self.connect()
        await self.send({"a": "hs", "id": None, "protocol": 1, "protocolMinor": 2})
        reply = await self.recv()
        self.src = reply["id"]
        return reply

    async def send(self, message: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps(message))

    async def send_raw(self, text: str) -> None:
        # send_input, because the communicator's send_to refuses an empty frame.
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        output = await self.communicator.receive_output(timeout)
        assert output["type"] == "websocket.send", output
        return json.loads(output["text"])

    async def recv_until(self, predicate: Any, timeout: float = 5) -> list[dict[str, Any]]:
        """Receive messages up to and including the first that satisfies `predicate`."""
        seen = []
        while True:
            message = await self.recv(timeout)
            seen.append(message)
            if predicate(message):
                return seen

    async def close_code(self, timeout: float = 5) -> int:
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def subscribe(self, document_id: str, version: int | None = None) -> list[dict[str, Any]]:
        await self.send({"a": "s", "c": "documents", "d": document_id, "v": version})
        return await self.recv_until(lambda m: m.get("a") == "s")

    async def submit(
        self, document_id: str, version: int, seq: int, op: Any, **extra: Any
    ) -> list[dict[str, Any]]:
        await self.send(
            {
                "a": "op",
                "c": "documents",
                "d": document_id,
                "v": version,
                "seq": seq,
                "x": {},
                "op": op,
                **extra,
            }
        )
        return await self.recv_until(lambda m: m.get("a") == "op" and m.get("seq") == seq and "op" not in m)

    async def disconnect(self) -> None:
        await self.communicator.disconnect()
        await asyncio.sleep(0)


async def connected(cookies: dict[str, str], *names: str) -> list[ProtocolClient]:
    """One handshaken client per user name, in order."""
    clients = [ProtocolClient(cookies[name]) for name in names]
    for client in clients:
        await client.handshake()
    return clients


@pytest.fixture
def users(transactional_db: Any) -> dict[str, Any]:
    user_model = get_user_model()
    return {
        name: user_model.objects.create_user(username=name, email=f"{name}@example.com", password=None)
        for name in ("olga", "ed", "vera", "nina")
    }


@pytest.fixture
def document(users: dict[str, Any]) -> Any:
    """A document owned by olga; ed edits, vera views, nina is not a member."""
    document = services.create_document(owner=users["olga"], title="Plan", content=[{"insert": "Hello\n"}])
    services.add_member(actor=users["olga"], document_id=document.pk, identifier="ed", role=Role.EDITOR)
    services.add_member(actor=users["olga"], document_id=document.pk, identifier="vera", role=Role.VIEWER)
    return document


@pytest.fixture
def cookies(users: dict[str, Any]) -> dict[str, str]:
    return {name: session_cookie(user) for name, user in users.items()}


@pytest.fixture
def team(users: dict[str, Any], document: Any) -> dict[str, Any]:
    """The users, plus carl (commenter) and sue (suggester) on the document."""
    user_model = get_user_model()
    for name, role in (("carl", Role.COMMENTER), ("sue", Role.SUGGESTER)):
        users[name] = user_model.objects.create_user(
            username=name, email=f"{name}@example.com", password=None
        )
        services.add_member(actor=users["olga"], document_id=document.pk, identifier=name, role=role)
    return users


@pytest.fixture
def team_cookies(team: dict[str, Any]) -> dict[str, str]:
    return {name: session_cookie(user) for name, user in team.items()}
