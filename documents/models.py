"""Documents, their members, the op log and materialized snapshots: data and invariants only."""

import json
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

RICH_TEXT_URI = "http://sharejs.org/types/rich-text/v1"


class DeltaField(models.TextField):
    """JSON stored as ASCII text.

    A rich-text document may hold half of a surrogate pair in one op (JavaScript strings can
    split an emoji between two formats). PostgreSQL's jsonb refuses such strings; escaped JSON
    text keeps them exactly, on every database.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, ensure_ascii=True, separators=(",", ":"))

    def value_to_string(self, obj: Any) -> str:
        return str(self.get_prep_value(self.value_from_object(obj)))


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    # May change text only inside suggestion marks, and comment.
    SUGGESTER = "suggester", "Suggester"
    # May only comment: anchor threads on text, never change it.
    COMMENTER = "commenter", "Commenter"
    VIEWER = "viewer", "Viewer"


# The roles an owner can give; the owner's own role comes only with ownership.
GRANTABLE_ROLES = (Role.EDITOR, Role.SUGGESTER, Role.COMMENTER, Role.VIEWER)


class Document(models.Model):
    """A rich-text document; `version` counts committed ops, `length` is in UTF-16 units."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200, default="Untitled")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_documents"
    )
    # The OT type URI; empty once the document has been deleted (ShareDB's type null).
    type = models.CharField(max_length=100, default=RICH_TEXT_URI, blank=True)
    version = models.PositiveBigIntegerField(default=0)
    length = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Set by an operator from the live view: until cleared, every member's role reads as viewer.
    editing_closed_at = models.DateTimeField(null=True, blank=True)
    # Moves in the transaction of every change to who may read it (`services.access`), so each
    # process's hub re-reads its readers' roles when, and only when, it moved.
    access_stamp = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="document_owner_updated")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_deleted(self) -> bool:
        return not self.type


class SearchText(models.Model):
    """A document's title and plain text as of `version`, for full-text search.

    Kept current by the snapshot task (and by create and rename). On PostgreSQL the table also
    has a generated `vector` tsvector column with a GIN index (migration 0006), which the ORM
    does not know about: `documents.search` queries it directly.
    """

    document = models.OneToOneField(
        Document, on_delete=models.CASCADE, primary_key=True, related_name="search_text"
    )
    version = models.PositiveBigIntegerField(default=0)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"search text of {self.document_id} @ v{self.version}"


class Membership(models.Model):
    """A user's role on a document; the owner has one too, so access checks have one path."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    # Granted by the document's guest link (see GuestLink): it follows the link's role and ends
    # with the link; an owner's explicit grant clears it.
    via_link = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "user"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="membership_valid_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) on {self.document}"


class OperationKind(models.TextChoices):
    CREATE = "create", "Create"
    EDIT = "edit", "Edit"
    DELETE = "delete", "Delete"


class Operation(models.Model):
    """One committed op: it took the document from `version` to `version + 1`."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="operations")
    version = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10, choices=OperationKind.choices, default=OperationKind.EDIT)
    # The delta's ops for an edit, the initial content for a create, null for a delete.
    data = DeltaField(null=True, blank=True)
    src = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="operations",
    )
    # Set when this op restored the document to an earlier version, for the history timeline.
    restored_from = models.PositiveBigIntegerField(null=True, blank=True)
    # Set when this op accepted or rejected suggestions (`suggestions.review_of`): who accepted what.
    review = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "version"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="operation_unique_version"),
            models.UniqueConstraint(fields=["document", "src", "seq"], name="operation_unique_src_seq"),
        ]
        indexes = [models.Index(fields=["document", "created_at"], name="operation_doc_created")]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.version} ({self.kind})"


class Snapshot(models.Model):
    """The document's content after `version` ops; a cache of the op log, never the truth."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="snapshots")
    version = models.PositiveBigIntegerField()
    # Empty type means the document did not exist (or was deleted) at that version.
    type = models.CharField(max_length=100, default=RICH_TEXT_URI, blank=True)
    content = DeltaField(null=True, blank=True)
    # The same text with only an {"author": user id} attribute on each insert: who wrote what.
    authorship = DeltaField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="snapshot_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} @ v{self.version}"


class Invite(models.Model):
    """A shareable link that makes whoever opens it a member with `role`, until revoked."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="created_invites"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in GRANTABLE_ROLES]), name="invite_valid_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} invite to {self.document}"


class GuestLink(models.Model):
    """ "Anyone with the link": whoever opens the secret link gets `role`, with or without an account.

    At most one per document; turning it off deletes the row (and every membership it granted),
    turning it on again makes a new token, so an old link never comes back to life.
    """

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="guest_link")
    token = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in GRANTABLE_ROLES]), name="guest_link_valid_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} guest link to {self.document}"


class Guest(models.Model):
    """An account made for someone who came through a guest link without one.

    The user row gives them the one identity everything else knows (sessions, sockets, presence,
    the op log, who is here) under a generated name; this row says it is a guest's, confined to
    `document`, with no password and no email.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="guest"
    )
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="guests")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"guest {self.user_id} of {self.document_id}"


class Profile(models.Model):
    """What a person sets about themselves beyond Django's user: the colour of their cursor and avatar."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    # "#rrggbb"; empty: a colour picked from the user's id (frontend/src/lib/colors.mjs).
    color = models.CharField(max_length=7, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(color="") | Q(color__regex=r"^#[0-9a-f]{6}$"), name="profile_valid_color"
            ),
        ]

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class EmailInvitation(models.Model):
    """An invitation emailed to one address: single use, expiring, for one document and role.

    Only a hash of the emailed token is kept, so the table cannot be used to accept anything.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="email_invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_invitations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in GRANTABLE_ROLES]),
                name="email_invitation_valid_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} invitation for {self.email} to {self.document}"


class Visitor(models.Model):
    """An open connection subscribed to a document, for "who is here now"; refreshed while alive."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="visitors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="visits")
    channel_name = models.CharField(max_length=200)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "channel_name"], name="visitor_unique_connection"),
        ]
        indexes = [models.Index(fields=["document", "last_seen"], name="visitor_doc_seen")]

    def __str__(self) -> str:
        return f"{self.user} in {self.document}"


