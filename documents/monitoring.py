"""Endpoints for the platform and for operators: readiness and Prometheus metrics.

`/healthz` (in views) only says the process answers. `/readyz` says it can serve: the database
answers and is migrated, and Redis answers when configured, each within
`COLLAB_READY_TIMEOUT_SECONDS`; it answers "ok" or "unavailable" and nothing else (the reason
goes to the log). A draining process (SIGTERM) is not ready, so the balancer stops sending to it.
"""

import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import metrics, shutdown

logger = logging.getLogger(__name__)

# Checks run here so that a hung database or Redis costs the request its bound, never more; two
# threads, so hung checks pile up here instead of in the server's own pools.
_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")
_migrated = False


def _check_database() -> None:
    """`SELECT 1` on the check thread's own connection, kept between checks (a new PostgreSQL
    connection per probe costs the server a process); a failed check drops it."""
    global _migrated
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrated:
            from django.db.migrations.executor import MigrationExecutor

            executor = MigrationExecutor(connections["default"])
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                raise RuntimeError("migrations are not applied")
            _migrated = True  # Applied migrations stay applied for the life of the code.
    except Exception:
        connections["default"].close()
        raise


_redis: Any = None


def _check_redis() -> None:
    global _redis
    import redis

    if _redis is None:
        _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        _redis.ping()
    except Exception:
        _redis.close()
        _redis = None
        raise


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when this process can serve, else 503; unauthenticated, reveals nothing more."""
    if shutdown.draining():
        return HttpResponse("unavailable", status=503, content_type="text/plain")
    checks = {"database": _checks.submit(_check_database)}
    if settings.REDIS_URL:
        checks["redis"] = _checks.submit(_check_redis)
    failed = []
    for name, future in checks.items():
        try:
            future.result(timeout=settings.COLLAB_READY_TIMEOUT_SECONDS)
        except FutureTimeout:
            failed.append(f"{name}: no answer within {settings.COLLAB_READY_TIMEOUT_SECONDS}s")
        except Exception as error:
            failed.append(f"{name}: {type(error).__name__}: {error}")
    if failed:
        logger.warning("not ready: %s", "; ".join(failed))
        return HttpResponse("unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def _authorized(request: HttpRequest) -> bool:
    token = settings.COLLAB_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Every process's metrics, for a scraper with the token or a staff session."""
    if not _authorized(request):
        response = HttpResponse("forbidden", status=403, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)


def live_view(request: HttpRequest) -> HttpResponse:
    """Staff only (wrapped by the admin): documents open now, who is in each, ops per minute, the
    last snapshot; POST disconnects a user everywhere, or closes or reopens a document to editing."""
    from django.contrib import admin, messages
    from django.shortcuts import redirect, render

    from . import selectors, services
    from .errors import CollabError

    if request.method == "POST":
        try:
            if "user_id" in request.POST:
                services.disconnect_user(operator=request.user, user_id=request.POST["user_id"])
                messages.success(request, "Disconnected everywhere; they can sign in again.")
            else:
                closed = request.POST.get("editing") == "close"
                services.set_editing_closed(
                    operator=request.user, document_id=request.POST.get("document_id"), closed=closed
                )
                messages.success(request, "Closed to editing." if closed else "Reopened to editing.")
        except CollabError as error:
            messages.error(request, error.message)
        return redirect("admin-live")
    context = {
        **admin.site.each_context(request),
        "title": "Live: documents open now",
        "rows": selectors.live_documents(within_seconds=selectors.visitor_ttl()),
    }
    return render(request, "admin/live.html", context)
