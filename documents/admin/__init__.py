"""The operator's view: read-mostly, and every write it allows goes through `documents.services`.

- `documents`: documents (with their members and invite links), memberships, the op log, snapshots,
  comment threads;
- `users`: accounts, their active state and passwords.
"""

from . import documents, users  # noqa: F401  (registers the model admins)

from django.contrib import admin  # noqa: E402

# The operator's pages carry the product's name, and link back to the app.
admin.site.site_header = "collab administration"
admin.site.site_title = "collab admin"
admin.site.index_title = "Documents and accounts"
admin.site.site_url = "/"
