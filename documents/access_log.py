"""daphne's access log as log records, so `LOG_FORMAT=json` makes every line of a web process JSON.

daphne writes its access log straight to stdout in NCSA text. Under JSON logs its generator is
replaced by one that logs each request and WebSocket event to `daphne.access`, with the URL
pattern instead of the path (a path may hold an invite or reset token) and no query string.
"""

import logging
import sys
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

logger = logging.getLogger("daphne.access")
# The WebSocket events daphne reports, by its action name.
WEBSOCKET_EVENTS = {
    "connecting": "WSCONNECTING",
    "connected": "WSCONNECT",
    "rejected": "WSREJECT",
    "disconnected": "WSDISCONNECT",
}
# Polled every few seconds by the platform and the scraper: at DEBUG, as the request log does.
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def route_of(path: str) -> str:
    """The URL pattern a path matched ("-" if none): never the path's own ids or tokens.

    Static files and the WebSocket endpoint keep their path: it names a file or the endpoint.
    """
    path = path.split("?", 1)[0]
    if path.startswith(settings.STATIC_URL) or path.startswith("/ws/"):
        return path[:200]
    try:
        match = resolve(path)
    except (Resolver404, UnicodeError, ValueError):
        return "-"
    return "/" + match.route if match.route else match.view_name or "-"


class JsonAccessLog:
    """daphne's action logger, writing records instead of text."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream  # daphne's stream, unused: records go through logging's handlers

    def __call__(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        fields: dict[str, Any] = {"client": details.get("client"), "route": route_of(details.get("path", ""))}
        if protocol == "http" and action == "complete":
            fields.update(
                method=details.get("method"),
                status=details.get("status"),
                bytes=details.get("size"),
                duration_ms=round((details.get("time_taken") or 0) * 1e3, 1),
            )
            level = logging.DEBUG if fields["route"] in PROBE_ROUTES else logging.INFO
            logger.log(level, "%s %s %s", fields["method"], fields["route"], fields["status"], extra=fields)
        elif protocol == "websocket" and action in WEBSOCKET_EVENTS:
            fields["event"] = WEBSOCKET_EVENTS[action]
            logger.info("%s %s", fields["event"], fields["route"], extra=fields)


def install() -> None:
    """Under daphne's command line with JSON logs, log access through `JsonAccessLog`."""
    if settings.LOG_FORMAT != "json":
        return
    cli = sys.modules.get("daphne.cli")
    if cli is not None:
        cli.AccessLogGenerator = JsonAccessLog  # looked up by `CommandLineInterface.run` after import
