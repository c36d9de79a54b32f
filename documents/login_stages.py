"""The sign-in stage that asks for a confirmed email, limited to accounts that signed themselves up."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage as AllauthEmailVerificationStage


class EmailVerificationStage(AllauthEmailVerificationStage):
    """Confirmation is for accounts that signed themselves up.

    Operators (`createsuperuser`) and accounts made before sign-up existed have no address record
    to confirm; accounts made through `services` or the admin have theirs vouched for.
    """

    def handle(self) -> Any:
        user = self.login.user
        if user is not None and (user.is_staff or not EmailAddress.objects.filter(user_id=user.pk).exists()):
            return None, True
        return super().handle()
