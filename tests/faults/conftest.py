"""Fixtures for the fault tests: each gets a fresh stack, and its own Redis or PostgreSQL when it
is going to stop them."""

from collections.abc import Iterator

import pytest

from .stack import OwnPostgres, OwnRedis, Stack


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    try:
        yield redis.start()
    finally:
        redis.close()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    postgres = OwnPostgres()
    try:
        yield postgres.start()
    finally:
        postgres.close()


@pytest.fixture
def stack() -> Iterator[Stack]:
    """Two daphne processes behind HAProxy on the shared PostgreSQL and Redis."""
    built = Stack()
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def redis_stack(own_redis: OwnRedis) -> Iterator[Stack]:
    """The same, with a Redis of the test's own (channel layer and Celery broker)."""
    built = Stack(redis_url=own_redis.url)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def postgres_stack(own_postgres: OwnPostgres) -> Iterator[Stack]:
    """The same, with a PostgreSQL cluster of the test's own."""
    built = Stack(postgres_url=own_postgres.url)
    try:
        yield built
    finally:
        built.close()
