"""`changepassword`, saved through the accounts service, so the user's open sockets close at once."""

from typing import Any

from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from documents import services

MAX_TRIES = 3


class Command(changepassword.Command):
    def handle(self, *args: Any, **options: Any) -> str:
        model = changepassword.UserModel
        username = options["username"] or changepassword.getpass.getuser()
        user = (
            model._default_manager.using(options["database"])
            .filter(**{model.USERNAME_FIELD: username})
            .first()
        )
        if user is None:
            raise CommandError(f"user '{username}' does not exist")
        self.stdout.write(f"Changing password for user '{user}'")
        for _ in range(MAX_TRIES):
            first, second = self._get_pass(), self._get_pass("Password (again): ")
            if first != second:
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                validate_password(second, user)
            except ValidationError as error:
                self.stderr.write("\n".join(error.messages))
                continue
            services.set_password(user=user, password=first)
            return f"Password changed successfully for user '{user}'"
        raise CommandError(f"Aborting password change for user '{user}' after {MAX_TRIES} attempts")
