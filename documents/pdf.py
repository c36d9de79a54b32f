"""PDF export: the HTML export with a print stylesheet, laid out by WeasyPrint.

WeasyPrint is a Python package over Pango (a system library present on Debian and on the
Heroku stacks), so a web process renders PDFs without a browser to install or keep alive;
headless Chromium would print the same HTML, at the cost of a 300 MB dependency per dyno.
It never loads anything over the network: the only resources are the images, inlined as
data URIs by the exporter; every other URL is refused. No Django here: it runs in the
bounded child process of `documents.imports`.
"""

from typing import Any

from .convert import ImageSource, Ops, to_html

PRINT_STYLE = """
@page { size: A4; margin: 20mm 18mm 22mm; @bottom-center { content: counter(page) " / " counter(pages);
  font: 9pt system-ui, sans-serif; color: #666; } }
html { font: 11pt/1.5 "DejaVu Serif", Georgia, serif; color: #111; }
h1, h2, h3 { font-family: "DejaVu Sans", system-ui, sans-serif; line-height: 1.25; break-after: avoid; }
h1 { font-size: 20pt; margin: 0 0 10pt; } h2 { font-size: 15pt; margin: 16pt 0 6pt; }
h3 { font-size: 12.5pt; margin: 12pt 0 4pt; }
p { margin: 0 0 6pt; orphans: 3; widows: 3; }
pre { font: 9.5pt/1.4 "DejaVu Sans Mono", monospace; background: #f4f4f4; padding: 6pt 8pt;
  white-space: pre-wrap; break-inside: avoid; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.9em; }
blockquote { margin: 0 0 6pt; padding-left: 10pt; border-left: 2pt solid #bbb; color: #333; }
a { color: #0550ae; }
img { max-width: 100%; break-inside: avoid; }
li[data-list] { list-style: none; }
section.comments { font-size: 9.5pt; border-top: 1px solid #ccc; margin-top: 18pt; }
"""


def _no_network() -> Any:
    """Only data: URIs (the inlined images): no file, no network, no redirect."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def to_pdf(ops: Ops, *, title: str, images: ImageSource | None = None, notes: Any = None) -> bytes:
    """A print-quality PDF of the document, images (as data URIs) included."""
    # Imported here, in the child process that renders: WeasyPrint parses its stylesheets when
    # imported, which no web process should pay for at start.
    import weasyprint

    source = to_html(ops, title=title, images=images, notes=notes, style=PRINT_STYLE)
    document = weasyprint.HTML(string=source, url_fetcher=_no_network(), base_url="about:blank")
    return bytes(document.write_pdf())


def to_pdf_with(ops: Ops, title: str, sources: dict[str, str | None], notes: Any = None) -> bytes:
    """`to_pdf` with the images given as a mapping (what a child process can be sent)."""
    return to_pdf(ops, title=title, images=sources.get, notes=notes)
