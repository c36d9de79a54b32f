"""Outgoing email: rendered by the caller, handed to a Celery task that retries until it is sent."""

from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.http import HttpRequest

from .. import tasks
from ..selectors import live_email_invitation

# The emailed invitation's token, kept in the browser's session from its link to the sign-up form.
INVITATION_SESSION_KEY = "collab_invitation"


def queue_email(*, message: EmailMessage) -> None:
    """Queue one message now (not on commit: the caller must learn if the queue is down)."""
    html = None
    if isinstance(message, EmailMultiAlternatives):
        html = next((content for content, mime in message.alternatives if mime == "text/html"), None)
    tasks.send_email.delay(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=list(message.to),
        html=html,
        headers=dict(message.extra_headers),
    )


def invited_email(*, request: HttpRequest) -> Any:
    """The address of the live invitation this browser came with, if any: sign-up is for it."""
    token = request.session.get(INVITATION_SESSION_KEY) if hasattr(request, "session") else None
    invitation = live_email_invitation(token=token)
    return None if invitation is None else invitation.email
