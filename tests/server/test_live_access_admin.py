"""Access changes made in the real admin reach open sockets on both server processes within 2 s.

Two daphne processes share PostgreSQL and Redis. Real `sharedb` clients and raw protocol sockets
stay open while an operator, signed in to the admin over HTTP, downgrades a member, removes one,
deactivates an account, changes the owner and deletes an account; the driver waits for each
effect with a 2 s deadline.
"""

import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .sharedb_fixtures import TwoServers, two_servers  # noqa: F401  (fixture)
from .sharedb_harness import MARK, driver_result, servers_spec, shell_json, start_driver

pytestmark = pytest.mark.integration

WITHIN_MS = 2000

SETUP = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from documents import services
from documents.models import Membership

tag = TAG
people = {name: services.create_user(username=name + tag, email=name + tag + "@example.com")
          for name in ("olga", "ed", "vera", "dave")}
root = services.create_user(username="root" + tag, is_staff=True, is_superuser=True)
document = services.create_document(owner=people["olga"], title="Live", content=[{"insert": "Hello\\n"}])
for name, role in (("ed", "editor"), ("vera", "viewer"), ("dave", "editor")):
    services.add_member(actor=people["olga"], document_id=document.pk, identifier=name + tag, role=role)
sessions = {}
for name, user in {**people, "root": root}.items():
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    sessions[name] = session.session_key
memberships = {name: Membership.objects.get(document=document, user=people[name]).pk for name in ("ed", "vera")}
print(MARK + json.dumps({"doc": str(document.pk), "sessions": sessions, "memberships": memberships,
                         "user_ids": {name: user.pk for name, user in people.items()}}))
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class AdminClient:
    """An operator's browser, reduced to what the admin needs: a session cookie and CSRF tokens."""

    def __init__(self, base_url: str, session_key: str) -> None:
        self.base_url = base_url
        self.session_key = session_key
        self.opener = urllib.request.build_opener(NoRedirect)

    def post_form(self, path: str, fields: dict[str, Any]) -> int:
        """Load the page as a browser would, then submit its form with `fields`; return the status."""
        page = self.opener.open(self._request(path))
        html = page.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", page.headers.get("Set-Cookie", "")).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}, doseq=True).encode()
        try:
            response = self.opener.open(self._request(path, body, csrf=cookie))
            return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def _request(
        self, path: str, body: bytes | None = None, csrf: str | None = None
    ) -> urllib.request.Request:
        request = urllib.request.Request(self.base_url + path, data=body)
        cookie = f"sessionid={self.session_key}" + (f"; csrftoken={csrf}" if csrf else "")
        request.add_header("Cookie", cookie)
        return request


