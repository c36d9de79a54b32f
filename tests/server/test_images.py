"""Images: uploaded through the API, checked and re-encoded, served only to readers, and embedded
only as this document's own; hostile uploads get clear errors."""

import io
import struct
import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image as PILImage

from documents import convert, selectors, services
from documents.errors import OpRejected
from documents.models import Document, Image, Role
from documents.services.submit import SERVER_SRC

pytestmark = pytest.mark.django_db(transaction=True)


def jpeg_with_gps() -> bytes:
    """A photo carrying EXIF (a GPS position and a camera) that must not be served."""
    image = PILImage.new("RGB", (40, 30), (200, 30, 30))
    exif = PILImage.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A PNG header claiming huge dimensions, with a tiny (truncated) body: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, document: Any, data: bytes, name: str = "photo.jpg") -> Any:
    return client.post(
        f"/api/documents/{document.pk}/images/", {"file": SimpleUploadedFile(name, data, "image/jpeg")}
    )


def test_an_upload_is_reencoded_without_metadata_and_served_only_to_readers(
    users: Any, document: Any
) -> None:
    services.add_member(actor=users["olga"], document_id=document.pk, identifier="nina", role=Role.COMMENTER)
    original = jpeg_with_gps()
    assert b"SecretCam" in original
    response = upload(client_for(users["ed"]), document, original)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == f"/api/documents/{document.pk}/images/{body['id']}/"
    assert len(body["id"]) == 32 and (body["width"], body["height"]) == (40, 30)

    served = client_for(users["vera"]).get(body["url"])  # a viewer reads it
    assert served.status_code == 200
    data = b"".join(served.streaming_content)
    assert served["Content-Type"] == "image/jpeg"
    assert b"SecretCam" not in data and b"Exif" not in data
    assert PILImage.open(io.BytesIO(data)).size == (40, 30)
    assert served["Cache-Control"] == "private, max-age=3600"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]
    again = client_for(users["vera"]).get(body["url"], HTTP_IF_NONE_MATCH=served["ETag"])
    assert again.status_code == 304

    outsider = get_user("mallory")
    for client in (client_for(outsider), Client()):
        refused = client.get(body["url"])
        assert refused.status_code in (401, 404)
        assert b"\xff\xd8" not in refused.content
    # Another document's path with this image's id is not found either.
    other = services.create_document(owner=outsider, title="Mine")
    assert client_for(outsider).get(f"/api/documents/{other.pk}/images/{body['id']}/").status_code == 404
    # Revoking access revokes the image at the next request.
    services.remove_member(actor=users["olga"], document_id=document.pk, username="vera")
    assert client_for(users["vera"]).get(body["url"]).status_code == 404


def get_user(name: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=name, password=None)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "plan.svg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
            "SVG",
        ),
        ("notes.png", b"just some text, not an image", "not a PNG, JPEG, GIF or WebP"),
        ("bomb.png", png_bomb(50_000, 50_000), "too large"),
        ("wide.png", png_bomb(12_000, 10), "too large"),
        ("empty.png", b"", "empty"),
    ],
    ids=["svg", "not-an-image", "bomb", "too-wide", "empty"],
)
def test_hostile_uploads_get_a_clear_error_and_store_nothing(
    users: Any, document: Any, name: str, data: bytes, message: str
) -> None:
    response = upload(client_for(users["ed"]), document, data, name)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "ERR_IMAGE_NOT_ACCEPTED"
    assert message in response.json()["error"]["message"]
    assert not Image.objects.exists()


def test_an_oversized_upload_is_refused(users: Any, document: Any, settings: Any) -> None:
    settings.COLLAB_MAX_IMAGE_BYTES = 1024
    response = upload(client_for(users["ed"]), document, b"\xff\xd8" + b"x" * 2048)
    assert response.status_code == 422
    assert "at most" in response.json()["error"]["message"]


def test_viewers_and_commenters_cannot_upload(users: Any, document: Any) -> None:
    services.add_member(actor=users["olga"], document_id=document.pk, identifier="nina", role=Role.COMMENTER)
    for name in ("vera", "nina"):
        response = upload(client_for(users[name]), document, jpeg_with_gps())
        assert response.status_code == 403, name
    assert not Image.objects.exists()


def _submit(user: Any, document: Any, image_value: str) -> Any:
    return services.submit_operation(
        user=user,
        document_id=document.pk,
        src=f"{SERVER_SRC}-test",
        seq=1,
        base_version=document.version,
        kind="edit",
        data=[{"insert": {"image": image_value}}],
    )


def test_only_this_documents_own_images_can_be_embedded(users: Any, document: Any) -> None:
    mine = services.upload_image(user=users["ed"], document_id=document.pk, data=jpeg_with_gps())
    other_document = services.create_document(owner=users["ed"], title="Other")
    theirs = services.upload_image(user=users["ed"], document_id=other_document.pk, data=jpeg_with_gps())
    refused = [
        services.image_path(document_id=document.pk, image_id="0" * 32),  # never uploaded
        services.image_path(document_id=document.pk, image_id=theirs.pk),  # another document's image
        services.image_path(document_id=other_document.pk, image_id=theirs.pk),  # another document's path
    ]
    for value in refused:
        with pytest.raises(OpRejected, match="uploaded to this document"):
            _submit(users["ed"], document, value)
    for value in ("https://example.com/x.png", "data:image/png;base64,iVBORw0KGgo="):
        with pytest.raises(Exception, match="embed 'image' cannot be"):
            _submit(users["ed"], document, value)
    document.refresh_from_db()
    result = _submit(users["ed"], document, services.image_path(document_id=document.pk, image_id=mine.pk))
    assert result.version == document.version


