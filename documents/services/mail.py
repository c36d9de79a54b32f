"""Outgoing email: rendered by the caller, handed to a Celery task that retries until it is sent."""

from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.http import HttpRequest

from .. import tasks

# Where an invitation accepted by email is remembered between the link and the sign-up form.
INVITED_EMAIL_SESSION_KEY = "collab_invited_email"


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
    """The address an email invitation opened sign-up for, in this browser session, if any."""
    return request.session.get(INVITED_EMAIL_SESSION_KEY) if hasattr(request, "session") else None