def wait_for_file(path: Path, driver: subprocess.Popen[str], timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        if driver.poll() is not None:
            raise AssertionError(f"the driver ended before {path.name}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the driver never reached {path.name}")
        time.sleep(0.05)


def test_access_changes_in_the_admin_reach_open_sockets_on_both_processes(
    two_servers: TwoServers, tmp_path: Path, artifacts_dir: Path
) -> None:
    cluster = two_servers.cluster
    tag = two_servers.unique("")
    code = f"TAG = {tag!r}\nMARK = {MARK!r}\n" + SETUP
    setup = shell_json(cluster, code)
    doc = setup["doc"]
    cookie = {name: f"sessionid={key}" for name, key in setup["sessions"].items()}
    flag = {
        name: str(tmp_path / name)
        for name in ("ready1", "go1", "ready2", "go2", "ready3", "go3", "ready4", "go4", "ready5", "go5")
    }
    subscribe = {"a": "s", "c": "documents", "d": doc, "v": None}
    steps = [
        # Real sharedb clients: Ed on process B, Dave on process A.
        {"do": "connect", "client": "E", "server": 1},
        {"do": "connect", "client": "D", "server": 0},
        # Raw sockets show every frame: Ed also on A, Vera and Dave on B.
        {"do": "rawConnect", "name": "ed", "client": "E", "server": 0},
        {"do": "rawSend", "name": "ed", "frame": subscribe},
        {"do": "rawWait", "name": "ed", "match": {"a": "s"}},
        {"do": "rawConnect", "name": "vera", "client": "V", "server": 1},
        {"do": "rawSend", "name": "vera", "frame": subscribe},
        {"do": "rawWait", "name": "vera", "match": {"a": "s"}},
        {"do": "rawConnect", "name": "dave", "client": "D", "server": 1},
        {"do": "touch", "path": flag["ready1"]},
        # 1. Ed is made a viewer in the membership admin.
        {"do": "waitFile", "path": flag["go1"]},
        {
            "do": "rawWait",
            "name": "ed",
            "match": {"a": "x-access", "role": "viewer"},
            "timeout_ms": WITHIN_MS,
        },
        {"do": "insert", "client": "E", "index": 0, "text": "[ed.after]", "wait": True},
        {"do": "touch", "path": flag["ready2"]},
        # 2. Vera is removed in the document's member inline.
        {"do": "waitFile", "path": flag["go2"]},
        {"do": "rawWait", "name": "vera", "match": {"a": "x-access", "role": None}, "timeout_ms": WITHIN_MS},
        {"do": "insert", "client": "D", "index": 0, "text": "[dave.op]", "wait": True},
        {"do": "waitDoc", "client": "E", "contains": "[dave.op]"},
        {"do": "touch", "path": flag["ready3"]},
        # 3. Dave's account is deactivated with the user admin's bulk action.
        {"do": "waitFile", "path": flag["go3"]},
        {"do": "rawWaitClosed", "name": "dave", "timeout_ms": WITHIN_MS},
        {"do": "touch", "path": flag["ready4"]},
        # 4. Ed is made the owner with the document's Owner field.
        {"do": "waitFile", "path": flag["go4"]},
        {"do": "rawWait", "name": "ed", "match": {"a": "x-access", "role": "owner"}, "timeout_ms": WITHIN_MS},
        {"do": "insert", "client": "E", "index": 0, "text": "[ed.owner]", "wait": True},
        {"do": "touch", "path": flag["ready5"]},
        # 5. Vera's account is deleted in the user admin.
        {"do": "waitFile", "path": flag["go5"]},
        {"do": "rawWaitClosed", "name": "vera", "timeout_ms": WITHIN_MS},
    ]
    scenario = {
        "doc": doc,
        "servers": servers_spec(two_servers.first, two_servers.second),
        "clients": {
            "E": {"cookie": cookie["ed"]},
            "D": {"cookie": cookie["dave"]},
            "V": {"cookie": cookie["vera"]},
        },
        "steps": steps,
        "timeout_ms": 90_000,
    }
    driver, out_path = start_driver(scenario, tmp_path)
    operator = AdminClient(two_servers.first.url, setup["sessions"]["root"])

    wait_for_file(Path(flag["ready1"]), driver)
    ed_membership = setup["memberships"]["ed"]
    status = operator.post_form(
        f"/admin/documents/membership/{ed_membership}/change/", {"role": "viewer", "_save": "Save"}
    )
    assert status == 302
    Path(flag["go1"]).touch()

    wait_for_file(Path(flag["ready2"]), driver)
    # The document page with its member inline, Vera's row ticked for deletion.
    without_vera = document_form(operator, doc, delete_membership=setup["memberships"]["vera"])
    status = operator.post_form(f"/admin/documents/document/{doc}/change/", without_vera)
    assert status == 302
    Path(flag["go2"]).touch()

    wait_for_file(Path(flag["ready3"]), driver)
    action = {"action": "deactivate_users", "_selected_action": [setup["user_ids"]["dave"]], "index": "0"}
    status = operator.post_form("/admin/auth/user/", action)
    assert status == 302
    Path(flag["go3"]).touch()

    wait_for_file(Path(flag["ready4"]), driver)
    new_owner = {**document_form(operator, doc), "owner": str(setup["user_ids"]["ed"])}
    status = operator.post_form(f"/admin/documents/document/{doc}/change/", new_owner)
    assert status == 302
    Path(flag["go4"]).touch()

    wait_for_file(Path(flag["ready5"]), driver)
    status = operator.post_form(f"/admin/auth/user/{setup['user_ids']['vera']}/delete/", {"post": "yes"})
    assert status == 302
    Path(flag["go5"]).touch()

    result = driver_result(driver, out_path)

    # Ed's next op after the downgrade is refused (and his sharedb client rolls it back).
    ed_after = next(e for e in result["clients"]["E"]["history"] if "[ed.after]" in json.dumps(e.get("op")))
    assert (ed_after.get("error") or {}).get("code") == "ERR_OP_SUBMIT_REJECTED", ed_after
    # Vera's socket got no op committed after her removal.
    vera = result["raw"]["vera"]["frames"]
    removed_at = next(i for i, f in enumerate(vera) if f.get("a") == "x-access")
    assert not [f for f in vera[removed_at:] if f.get("a") == "op"], vera[removed_at:]
    # Dave's sockets on both processes closed with the session-ended code.
    closed = [step["code"] for step in result["steps"] if step["do"] == "rawWaitClosed"]
    assert closed == [4401, 4401]  # Dave deactivated, Vera deleted
    assert [c["code"] for c in result["clients"]["D"]["closes"] if c["by"] == "server"][:1] == [4401]
    # The new owner's next op is accepted.
    ed_owner = next(e for e in result["clients"]["E"]["history"] if "[ed.owner]" in json.dumps(e.get("op")))
    assert ed_owner.get("ack_v") is not None and not ed_owner.get("error"), ed_owner
    # For docs/reliability.md: how long after the admin answered each socket learned of it.
    waits = [step["ms"] for step in result["steps"] if step["do"] in ("rawWait", "rawWaitClosed")][-5:]
    names = ("downgrade_ms", "removal_ms", "deactivation_ms", "new_owner_ms", "account_deleted_ms")
    (artifacts_dir / "live-access-admin.json").write_text(json.dumps(dict(zip(names, waits, strict=True))))


def document_form(operator: AdminClient, doc: str, *, delete_membership: int | None = None) -> dict[str, Any]:
    """The document change form as posted back unchanged, optionally with one member row deleted."""
    page = operator.opener.open(operator._request(f"/admin/documents/document/{doc}/change/")).read().decode()
    fields: dict[str, Any] = {}
    for match in re.finditer(r"<input[^>]*>", page):
        tag = match.group(0)
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if (
            not name
            or name.group(1) == "csrfmiddlewaretoken"
            or (kind and kind.group(1) in ("checkbox", "submit"))
        ):
            continue
        fields[name.group(1)] = value.group(1) if value else ""
    for match in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', match.group(2))
        fields[match.group(1)] = chosen.group(1) if chosen else ""
    if delete_membership is not None:
        pk = str(delete_membership)
        row = next(key[: -len("-id")] for key, value in fields.items() if key.endswith("-id") and value == pk)
        fields[f"{row}-DELETE"] = "on"
    fields["_save"] = "Save"
    return fields