def test_exports_carry_the_images(users: Any, document: Any) -> None:
    image = services.upload_image(user=users["ed"], document_id=document.pk, data=jpeg_with_gps())
    path = services.image_path(document_id=document.pk, image_id=image.pk)
    document.refresh_from_db()
    _submit(users["ed"], document, path)
    client = client_for(users["vera"])
    html = client.get(f"/api/documents/{document.pk}/export/html/").content.decode()
    assert '<img src="data:image/jpeg;base64,' in html and path not in html
    markdown = client.get(f"/api/documents/{document.pk}/export/md/").content.decode()
    assert f"![image](http://testserver{path})" in markdown


def test_an_html_export_imports_with_its_images_and_comment_threads(users: Any, document: Any) -> None:
    image = services.upload_image(user=users["ed"], document_id=document.pk, data=jpeg_with_gps())
    document.refresh_from_db()
    _submit(users["ed"], document, services.image_path(document_id=document.pk, image_id=image.pk))
    thread = services.create_thread(user=users["ed"], document_id=document.pk, body="Why?", quote="ell")
    document.refresh_from_db()
    services.submit_operation(
        user=users["ed"],
        document_id=document.pk,
        src=f"{SERVER_SRC}-test",
        seq=2,
        base_version=document.version,
        kind="edit",
        data=[{"retain": 2}, {"retain": 3, "attributes": {"comment": thread["id"], "color": "#c92a2a"}}],
    )
    client = client_for(users["olga"])
    exported = client.get(f"/api/documents/{document.pk}/export/html/?comments=1").content
    answer = client.post("/api/documents/import/", {"file": SimpleUploadedFile("plan.html", exported)})
    assert answer.status_code == 201, answer.content
    assert answer.json()["warnings"] == []
    copy = Document.objects.get(pk=answer.json()["id"])
    [stored] = copy.images.all()
    [imported] = copy.comment_threads.all()
    path = services.image_path(document_id=copy.pk, image_id=stored.pk)
    assert selectors.snapshot_at(document=copy).content == [
        {"insert": {"image": path}},
        {"insert": "H"},
        {"insert": "ell", "attributes": {"color": "#c92a2a", "comment": imported.pk.hex}},
        {"insert": "o\n"},
    ]
    assert imported.quote == "ell" and [c.body for c in selectors.ordered_comments(imported)] == ["ed: Why?"]
    # The same file from .docx's path (bytes in, no threads there) and without comments: no threads.
    plain = convert.import_upload(
        "plan.html", client.get(f"/api/documents/{document.pk}/export/html/").content
    )
    assert plain.threads == {} and list(plain.images) == ["import:0"]


def test_animations_keep_their_frames_and_png_text_chunks_go(users: Any, document: Any) -> None:
    from PIL import PngImagePlugin

    frames = [PILImage.new("RGB", (20, 10), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    gif = io.BytesIO()
    frames[0].save(
        gif, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0, comment=b"hidden"
    )
    stored = services.upload_image(user=users["ed"], document_id=document.pk, data=gif.getvalue())
    with stored.file.open("rb") as handle:
        data = handle.read()
    assert stored.content_type == "image/gif" and PILImage.open(io.BytesIO(data)).n_frames == 3
    assert b"hidden" not in data

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Person")
    png = io.BytesIO()
    PILImage.new("RGBA", (8, 8), (1, 2, 3, 4)).save(png, "PNG", pnginfo=info)
    stored = services.upload_image(user=users["ed"], document_id=document.pk, data=png.getvalue())
    with stored.file.open("rb") as handle:
        data = handle.read()
    assert b"Secret Person" not in data
    assert PILImage.open(io.BytesIO(data)).getpixel((0, 0)) == (1, 2, 3, 4)


def test_an_image_check_past_the_time_limit_is_stopped(users: Any, document: Any, settings: Any) -> None:
    settings.COLLAB_IMPORT_TIME_LIMIT = 0.001
    response = upload(client_for(users["ed"]), document, jpeg_with_gps())
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "The image took too long to read."
    assert not Image.objects.exists()


def test_purging_a_document_removes_its_image_files(users: Any, document: Any) -> None:
    from django.core.files.storage import default_storage

    image = services.upload_image(user=users["ed"], document_id=document.pk, data=jpeg_with_gps())
    name = image.file.name
    assert default_storage.exists(name)
    operator = get_user("operator")
    operator.is_staff = True
    operator.save()
    services.purge_document(operator=operator, document_id=document.pk)
    assert not default_storage.exists(name)
    assert not Image.objects.exists()


def test_a_document_holds_a_bounded_number_of_images(users: Any, document: Any, settings: Any) -> None:
    settings.COLLAB_MAX_IMAGES_PER_DOCUMENT = 2
    client = client_for(users["ed"])
    assert [upload(client, document, jpeg_with_gps()).status_code for _ in range(2)] == [201, 201]
    refused = upload(client, document, jpeg_with_gps())
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == "This document already holds 2 images, the most it can."
    assert Image.objects.filter(document=document).count() == 2
