"""Dark mode follows the system unless the toggle chose a theme, and both themes pass an
automated accessibility audit (axe-core, WCAG 2 A and AA, colour contrast included) on the
document list, the editor (with every palette colour, highlights, the find bar and the outline),
the history and the share dialog."""

import json
from pathlib import Path
from typing import Any

import pytest

from documents import services
from documents.models import Role

from .conftest import db
from .test_history import edit

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCHEMA = ROOT / "documents" / "schema.json"


def audit(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG 2 A/AA violations on the page as it is now (with the nodes' selectors)."""
    result = page.evaluate(
        """async () => {
            const report = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
            return report.violations.map((v) => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 5).map((n) => [n.target.join(' '), n.failureSummary])}));
        }"""
    )
    return list(result)


def unchecked_text(page: Any, selector: str) -> int:
    """How many text nodes under `selector` axe could not check for contrast (it gave up on them)."""
    return int(
        page.evaluate(
            """async (selector) => {
                const report = await axe.run(selector, {runOnly: {type: 'rule', values: ['color-contrast']}});
                return report.incomplete.reduce((n, rule) => n + rule.nodes.length, 0);
            }""",
            selector,
        )
    )


def background(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


@pytest.fixture
def shared_document(make_user: Any) -> dict[str, Any]:
    ada, bob = make_user("ada", "Ada Lovelace"), make_user("bob", "Bob Baker")
    content = [
        {"insert": "Themes"},
        {"insert": "\n", "attributes": {"header": 2}},
        {"insert": "Some "},
        {"insert": "linked", "attributes": {"link": "https://example.com/"}},
        {"insert": " text with "},
        {"insert": "code", "attributes": {"code": True}},
        {"insert": ".\nA quote\n"},
    ]
    # Every text colour of the palette, on the page and on each highlight (drawn as inline styles).
    schema = json.loads(SCHEMA.read_text())["inline"]
    for colour in schema["color"]["values"]:
        content.append({"insert": f"colour {colour} ", "attributes": {"color": colour}})
        for highlight in schema["background"]["values"]:
            content.append({"insert": "on", "attributes": {"color": colour, "background": highlight}})
        content.append({"insert": "\n"})
    content += [{"insert": "highlighted", "attributes": {"background": "#fff3bf"}}, {"insert": "\n"}]
    document = db(services.create_document, owner=ada, title="Colours", content=content)
    db(services.add_member, actor=ada, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    edit(bob, document, 1, [{"insert": "Bob was here. "}])
    return {"ada": ada, "document": document}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_the_audit_in_both_themes(
    scheme: str, shared_document: dict[str, Any], open_tab: Any, artifacts_dir: Path
) -> None:
    document = shared_document["document"]
    tab = open_tab(shared_document["ada"])
    tab.context.add_init_script(path=str(AXE))  # Init scripts are not subject to the page's CSP.
    page = tab.page
    page.emulate_media(color_scheme=scheme)
    found: dict[str, Any] = {}

    tab.goto("/")
    page.locator(".doc-row").first.wait_for()
    found["list"] = audit(page)
    page.screenshot(path=str(artifacts_dir / f"browser-theme-{scheme}-list.png"))
    list_background = background(page)

    tab.open_editor(document.pk)
    page.locator("[data-action=outline]").click()
    page.locator("#outline-panel").wait_for()
    found["editor"] = audit(page)
    # Every line was really checked (an overlay over the text would make axe give up on it).
    assert unchecked_text(page, ".ql-editor") == 0
    page.screenshot(path=str(artifacts_dir / f"browser-theme-{scheme}-editor.png"))
    page.locator(".ql-editor").focus()
    page.keyboard.press("Control+f")
    page.locator("[data-find='query']").fill("colour")
    page.locator(".find-match").first.wait_for()
    found["find"] = audit(page)
    page.keyboard.press("Escape")  # The find bar closes (it sits over the header's buttons).

    page.locator("[data-action=share]").click()
    page.locator("#share-dialog[open]").wait_for()
    page.locator("#share-members li").first.wait_for()
    found["share"] = audit(page)
    page.screenshot(path=str(artifacts_dir / f"browser-theme-{scheme}-share.png"))

    tab.goto(f"/d/{document.pk}/history/")
    page.wait_for_selector("body[data-history-ready='true']", timeout=15_000)
    found["history"] = audit(page)
    page.screenshot(path=str(artifacts_dir / f"browser-theme-{scheme}-history.png"))

    (artifacts_dir / f"axe-{scheme}.json").write_text(json.dumps(found, indent=2))
    assert {name: v for name, v in found.items() if v} == {}
    # The theme really is the one asked for: a dark page has a dark background.
    red = int(list_background.split("(")[1].split(",")[0])
    assert (red < 60) if scheme == "dark" else (red > 200), list_background


def test_the_toggle_overrides_the_system_and_is_remembered(
    shared_document: dict[str, Any], open_tab: Any
) -> None:
    tab = open_tab(shared_document["ada"])
    page = tab.page
    page.emulate_media(color_scheme="light")
    tab.goto("/")
    toggle = page.locator("[data-theme-toggle]")
    assert toggle.get_attribute("aria-pressed") == "false"
    light = background(page)
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    dark = background(page)
    assert dark != light
    # Remembered: the server renders the choice, so the next page starts dark.
    tab.open_editor(shared_document["document"].pk)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert background(page) == dark
    # Toggling back to what the system asks for follows the system again.
    page.locator("[data-theme-toggle]").click()
    assert page.evaluate("document.documentElement.dataset.theme || null") is None
    page.emulate_media(color_scheme="dark")
    assert background(page) == dark
