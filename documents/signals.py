"""Logging out closes that user's open sockets."""

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from . import broadcast


@receiver(user_logged_out)
def close_sockets_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        broadcast.publish_session_end(user_id=user.pk)
