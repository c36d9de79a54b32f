"""Commenter and suggester roles, and comment threads: every role × action pair, on the
services, the WebSocket and the JSON API.

The users come from tests/server/conftest.py (olga owns, ed edits, vera views, nina is not a
member; `team` adds carl, who comments, and sue, who suggests).
"""

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from documents import errors, selectors, services
from documents.models import CommentThread, Document, Invite, Role
from documents.ot import rich_text
from documents.ot import suggestions as suggestions_module

from .conftest import ProtocolClient

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "0123456789abcdef0123456789abcdef"
PLAIN = [{"retain": 1}, {"insert": "X"}]
DELETE = [{"retain": 1}, {"delete": 1}]
BOLD = [{"retain": 2, "attributes": {"bold": True}}]
ANCHOR = [{"retain": 1}, {"retain": 3, "attributes": {"comment": THREAD}}]
# ROLES: role -> may it submit each op (keyed by name below)?
MAY_SUBMIT = {
    "viewer": {"plain": False, "delete": False, "bold": False, "anchor": False, "suggestion": False},
    "commenter": {"plain": False, "delete": False, "bold": False, "anchor": True, "suggestion": False},
    "suggester": {"plain": False, "delete": False, "bold": False, "anchor": True, "suggestion": True},
    "editor": {"plain": True, "delete": True, "bold": True, "anchor": True, "suggestion": True},
    "owner": {"plain": True, "delete": True, "bold": True, "anchor": True, "suggestion": True},
}


def suggestion(user: Any) -> list[dict[str, Any]]:
    return [
        {"retain": 1},
        {"insert": "X", "attributes": {"suggest-insert": f"{user.pk}:1764600000000"}},
        {"retain": 2, "attributes": {"suggest-delete": f"{user.pk}:1764600000000"}},
    ]


def submit_first(user: Any, document: Any, op: Any) -> services.SubmitResult:
    """Submit `op` as the first edit after the document's creation."""
    return services.submit_operation(
        user=user, document_id=document.pk, src="a" * 32, seq=1, base_version=1, kind="edit", data=op
    )


NAME_OF_ROLE = {"viewer": "vera", "commenter": "carl", "suggester": "sue", "editor": "ed", "owner": "olga"}


@pytest.mark.parametrize("op_name", ["plain", "delete", "bold", "anchor", "suggestion"])
@pytest.mark.parametrize("role", list(MAY_SUBMIT))
def test_each_role_may_submit_exactly_its_ops(
    team: dict[str, Any], document: Any, role: str, op_name: str
) -> None:
    user = team[NAME_OF_ROLE[role]]
    op = {"plain": PLAIN, "delete": DELETE, "bold": BOLD, "anchor": ANCHOR, "suggestion": suggestion(user)}[
        op_name
    ]
    submit = lambda: submit_first(user, document, op)  # noqa: E731
    if MAY_SUBMIT[role][op_name]:
        assert submit().version == 1
    else:
        with pytest.raises(errors.OpRejected):
            submit()
        assert Document.objects.get(pk=document.pk).version == 1


def test_a_suggestion_in_another_authors_name_is_refused(team: dict[str, Any], document: Any) -> None:
    with pytest.raises(errors.OpRejected, match="own suggestions"):
        submit_first(team["sue"], document, suggestion(team["carl"])[:2])


def test_owners_share_and_invite_with_the_new_roles(team: dict[str, Any], document: Any) -> None:
    services.set_member_role(actor=team["olga"], document_id=document.pk, username="vera", role="commenter")
    assert selectors.role_on(user=team["vera"], document_id=document.pk) == "commenter"
    for role in ("suggester", "commenter"):
        invite = services.create_invite(actor=team["olga"], document_id=document.pk, role=role)
        assert Invite.objects.get(pk=invite.pk).role == role
    membership = services.accept_invite(user=team["nina"], token=invite.token)
    assert membership.role == "commenter"
    with pytest.raises(errors.ValidationFailed):
        services.create_invite(actor=team["olga"], document_id=document.pk, role="owner")


