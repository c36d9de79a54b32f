"""ASGI entry point: HTTP goes to Django, WebSockets to the ShareDB consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from documents import access_log, collector, metrics, shutdown  # noqa: E402
from documents.consumers import native  # noqa: E402
from documents.routing import ExactOriginValidator, websocket_urlpatterns  # noqa: E402

shutdown.install()
access_log.install()
native.install()
metrics.start_publishing()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ExactOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
collector.install()
