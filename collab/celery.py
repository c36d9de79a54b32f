"""The Celery app; configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

app = Celery("collab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Imported after the app is configured: the metrics module reads PROMETHEUS_MULTIPROC_DIR.
from documents import metrics  # noqa: E402

metrics.connect_celery_signals()
