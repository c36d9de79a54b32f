"""Images in documents: storing uploads, and the submit path's check that an embed is this document's.

An upload is checked and re-encoded in a bounded child process (`imports.check_upload`), stored
under an unguessable id in Django's default storage (files, or an S3-compatible bucket), and
its row names the document it belongs to. An editor then inserts `{"image": image_path(...)}`
as an ordinary op; `check_embeds` refuses any image embed that is not stored for the document
the op edits, so no op can point a document at another document's image, another site, or a
data URL.
"""

import logging
import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .. import imports
from ..errors import ImageNotAccepted, OpRejected
from ..images import CheckedImage, ImageRefused, image_path
from ..models import Document, Image, Role
from ..selectors import access_document

logger = logging.getLogger(__name__)

# Uploading puts something in the document, so it needs a role that may add content.
UPLOAD_ROLE = Role.SUGGESTER
_IMAGE_PATH = re.compile(r"/api/documents/([0-9a-f-]{36})/images/([0-9a-f]{32})/")


def _store(*, document: Document, user: Any, checked: CheckedImage) -> Image:
    """Write the file, then its row; a file whose row is not saved is removed again."""
    image = Image(
        id=secrets.token_hex(16),
        document=document,
        uploaded_by=user if getattr(user, "pk", None) else None,
        content_type=checked.content_type,
        width=checked.width,
        height=checked.height,
        size=len(checked.data),
    )
    image.file.save(f"image.{checked.extension}", ContentFile(checked.data), save=False)
    try:
        image.save(force_insert=True)
    except BaseException:
        delete_files([image.file.name])
        raise
    return image


def delete_files(names: Iterable[str]) -> None:
    """Remove stored image files (storage is not transactional: callers undo by hand)."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("could not delete stored image %s", name)


def upload_image(*, user: Any, document_id: Any, data: bytes) -> Image:
    """Check, re-encode and store an image for a document the user may add content to."""
    document, _role = access_document(user=user, document_id=document_id, min_role=UPLOAD_ROLE)
    if Image.objects.filter(document=document).count() >= settings.COLLAB_MAX_IMAGES_PER_DOCUMENT:
        raise ImageNotAccepted(
            f"This document already holds {settings.COLLAB_MAX_IMAGES_PER_DOCUMENT} images, the most it can."
        )
    try:
        checked = imports.check_upload(
            data, max_bytes=settings.COLLAB_MAX_IMAGE_BYTES, time_limit=settings.COLLAB_IMPORT_TIME_LIMIT
        )
    except ImageRefused as exc:
        raise ImageNotAccepted(str(exc)) from None
    except imports.ImportTooSlow:
        raise ImageNotAccepted("The image took too long to read.") from None
    return _store(document=document, user=user, checked=checked)


def store_imported_images(
    *, document: Document, user: Any, images: dict[str, CheckedImage]
) -> tuple[dict[str, str], list[str]]:
    """Store an import's checked images for its new document: (placeholder -> embed value, files)."""
    values: dict[str, str] = {}
    files: list[str] = []
    try:
        for placeholder, checked in list(images.items())[: settings.COLLAB_MAX_IMAGES_PER_DOCUMENT]:
            image = _store(document=document, user=user, checked=checked)
            files.append(image.file.name)
            values[placeholder] = image_path(document_id=document.pk, image_id=image.pk)
    except BaseException:
        delete_files(files)
        raise
    return values, files


def replace_placeholders(ops: list[dict[str, Any]], values: dict[str, str]) -> list[dict[str, Any]]:
    """An import's content with each image placeholder replaced by its stored image.

    The importer emits no other image embeds (an image it did not bring became a link), so a
    placeholder without a stored image is dropped.
    """
    result = []
    for op in ops:
        insert = op.get("insert")
        if isinstance(insert, dict) and "image" in insert:
            if insert["image"] not in values:
                continue
            op = {**op, "insert": {"image": values[insert["image"]]}}
        result.append(op)
    return result


def image_ids_in(ops: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(document id, image id) of every image embed inserted by `ops`."""
    found = []
    for op in ops:
        insert = op.get("insert")
        if isinstance(insert, dict) and "image" in insert:
            match = _IMAGE_PATH.fullmatch(str(insert["image"]))
            found.append((match.group(1), match.group(2)) if match else ("", ""))
    return found


def check_embeds(*, document: Document, ops: list[dict[str, Any]]) -> None:
    """Refuse an op whose image embeds are not images stored for this very document."""
    found = image_ids_in(ops)
    if not found:
        return
    if any(doc != str(document.pk) for doc, _image in found):
        raise OpRejected("An image in this document must be uploaded to this document.")
    wanted = {image for _doc, image in found}
    stored = set(Image.objects.filter(document=document, pk__in=wanted).values_list("pk", flat=True))
    if stored != wanted:
        raise OpRejected("An image in this document must be uploaded to this document.")
