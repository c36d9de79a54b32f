"""Pages carry a Content-Security-Policy that allows no inline or foreign script."""

from typing import Any

import pytest
from django.test import Client


@pytest.mark.django_db
def test_pages_forbid_inline_and_foreign_scripts(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_downloads_keep_their_own_stricter_policy(admin_client: Any, django_user_model: Any) -> None:
    from documents import services

    document = services.create_document(owner=django_user_model.objects.get(username="admin"), title="x")
    response = admin_client.get(f"/api/documents/{document.pk}/export/html/")
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
