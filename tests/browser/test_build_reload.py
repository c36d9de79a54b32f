"""A deploy while a page has unsaved edits: the page, now of an older build than the server,
saves its edits on the new server and then reloads itself, once."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from documents import selectors, services
from documents.models import Document
from tests.conftest import ServerProcess, database_url_for_test_db

from .conftest import db, plain_text, wait_until

pytestmark = pytest.mark.browser


def server_on(port: int | None, build: str) -> ServerProcess:
    env = {**database_url_for_test_db(), "REDIS_URL": settings.REDIS_URL, "COLLAB_BUILD_ID": build}
    server = ServerProcess(env, name=build)
    if port is not None:  # the new release takes over the old one's address
        server.port, server.url = port, f"http://127.0.0.1:{port}"
        origins = f"{server.url},http://localhost:{port}"
        server.env.update(CSRF_TRUSTED_ORIGINS=origins, WS_ALLOWED_ORIGINS=origins)
    return server.start()


@pytest.fixture
def servers(transactional_db: Any) -> Iterator[list[ServerProcess]]:
    started = [server_on(None, "build-one")]
    try:
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def live_server_url(servers: list[ServerProcess]) -> str:
    return servers[0].url


def test_page_of_an_old_build_saves_then_reloads_once(
    servers: list[ServerProcess], make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice = make_user("alice", "Alice Archer")
    document = db(services.create_document, owner=alice, title="Release notes", content=[{"insert": "v1\n"}])
    tab = open_tab(alice)
    page = tab.page
    builds: list[str] = []
    page.on(
        "load",
        lambda _: builds.append(page.evaluate("document.querySelector('meta[name=collab-build]').content")),
    )
    tab.open_editor(document.pk)
    assert builds == ["build-one"]

    # Offline, the edit stays pending; meanwhile the release with the new build replaces the server.
    tab.context.set_offline(True)
    tab.place_caret_at_end_of_first_line()
    page.keyboard.type(" shipped", delay=20)
    assert tab.unsent() > 0
    old = servers[0]
    old.stop()
    servers.append(server_on(old.port, "build-two"))
    tab.context.set_offline(False)

    wait_until(lambda: len(builds) == 2, tab=tab, timeout=40, message="the reload")
    page.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    assert builds == ["build-one", "build-two"]
    assert "v1 shipped" in tab.text()
    content = db(lambda: selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content)
    assert plain_text(content) == "v1 shipped\n"  # saved before the reload, and once
    page.wait_for_timeout(1500)
    assert len(builds) == 2  # the current build's page stays
    tab.screenshot(artifacts_dir / "browser-build-reloaded.png")
