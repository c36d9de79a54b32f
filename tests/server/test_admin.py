"""The operator's admin: documents, the read-only op log, restore and export through services."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from documents import selectors, services
from documents.models import Document, Operation, OperationKind

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/documents/document/"
OP_LOG = "/admin/documents/operation/"


@pytest.fixture
def operator() -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def staff(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def owner() -> Any:
    return get_user_model().objects.create_user("olga", "olga@example.com", "pw")


def edit(user: Any, document: Any, seq: int, op: Any) -> None:
    services.submit_operation(
        user=user, document_id=document.pk, src="o" * 32, seq=seq, base_version=None, kind="edit", data=op
    )


def content_of(document: Any) -> list[dict[str, Any]]:
    return list(selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content or [])


def test_changelist_lists_and_searches_documents(staff: Client, owner: Any) -> None:
    services.create_document(owner=owner, title="Quarterly plan")
    services.create_document(owner=owner, title="Holiday list")
    page = staff.get(CHANGELIST)
    assert page.status_code == 200
    assert "Quarterly plan" in page.content.decode() and "Holiday list" in page.content.decode()
    found = staff.get(CHANGELIST, {"q": "quarterly"})
    assert [d.title for d in found.context["cl"].result_list] == ["Quarterly plan"]
    by_owner = staff.get(CHANGELIST, {"q": "olga"})
    assert by_owner.context["cl"].result_count == 2
    actions = [name for name, _label in page.context["action_form"].fields["action"].choices]
    assert {"snapshot_now", "restore_to_version", "export_document"} <= set(actions)


def test_op_log_paginates_and_cannot_be_edited(staff: Client, owner: Any) -> None:
    document = services.create_document(owner=owner, title="Long", content=[{"insert": "\n"}])
    Operation.objects.bulk_create(
        Operation(
            document=document,
            version=version,
            kind=OperationKind.EDIT,
            data=[{"insert": "x"}],
            src="b" * 32,
            seq=version,
            author=owner,
        )
        for version in range(1, 300)
    )
    page = staff.get(OP_LOG, {"q": str(document.pk)})
    assert page.status_code == 200
    changelist = page.context["cl"]
    assert len(changelist.result_list) == 100
    assert changelist.paginator.num_pages == 3
    assert staff.get(OP_LOG, {"q": str(document.pk), "p": "3"}).context["cl"].result_list.__len__() == 100
    assert page.context["has_add_permission"] is False
    op = Operation.objects.get(document=document, version=5)
    detail = staff.get(f"{OP_LOG}{op.pk}/change/")
    assert detail.status_code == 200  # Viewable...
    assert detail.context["has_change_permission"] is False
    assert detail.context["has_delete_permission"] is False
    assert b'name="_save"' not in detail.content
    # ...but never changed or deleted by hand.
    assert staff.post(f"{OP_LOG}{op.pk}/change/", {"kind": "delete"}).status_code == 403
    assert staff.post(f"{OP_LOG}{op.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff.get(f"{OP_LOG}add/").status_code == 403
    assert Operation.objects.filter(document=document).count() == 300


def test_restore_action_asks_for_a_version_and_commits_one_op(
    staff: Client, owner: Any, operator: Any
) -> None:
    document = services.create_document(owner=owner, title="Poem", content=[{"insert": "Roses\n"}])
    edit(owner, document, 1, [{"retain": 5}, {"insert": " are red"}])
    edit(owner, document, 2, [{"delete": 5}, {"insert": "Violets"}])
    assert content_of(document) == [{"insert": "Violets are red\n"}]
    ops_before = Operation.objects.filter(document=document).count()

    asked = staff.post(CHANGELIST, {"action": "restore_to_version", "_selected_action": [str(document.pk)]})
    assert asked.status_code == 200
    assert b'name="version"' in asked.content and b"Restore" in asked.content

    apply = {"action": "restore_to_version", "_selected_action": [str(document.pk)], "apply": "Restore"}
    bad = staff.post(CHANGELIST, {**apply, "version": "99"})
    assert bad.status_code == 200 and b"between 1 and the current one" in bad.content
    assert Operation.objects.filter(document=document).count() == ops_before

    done = staff.post(CHANGELIST, {**apply, "version": "2"}, follow=True)
    assert done.status_code == 200
    assert "to version 2" in done.content.decode()
    assert content_of(document) == [{"insert": "Roses are red\n"}]
    # Through the op log: one new ordinary op, recorded as the operator's (who is not a member).
    newest = Operation.objects.filter(document=document).order_by("-version").first()
    assert Operation.objects.filter(document=document).count() == ops_before + 1
    assert newest is not None and newest.kind == OperationKind.EDIT and newest.author == operator
    assert Document.objects.get(pk=document.pk).version == ops_before + 1
    assert not document.memberships.filter(user=operator).exists()


def test_restore_action_wants_exactly_one_document(staff: Client, owner: Any) -> None:
    first = services.create_document(owner=owner, title="One")
    second = services.create_document(owner=owner, title="Two")
    response = staff.post(
        CHANGELIST,
        {"action": "restore_to_version", "_selected_action": [str(first.pk), str(second.pk)]},
        follow=True,
    )
    assert "Select exactly one document" in response.content.decode()


@pytest.mark.parametrize(
    ("fmt", "content_type", "expected"),
    [
        ("html", "text/html", "<strong>Bold</strong> words"),
        ("md", "text/markdown", "**Bold** words"),
        ("txt", "text/plain", "Bold words"),
    ],
)
def test_export_action_downloads_the_document(
    staff: Client, owner: Any, fmt: str, content_type: str, expected: str
) -> None:
    content = [{"insert": "Bold", "attributes": {"bold": True}}, {"insert": " words\n"}]
    document = services.create_document(owner=owner, title="Notes: v1", content=content)
    asked = staff.post(CHANGELIST, {"action": "export_document", "_selected_action": [str(document.pk)]})
    assert asked.status_code == 200 and b'name="format"' in asked.content
    response = staff.post(
        CHANGELIST,
        {"action": "export_document", "_selected_action": [str(document.pk)], "apply": "Go", "format": fmt},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"] == f'attachment; filename="Notes_ v1.{fmt}"'
    assert expected in response.content.decode()


def test_snapshot_action_is_still_there(staff: Client, owner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from documents import tasks

    queued: list[str] = []
    monkeypatch.setattr(tasks.take_snapshot, "delay", lambda document_id, *args: queued.append(document_id))
    document = services.create_document(owner=owner, title="Snap")
    selected = {"action": "snapshot_now", "_selected_action": [str(document.pk)]}
    response = staff.post(CHANGELIST, selected, follow=True)
    assert queued == [str(document.pk)]
    assert "Snapshot queued for 1 document(s)." in response.content.decode()


@pytest.mark.parametrize("path", ["/admin/", CHANGELIST, OP_LOG])
def test_non_staff_are_sent_to_the_admin_login(owner: Any, path: str) -> None:
    client = Client()
    client.force_login(owner)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert Client().get(path)["Location"].startswith("/admin/login/")
