"""A task for the worker-death test, loaded into a test worker with `-I tests.deploy.slow_tasks`."""

import os
import time

import redis
from celery import shared_task


@shared_task(acks_late=True)
def hang_on_first_delivery(key: str) -> str:
    """The first delivery marks `key` in Redis and hangs (until its worker is killed); the next finishes."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    if client.incr(key) == 1:
        time.sleep(600)
    return f"delivery {int(client.get(key) or 0)}"