# --- Comment threads: who may do what ----------------------------------------------------------

COMMENT_ACTIONS = {
    # role -> may open a thread / reply / resolve
    "viewer": False,
    "commenter": True,
    "suggester": True,
    "editor": True,
    "owner": True,
}


@pytest.mark.parametrize("role", list(COMMENT_ACTIONS))
def test_each_role_may_comment_reply_and_resolve_or_not(
    team: dict[str, Any], document: Any, role: str
) -> None:
    user = team[NAME_OF_ROLE[role]]
    opened = services.create_thread(user=team["ed"], document_id=document.pk, body="Why?", quote="Hello")
    actions = [
        lambda: services.create_thread(user=user, document_id=document.pk, body="Look", quote="ell"),
        lambda: services.reply_to_thread(user=user, thread_id=opened["id"], body="Agreed"),
        lambda: services.set_thread_resolved(user=user, thread_id=opened["id"], resolved=True),
    ]
    for action in actions:
        if COMMENT_ACTIONS[role]:
            action()
        else:
            with pytest.raises(errors.PermissionDenied):
                action()
    # Every member reads them; someone without access cannot tell the thread exists.
    assert selectors.threads_of(user=user, document_id=document.pk)[0]["id"] == opened["id"]
    with pytest.raises(errors.DocumentNotFound):
        services.reply_to_thread(user=team["nina"], thread_id=opened["id"], body="hi")
    with pytest.raises(errors.DocumentNotFound):
        selectors.threads_of(user=team["nina"], document_id=document.pk)


def test_threads_reply_resolve_reopen_edit_and_delete(team: dict[str, Any], document: Any) -> None:
    thread = services.create_thread(user=team["carl"], document_id=document.pk, body=" Why? ", quote="Hello")
    assert [c["body"] for c in thread["comments"]] == ["Why?"] and thread["quote"] == "Hello"
    thread = services.reply_to_thread(user=team["ed"], thread_id=thread["id"], body="Because.")
    assert [c["author"] for c in thread["comments"]] == ["carl", "ed"]
    thread = services.set_thread_resolved(user=team["sue"], thread_id=thread["id"], resolved=True)
    assert thread["resolved"] and thread["resolved_by"] == "sue"
    thread = services.set_thread_resolved(user=team["carl"], thread_id=thread["id"], resolved=False)
    assert not thread["resolved"] and thread["resolved_by"] is None
    first, reply = thread["comments"]
    with pytest.raises(errors.PermissionDenied):
        services.edit_comment(user=team["ed"], comment_id=first["id"], body="mine now")
    with pytest.raises(errors.PermissionDenied):
        services.delete_comment(user=team["sue"], comment_id=first["id"])
    thread = services.edit_comment(user=team["carl"], comment_id=first["id"], body="Why not?")
    assert thread["comments"][0]["body"] == "Why not?" and thread["comments"][0]["edited"]
    with pytest.raises(errors.ValidationFailed):
        services.reply_to_thread(user=team["ed"], thread_id=thread["id"], body="   ")
    # The owner may delete anyone's comment; the last one takes the thread with it.
    services.delete_comment(user=team["olga"], comment_id=reply["id"])
    gone = services.delete_comment(user=team["carl"], comment_id=first["id"])
    assert gone == {"id": thread["id"], "deleted": True}
    assert not CommentThread.objects.exists()


# --- Over the WebSocket --------------------------------------------------------------------------


async def subscribed(cookie: str, doc_id: str) -> ProtocolClient:
    client = ProtocolClient(cookie)
    await client.handshake()
    await client.subscribe(doc_id)
    return client


