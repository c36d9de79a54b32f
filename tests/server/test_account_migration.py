"""Accounts that existed before sign-up keep signing in: their addresses become confirmed ones."""

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("documents", "0004_email_invitation"), ("account", "0009_emailaddress_unique_primary_email")]
AFTER = [("documents", "0005_vouch_for_existing_emails")]


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_get_confirmed_addresses() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User: Any = old.get_model("auth", "User")
    EmailAddress: Any = old.get_model("account", "EmailAddress")
    User.objects.create(username="legacy", email="legacy@example.com")
    User.objects.create(username="no-email", email="")
    signed_up = User.objects.create(username="new", email="new@example.com")
    EmailAddress.objects.create(user=signed_up, email="new@example.com", verified=False, primary=True)

    try:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        rows = set(EmailAddress.objects.values_list("user__username", "email", "verified"))
        assert rows == {("legacy", "legacy@example.com", True), ("new", "new@example.com", False)}
    finally:
        # Every later test needs the schema of today: forward to the newest migrations again.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
