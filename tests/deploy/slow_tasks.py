"""Tasks for the worker-death and SIGTERM tests, loaded into a test worker with `-I tests.deploy.slow_tasks`."""

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


@shared_task(acks_late=True)
def sleep_and_count(key: str, seconds: float) -> str:
    """Count a delivery in `key`, sleep, and say which delivery finished."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    delivery = client.incr(key)
    time.sleep(seconds)
    return f"delivery {delivery}"
