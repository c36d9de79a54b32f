"""WebSocket routing and the exact-origin check in front of it."""

from typing import Any

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.urls import path

from .consumers import ShareDBConsumer

websocket_urlpatterns = [path("ws/", ShareDBConsumer.as_asgi())]


def origin_allowed(origin: str | None) -> bool:
    return origin is not None and origin.rstrip("/") in settings.WS_ALLOWED_ORIGINS


class ExactOriginValidator:
    """Refuse a WebSocket whose Origin is not exactly one of WS_ALLOWED_ORIGINS.

    Channels' OriginValidator accepts leading-dot patterns that match every subdomain (so one
    Heroku app could open sockets to another) and lets a missing Origin through in some setups;
    cross-site WebSocket hijacking is only stopped by an exact allowlist.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            origin = None
            for name, value in scope.get("headers", []):
                if name == b"origin":
                    origin = value.decode("latin1")
                    break
            if not origin_allowed(origin):
                denier = WebsocketDenier()
                return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
