"""Connection loss: edits made offline stay in the editor and land exactly once when back.

What Chromium really does (checked with a raw WebSocket in this suite's browser): emulated
offline (`context.set_offline(True)`) fires the page's `offline` event and sets navigator.onLine
to false, but it does NOT close an open WebSocket; frames sent meanwhile are held back and
delivered after going online again. So the page drops its socket itself on `offline`, and for a
link that dies silently (no `offline` event) the heartbeat notices the missing pong.
"""

from pathlib import Path
from typing import Any

import pytest

from documents import services
from documents.models import Role

from .conftest import db, stored_text, wait_converged, wait_until

pytestmark = pytest.mark.browser

PREFIX = "Notes: "


def authored(text: str, alphabet: str) -> str:
    """One author's characters, in order, from the merged text after the fixed prefix."""
    assert text.startswith(PREFIX), text
    return "".join(c for c in text[len(PREFIX) :] if c in alphabet)


LOWER = "abcdefghijklmnopqrstuvwxyz."
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"


def test_offline_edits_land_exactly_once(make_user: Any, open_tab: Any, artifacts_dir: Path) -> None:
    alice_user = make_user("alice", "Alice Archer")
    bob_user = make_user("bob", "Bob Baker")
    document = db(
        services.create_document, owner=alice_user, title="Trip", content=[{"insert": PREFIX + "\n"}]
    )
    db(services.add_member, actor=alice_user, document_id=document.pk, identifier="bob", role=Role.EDITOR)
    alice, bob = open_tab(alice_user), open_tab(bob_user)
    alice.open_editor(document.pk)
    bob.open_editor(document.pk)
    alice.place_caret_at_end_of_first_line()
    bob.place_caret_at_end_of_first_line()

    alice.page.keyboard.type("one.")
    wait_converged(alice, bob)

    # 1. The browser goes offline: the status says so and counts the unsent changes.
    alice.context.set_offline(True)
    alice.page.locator("#connection-status[data-phase='offline']").wait_for(timeout=5_000)
    alice.page.keyboard.type("two.")
    alice.page.keyboard.type("three.")
    bob.page.keyboard.type("BOB-")
    # Counted as a person counts: ten characters, not "1 unsent change" (sharedb composes them).
    wait_until(lambda: "unsent character" in alice.status(), message="the unsent count", tab=alice)
    assert alice.status() == "Offline · 10 unsent characters"
    assert alice.text() == PREFIX + "one.two.three.\n"  # Kept in the editor...
    assert "two" not in bob.text()  # ...and not sent anywhere.
    # Cursors of others are not shown while we cannot know where they are.
    assert alice.page.locator(".ql-cursor").count() == 0
    assert alice.page.locator("#presence-list li").count() == 1
    alice.screenshot(artifacts_dir / "browser-offline.png")

    # A reload now would lose them, so leaving asks first.
    assert alice.page.evaluate(
        "(() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented; })()"
    )

    alice.context.set_offline(False)
    text = wait_converged(alice, bob)
    assert authored(text, LOWER) == "one.two.three.", text
    assert authored(text, UPPER) == "BOB-", text
    assert len(text) == len(PREFIX + "one.two.three.BOB-\n")
    wait_until(lambda: stored_text(document.pk) == text, message="the database", tab=alice)
    wait_until(lambda: alice.status() == "All changes saved", message="saved", tab=alice)
    # Back online, Bob is back in the list.
    alice.page.locator(f"#presence-list li[data-user-id='{bob_user.pk}']").wait_for(timeout=10_000)

    # 2. A link that dies without telling the browser: make the app miss the offline event,
    # shorten the heartbeat, and let the missing pong close the socket.
    alice.page.evaluate(
        """(() => {
            const app = window.collab;
            app.socket.pause = () => {};
            app.socket.resume = () => {};
            app.heartbeat.everyMs = 500;
            app.heartbeat.deadAfterMs = 1500;
            app.heartbeat.start();
        })()"""
    )
    alice.context.set_offline(True)
    alice.page.keyboard.type("four.")
    bob.page.keyboard.type("BEE-")
    # The socket still looks open to the browser; only the heartbeat can tell it is dead.
    alice.page.wait_for_function("() => window.collab.connection.state !== 'connected'", timeout=10_000)
    assert alice.page.evaluate("window.collab.socket.attempt") >= 1
    alice.page.keyboard.type("five.")
    wait_until(lambda: alice.status().startswith("Offline · "), message="the offline status", tab=alice)
    alice.screenshot(artifacts_dir / "browser-reconnecting.png")
    alice.context.set_offline(False)
    text = wait_converged(alice, bob, timeout=40)
    assert authored(text, LOWER) == "one.two.three.four.five.", text
    assert authored(text, UPPER) == "BOB-BEE-", text

    # 3. A socket dropped with edits in flight (what the heartbeat does): resent, applied once,
    # after a visible "Reconnecting in N s".
    alice.page.evaluate(
        """(() => {
            window.phases = [];
            const pill = document.getElementById('connection-status');
            new MutationObserver(() => window.phases.push(pill.dataset.phase + ': ' + pill.textContent))
                .observe(pill, {attributes: true, childList: true, characterData: true, subtree: true});
        })()"""
    )
    alice.page.keyboard.type("six.")
    alice.page.evaluate("window.collab.socket.drop('test')")
    alice.page.keyboard.type("seven.")
    text = wait_converged(alice, bob, timeout=40)
    assert authored(text, LOWER) == "one.two.three.four.five.six.seven.", text
    wait_until(lambda: stored_text(document.pk) == text, message="the database", tab=alice)
    assert alice.contents() == bob.contents()
    phases = alice.page.evaluate("window.phases")
    assert any(p.startswith("reconnecting: Reconnecting") for p in phases), phases
    bob.screenshot(artifacts_dir / "browser-after-reconnect.png")
    assert bob.errors == []
