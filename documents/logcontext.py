"""Context ids on every log line: the connection, user, document and request a line is about.

Values live in context variables, set by the consumer (connection, user, document of the frame
being handled) and by `RequestIdMiddleware` (request, user); asyncio tasks and the threads that
run database calls inherit them. `ContextFilter` copies them onto each record, where the JSON
formatter (`LOG_FORMAT=json`) writes them as fields. Only ids: never content, cookies or tokens.
"""

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

connection_id: ContextVar[str | None] = ContextVar("connection_id", default=None)
user_id: ContextVar[Any] = ContextVar("user_id", default=None)
document_id: ContextVar[str | None] = ContextVar("document_id", default=None)
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_request: ContextVar[HttpRequest | None] = ContextVar("request", default=None)
request_logger = logging.getLogger("documents.requests")
# Polled every few seconds by the platform and the scraper: logged at DEBUG only.
PROBES = frozenset({"healthz", "readyz", "metrics"})

# A request id from the platform's router (Heroku sets X-Request-ID) is kept if it looks like one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        user = user_id.get()
        request = _request.get()
        if user is None and request is not None and hasattr(request, "_cached_user"):
            # Only once authentication has run: reading request.user here would query the session.
            user = getattr(request._cached_user, "pk", None)
        for name, value in (
            ("connection_id", connection_id.get()),
            ("user_id", user),
            ("document_id", document_id.get()),
            ("request_id", request_id.get()),
        ):
            if value is not None:
                setattr(record, name, value)
        return True


class RequestIdMiddleware:
    """Give each HTTP request an id (the router's, or a new one) for its log lines and response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        tokens = (request_id.set(rid), _request.set(request))
        started = time.monotonic()
        try:
            response = self.get_response(request)
            # The URL pattern, not the path: a path may hold an invite token.
            match = request.resolver_match
            probe = match is not None and match.url_name in PROBES
            request_logger.log(
                logging.DEBUG if probe else logging.INFO,
                "%s %s %s %.1fms",
                request.method,
                match.route if match else "-",
                response.status_code,
                (time.monotonic() - started) * 1e3,
            )
        finally:
            request_id.reset(tokens[0])
            _request.reset(tokens[1])
        response["X-Request-ID"] = rid
        return response