class CommentThread(models.Model):
    """A discussion on a passage; the passage carries the thread's id in its `comment` format.

    The text holds the anchor, so it moves with every edit as the text does; `quote` keeps the
    passage as it was when the thread opened, to show a thread whose text was deleted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="comment_threads")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comment_threads"
    )
    quote = models.TextField(blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["document", "created_at"], name="thread_doc_created")]

    def __str__(self) -> str:
        return f"thread {self.pk} on {self.document_id}"


class Comment(models.Model):
    """One message in a thread: the first opens it, the others reply."""

    thread = models.ForeignKey(CommentThread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comments"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["thread", "created_at", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="comment_not_empty")]

    def __str__(self) -> str:
        return f"comment {self.pk} in {self.thread_id}"


class NotificationReason(models.TextChoices):
    MENTION = "mention", "Mentioned"
    REPLY = "reply", "Reply to your thread"


class Notification(models.Model):
    """Someone mentioned `user` in a comment, or answered a thread they took part in."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="notifications")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="notifications")
    reason = models.CharField(max_length=10, choices=NotificationReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "comment"], name="notification_once_per_comment"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return f"{self.reason} for {self.user} on {self.document_id}"


class EmailOptOut(models.Model):
    """The user followed an unsubscribe link: notifications stay in the app, no more email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_opt_out"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"no email for {self.user}"


class AuditAction(models.TextChoices):
    MEMBER_ADDED = "member_added", "Granted access"
    ROLE_CHANGED = "role_changed", "Changed a role"
    MEMBER_REMOVED = "member_removed", "Revoked access"
    INVITE_CREATED = "invite_created", "Created an invite link"
    INVITE_REVOKED = "invite_revoked", "Revoked an invite link"
    INVITE_ACCEPTED = "invite_accepted", "Joined through an invite link"
    VERSION_RESTORED = "version_restored", "Restored a version"
    DOCUMENT_DELETED = "document_deleted", "Moved the document to the trash"
    DOCUMENT_RESTORED = "document_restored", "Restored the document from the trash"
    USER_CHANGED = "user_changed", "Changed a user in the admin"
    USER_DISCONNECTED = "user_disconnected", "Disconnected a user everywhere"
    EDITING_CLOSED = "editing_closed", "Closed the document to editing"
    EDITING_REOPENED = "editing_reopened", "Reopened the document to editing"
    INVITATION_SENT = "invitation_sent", "Invited someone by email"
    INVITATION_WITHDRAWN = "invitation_withdrawn", "Withdrew an invitation by email"
    INVITATION_ACCEPTED = "invitation_accepted", "Joined through an invitation by email"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", "Signed out everywhere"
    SIGNED_OUT_SESSION = "signed_out_session", "Signed out a session"
    GUEST_LINK_CHANGED = "guest_link_changed", "Changed the guest link"
    GUEST_LINK_OFF = "guest_link_off", "Turned the guest link off"
    GUEST_JOINED = "guest_joined", "Joined through the guest link"
    # What allauth's own pages change on one's account (signals.py reports each to the services).
    EMAIL_ADDED = "email_added", "Added an email address"
    EMAIL_REMOVED = "email_removed", "Removed an email address"
    EMAIL_CONFIRMED = "email_confirmed", "Confirmed an email address"
    PRIMARY_EMAIL_CHANGED = "primary_email_changed", "Changed the primary email address"
    SECOND_FACTOR_ADDED = "second_factor_added", "Added a second factor"
    SECOND_FACTOR_REMOVED = "second_factor_removed", "Removed a second factor"
    RECOVERY_CODES_RESET = "recovery_codes_reset", "Made new recovery codes"
    SSO_CONNECTED = "sso_connected", "Connected a single sign-on account"
    SSO_DISCONNECTED = "sso_disconnected", "Disconnected a single sign-on account"


class AuditEvent(models.Model):
    """Who changed access, invites, versions or users: appended by services, never edited.

    Names are kept beside the keys, so the record still reads right after a user or document
    is deleted. `details` holds ids, roles and versions only: never content or invite tokens.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    document_title = models.CharField(max_length=200, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_name = models.CharField(max_length=150, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["document", "-created_at"], name="audit_document_time"),
            models.Index(fields=["-created_at"], name="audit_time"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'}: {self.get_action_display()}"


def _image_path(image: "Image", filename: str) -> str:
    return f"images/{image.document_id}/{image.pk}.{filename.rsplit('.', 1)[-1]}"


class Image(models.Model):
    """An image uploaded into a document, re-encoded; served only to the document's readers.

    The id is 128 random bits, so an image's URL cannot be guessed, and every GET is checked
    against the document's members anyway.
    """

    id = models.CharField(primary_key=True, max_length=32, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="images")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to=_image_path, max_length=200)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/png", "image/jpeg", "image/gif", "image/webp"]),
                name="image_known_type",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk} in {self.document_id}"
