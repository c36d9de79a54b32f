"""The operator's view: read-mostly; content changes go through services, never raw op JSON."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import api, services
from .errors import CollabError
from .models import AuditEvent, Document, Invite, Membership, Operation, Snapshot

EXPORT_CHOICES = [("html", "HTML (.html)"), ("md", "Markdown (.md)"), ("txt", "Plain text (.txt)")]


class RestoreForm(forms.Form):
    version = forms.IntegerField(
        min_value=1, help_text="The document goes back to how it was at this version."
    )


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=EXPORT_CHOICES, initial="html")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class InviteInline(admin.TabularInline):
    model = Invite
    extra = 0
    fields = ["role", "created_by", "created_at", "revoked_at"]
    readonly_fields = ["role", "created_by", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "version", "length", "updated_at", "created_at", "is_live"]
    list_filter = ["created_at", "updated_at", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "owner__username", "owner__email", "id"]
    readonly_fields = ["id", "type", "version", "length", "created_at", "updated_at", "deleted_at"]
    fields = ["id", "title", "owner", "type", "version", "length", "created_at", "updated_at", "deleted_at"]
    autocomplete_fields = ["owner"]
    inlines = [MembershipInline, InviteInline]
    actions = ["snapshot_now", "restore_to_version", "export_document"]
    list_select_related = ["owner"]

    @admin.display(boolean=True, description="Live")
    def is_live(self, obj: Document) -> bool:
        return not obj.is_deleted

    @admin.action(description="Snapshot the selected documents now")
    def snapshot_now(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        from .tasks import take_snapshot

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
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["document", "version", "type", "created_at"]
    search_fields = ["document__id", "document__title"]
    list_select_related = ["document"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Snapshot._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["document", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["document__title", "user__username", "user__email"]
    autocomplete_fields = ["document", "user"]
    list_select_related = ["document", "user"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log: filterable and searchable, never edited (services append to it)."""

    list_display = ("created_at", "actor_name", "action", "document_title", "subject_name")
    list_filter = ("action", "created_at")
    search_fields = ("actor_name", "subject_name", "document_title", "document__id")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
