"""Every write the admin allows goes through a service and tells open editors after the commit.

The registry is enumerated: each registered model admin, each inline and each action is either
exercised here through the real admin pages (asserting the service ran and the event it publishes
on commit) or refused as read-only. A new admin, inline or action without a case fails the test.
"""

from collections.abc import Callable
import io
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from documents import broadcast, selectors, services
from documents.admin import users as user_admin
from documents.models import AuditAction, AuditEvent, Document, Invite, Membership, Operation, Role, Snapshot
from documents.services import audit

pytestmark = pytest.mark.django_db

User = get_user_model()


class World:
    """A document owned by olga (ed edits, vera views), nina outside, and what was published."""

    def __init__(self, staff: Client, operator: Any) -> None:
        self.staff = staff
        self.operator = operator
        self.people = {
            name: User.objects.create_user(name, f"{name}@example.com", None)
            for name in ("olga", "ed", "vera", "nina")
        }
        olga = self.people["olga"]
        self.document = services.create_document(owner=olga, title="Plan", content=[{"insert": "Hello\n"}])
        for name, role in (("ed", Role.EDITOR), ("vera", Role.VIEWER)):
            services.add_member(actor=olga, document_id=self.document.pk, identifier=name, role=role)
        self.events: list[tuple[str, dict[str, Any]]] = []

    def pk(self, name: str) -> int:
        return int(self.people[name].pk)

    def access_events(self) -> set[tuple[str, Any]]:
        """(channel, user id) of each access re-check published; user id None is document-wide."""
        return {(channel, event["u"]) for channel, event in self.events if event["k"] == "access"}

    def session_ends(self) -> set[str]:
        return {channel for channel, event in self.events if event["k"] == "end"}

    def ops(self) -> list[dict[str, Any]]:
        return [record for _channel, event in self.events if event["k"] == "ops" for record in event["r"]]

    def role(self, name: str) -> str | None:
        return selectors.role_on(user=self.people[name], document_id=self.document.pk)


