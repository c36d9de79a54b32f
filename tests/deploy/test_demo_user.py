"""`make run`'s first-run login: a demo account with a printed password, only for local runs."""

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from documents.models import Document


@pytest.mark.django_db
def test_demo_account_is_created_once_with_a_working_password(settings: Any) -> None:
    settings.DEBUG = True
    out = StringIO()
    call_command("ensure_demo_user", "--url", "http://127.0.0.1:9000/", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:9000/accounts/login/" in text
    password = text.split("password: ")[1].split()[0]
    assert authenticate(username="demo", password=password) is not None
    assert Document.objects.filter(owner__username="demo", title="Welcome").count() == 1
    again = StringIO()
    call_command("ensure_demo_user", stdout=again)
    assert "Users exist already" in again.getvalue()
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_no_demo_account_in_production(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("ensure_demo_user", stdout=StringIO())
