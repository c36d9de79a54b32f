"""Check an uploaded image and re-encode it, so what we store and serve is only pixels.

The type comes from the content (Pillow's decoders, never the file name or the browser's
header); SVG is refused (it is a script-capable document, not an image); dimensions are read
from the header and bounded before a single pixel is decoded, so a decompression bomb costs
nothing; the pixels are then written out again without metadata (EXIF, GPS, text chunks,
comments; only the colour profile stays), with the EXIF orientation applied first.
No Django here: the check runs in the bounded child process of `documents.imports`.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Formats people paste (screenshots, photos, animations), and the type each is served as.
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
MAX_SIDE = 10_000
"""Longest side in pixels: a 48-megapixel phone photo (8064 px) fits."""
MAX_PIXELS = 50_000_000
"""Pixels in all frames together: about 200 MB decoded, the most one check may cost."""
_KEPT_INFO = ("icc_profile", "transparency")


def image_path(*, document_id: object, image_id: str) -> str:
    """A stored image's embed value and URL: our own endpoint, which checks access on every GET."""
    return f"/api/documents/{document_id}/images/{image_id}/"


class ImageRefused(ValueError):
    """The upload is not an image we store; the message says why, for the person."""


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def check_image(data: bytes, *, max_bytes: int) -> CheckedImage:
    """The image re-encoded without metadata, or ImageRefused with a sentence for the person."""
    if not data:
        raise ImageRefused("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRefused(f"An image can be at most {max_bytes // (1024 * 1024)} MB.")
    if _looks_like_svg(data):
        raise ImageRefused("SVG images are not accepted; use PNG, JPEG, GIF or WebP.")
    try:
        image = Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES))
    except Image.DecompressionBombError:
        raise ImageRefused("The image is too large: it has too many pixels to be read safely.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("This file is not a PNG, JPEG, GIF or WebP image.") from None
    with image:
        width, height = image.size
        frames = getattr(image, "n_frames", 1)
        if width < 1 or height < 1:
            raise ImageRefused("The image has no pixels.")
        if max(width, height) > MAX_SIDE or width * height * frames > MAX_PIXELS:
            raise ImageRefused(
                f"The image is too large ({width} × {height}"
                f"{f', {frames} frames' if frames > 1 else ''}); "
                f"the limit is {MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels."
            )
        kind = image.format or ""
        try:
            data, width, height = _reencode(image, kind)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise ImageRefused("The image is damaged and cannot be read.") from None
    return CheckedImage(data, CONTENT_TYPES[kind], EXTENSIONS[kind], width, height)


def _reencode(image: Image.Image, kind: str) -> tuple[bytes, int, int]:
    out = io.BytesIO()
    if kind == "GIF" and getattr(image, "n_frames", 1) > 1:
        # Animated: every frame again, without comments or extensions beyond timing.
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frame = image.convert("RGBA")
            frame.info = {}  # comments and application extensions go
            frames.append(frame)
        frames[0].save(
            out,
            "GIF",
            save_all=True,
            append_images=frames[1:],
            loop=image.info.get("loop", 0),
            duration=image.info.get("duration", 100),
            disposal=2,
        )
        return out.getvalue(), frames[0].width, frames[0].height
    upright = ImageOps.exif_transpose(image)  # the orientation lives in EXIF, which goes
    # Only what the pixels need: the colour profile and a palette's transparent index.
    upright.info = {key: value for key, value in upright.info.items() if key in _KEPT_INFO}
    if kind == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    elif kind == "WEBP":
        upright.save(out, "WEBP", quality=90)
    elif kind == "GIF":
        upright.save(out, "GIF")
    else:
        mode = upright.mode if upright.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else "RGBA"
        upright.convert(mode).save(out, "PNG", optimize=True)
    return out.getvalue(), upright.width, upright.height
