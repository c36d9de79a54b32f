"""The operator's view: read-mostly, and every write it allows goes through `documents.services`.

- `documents`: documents (with their members and invite links), memberships, the op log, snapshots,
  comment threads;
- `users`: accounts, their active state and passwords.
"""

from . import documents, users  # noqa: F401  (registers the model admins)
