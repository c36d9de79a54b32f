"""The operator's view: read-mostly; content changes go through services, never raw op JSON."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Document, Invite, Membership, Operation, Snapshot


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
    actions = ["snapshot_now"]
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


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    """The op log: paginated, filtered, and read-only; history is never edited by hand."""

    list_display = ["document", "version", "kind", "author", "src", "seq", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["document__id", "document__title", "author__username"]
    list_select_related = ["document", "author"]
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = [f.name for f in Operation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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

