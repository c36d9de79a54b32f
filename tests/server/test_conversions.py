"""Import and export as a person sees them: the defects a new user hit, and a round trip per format
(HTML, Markdown, Word, PDF) through the HTTP API, images included."""

import io
from typing import Any

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image as PILImage

from documents import convert, selectors, services
from documents.models import Document, Image
from documents.ot import rich_text, validate_document

pytestmark = pytest.mark.django_db(transaction=True)


def png(colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 32), colour).save(out, "PNG")
    return out.getvalue()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The defects -------------------------------------------------------------------------------


def test_html_export_keeps_a_multi_line_code_block_as_one_block() -> None:
    ops = [
        {"insert": "def f():"},
        {"insert": "\n", "attributes": {"code-block": True}},
        {"insert": "    return 1"},
        {"insert": "\n", "attributes": {"code-block": True}},
        {"insert": "after\n"},
    ]
    html = convert.to_html(ops)
    assert html.count("<pre>") == 1
    assert "<pre><code>def f():\n    return 1</code></pre>\n<p>after</p>" in html
    assert rich_text.compose([], convert.from_html(html)) == rich_text.compose([], ops)


@pytest.mark.parametrize(
    ("ops", "markdown"),
    [
        ([{"insert": "a"}, {"insert": " ", "attributes": {"bold": True}}, {"insert": "b\n"}], "a b\n"),
        (
            [{"insert": "x"}, {"insert": " bold ", "attributes": {"bold": True}}, {"insert": "y\n"}],
            "x **bold** y\n",
        ),
        ([{"insert": "a well-known, up-to-date fact\n"}], "a well-known, up-to-date fact\n"),
        ([{"insert": "- not a list\n"}], "\\- not a list\n"),
        ([{"insert": "1. not a list either\n"}], "1\\. not a list either\n"),
        ([{"insert": "# not a heading\n"}], "\\# not a heading\n"),
    ],
    ids=[
        "bold-space",
        "bold-with-spaces",
        "hyphen-in-words",
        "dash-at-start",
        "number-at-start",
        "hash-at-start",
    ],
)
def test_markdown_export_writes_what_a_person_would(ops: list[dict[str, Any]], markdown: str) -> None:
    assert convert.to_markdown(ops) == markdown
    assert convert.to_text(convert.from_markdown(markdown)) == convert.to_text(ops)


MARKDOWN = """# Launch notes

Use `make run` and ~~never~~ always test.

| Step | Owner |
|------|-------|
| Build | Ann |

![chart](https://example.com/chart.png)
"""


def test_a_markdown_import_keeps_code_strike_tables_and_says_what_it_changed(users: Any) -> None:
    response = client_for(users["olga"]).post(
        "/api/documents/import/", {"file": SimpleUploadedFile("notes.md", MARKDOWN.encode(), "text/markdown")}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Launch notes"  # the first heading, not the file name
    content = selectors.snapshot_at(document=Document.objects.get(pk=body["id"])).content
    assert {"insert": "make run", "attributes": {"code": True}} in content
    assert {"insert": "never", "attributes": {"strike": True}} in content
    text = convert.to_text(content)
    assert "Step | Owner\nBuild | Ann\n" in text
    assert {"insert": "[chart]", "attributes": {"link": "https://example.com/chart.png"}} in content
    assert any("Tables" in warning for warning in body["warnings"])
    assert any("other sites" in warning for warning in body["warnings"])


def test_an_html_import_keeps_embedded_images_and_styled_spans(users: Any) -> None:
    import base64

    source = (
        "<b style='font-weight:normal'><h2>Paste from a word processor</h2>"
        "<p><span style='font-weight:700'>bold</span> <span style='text-decoration:line-through'>old</span>"
        " <span style='font-family:Courier New'>x = 1</span></p>"
        f"<p><img src='data:image/png;base64,{base64.b64encode(png()).decode()}'></p>"
        "<p><img src='data:image/svg+xml;base64,PHN2Zz48L3N2Zz4='></p></b>"
    )
    response = client_for(users["olga"]).post(
        "/api/documents/import/", {"file": SimpleUploadedFile("paste.html", source.encode(), "text/html")}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Paste from a word processor"
    document = Document.objects.get(pk=body["id"])
    content = selectors.snapshot_at(document=document).content
    assert {"insert": "bold", "attributes": {"bold": True}} in content
    assert {"insert": "old", "attributes": {"strike": True}} in content
    assert {"insert": "x = 1", "attributes": {"code": True}} in content
    [image] = Image.objects.filter(document=document)
    assert {"insert": {"image": services.image_path(document_id=document.pk, image_id=image.pk)}} in content
    assert body["warnings"] == ["1 image(s) could not be read and were left out."]


# --- Round trips -------------------------------------------------------------------------------


@pytest.fixture
def rich_document(users: Any) -> Document:
    document = services.create_document(owner=users["olga"], title="Round trip")
    image = services.upload_image(user=users["olga"], document_id=document.pk, data=png())
    path = services.image_path(document_id=document.pk, image_id=image.pk)
    content = [
        {"insert": "Round trip"},
        {"insert": "\n", "attributes": {"header": 1}},
        {"insert": "Details"},
        {"insert": "\n", "attributes": {"header": 2}},
        {"insert": "Plain, "},
        {"insert": "bold", "attributes": {"bold": True}},
        {"insert": ", "},
        {"insert": "italic", "attributes": {"italic": True}},
        {"insert": ", "},
        {"insert": "underlined", "attributes": {"underline": True}},
        {"insert": ", "},
        {"insert": "struck", "attributes": {"strike": True}},
        {"insert": ", "},
        {"insert": "code", "attributes": {"code": True}},
        {"insert": " and a "},
        {"insert": "link", "attributes": {"link": "https://example.com/a"}},
        {"insert": ".\nfirst"},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "second"},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "one"},
        {"insert": "\n", "attributes": {"list": "ordered"}},
        {"insert": "two"},
        {"insert": "\n", "attributes": {"list": "ordered"}},
        {"insert": "done"},
        {"insert": "\n", "attributes": {"list": "checked"}},
        {"insert": "to do"},
        {"insert": "\n", "attributes": {"list": "unchecked"}},
        {"insert": "A quote"},
        {"insert": "\n", "attributes": {"blockquote": True}},
        {"insert": "x = 1"},
        {"insert": "\n", "attributes": {"code-block": True}},
        {"insert": "y = 2"},
        {"insert": "\n", "attributes": {"code-block": True}},
        {"insert": {"image": path}},
        {"insert": "\n"},
    ]
    services.replace_content(user=users["olga"], document_id=document.pk, content=content)
    return document


