"""Empty PostgreSQL tables with DELETE after each transactional test, instead of `flush`.

Django's `TransactionTestCase` ends every test with the `flush` command: a TRUNCATE of every
table and a post_migrate signal that builds the content types and permissions again, about
120 ms on PostgreSQL. Most tests here are transactional (consumers, real servers), so that was
minutes of every run. A DELETE of each table in one transaction, with the foreign keys (all
deferrable, as Django makes them) checked at its commit, leaves the same empty database in a few
milliseconds: only the tables post_migrate fills (content types, permissions) and the migration
record are kept, as they are rebuilt identically anyway. SQLite, serialized rollback and
`available_apps` keep Django's own way.
"""

from typing import Any

from django.db import connections, transaction
from django.test import TransactionTestCase

# Filled by migrate and post_migrate alone, the same before and after any test.
KEPT = frozenset({"django_migrations", "django_content_type", "auth_permission"})

_django_teardown = TransactionTestCase._fixture_teardown


def empty_tables(alias: str) -> None:
    connection = connections[alias]
    tables = [
        name
        for name in connection.introspection.django_table_names(only_existing=True, include_views=False)
        if name not in KEPT
    ]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for name in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(name)}")


def _fixture_teardown(self: Any) -> None:
    aliases = list(self._databases_names(include_mirrors=False))
    if (
        self.available_apps is not None
        or self.serialized_rollback
        or any(connections[alias].vendor != "postgresql" for alias in aliases)
    ):
        _django_teardown(self)
        return
    for alias in aliases:
        empty_tables(alias)


def install() -> None:
    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]
