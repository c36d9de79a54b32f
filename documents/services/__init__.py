"""Writes: every change to documents, members and the op log goes through these functions.

- `submit`: the submit path, the only place a document's version changes;
- `documents`: create, rename, delete, replace, restore and repair whole documents;
- `members`: roles and invite links;
- `snapshots`: materialized snapshots and the retention policy;
- `visitors`: who is in a document now.
"""

from .documents import (
    create_document,
    delete_document,
    rename_document,
    repair_content,
    replace_content,
    restore_version,
    restore_version_as_operator,
)
from .members import accept_invite, add_member, create_invite, remove_member, revoke_invite, set_member_role
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
from .visitors import end_visits, record_visits

__all__ = [
    "SERVER_SRC",
    "SubmitRequest",
    "SubmitResult",
    "accept_invite",
    "add_member",
    "clean_request",
    "compact_document",
    "create_document",
    "create_invite",
    "delete_document",
    "disconnect_user",
    "delta_limits",
    "document_limits",
    "end_visits",
    "record_visits",
    "remove_member",
    "rename_document",
    "repair_content",
    "replace_content",
    "restore_version",
    "restore_version_as_operator",
    "set_editing_closed",
    "revoke_invite",
    "server_submit",
    "set_member_role",
    "submit_batch",
    "submit_operation",
    "take_snapshot",
]
