"""Offline across reloads: edits made while offline survive closing the tab (kept in IndexedDB)
and reach the server exactly once when the reopened page connects.

The page's WebSocket runs through a relay in the test (Playwright's route_web_socket), which can
swallow the server's acks to Alice (her op is committed but her page never hears so: the hard
case for exactly-once) and can keep the reopened page from reaching the server until the test
lets it ("reconnect")."""

import re
from pathlib import Path
from typing import Any

import pytest

from documents import services
from documents.models import Operation, Role

from .conftest import db, wait_converged, wait_until
from .test_offline import stored_text

pytestmark = pytest.mark.browser


class Relay:
    """Relays every page socket of a browser context to the server, with two switches."""

    def __init__(self) -> None:
        self.drop_acks = False
        self.hold = False
        self.held: list[Any] = []
        self.dropped = 0

    def __call__(self, route: Any) -> None:
        if self.hold:
            self.held.append(route)  # Never connected: the page waits for a handshake.
            return
        server = route.connect_to_server()

        def to_page(message: str | bytes) -> None:
            if self.drop_acks and isinstance(message, str) and self.is_ack(message):
                self.dropped += 1
                return
            route.send(message)

        server.on_message(to_page)
        route.on_message(lambda message: server.send(message))

    @staticmethod
    def is_ack(message: str) -> bool:
        return message.startswith('{"a":"op"') and '"op":' not in message[8:] and '"error"' not in message

    def release(self) -> None:
        """Let held pages reach the server: close their sockets, so they reconnect through us."""
        self.hold = False
        for route in self.held:
            route.close()
        self.held.clear()


def stored_records(tab: Any) -> list[dict[str, Any]]:
    return list(
        tab.page.evaluate(
            """() => new Promise((resolve, reject) => {
                const open = indexedDB.open('collab');
                open.onerror = () => reject(open.error);
                open.onsuccess = () => {
                    const req = open.result.transaction('pending').objectStore('pending').getAll();
                    req.onsuccess = () => resolve(req.result);
                };
            })"""
        )
    )


def inserted_by(document_id: Any, user: Any) -> str:
    """Every character the op log says `user` inserted, in version order."""

    def read() -> str:
        ops = Operation.objects.filter(document_id=document_id, author=user, kind="edit").order_by("version")
        return "".join(c.get("insert", "") for op in ops for c in op.data if isinstance(c.get("insert"), str))

    return str(db(read))


def test_offline_edits_survive_closing_the_tab_and_land_once(
    make_user: Any, open_tab: Any, artifacts_dir: Path
) -> None:
    alice_user, bob_user = make_user("alice", "Alice Archer"), make_user("bob", "Bob Baker")
    document = db(services.create_document, owner=alice_user, title="Plans", content=[{"insert": "Plan: \n"}])
    db(services.add_member, actor=alice_user, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    alice, bob = open_tab(alice_user), open_tab(bob_user)
    relay = Relay()
    alice.context.route_web_socket(re.compile(r"/ws/(\?.*)?$"), relay)
    alice.open_editor(document.pk)
    bob.open_editor(document.pk)
    alice.place_caret_at_end_of_first_line()
    alice.page.keyboard.type("one ")
    wait_converged(alice, bob)

    # The "t" of "two " is committed, but its ack never reaches Alice, so the rest waits behind
    # it (sharedb sends one op at a time). Then the browser goes offline and "four " is typed.
    relay.drop_acks = True
    alice.page.keyboard.type("two ")
    wait_until(lambda: bob.text().startswith("Plan: one t"), message="the t committed", tab=bob)
    alice.page.keyboard.type("three ")
    alice.context.set_offline(True)
    alice.page.locator("#connection-status[data-phase='offline']").wait_for(timeout=5_000)
    alice.page.keyboard.type("four ")
    assert relay.dropped >= 1
    wait_until(
        lambda: any("four" in str(r["state"]["data"]) for r in stored_records(alice)),
        message="the unsent edits in IndexedDB",
        tab=alice,
    )
    [record] = stored_records(alice)
    assert record["state"]["pending"][0]["seq"] is not None, "the op in flight is stored with its seq"
    alice.screenshot(artifacts_dir / "browser-offline-reload-before-close.png")
    alice.page.close()  # Without a chance to send anything.

    bob.page.locator(".ql-editor p").first.click()
    bob.page.keyboard.press("Control+Home")
    bob.page.keyboard.type("BOB ")
    wait_until(lambda: stored_text(document.pk).startswith("BOB "), message="Bob's edit", tab=bob)

    # Reopen while the server cannot be reached: the text is there, with its unsent count.
    alice.context.set_offline(False)
    relay.drop_acks = False
    relay.hold = True
    reopened = alice.context.new_page()
    alice.page = reopened
    alice.goto(f"/d/{document.pk}/")
    reopened.wait_for_selector("body[data-editor-ready='true']", timeout=15_000)
    assert alice.text() == "Plan: one two three four \n"
    wait_until(lambda: "unsent character" in alice.status(), message="the unsent count", tab=alice)
    alice.screenshot(artifacts_dir / "browser-offline-reload-reopened.png")

    # Reconnect: everything lands, each character once.
    relay.release()
    text = wait_converged(alice, bob, timeout=40)
    assert text == "BOB Plan: one two three four \n", text
    wait_until(lambda: stored_text(document.pk) == text, message="the database", tab=alice)
    assert inserted_by(document.pk, alice_user) == "one two three four "
    assert inserted_by(document.pk, bob_user) == "BOB "
    wait_until(lambda: alice.status() == "All changes saved", message="saved", tab=alice)
    wait_until(lambda: stored_records(alice) == [], message="IndexedDB emptied", tab=alice)
    alice.screenshot(artifacts_dir / "browser-offline-reload-landed.png")
    assert alice.errors == [] and bob.errors == []
