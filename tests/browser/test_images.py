"""Images in real browsers: picked, pasted and dropped by one person, seen by another; a refused
file says why; the Download menu gives Word and PDF files and importing a Word file brings its
title, formatting and images."""

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from documents import convert, selectors, services, word
from documents.models import Document, Image, Role

from .conftest import db, wait_until

pytestmark = pytest.mark.browser


def png(colour: tuple[int, int, int], size: tuple[int, int] = (120, 60)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def pair(make_user: Any) -> dict[str, Any]:
    alice = make_user("alice", "Alice Archer")
    bob = make_user("bob", "Bob Baker")
    document = db(services.create_document, owner=alice, title="Pictures", content=[{"insert": "Photos:\n"}])
    db(services.add_member, actor=alice, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    return {"alice": alice, "bob": bob, "document": document}


# Builds a File from base64 in the page and sends it as a paste or a drop onto the editor.
SEND_FILE = """([kind, name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const root = window.collab.quill.root;
  if (kind === 'paste') {
    root.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  } else {
    const box = root.querySelector('p').getBoundingClientRect();
    root.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true,
      clientX: box.left + 5, clientY: box.top + 5 }));
  }
}"""


def loaded_images(tab: Any) -> list[str]:
    """The src of every image in the editor that the browser has actually loaded."""
    return list(
        tab.page.evaluate(
            "Array.from(document.querySelectorAll('.ql-editor img'))"
            ".filter((img) => img.complete && img.naturalWidth > 0).map((img) => img.getAttribute('src'))"
        )
    )


def test_pick_paste_and_drop_reach_the_other_editor(
    pair: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    alice, bob = open_tab(pair["alice"]), open_tab(pair["bob"])
    doc_id = pair["document"].pk
    alice.open_editor(doc_id)
    bob.open_editor(doc_id)
    alice.place_caret_at_end_of_first_line()

    with alice.page.expect_file_chooser() as chooser:
        alice.page.locator("button.ql-image").click()
    chooser.value.set_files(
        files=[{"name": "red.png", "mimeType": "image/png", "buffer": png((220, 40, 40))}]
    )
    wait_until(lambda: len(loaded_images(bob)) == 1, message="the picked image in Bob's editor", tab=bob)

    encoded = base64.b64encode(png((40, 160, 60))).decode()
    alice.page.evaluate(SEND_FILE, ["paste", "green.png", "image/png", encoded])
    wait_until(lambda: len(loaded_images(bob)) == 2, message="the pasted image in Bob's editor", tab=bob)
    encoded = base64.b64encode(png((40, 60, 200))).decode()
    bob.page.evaluate(SEND_FILE, ["drop", "blue.png", "image/png", encoded])
    wait_until(
        lambda: len(loaded_images(alice)) == 3, message="Bob's dropped image in Alice's editor", tab=alice
    )

    paths = sorted(loaded_images(alice))
    assert paths == sorted(loaded_images(bob))
    assert all(p.startswith(f"/api/documents/{doc_id}/images/") for p in paths)
    assert db(lambda: Image.objects.filter(document_id=doc_id).count()) == 3
    # Stored as paths, never as data URLs.
    content = db(lambda: selectors.snapshot_at(document=Document.objects.get(pk=doc_id)).content)
    assert sorted(op["insert"]["image"] for op in content if isinstance(op["insert"], dict)) == paths

    # Pasted HTML keeps text and this document's images; another site's image is left out here,
    # so the server never has to refuse (and the editor never reload for) such an op.
    alice.page.evaluate(
        """([own]) => {
          const transfer = new DataTransfer();
          transfer.setData('text/html', `<p>pasted <img src="https://example.com/x.png"> <img src="${own}"></p>`);
          transfer.setData('text/plain', 'pasted');
          window.collab.quill.root.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
        }""",
        [paths[0]],
    )
    wait_until(
        lambda: "pasted" in bob.text() and len(loaded_images(bob)) == 4, message="the pasted HTML", tab=bob
    )
    assert "example.com" not in str(bob.contents())

    # A refused file says why, and nothing is inserted.
    svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"/>').decode()
    alice.page.evaluate(SEND_FILE, ["drop", "logo.svg", "image/svg+xml", svg])
    alice.page.locator("#editor-notice", has_text="SVG images are not accepted").wait_for(timeout=5000)
    assert len(loaded_images(alice)) == 4
    alice.screenshot(artifacts_dir / "images-alice.png")
    bob.screenshot(artifacts_dir / "images-bob.png")
    assert alice.errors == [] and bob.errors == []


def test_download_word_and_pdf_then_import_the_word_file(
    pair: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    alice = open_tab(pair["alice"])
    doc_id = pair["document"].pk
    image = db(services.upload_image, user=pair["alice"], document_id=doc_id, data=png((250, 200, 0)))
    path = services.image_path(document_id=doc_id, image_id=image.pk)
    content = [
        {"insert": "Quarterly plan"},
        {"insert": "\n", "attributes": {"header": 1}},
        {"insert": "Ship "},
        {"insert": "faster", "attributes": {"bold": True}},
        {"insert": "\n"},
        {"insert": {"image": path}},
        {"insert": "\n"},
    ]
    db(services.replace_content, user=pair["alice"], document_id=doc_id, content=content)
    alice.open_editor(doc_id)
    alice.page.locator("#export-menu summary").click()
    files = {}
    for kind in ("docx", "pdf"):
        with alice.page.expect_download() as download:
            alice.page.locator(f"[data-export='{kind}']").click()
        files[kind] = Path(download.value.path()).read_bytes()
        alice.page.locator("#export-menu summary").click()
    assert files["pdf"].startswith(b"%PDF") and b"/Subtype /Image" in files["pdf"]
    assert files["docx"].startswith(b"PK")

    saved = artifacts_dir / "export-plan.docx"
    saved.write_bytes(files["docx"])
    alice.goto("/")
    alice.page.set_input_files("#import-file", str(saved))
    alice.page.wait_for_url("**/d/*/", timeout=15_000)
    alice.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    assert alice.page.locator("#doc-title").input_value() == "Quarterly plan"  # the first heading
    wait_until(lambda: len(loaded_images(alice)) == 1, message="the imported image", tab=alice)
    assert alice.page.locator(".ql-editor h1").inner_text() == "Quarterly plan"
    assert alice.page.locator(".ql-editor strong").inner_text() == "faster"
    alice.screenshot(artifacts_dir / "import-docx.png")
    assert convert.to_text(word_round_trip(content, path)) == convert.to_text(content)
    assert alice.errors == []


def word_round_trip(content: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    data = word.to_docx(content, title="t", images=lambda p: png((1, 2, 3)) if p == path else None)
    return convert.import_upload("plan.docx", data).ops


MARKDOWN = """# Launch notes

Run `make run`, ~~not~~ a **bold** well-known step.

| Step | Owner |
|------|-------|
| Build | Ann |

![chart](https://example.com/chart.png)
"""


def test_a_markdown_import_says_what_it_changed_then_opens(
    pair: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    alice = open_tab(pair["alice"])
    alice.goto("/")
    alice.page.set_input_files(
        "#import-file", files=[{"name": "notes.md", "mimeType": "text/markdown", "buffer": MARKDOWN.encode()}]
    )
    status = alice.page.locator("#import-status")
    status.get_by_role("link", name="Open it").wait_for(timeout=15_000)
    assert "Imported “Launch notes”." in status.inner_text()
    assert "Tables were imported as text" in status.inner_text()
    assert "from other sites were kept as links" in status.inner_text()
    alice.screenshot(artifacts_dir / "import-markdown-warnings.png")
    status.get_by_role("link", name="Open it").click()
    alice.page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    assert alice.page.locator("#doc-title").input_value() == "Launch notes"
    editor = alice.page.locator(".ql-editor")
    assert editor.locator("code").inner_text() == "make run"
    assert editor.locator("s").inner_text() == "not"
    assert editor.locator("strong").inner_text() == "bold"
    assert "Step | Owner" in editor.inner_text() and "Build | Ann" in editor.inner_text()
    assert editor.locator("a", has_text="[chart]").get_attribute("href") == "https://example.com/chart.png"
    alice.screenshot(artifacts_dir / "import-markdown.png")
    assert alice.errors == []
