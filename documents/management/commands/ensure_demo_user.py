"""Make sure a local run has a login: create a demo account on first run and say so."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from documents import services

WELCOME = [
    {"insert": "Welcome to collab"},
    {"insert": "\n", "attributes": {"header": 1}},
    {"insert": "Open this page in a second window (or share it) and type in both: "},
    {"insert": "every keystroke", "attributes": {"bold": True}},
    {"insert": " reaches everyone at once.\n"},
]


class Command(BaseCommand):
    help = "Create the 'demo' superuser with a random password if no user exists yet (local runs only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="Where the site will be served.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if user_model.objects.exists():
            self.stdout.write("Users exist already; sign in with yours (or manage.py createsuperuser).")
            return
        if not settings.DEBUG:
            raise CommandError("Refusing to create a demo account with DEBUG off; use createsuperuser.")
        password = secrets.token_urlsafe(9)
        user = services.create_user(
            username=options["username"],
            email="demo@example.com",
            password=password,
            is_staff=True,
            is_superuser=True,
        )
        services.create_document(owner=user, title="Welcome", content=WELCOME)
        banner = "=" * 60
        self.stdout.write(
            f"{banner}\nDemo account created. Sign in at {options['url'].rstrip('/')}/accounts/login/\n"
            f"  username: {user.username}\n  password: {password}\n"
            f"(Shown once. Reset it with: .venv/bin/python manage.py changepassword {user.username})\n{banner}"
        )