def _content(document_id: Any) -> list[dict[str, Any]]:
    return list(selectors.snapshot_at(document=Document.objects.get(pk=document_id)).content or [])


def _without_images(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return validate_document([op for op in ops if isinstance(op["insert"], str)])


@pytest.mark.parametrize("fmt", ["html", "docx"])
def test_export_then_import_gives_the_same_document_with_its_images(
    users: Any, rich_document: Document, fmt: str
) -> None:
    client = client_for(users["olga"])
    exported = client.get(f"/api/documents/{rich_document.pk}/export/{fmt}/")
    assert exported.status_code == 200
    response = client.post(
        "/api/documents/import/",
        {"file": SimpleUploadedFile(f"copy.{fmt}", exported.content, "application/octet-stream")},
    )
    assert response.status_code == 201, response.content
    assert response.json()["warnings"] == [] and response.json()["title"] == "Round trip"
    original, copy = _content(rich_document.pk), _content(response.json()["id"])
    assert _without_images(copy) == _without_images(original)
    # The image came along: stored again for the new document, the same pixels.
    [image] = Image.objects.filter(document_id=response.json()["id"])
    assert {
        "insert": {"image": services.image_path(document_id=image.document_id, image_id=image.pk)}
    } in copy
    with image.file.open("rb") as handle:
        assert PILImage.open(handle).convert("RGB").getpixel((5, 5)) == (10, 120, 200)


def test_markdown_export_then_import_keeps_the_text_and_links_the_image(
    users: Any, rich_document: Document
) -> None:
    client = client_for(users["olga"])
    markdown = client.get(f"/api/documents/{rich_document.pk}/export/md/").content.decode()
    [path] = [op["insert"]["image"] for op in _content(rich_document.pk) if isinstance(op["insert"], dict)]
    assert f"![image](http://testserver{path})" in markdown
    back = convert.from_markdown(markdown)
    # A Markdown file cannot carry the pixels: the image comes back as a link to where it is.
    link = {"insert": "[image]", "attributes": {"link": f"http://testserver{path}"}}
    assert link in back
    # Markdown has no underline; everything else comes back as it was.
    expected = [
        {"insert": op["insert"]} if op.get("attributes") == {"underline": True} else op
        for op in _without_images(_content(rich_document.pk))
    ]
    assert validate_document([op for op in back if op != link]) == validate_document(expected)


def test_pdf_export_is_a_paged_document_with_the_text_and_the_image(
    users: Any, rich_document: Document
) -> None:
    response = client_for(users["olga"]).get(f"/api/documents/{rich_document.pk}/export/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in (
        "Round trip",
        "Details",
        "bold",
        "italic",
        "first",
        "second",
        "A quote",
        "x = 1",
        "y = 2",
    ):
        assert expected in text, expected
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 1
    assert PILImage.open(io.BytesIO(images[0].data)).convert("RGB").getpixel((5, 5)) == (10, 120, 200)
    assert reader.metadata.title == "Round trip"
    assert any(
        annotation.get_object()["/A"]["/URI"] == "https://example.com/a"
        for annotation in reader.pages[0]["/Annots"]
    )


def _zip(parts: dict[str, bytes]) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00 not a zip at all", "not a Word document"),
        (_zip({"hello.txt": b"hi"}), "not a Word document"),
        (_zip({"word/document.xml": b"\0" * (101 * 1024 * 1024)}), "unpacks to too much data"),
        (_zip({"word/document.xml": b"<not xml", "[Content_Types].xml": b"<x/>"}), "could not be read"),
    ],
    ids=["not-a-zip", "zip-without-document", "zip-bomb", "broken-xml"],
)
def test_a_hostile_word_file_gets_a_clear_error(users: Any, data: bytes, message: str) -> None:
    response = client_for(users["olga"]).post(
        "/api/documents/import/",
        {"file": SimpleUploadedFile("report.docx", data, "application/octet-stream")},
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]["message"]
    assert not Document.objects.exists()


def test_a_pdf_past_its_time_limit_is_a_clear_503(users: Any, rich_document: Document, settings: Any) -> None:
    settings.COLLAB_EXPORT_TIME_LIMIT = 0.001
    response = client_for(users["olga"]).get(f"/api/documents/{rich_document.pk}/export/pdf/")
    assert response.status_code == 503
    assert response.json()["error"]["message"].startswith("The PDF took too long to make")
