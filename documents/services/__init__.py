"""Writes: every change to documents, members, accounts and the op log goes through these functions.

Every actor calls them (pages, the JSON API, the admin, tasks, commands), and they tell open
connections what changed through `broadcast` once the change is committed.

- `submit`: the submit path, the only place a document's version changes;
- `documents`: create, rename, trash, restore from the trash, purge, replace, restore a version
  and repair whole documents;
- `search`: the full-text search index (written by snapshots, create and rename);
- `members`: roles, ownership and invite links;
- `comments`: comment threads and replies, accepting and rejecting suggestions;
- `notifications`: mentions and replies, read state, batched email, unsubscribing;
- `accounts`: users, their active state, names, passwords and sessions;
- `mail`: outgoing email, sent by a Celery task with retries;
- `invitations`: invitations by email (single use, expiring);
- `guests`: the guest link ("anyone with the link") and the guests it lets in;
- `snapshots`: materialized snapshots and the retention policy;
- `visitors`: who is in a document now;
- `images`: uploaded images, and the check that an image embed is the edited document's own.
"""

from .accounts import (
    account_changed,
    create_user,
    delete_user,
    save_user,
    sessions_of,
    set_active,
    set_color,
    set_display_name,
    set_password,
    sign_out_everywhere,
    sign_out_session,
)
from .comments import (
    create_thread,
    delete_comment,
    edit_comment,
    import_document,
    record_review,
    reply_to_thread,
    resolve_all_suggestions,
    set_thread_resolved,
)
from .guests import create_guest, join_by_link, set_guest_link
from .images import image_path, upload_image
from .invitations import accept_invitation, holds_address, invite_by_email, revoke_invitation
from .mail import INVITATION_SESSION_KEY, invited_email, queue_email
from .documents import (
    create_document,
    delete_document,
    purge_document,
    purge_expired_trash,
    rename_document,
    rename_document_as_operator,
    repair_content,
    replace_content,
    restore_document,
    restore_document_as_operator,
    restore_version,
    restore_version_as_operator,
)
from .members import (
    ADDED_NOTICE,
    accept_invite,
    add_member,
    create_invite,
    remove_member,
    remove_member_as_operator,
    revoke_invite,
    revoke_invites_as_operator,
    set_member_role,
    set_role_as_operator,
    transfer_ownership,
)
from .notifications import mark_read, send_notification_email, unread_count, unsubscribe
from .operations import disconnect_user, set_editing_closed
from .snapshots import compact_document, take_snapshot
from .submit import (
    SERVER_SRC,
    SubmitRequest,
    SubmitResult,
    clean_request,
    delta_limits,
    document_limits,
    server_submit,
    submit_batch,
    submit_operation,
)
from .visitors import claim_visit, end_visits, record_visits, refresh_visits

__all__ = [
    "account_changed",
    "create_guest",
    "join_by_link",
    "set_guest_link",
    "image_path",
    "upload_image",
    "unsubscribe",
    "unread_count",
    "send_notification_email",
    "mark_read",
    "resolve_all_suggestions",
    "set_thread_resolved",
    "reply_to_thread",
    "edit_comment",
    "import_document",
    "record_review",
    "delete_comment",
    "create_thread",
    "ADDED_NOTICE",
    "INVITATION_SESSION_KEY",
    "SERVER_SRC",
    "SubmitRequest",
    "SubmitResult",
    "accept_invitation",
    "accept_invite",
    "add_member",
    "clean_request",
    "compact_document",
    "create_document",
    "create_invite",
    "create_user",
    "delete_document",
    "delete_user",
    "disconnect_user",
    "delta_limits",
    "document_limits",
    "claim_visit",
    "end_visits",
    "holds_address",
    "invite_by_email",
    "invited_email",
    "purge_document",
    "purge_expired_trash",
    "restore_document",
    "restore_document_as_operator",
    "queue_email",
    "record_visits",
    "refresh_visits",
    "remove_member",
    "remove_member_as_operator",
    "rename_document",
    "rename_document_as_operator",
    "repair_content",
    "replace_content",
    "restore_version",
    "restore_version_as_operator",
    "revoke_invitation",
    "set_editing_closed",
    "revoke_invite",
    "revoke_invites_as_operator",
    "save_user",
    "server_submit",
    "sessions_of",
    "set_active",
    "set_color",
    "set_display_name",
    "set_member_role",
    "set_password",
    "set_role_as_operator",
    "sign_out_everywhere",
    "sign_out_session",
    "submit_batch",
    "submit_operation",
    "take_snapshot",
    "transfer_ownership",
]
