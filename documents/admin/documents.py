"""Documents in the admin; each write is a service call, so open editors learn of it at once."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from .. import api, services
from ..errors import CollabError
from ..models import (
    AuditEvent,
    Comment,
    CommentThread,
    Document,
    Invite,
    Membership,
    Operation,
    Role,
    Snapshot,
)

EXPORT_CHOICES = [("html", "HTML (.html)"), ("md", "Markdown (.md)"), ("txt", "Plain text (.txt)")]


class RestoreForm(forms.Form):
    version = forms.IntegerField(
        min_value=1, help_text="The document goes back to how it was at this version."
    )


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=EXPORT_CHOICES, initial="html")


class MembershipForm(forms.ModelForm):
    """Roles an operator may give; the owner's row follows the document's Owner field."""

    class Meta:
        model = Membership
        fields = ["document", "user", "role"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Still the stored row: the form's values reach the instance only after clean().
        was_owner = self.instance.pk is not None and self.instance.role == Role.OWNER
        if was_owner and (self.has_changed() or cleaned.get("DELETE")):
            raise ValidationError("The owner's membership follows the document's Owner field; change that.")
        if cleaned.get("role") == Role.OWNER and not was_owner:
            raise ValidationError("Make someone the owner with the document's Owner field.")
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class InviteInline(admin.TabularInline):
    """Links are listed only; the "Revoke invite links" action revokes them through the service."""

    model = Invite
    extra = 0
    fields = ["role", "created_by", "created_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def save_memberships(request: HttpRequest, formset: Any, document_id: Any) -> None:
    """Apply a membership inline's rows one by one through the services."""
    operator = request.user
    formset.save(commit=False)
    for membership in formset.deleted_objects:
        services.remove_member_as_operator(
            operator=operator, document_id=document_id, user_id=membership.user_id
        )
    for membership, changed in formset.changed_objects:
        if "user" in changed:
            previous = Membership.objects.get(pk=membership.pk).user_id
            services.remove_member_as_operator(operator=operator, document_id=document_id, user_id=previous)
    for membership in [m for m, _changed in formset.changed_objects] + formset.new_objects:
        services.set_role_as_operator(
            operator=operator, document_id=document_id, user_id=membership.user_id, role=membership.role
        )


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "version", "length", "updated_at", "created_at", "is_live"]
    list_filter = ["created_at", "updated_at", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "owner__username", "owner__email", "id"]
    readonly_fields = ["id", "type", "version", "length", "created_at", "updated_at", "deleted_at"]
    fields = ["id", "title", "owner", "type", "version", "length", "created_at", "updated_at", "deleted_at"]
    autocomplete_fields = ["owner"]
    actions = [
        "snapshot_now",
        "restore_to_version",
        "restore_from_trash",
        "export_document",
        "revoke_invite_links",
    ]
    list_select_related = ["owner"]

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        # A new document's owner membership comes from create_document; members are added after.
        return [] if obj is None else [MembershipInline, InviteInline]

    def save_model(self, request: HttpRequest, obj: Document, form: Any, change: bool) -> None:
        if not change:
            created = services.create_document(owner=obj.owner, title=obj.title)
            obj.pk = created.pk
            obj._state.adding = False
            obj.refresh_from_db()
            return
        if "title" in form.changed_data:
            services.rename_document_as_operator(operator=request.user, document_id=obj.pk, title=obj.title)
        if "owner" in form.changed_data:
            services.transfer_ownership(operator=request.user, document_id=obj.pk, new_owner_id=obj.owner_id)
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Membership:
            save_memberships(request, formset, form.instance.pk)
        else:
            formset.save(commit=False)  # Read-only: lists what changed (nothing) for the admin's log.

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The op log and snapshots are read-only one by one, but go with what owns them.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        services.purge_document(operator=request.user, document_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document_id in list(queryset.values_list("pk", flat=True)):
            services.purge_document(operator=request.user, document_id=document_id)

    @admin.action(description="Revoke the selected documents' invite links")
    def revoke_invite_links(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        revoked = sum(
            services.revoke_invites_as_operator(operator=request.user, document_id=document_id)
            for document_id in list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{revoked} invite link(s) revoked.", messages.SUCCESS)

    @admin.action(description="Restore the selected documents from the trash")
    def restore_from_trash(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        restored, refused = 0, []
        for document in list(queryset):
            try:
                services.restore_document_as_operator(operator=request.user, document_id=document.pk)
            except CollabError as error:
                refused.append(f"“{document.title}”: {error.message}")
            else:
                restored += 1
        if restored:
            self.message_user(request, f"{restored} document(s) restored from the trash.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.display(boolean=True, description="Live")
    def is_live(self, obj: Document) -> bool:
        return not obj.is_deleted

    @admin.action(description="Snapshot the selected documents now")
    def snapshot_now(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        from ..tasks import take_snapshot

        for document in queryset:
            take_snapshot.delay(str(document.pk))
        self.message_user(request, f"Snapshot queued for {queryset.count()} document(s).", messages.SUCCESS)

    def _one_document(self, request: HttpRequest, queryset: QuerySet[Document]) -> Document | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one document for this action.", messages.WARNING)
            return None
        return queryset.get()

    def _action_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Document],
        *,
        form: forms.Form,
        title: str,
        submit: str,
        explanation: str,
    ) -> TemplateResponse:
        """An intermediate page that asks for the action's one input, then posts the action again."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "documents": queryset,
            "form": form,
            "submit": submit,
            "explanation": explanation,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/documents/document/action_form.html", context)

    @admin.action(description="Restore the selected document to a version…")
    def restore_to_version(self, request: HttpRequest, queryset: QuerySet[Document]) -> HttpResponse | None:
        document = self._one_document(request, queryset)
        if document is None:
            return None
        form = RestoreForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            version = form.cleaned_data["version"]
            try:
                # One ordinary op recorded as the operator's, so open editors update and history shows it.
                result = services.restore_version_as_operator(
                    operator=request.user, document_id=document.pk, version=version
                )
            except CollabError as error:
                form.add_error("version", error.message)
            else:
                now = result.version + 1
                message = f"Restored “{document.title}” to version {version}; it is now at version {now}."
                self.message_user(request, message, messages.SUCCESS)
                return None
        return self._action_page(
            request,
            queryset,
            form=form,
            title=f"Restore “{document.title}” to a version",
            submit="Restore",
            explanation=(
                f"The document is at version {document.version}. Restoring submits one ordinary edit that "
                "makes it equal the chosen version: everyone editing sees it at once, and it shows in the "
                "history under your name."
            ),
        )

    @admin.action(description="Export the selected document…")
    def export_document(self, request: HttpRequest, queryset: QuerySet[Document]) -> HttpResponse | None:
        document = self._one_document(request, queryset)
        if document is None:
            return None
        form = ExportForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return api.export_response(document, form.cleaned_data["format"])
        return self._action_page(
            request,
            queryset,
            form=form,
            title=f"Export “{document.title}”",
            submit="Download",
            explanation="Download the document as it is now.",
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits by hand: listed and viewed, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    """The op log: paginated, filtered, and read-only; history is never edited by hand."""

    list_display = ["document", "version", "kind", "author", "src", "seq", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["document__id", "document__title", "author__username"]
    list_select_related = ["document", "author"]
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = [f.name for f in Operation._meta.fields]


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    """Read-only, deletes included: after compaction a snapshot is the only copy of the ops folded into it."""

    list_display = ["document", "version", "type", "created_at"]
    search_fields = ["document__id", "document__title"]
    list_select_related = ["document"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Snapshot._meta.fields]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["document", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["document__title", "user__username", "user__email"]
    autocomplete_fields = ["document", "user"]
    list_select_related = ["document", "user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["document", "user", "created_at"] if obj is not None else ["created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not (obj and obj.role == Role.OWNER)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.role == Role.OWNER)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        saved = services.set_role_as_operator(
            operator=request.user, document_id=obj.document_id, user_id=obj.user_id, role=obj.role
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.remove_member_as_operator(
            operator=request.user, document_id=obj.document_id, user_id=obj.user_id
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        # Owners' rows never get here: the bulk delete refuses a selection that holds one.
        for document_id, user_id in list(queryset.values_list("document_id", "user_id")):
            services.remove_member_as_operator(
                operator=request.user, document_id=document_id, user_id=user_id
            )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log: filterable and searchable, never edited (services append to it)."""

    list_display = ("created_at", "actor_name", "action", "document_title", "subject_name")
    list_filter = ("action", "created_at")
    search_fields = ("actor_name", "subject_name", "document_title", "document__id")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside a read-only page: nothing added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CommentInline(ReadOnlyInline):
    model = Comment
    extra = 0
    fields = ["author", "body", "created_at", "edited_at"]
    readonly_fields = fields


@admin.register(CommentThread)
class CommentThreadAdmin(ReadOnlyAdmin):
    """Comment threads, for support: read-only; members change them in the editor (services)."""

    list_display = ["id", "document", "author", "quote", "resolved_at", "created_at"]
    list_filter = ["resolved_at", "created_at"]
    search_fields = ["document__id", "document__title", "author__username", "quote"]
    list_select_related = ["document", "author"]
    readonly_fields = [f.name for f in CommentThread._meta.fields]
    inlines = [CommentInline]
