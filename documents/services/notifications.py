"""Notifications: who hears of a new comment (mentioned members, and the thread's earlier
participants on a reply), marking them read, batched email by Celery, and unsubscribing.

Only members of the document are ever notified, and the email task checks access again when
it sends, so nobody learns of a document (not even its title) they cannot read.
"""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .. import broadcast
from ..models import Comment, EmailOptOut, Membership, Notification, NotificationReason
from ..selectors import readable_notifications

MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")
UNSUBSCRIBE_SALT = "collab.notifications.unsubscribe"


def mentioned_usernames(body: str) -> set[str]:
    return {name.rstrip(".").lower() for name in MENTION.findall(body)}


def notify_about(*, comment: Comment) -> list[Notification]:
    """Notify mentioned members and, on a reply, the thread's earlier participants (not the author)."""
    thread = comment.thread
    members = {
        m.user.get_username().lower(): m.user_id
        for m in Membership.objects.filter(
            document_id=thread.document_id, user__is_active=True
        ).select_related("user")
    }
    reasons: dict[int, str] = {}
    earlier = thread.comments.exclude(pk=comment.pk).values_list("author_id", flat=True)
    for user_id in {*earlier, thread.author_id}:
        if user_id in members.values():
            reasons[user_id] = NotificationReason.REPLY
    for name in mentioned_usernames(comment.body):
        if name in members:
            reasons[members[name]] = NotificationReason.MENTION
    reasons.pop(comment.author_id, None)
    from ..tasks import send_notification_email as send_notification_email_task

    created = Notification.objects.bulk_create(
        [
            Notification(user_id=user_id, document_id=thread.document_id, comment=comment, reason=reason)
            for user_id, reason in reasons.items()
        ]
    )
    for user_id in reasons:
        broadcast.publish_notification_on_commit(user_id=user_id, unread=unread_count(user_id=user_id))
        transaction.on_commit(
            lambda user_id=user_id: send_notification_email_task.apply_async(
                (user_id,), countdown=settings.COLLAB_NOTIFICATION_EMAIL_DELAY_SECONDS
            )
        )
    return created


def unread_count(*, user_id: Any) -> int:
    return readable_notifications(user_id).filter(read_at__isnull=True).count()


def mark_read(*, user: Any, ids: Any = None) -> int:
    """Mark some (a list of ids) or all of the user's notifications read; say how many are left."""
    pending = Notification.objects.filter(user=user, read_at__isnull=True)
    if isinstance(ids, list):
        pending = pending.filter(pk__in=[i for i in ids if isinstance(i, int)])
    pending.update(read_at=timezone.now())
    left = unread_count(user_id=user.pk)
    broadcast.publish_notification_on_commit(user_id=user.pk, unread=left)
    return left


def unsubscribe_token(user_id: Any) -> str:
    return signing.dumps(user_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe(*, token: Any) -> bool:
    """Stop notification email for the user a link was made for; False for a bad link."""
    try:
        user_id = signing.loads(str(token), salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return False
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return False
    EmailOptOut.objects.get_or_create(user=user)
    return True


def send_notification_email(*, user_id: Any, base_url: str) -> int:
    """Email one message listing the user's notifications not yet emailed; return how many.

    Runs in a task after the commit. Notifications on documents the user can no longer read are
    marked done without being sent; so are all of them for a user who unsubscribed.
    """
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update()
            .filter(user_id=user_id, emailed_at__isnull=True)
            .values_list("pk", flat=True)
        )
        if not pending:
            return 0
        visible = list(
            readable_notifications(user_id)
            .filter(pk__in=pending)
            .select_related("user", "document", "comment__author")
            .order_by("created_at", "pk")
            .distinct()
        )
        Notification.objects.filter(pk__in=pending).update(emailed_at=timezone.now())
        if not visible or EmailOptOut.objects.filter(user_id=user_id).exists():
            return 0
        user = visible[0].user
        if not user.email:
            return 0
        lines = []
        for notification in visible:
            author = notification.comment.author
            who = (author.get_full_name() or author.get_username()) if author else "Someone"
            what = "mentioned you" if notification.reason == NotificationReason.MENTION else "replied"
            link = base_url + reverse("document-editor", kwargs={"document_id": notification.document_id})
            lines.append(
                f"{who} {what} in “{notification.document.title}”:\n  {notification.comment.body}\n  {link}\n"
            )
        unsubscribe_link = base_url + reverse(
            "notifications-unsubscribe", kwargs={"token": unsubscribe_token(user_id)}
        )
        body = "\n".join(lines) + f"\nStop these emails: {unsubscribe_link}\n"
        count = len(visible)
        subject = "A new comment for you" if count == 1 else f"{count} new comments for you"
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return count
