"""Stored XSS, checked in a real browser: hostile titles, display names, links and imported
Markdown and HTML are shown as text on the list page, the editor, the history page and the
share dialog; no script runs (`window.__xss` is never set) and no active markup reaches the DOM."""

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from documents import imports, services
from documents.models import Role
from tests.browser.conftest import (  # noqa: F401  (fixtures)
    Tab,
    _allow_orm_beside_playwright,
    browser,
    db,
    make_user,
    open_tab,
)

RUN = "window.__xss=1"
TITLE = f'Plan <script>{RUN}</script><img src=x onerror="{RUN}">'
NAME = f"<img src=x onerror={RUN}> <svg/onload={RUN}>"
MARKDOWN = f"""# Heading <script>{RUN}</script>

[click](javascript:{RUN}) <img src=x onerror="{RUN}"> [x](JaVaScRiPt:{RUN})

![image](javascript:{RUN}) <a href="javascript:{RUN}">raw link</a>

`<script>{RUN}</script>` <details open ontoggle="{RUN}">x</details>
"""
HTML = f"""<h1 onmouseover="{RUN}">Heading</h1><p onclick="{RUN}">para
<a href="javascript:{RUN}">link</a><a href=" javascript:{RUN}">spaced</a>
<svg onload="{RUN}"></svg><iframe src="javascript:{RUN}"></iframe>
<img src=x onerror="{RUN}"><script>{RUN}</script><style>body{{background:red}}</style>
<a href="data:text/html,<script>{RUN}</script>">data</a><form action="javascript:{RUN}"><button>go</button></form></p>"""

# What must never be in the DOM of a page showing hostile data (the head holds our own data: favicon).
ACTIVE_MARKUP = """() => {
  const handlers = [...document.querySelectorAll('*')].filter(
    (el) => [...el.attributes].some((a) => a.name.startsWith('on')));
  const links = [...document.querySelectorAll('body [href], body [src], body [action]')].filter((el) =>
    /^\\s*(javascript|data|vbscript):/i.test(el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action') || ''));
  // Executable scripts only: JSON data islands (json_script) may quote hostile text, escaped.
  const runnable = (s) => !s.type || /^(text\\/javascript|module|application\\/javascript)$/i.test(s.type);
  const scripts = [...document.querySelectorAll('script')].filter((s) => runnable(s) && s.textContent.includes('__xss'));
  return {xss: window.__xss === undefined ? null : window.__xss, handlers: handlers.map((el) => el.outerHTML.slice(0, 120)),
          links: links.map((el) => el.outerHTML.slice(0, 120)), scripts: scripts.length};
}"""


def assert_inert(tab: Tab, shot: Path) -> None:
    tab.page.wait_for_timeout(300)  # let any injected handler (img onerror) fire if it could
    tab.screenshot(shot, full_page=True)
    found = tab.page.evaluate(ACTIVE_MARKUP)
    assert found == {"xss": None, "handlers": [], "links": [], "scripts": 0}, found


def imported(owner: Any, name: str, source: str) -> Any:
    content = imports.parse_upload(name, source, time_limit=settings.COLLAB_IMPORT_TIME_LIMIT).ops
    return services.create_document(owner=owner, title=TITLE, content=content)


@pytest.fixture
def hostile(make_user: Any) -> dict[str, Any]:
    """olga owns documents imported from hostile Markdown and HTML; mallory, whose display name is
    markup, edits them, and owns one more document with a hostile title."""
    olga = make_user("olga", "Olga Owner")
    mallory = make_user("mallory", NAME)
    markdown = db(imported, olga, "evil.md", MARKDOWN)
    html = db(imported, olga, "evil.html", HTML)
    for document in (markdown, html):
        db(services.add_member, actor=olga, document_id=document.pk, identifier="mallory", role=Role.EDITOR)
        db(
            services.submit_operation,
            user=mallory,
            document_id=document.pk,
            src="m" * 32,
            seq=1,
            base_version=1,
            kind="edit",
            data=[{"insert": "x"}],
        )
    own = db(services.create_document, owner=mallory, title=TITLE, content=[{"insert": "Hi\n"}])
    db(services.add_member, actor=mallory, document_id=own.pk, identifier="olga", role=Role.VIEWER)
    return {"olga": olga, "markdown": markdown, "html": html}


def test_list_page(open_tab: Any, hostile: dict[str, Any], artifacts_dir: Path) -> None:
    tab = open_tab(hostile["olga"])
    tab.goto("/")
    assert TITLE in tab.page.inner_text("body")
    assert_inert(tab, artifacts_dir / "hostile-xss-list.png")


@pytest.mark.parametrize("source", ["markdown", "html"])
def test_editor_with_imported_content(
    open_tab: Any, hostile: dict[str, Any], artifacts_dir: Path, source: str
) -> None:
    tab = open_tab(hostile["olga"])
    tab.open_editor(hostile[source].pk)
    assert "Heading" in tab.text()
    assert_inert(tab, artifacts_dir / f"hostile-xss-editor-{source}.png")
    assert not tab.errors, tab.errors


def test_history_page(open_tab: Any, hostile: dict[str, Any], artifacts_dir: Path) -> None:
    tab = open_tab(hostile["olga"])
    tab.goto(f"/d/{hostile['markdown'].pk}/history/")
    tab.page.wait_for_selector("body[data-history-ready='true']", timeout=15_000)
    assert "<img src=x" in tab.page.inner_text("body")  # mallory's name, as text
    assert_inert(tab, artifacts_dir / "hostile-xss-history.png")


def test_share_dialog(open_tab: Any, hostile: dict[str, Any], artifacts_dir: Path) -> None:
    tab = open_tab(hostile["olga"])
    tab.open_editor(hostile["html"].pk)
    tab.page.get_by_role("button", name="Share").click()
    dialog = tab.page.locator("#share-dialog")
    dialog.locator("[data-member='mallory']").wait_for()
    assert "<svg/onload" in dialog.inner_text()
    assert_inert(tab, artifacts_dir / "hostile-xss-share-dialog.png")
