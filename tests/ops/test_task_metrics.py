"""Celery task durations and failures are counted by task name (through Celery's own signals)."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from prometheus_client import REGISTRY

from documents import services, tasks

TAKE_SNAPSHOT = "documents.tasks.take_snapshot"


def sample(name: str, task: str) -> float:
    return REGISTRY.get_sample_value(name, {"task": task}) or 0.0


@pytest.mark.django_db(transaction=True)
def test_task_runs_and_failures_are_counted(settings: Any) -> None:
    owner = get_user_model().objects.create_user(username="olga", password="pw-olga-1234")
    document = services.create_document(owner=owner, title="Counted", content=[{"insert": "Hi\n"}])
    runs = sample("collab_celery_task_duration_seconds_count", TAKE_SNAPSHOT)
    failures = sample("collab_celery_task_failures_total", TAKE_SNAPSHOT)

    assert tasks.take_snapshot.apply(args=[str(document.pk)]).successful()
    assert sample("collab_celery_task_duration_seconds_count", TAKE_SNAPSHOT) == runs + 1
    assert sample("collab_celery_task_failures_total", TAKE_SNAPSHOT) == failures

    assert tasks.take_snapshot.apply(args=["not-a-document-id"], throw=False).failed()
    assert sample("collab_celery_task_failures_total", TAKE_SNAPSHOT) == failures + 1
    assert sample("collab_celery_task_duration_seconds_count", TAKE_SNAPSHOT) == runs + 2