@pytest.fixture
def world(django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    operator = User.objects.create_superuser("root", "root@example.com", None)
    staff = Client()
    staff.force_login(operator)
    built = World(staff, operator)
    # The pub/sub edge: everything services publish on commit is recorded here.
    monkeypatch.setattr(broadcast, "_publish", lambda channel, event: built.events.append((channel, event)))
    return built


def post(world: World, path: str, data: dict[str, Any], django_capture: Any) -> Any:
    with django_capture(execute=True):
        response = world.staff.post(path, data)
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    if response.status_code == 200 and "errornote" in response.content.decode():
        raise AssertionError(response.content.decode()[:3000])
    return response


def change_form_data(world: World, path: str) -> dict[str, Any]:
    """What the admin's change page would post back unchanged: the form and every inline's rows."""
    page = world.staff.get(path)
    assert page.status_code == 200
    data: dict[str, Any] = {}

    def take(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    take(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        take(formset.management_form)
        for form in formset.initial_forms:
            take(form)
    return data


def inline_row(data: dict[str, Any], prefix: str, username: str) -> str:
    """The form prefix of an inline row by its user (e.g. "memberships-1")."""
    pk = User.objects.get(username=username).pk
    for key, value in data.items():
        if key.startswith(prefix + "-") and key.endswith("-user") and str(value) == str(pk):
            return key[: -len("-user")]
    raise AssertionError(f"no inline row for {username}")


DOCS = "/admin/documents/document/"
MEMBERS = "/admin/documents/membership/"
USERS = "/admin/auth/user/"

Case = Callable[[World, Any], None]
CASES: dict[str, Case] = {}


def case(*keys: str) -> Callable[[Case], Case]:
    def register(func: Case) -> Case:
        for key in keys:
            CASES[key] = func
        return func

    return register


# --- Documents ----------------------------------------------------------------------------------


@case("documents.document:add")
def _document_add(world: World, capture: Any) -> None:
    post(world, f"{DOCS}add/", {"title": "From the admin", "owner": world.pk("nina")}, capture)
    created = Document.objects.get(title="From the admin")
    # create_document gave the owner her membership and the create op: she can open it.
    document, role = selectors.access_document(user=world.people["nina"], document_id=created.pk)
    assert role == Role.OWNER and document.version == 1


@case("documents.document:change")
def _document_change(world: World, capture: Any) -> None:
    path = f"{DOCS}{world.document.pk}/change/"
    data = {**change_form_data(world, path), "title": "Renamed", "owner": world.pk("ed")}
    post(world, path, data, capture)
    document = Document.objects.get(pk=world.document.pk)
    assert document.title == "Renamed" and document.owner_id == world.pk("ed")
    assert world.role("ed") == Role.OWNER and world.role("olga") == Role.EDITOR
    assert (broadcast.document_channel(document.pk), None) in world.access_events()


@case("documents.document:inline:documents.membership:add")
def _membership_inline_add(world: World, capture: Any) -> None:
    path = f"{DOCS}{world.document.pk}/change/"
    data = change_form_data(world, path)
    total = int(data["memberships-TOTAL_FORMS"])
    data.update({"memberships-TOTAL_FORMS": total + 1, f"memberships-{total}-user": world.pk("nina")})
    data[f"memberships-{total}-role"] = Role.VIEWER
    data[f"memberships-{total}-document"] = str(world.document.pk)
    post(world, path, data, capture)
    assert world.role("nina") == Role.VIEWER
    assert world.access_events() == {(broadcast.user_channel(world.pk("nina")), world.pk("nina"))}


@case("documents.document:inline:documents.membership:change")
def _membership_inline_change(world: World, capture: Any) -> None:
    path = f"{DOCS}{world.document.pk}/change/"
    data = change_form_data(world, path)
    data[inline_row(data, "memberships", "ed") + "-role"] = Role.VIEWER
    post(world, path, data, capture)
    assert world.role("ed") == Role.VIEWER
    assert world.access_events() == {(broadcast.user_channel(world.pk("ed")), world.pk("ed"))}


@case("documents.document:inline:documents.membership:delete")
def _membership_inline_delete(world: World, capture: Any) -> None:
    path = f"{DOCS}{world.document.pk}/change/"
    data = change_form_data(world, path)
    data[inline_row(data, "memberships", "vera") + "-DELETE"] = "on"
    post(world, path, data, capture)
    assert world.role("vera") is None
    assert world.access_events() == {(broadcast.user_channel(world.pk("vera")), world.pk("vera"))}


def test_the_owners_row_and_the_owner_role_are_refused_in_the_inline(world: World) -> None:
    path = f"{DOCS}{world.document.pk}/change/"
    for row, role in (("olga", Role.EDITOR), ("ed", Role.OWNER)):
        data = change_form_data(world, path)
        data[inline_row(data, "memberships", row) + "-role"] = role
        page = world.staff.post(path, data)
        assert page.status_code == 200 and "Owner field" in page.content.decode()
    assert world.role("olga") == Role.OWNER and world.role("ed") == Role.EDITOR and world.events == []


def _assert_purged(world: World) -> None:
    assert not Document.objects.filter(pk=world.document.pk).exists()
    assert (broadcast.document_channel(world.document.pk), None) in world.access_events()
    # The delete went through the op log first, so subscribers saw it as an op.
    assert [record["kind"] for record in world.ops()] == ["delete"]


@case("documents.document:delete")
def _document_delete(world: World, capture: Any) -> None:
    post(world, f"{DOCS}{world.document.pk}/delete/", {"post": "yes"}, capture)
    _assert_purged(world)


def selected(action: str, *pks: Any, **extra: Any) -> dict[str, Any]:
    return {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}


@case("documents.document:action:delete_selected")
def _document_delete_selected(world: World, capture: Any) -> None:
    post(world, DOCS, selected("delete_selected", world.document.pk, post="yes"), capture)
    _assert_purged(world)


@case("documents.document:action:restore_to_version")
def _document_restore(world: World, capture: Any) -> None:
    services.replace_content(
        user=world.people["ed"], document_id=world.document.pk, content=[{"insert": "Hi\n"}]
    )
    world.events.clear()
    post(world, DOCS, selected("restore_to_version", world.document.pk, apply="1", version="1"), capture)
    assert selectors.snapshot_at(document=Document.objects.get(pk=world.document.pk)).content == [
        {"insert": "Hello\n"}
    ]
    assert [event["k"] for _channel, event in world.events] == ["ops"] and len(world.ops()) == 1


@case("documents.document:action:snapshot_now")
def _document_snapshot(world: World, capture: Any) -> None:
    post(world, DOCS, selected("snapshot_now", world.document.pk), capture)
    # The task is a thin interface onto services.take_snapshot; eager or queued, a snapshot results.
    from documents.tasks import take_snapshot

    take_snapshot(str(world.document.pk))
    assert Snapshot.objects.filter(document=world.document, version=1).exists()
    assert world.events == []


@case("documents.document:action:restore_from_trash")
def _document_restore_from_trash(world: World, capture: Any) -> None:
    services.delete_document(user=world.people["olga"], document_id=world.document.pk)
    world.events.clear()
    post(world, DOCS, selected("restore_from_trash", world.document.pk), capture)
    assert world.role("ed") == Role.EDITOR and world.role("olga") == Role.OWNER
    [create] = world.ops()
    assert create["kind"] == "create" and create["data"] == [{"insert": "Hello\n"}]
    assert create["author_id"] == world.operator.pk
    # Each member's pages hear it on their own channel.
    trash = {(channel, event["trashed"]) for channel, event in world.events if event["k"] == "trash"}
    assert trash == {(broadcast.user_channel(world.pk(name)), False) for name in ("olga", "ed", "vera")}
    # A live document is refused with a message, and nothing is written.
    world.events.clear()
    post(world, DOCS, selected("restore_from_trash", world.document.pk), capture)
    assert world.events == []


@case("documents.document:action:export_document")
def _document_export(world: World, capture: Any) -> None:
    with capture(execute=True):
        response = world.staff.post(
            DOCS, selected("export_document", world.document.pk, apply="1", format="txt")
        )
    assert response.status_code == 200 and b"Hello" in response.content
    assert world.events == [] and Document.objects.get(pk=world.document.pk).version == 1


@case("documents.document:action:revoke_invite_links")
def _document_revoke_invites(world: World, capture: Any) -> None:
    olga = world.people["olga"]
    for role in (Role.EDITOR, Role.VIEWER):
        services.create_invite(actor=olga, document_id=world.document.pk, role=role)
    post(world, DOCS, selected("revoke_invite_links", world.document.pk), capture)
    assert not Invite.objects.filter(document=world.document, revoked_at__isnull=True).exists()


# --- Memberships --------------------------------------------------------------------------------


@case("documents.membership:add")
def _membership_add(world: World, capture: Any) -> None:
    data = {"document": str(world.document.pk), "user": world.pk("nina"), "role": Role.EDITOR}
    post(world, f"{MEMBERS}add/", data, capture)
    assert world.role("nina") == Role.EDITOR
    assert world.access_events() == {(broadcast.user_channel(world.pk("nina")), world.pk("nina"))}


@case("documents.membership:change")
def _membership_change(world: World, capture: Any) -> None:
    membership = Membership.objects.get(document=world.document, user=world.people["vera"])
    post(world, f"{MEMBERS}{membership.pk}/change/", {"role": Role.EDITOR}, capture)
    assert world.role("vera") == Role.EDITOR
    assert world.access_events() == {(broadcast.user_channel(world.pk("vera")), world.pk("vera"))}


@case("documents.membership:delete")
def _membership_delete(world: World, capture: Any) -> None:
    membership = Membership.objects.get(document=world.document, user=world.people["ed"])
    post(world, f"{MEMBERS}{membership.pk}/delete/", {"post": "yes"}, capture)
    assert world.role("ed") is None
    assert world.access_events() == {(broadcast.user_channel(world.pk("ed")), world.pk("ed"))}


@case("documents.membership:action:delete_selected")
def _membership_delete_selected(world: World, capture: Any) -> None:
    rows = Membership.objects.filter(document=world.document)
    # A selection holding the owner's row is refused whole.
    with capture(execute=True):
        refused = world.staff.post(
            MEMBERS, selected("delete_selected", *rows.values_list("pk", flat=True), post="yes")
        )
    assert refused.status_code == 403 and rows.count() == 3 and world.events == []
    others = rows.exclude(role=Role.OWNER).values_list("pk", flat=True)
    post(world, MEMBERS, selected("delete_selected", *others, post="yes"), capture)
    assert world.role("ed") is None and world.role("vera") is None and world.role("olga") == Role.OWNER
    assert world.access_events() == {
        (broadcast.user_channel(world.pk(name)), world.pk(name)) for name in ("ed", "vera")
    }


def test_the_owners_membership_is_read_only(world: World) -> None:
    membership = Membership.objects.get(document=world.document, user=world.people["olga"])
    assert world.staff.post(f"{MEMBERS}{membership.pk}/change/", {"role": Role.VIEWER}).status_code == 403
    assert world.staff.post(f"{MEMBERS}{membership.pk}/delete/", {"post": "yes"}).status_code == 403
    added = world.staff.post(
        f"{MEMBERS}add/", {"document": str(world.document.pk), "user": world.pk("nina"), "role": Role.OWNER}
    )
    assert added.status_code == 200 and "Owner field" in added.content.decode()
    assert world.role("olga") == Role.OWNER and world.role("nina") is None


# --- Accounts -----------------------------------------------------------------------------------


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[dict[str, Any]]]:
    """Record the calls to one account service the admin makes (the real service still runs)."""

    def watch(name: str) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []
        real = getattr(services, name)

        def recorded(**kwargs: Any) -> Any:
            calls.append(kwargs)
            return real(**kwargs)

        monkeypatch.setattr(user_admin.services, name, recorded)
        return calls

    return watch


@case("auth.user:add")
def _user_add(world: World, capture: Any) -> None:
    data = {
        "username": "newcomer",
        "usable_password": "true",
        "password1": "Pass-for-new-1",
        "password2": "Pass-for-new-1",
    }
    post(world, f"{USERS}add/", data, capture)
    assert User.objects.get(username="newcomer").check_password("Pass-for-new-1")


@case("auth.user:change")
def _user_change(world: World, capture: Any) -> None:
    path = f"{USERS}{world.pk('ed')}/change/"
    data = change_form_data(world, path)
    data.pop("is_active")  # unticked: deactivated
    post(world, path, data, capture)
    assert not User.objects.get(pk=world.pk("ed")).is_active
    assert world.session_ends() == {broadcast.user_channel(world.pk("ed"))}


def test_the_admin_password_page_sets_it_through_the_service(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    data = {"usable_password": "true", "password1": "A-fresh-pass-77", "password2": "A-fresh-pass-77"}
    post(world, f"{USERS}{world.pk('vera')}/password/", data, django_capture_on_commit_callbacks)
    assert User.objects.get(pk=world.pk("vera")).check_password("A-fresh-pass-77")
    assert world.session_ends() == {broadcast.user_channel(world.pk("vera"))}


def _assert_user_deleted(world: World, name: str) -> None:
    assert not User.objects.filter(username=name).exists()
    assert broadcast.user_channel(world.pk(name)) in world.session_ends()


@case("auth.user:delete")
def _user_delete(world: World, capture: Any) -> None:
    post(world, f"{USERS}{world.pk('olga')}/delete/", {"post": "yes"}, capture)
    _assert_user_deleted(world, "olga")
    # Her documents go with her, each deleted through the op log first, then re-checked by all.
    assert (broadcast.document_channel(world.document.pk), None) in world.access_events()
    assert [record["kind"] for record in world.ops()] == ["delete"]


@case("auth.user:action:delete_selected")
def _user_delete_selected(world: World, capture: Any) -> None:
    post(world, USERS, selected("delete_selected", world.pk("vera"), post="yes"), capture)
    _assert_user_deleted(world, "vera")


@case("auth.user:action:deactivate_users")
def _user_deactivate(world: World, capture: Any) -> None:
    post(world, USERS, selected("deactivate_users", world.pk("ed"), world.pk("vera")), capture)
    assert not User.objects.filter(username__in=["ed", "vera"], is_active=True).exists()
    assert world.session_ends() == {broadcast.user_channel(world.pk(name)) for name in ("ed", "vera")}


@case("auth.user:action:reactivate_users")
def _user_reactivate(world: World, capture: Any) -> None:
    services.set_active(user_id=world.pk("ed"), active=False)
    post(world, USERS, selected("reactivate_users", world.pk("ed")), capture)
    assert User.objects.get(pk=world.pk("ed")).is_active and world.session_ends() == set()


# --- The enumeration ----------------------------------------------------------------------------


def registered_writes(operator: Any) -> set[str]:
    """Every write the admin offers a superuser: per model, inline and action."""
    request = RequestFactory().get("/admin/")
    request.user = operator
    writes: set[str] = set()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if model_admin.has_add_permission(request):
            writes.add(f"{label}:add")
        for operation in ("change", "delete"):
            if getattr(model_admin, f"has_{operation}_permission")(request, None):
                writes.add(f"{label}:{operation}")
        for name in model_admin.get_actions(request):
            writes.add(f"{label}:action:{name}")
        sample = model.objects.first()
        for inline in model_admin.get_inline_instances(request, sample):
            inline_label = inline.model._meta.label_lower
            if inline.has_add_permission(request, sample):
                writes.add(f"{label}:inline:{inline_label}:add")
            for operation in ("change", "delete"):
                if getattr(inline, f"has_{operation}_permission")(request, sample):
                    writes.add(f"{label}:inline:{inline_label}:{operation}")
    return writes


READ_ONLY = [Operation, Snapshot, AuditEvent]


def test_every_admin_write_has_a_case_and_the_rest_is_read_only(world: World) -> None:
    assert registered_writes(world.operator) == set(CASES)
    labels = {model._meta.label_lower for model in admin.site._registry}
    assert labels == {
        "documents.document",
        "documents.membership",
        "documents.commentthread",
        "documents.auditevent",
        "documents.operation",
        "documents.snapshot",
        "auth.user",
    }


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda model: model.__name__)
def test_read_only_admins_refuse_every_write(world: World, model: Any) -> None:
    services.take_snapshot(document_id=world.document.pk)
    audit.record(actor=world.operator, action=AuditAction.VERSION_RESTORED, document=world.document)
    row = model.objects.filter(document=world.document).first()
    base = f"/admin/documents/{model._meta.model_name}/"
    assert world.staff.post(f"{base}add/", {}).status_code == 403
    assert world.staff.post(f"{base}{row.pk}/change/", {}).status_code == 403
    assert world.staff.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_invite_links_are_read_only_in_the_document_page(world: World) -> None:
    request = RequestFactory().get("/admin/")
    request.user = world.operator
    inline = next(
        i
        for i in admin.site._registry[Document].get_inline_instances(request, world.document)
        if i.model is Invite
    )
    assert not any(
        (
            inline.has_add_permission(request, world.document),
            inline.has_change_permission(request, world.document),
            inline.has_delete_permission(request, world.document),
        )
    )


@pytest.mark.parametrize("key", sorted(CASES))
def test_each_admin_write_goes_through_a_service(
    world: World, key: str, django_capture_on_commit_callbacks: Any
) -> None:
    CASES[key](world, django_capture_on_commit_callbacks)


def test_the_changepassword_command_sets_it_through_the_service(
    world: World, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    """Django's own command would save the user beside the services; ours replaces it."""
    from django.core.management import call_command, get_commands

    from collab.commands.management.commands import changepassword

    assert get_commands()["changepassword"] == "collab.commands"
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": "A-fresh-pass-78")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("changepassword", "vera", stdout=io.StringIO())
    assert User.objects.get(pk=world.pk("vera")).check_password("A-fresh-pass-78")
    assert world.session_ends() == {broadcast.user_channel(world.pk("vera"))}
