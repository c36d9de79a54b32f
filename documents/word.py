"""Word documents: .docx to HTML for the importer (mammoth), and a document to .docx (python-docx).

Import goes docx -> HTML (mammoth, which maps Word's styles to semantic elements and inlines
images as data URIs) -> the HTML importer, so one parser decides what a document may hold.
Export writes Word's built-in styles (Heading 1-3, List Bullet/Number, Quote) and two of our
own for code (a "Code" character style, a "Code Block" paragraph style) that the importer maps
back, so a round trip keeps them. No Django here: import runs in the bounded child process.
"""

import io
import zipfile
from collections.abc import Callable
from typing import Any

import docx
import mammoth
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor
from docx.text.paragraph import Paragraph

MAX_DOCX_BYTES = 20 * 1024 * 1024
"""The largest .docx upload: photos make Word files large."""
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
"""What its parts may unpack to: more is a zip bomb, refused before anything is unpacked."""
CODE_STYLE = "Code"
CODE_BLOCK_STYLE = "Code Block"
STYLE_MAP = f"""
p[style-name='{CODE_BLOCK_STYLE}'] => pre:separator('\\n')
p[style-name='HTML Preformatted'] => pre:separator('\\n')
r[style-name='{CODE_STYLE}'] => code
r[style-name='HTML Code'] => code
p[style-name='Quote'] => blockquote:fresh
p[style-name='Intense Quote'] => blockquote:fresh
p[style-name='Title'] => h1:fresh
u => u
strike => s
"""
ImageBytes = Callable[[str], bytes | None]


def docx_to_html(data: bytes) -> str:
    """The Word file as HTML; ValueError for what is not a readable .docx."""
    if len(data) > MAX_DOCX_BYTES:
        raise ValueError(f"A .docx file can be at most {MAX_DOCX_BYTES // (1024 * 1024)} MB.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ValueError("This .docx file unpacks to too much data to be read safely.")
            if "word/document.xml" not in archive.namelist():
                raise ValueError("This file is not a Word document (.docx).")
    except zipfile.BadZipFile:
        raise ValueError("This file is not a Word document (.docx).") from None
    try:
        result = mammoth.convert_to_html(io.BytesIO(data), style_map=STYLE_MAP)
    except Exception:
        raise ValueError("This Word document could not be read.") from None
    return str(result.value)


# --- Export -------------------------------------------------------------------------------------


def _styles(document: Any) -> None:
    styles = document.styles
    code = styles.add_style(CODE_STYLE, WD_STYLE_TYPE.CHARACTER)
    code.font.name = "Courier New"
    code.font.size = Pt(10)
    block = styles.add_style(CODE_BLOCK_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    block.base_style = styles["Normal"]
    block.font.name = "Courier New"
    block.font.size = Pt(10)
    block.paragraph_format.space_after = Pt(0)


def _hyperlink(paragraph: Paragraph, url: str) -> Any:
    """A w:hyperlink element to append runs into (python-docx has no API for links)."""
    relationship = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relationship)
    paragraph._p.append(link)
    return link


def _add_run(paragraph: Paragraph, text: str, attributes: dict[str, Any], link: Any) -> None:
    run = paragraph.add_run(text)
    run.bold = bool(attributes.get("bold")) or None
    run.italic = bool(attributes.get("italic")) or None
    run.underline = bool(attributes.get("underline")) or None
    if attributes.get("strike"):
        run.font.strike = True
    if attributes.get("code"):
        run.style = paragraph.part.document.styles[CODE_STYLE]
    if link is not None:
        run.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
        link.append(run._r)  # moved from the paragraph into the link


def to_docx(ops: list[dict[str, Any]], *, title: str, images: ImageBytes) -> bytes:
    """A .docx of the document, images included (`images` gives an image path's bytes)."""
    from .convert import image_url, lines_of, safe_link

    document = docx.Document()
    document.core_properties.title = title
    _styles(document)
    for runs, line in lines_of(ops):
        header, kind = line.get("header"), line.get("list")
        if header in (1, 2, 3):
            paragraph = document.add_paragraph(style=f"Heading {header}")
        elif kind == "ordered":
            paragraph = document.add_paragraph(style="List Number")
        elif kind in ("bullet", "checked", "unchecked"):
            paragraph = document.add_paragraph(style="List Bullet")
            if kind != "bullet":
                paragraph.add_run("☑ " if kind == "checked" else "☐ ")
        elif line.get("blockquote"):
            paragraph = document.add_paragraph(style="Quote")
        elif line.get("code-block"):
            paragraph = document.add_paragraph(style=CODE_BLOCK_STYLE)
        else:
            paragraph = document.add_paragraph()
        for text, attributes in runs:
            if "embed" in attributes:
                url = image_url(attributes["embed"])
                data = images(url) if url else None
                if data:
                    paragraph.add_run().add_picture(io.BytesIO(data), width=_width(data))
                continue
            target = safe_link(attributes.get("link"))
            _add_run(paragraph, text, attributes, _hyperlink(paragraph, target) if target else None)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _width(data: bytes) -> Any:
    """At most the text column's width (6 inches), never upscaled past 96 dpi."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return Inches(min(6.0, image.width / 96))