async def test_a_commenter_cannot_type_but_anchors_and_a_suggester_suggests(
    team: dict[str, Any], team_cookies: dict[str, str], document: Any
) -> None:
    doc_id = str(document.pk)
    carl, sue = [await subscribed(team_cookies[name], doc_id) for name in ("carl", "sue")]
    await carl.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": PLAIN})
    assert (await carl.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    [ack] = await carl.submit(doc_id, 1, 2, ANCHOR)
    assert ack["v"] == 1
    assert (await sue.recv())["op"] == ANCHOR
    await sue.send({"a": "op", "c": "documents", "d": doc_id, "v": 2, "seq": 1, "op": DELETE})
    assert (await sue.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    [ack] = await sue.submit(doc_id, 2, 2, suggestion(team["sue"]))
    assert ack["v"] == 2
    for client in (carl, sue):
        await client.disconnect()


async def test_comment_changes_reach_every_open_editor(
    team: dict[str, Any], team_cookies: dict[str, str], document: Any
) -> None:
    doc_id = str(document.pk)
    vera = await subscribed(team_cookies["vera"], doc_id)
    thread = await database_sync_to_async(services.create_thread)(
        user=team["carl"], document_id=doc_id, body="Why?", quote="Hello"
    )
    frame = await vera.recv()
    assert frame == {
        "a": "x-comment",
        "c": "documents",
        "d": doc_id,
        "thread": json.loads(json.dumps(thread)),
    }
    await database_sync_to_async(services.set_thread_resolved)(
        user=team["ed"], thread_id=thread["id"], resolved=True
    )
    assert (await vera.recv())["thread"]["resolved"] is True
    await vera.disconnect()


async def test_a_role_change_applies_to_the_open_connection_at_once(
    team: dict[str, Any], team_cookies: dict[str, str], document: Any
) -> None:
    doc_id = str(document.pk)
    ed = await subscribed(team_cookies["ed"], doc_id)
    await database_sync_to_async(services.set_member_role)(
        actor=team["olga"], document_id=doc_id, username="ed", role=Role.COMMENTER
    )
    assert await ed.recv() == {"a": "x-access", "c": "documents", "d": doc_id, "role": "commenter"}
    await ed.send({"a": "op", "c": "documents", "d": doc_id, "v": 1, "seq": 1, "op": PLAIN})
    assert (await ed.recv())["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    await ed.disconnect()


# --- Over the JSON API ---------------------------------------------------------------------------


def test_the_threads_api(team: dict[str, Any], document: Any) -> None:
    clients = {}
    for name in ("carl", "vera", "nina", "ed"):
        clients[name] = Client()
        clients[name].force_login(team[name])

    def call(name: str, method: str, url: str, body: Any = None) -> Any:
        if method == "get":
            response = clients[name].get(url)
        else:
            response = getattr(clients[name], method)(
                url, json.dumps(body or {}), content_type="application/json"
            )
        return response.status_code, response.json()

    base = f"/api/documents/{document.pk}/threads/"
    status, thread = call("carl", "post", base, {"body": "Why?", "quote": "Hello"})
    assert status == 201 and thread["comments"][0]["body"] == "Why?"
    assert call("vera", "post", base, {"body": "Me too"})[0] == 403
    status, listing = call("vera", "get", base)
    assert status == 200 and [t["id"] for t in listing["threads"]] == [thread["id"]]
    assert call("nina", "get", base)[0] == 404
    assert call("nina", "post", f"/api/threads/{thread['id']}/replies/", {"body": "hi"})[0] == 404
    status, thread = call("ed", "post", f"/api/threads/{thread['id']}/replies/", {"body": "Because."})
    assert status == 201 and len(thread["comments"]) == 2
    status, thread = call("ed", "patch", f"/api/threads/{thread['id']}/", {"resolved": True})
    assert status == 200 and thread["resolved"]
    reply_id = thread["comments"][1]["id"]
    assert call("carl", "patch", f"/api/comments/{reply_id}/", {"body": "no"})[0] == 403
    status, thread = call("ed", "patch", f"/api/comments/{reply_id}/", {"body": "Because, yes."})
    assert status == 200 and thread["comments"][1]["body"] == "Because, yes."
    status, thread = call("ed", "delete", f"/api/comments/{reply_id}/")
    assert status == 200 and len(thread["comments"]) == 1
    assert call("carl", "get", "/api/threads/not-a-uuid/replies/")[0] == 405


# --- Suggestions: accept all, exports, admin -------------------------------------------------


def test_accepting_all_is_an_ordinary_op_and_exports_leave_pending_suggestions_out(
    team: dict[str, Any], document: Any
) -> None:
    submit_first(team["sue"], document, suggestion(team["sue"]))
    olga, sue = Client(), Client()
    olga.force_login(team["olga"])
    sue.force_login(team["sue"])
    exported = olga.get(f"/api/documents/{document.pk}/export/txt/").content.decode()
    assert exported.strip() == "Hello"  # the pending insertion is left out, the struck text stays
    url = f"/api/documents/{document.pk}/suggestions/"
    assert sue.post(url, {"accept": True}, content_type="application/json").status_code == 403
    assert olga.post(url, {"accept": "yes"}, content_type="application/json").status_code == 400
    response = olga.post(url, {"accept": True}, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"version": 3}
    assert selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content == [
        {"insert": "HXlo\n"}
    ]
    last = document.operations.order_by("-version").first()
    assert last.author_id == team["olga"].pk and last.kind == "edit"
    assert olga.post(url, {"accept": False}, content_type="application/json").json() == {"version": None}


def test_the_admin_shows_threads_read_only(team: dict[str, Any], document: Any) -> None:
    thread = services.create_thread(user=team["carl"], document_id=document.pk, body="Why?", quote="Hello")
    root = get_user_model().objects.create_superuser(username="root", email="root@example.com", password=None)
    client = Client()
    client.force_login(root)
    page = client.get(f"/admin/documents/commentthread/{thread['id']}/change/")
    assert page.status_code == 200 and b"Why?" in page.content and b'name="_save"' not in page.content
    base = "/admin/documents/commentthread/"
    assert client.post(f"{base}add/", {}).status_code == 403
    assert client.post(f"{base}{thread['id']}/change/", {}).status_code == 403
    assert client.post(f"{base}{thread['id']}/delete/", {"post": "yes"}).status_code == 403
    assert CommentThread.objects.filter(pk=thread["id"]).exists()


def test_html_export_can_carry_open_comments_as_footnotes(team: dict[str, Any], document: Any) -> None:
    thread = services.create_thread(user=team["carl"], document_id=document.pk, body="<Why?>", quote="ell")
    services.reply_to_thread(user=team["ed"], thread_id=thread["id"], body="Because.")
    anchor = [{"retain": 1}, {"retain": 3, "attributes": {"comment": thread["id"]}}]
    submit_first(team["carl"], document, anchor)
    client = Client()
    client.force_login(team["vera"])
    url = f"/api/documents/{document.pk}/export/html/"
    with_notes = client.get(url + "?comments=1").content.decode()
    assert (
        '<span data-comment="1">ell</span><sup class="comment-mark"><a href="#comment-1">[1]</a></sup>o</p>'
        in with_notes
    )
    assert "<strong>carl</strong>: &lt;Why?&gt;</p><p><strong>ed</strong>: Because.</p>" in with_notes
    assert "comment-1" not in client.get(url).content.decode()
    services.set_thread_resolved(user=team["ed"], thread_id=thread["id"], resolved=True)
    assert "Comments" not in client.get(url + "?comments=1").content.decode()


def test_comments_survive_an_html_export_and_import_but_not_markdown(
    team: dict[str, Any], document: Any
) -> None:
    thread = services.create_thread(user=team["carl"], document_id=document.pk, body="<Why?>", quote="ell")
    services.reply_to_thread(user=team["ed"], thread_id=thread["id"], body="Because.")
    anchor = [{"retain": 1}, {"retain": 3, "attributes": {"comment": thread["id"], "bold": True}}]
    submit_first(team["olga"], document, anchor)
    olga = Client()
    olga.force_login(team["olga"])
    exported = olga.get(f"/api/documents/{document.pk}/export/html/?comments=1").content

    def upload(name: str, data: bytes) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        answer = olga.post("/api/documents/import/", {"file": SimpleUploadedFile(name, data)})
        assert answer.status_code == 201, answer.content
        return Document.objects.get(pk=answer.json()["id"])

    copy = upload("plan.html", exported)
    content = selectors.snapshot_at(document=copy).content
    [imported] = copy.comment_threads.all()
    assert imported.pk.hex != thread["id"]  # a new thread, anchored on the same passage
    assert content == [
        {"insert": "H"},
        {"insert": "ell", "attributes": {"bold": True, "comment": imported.pk.hex}},
        {"insert": "o\n"},
    ]
    assert imported.quote == "ell" and imported.author == team["olga"]
    assert [c.body for c in selectors.ordered_comments(imported)] == ["carl: <Why?>", "ed: Because."]
    assert [t["id"] for t in selectors.threads_of(user=team["olga"], document_id=copy.pk)] == [
        imported.pk.hex
    ]
    # Markdown has no place for them: the text comes back, the anchors and threads do not.
    markdown = olga.get(f"/api/documents/{document.pk}/export/md/").content
    plain = upload("plan.md", markdown)
    assert not plain.comment_threads.exists()
    assert "comment" not in json.dumps(selectors.snapshot_at(document=plain).content)


def test_an_anchor_comes_back_with_its_text_on_undo_and_history_restore(
    team: dict[str, Any], document: Any
) -> None:
    thread = services.create_thread(user=team["carl"], document_id=document.pk, body="Why?", quote="ell")
    anchor = [{"retain": 1}, {"retain": 3, "attributes": {"comment": thread["id"]}}]
    submit_first(team["carl"], document, anchor)
    anchored = selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content
    deletion = [{"retain": 1}, {"delete": 3}]
    services.submit_operation(
        user=team["ed"],
        document_id=document.pk,
        src="b" * 32,
        seq=1,
        base_version=2,
        kind="edit",
        data=deletion,
    )
    # Undo is the inverse op, which re-inserts the text with its formats, the anchor among them.
    undo = rich_text.invert(deletion, anchored)
    assert rich_text.apply(rich_text.apply(anchored, deletion), undo) == anchored
    services.restore_version(user=team["ed"], document_id=document.pk, version=2)
    assert selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content == anchored


def test_history_says_who_accepted_and_rejected_whose_suggestions(
    team: dict[str, Any], document: Any
) -> None:
    # "Hello\n": Sue proposes an "X" after the H and the deletion of "el".
    submit_first(team["sue"], document, suggestion(team["sue"]))
    owner = Client()
    owner.force_login(team["olga"])
    # The page's way: its own op through the socket, then it asks the server to label it.
    content = selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content
    only_the_insertion = suggestions_module.resolve_suggestions(content, accept=False, selected={1})
    services.submit_operation(
        user=team["olga"],
        document_id=document.pk,
        src="o" * 32,
        seq=1,
        base_version=2,
        kind="edit",
        data=only_the_insertion,
    )
    url = f"/api/documents/{document.pk}/reviews/"
    labelled = owner.post(url, {"version": 2}, content_type="application/json")
    assert labelled.json() == {"review": {"accepted": {}, "rejected": {str(team["sue"].pk): 1}}}
    # Nobody labels someone else's op, or an op that is not there.
    editor = Client()
    editor.force_login(team["ed"])
    assert editor.post(url, {"version": 2}, content_type="application/json").status_code == 404
    assert owner.post(url, {"version": "2"}, content_type="application/json").status_code == 400
    # The API's accept-all labels its op itself.
    assert (
        owner.post(
            f"/api/documents/{document.pk}/suggestions/", {"accept": True}, content_type="application/json"
        ).status_code
        == 200
    )
    sessions = owner.get(f"/api/documents/{document.pk}/history/").json()["sessions"]
    reviews = [(s["author"]["username"], s["review"]) for s in sessions if s["kind"] == "review"]
    sue = {"id": team["sue"].pk, "name": "sue", "count": 1}
    assert reviews == [
        ("olga", {"accepted": [sue], "rejected": []}),
        ("olga", {"accepted": [], "rejected": [sue]}),
    ]
