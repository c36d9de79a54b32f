"""The build id: which editor bundle this server hands out, so pages of another build reload.

`COLLAB_BUILD_ID` names it (a deploy may set the commit); otherwise it is a hash of the built
bundle, the same in every process of one build. Pages send it in their handshake.
"""

import functools
import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest

BUNDLE = settings.BASE_DIR / "frontend" / "dist" / "collab"


@functools.cache
def build_id() -> str:
    if settings.COLLAB_BUILD_ID:
        return str(settings.COLLAB_BUILD_ID)
    digest = hashlib.sha256()
    for path in sorted(BUNDLE.glob("*")) if BUNDLE.is_dir() else []:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: `build_id` for the page's meta tag."""
    return {"build_id": build_id()}
