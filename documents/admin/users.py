"""Accounts in the admin: every save, password change, deactivation and delete is a service call."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest

from .. import services

User = get_user_model()


class PasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" page, saving through the service that ends open sessions."""

    def save(self, commit: bool = True) -> Any:
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        return services.set_password(user=self.user, password=password)


admin.site.unregister(User)
# Access is granted with document roles; groups would be a second, unaudited way to grant it.
admin.site.unregister(Group)
# Addresses change through the account pages (confirmed by email) or with the user's own form;
# second factors and SSO links are the person's own, on their account pages.
for _model in (EmailAddress, Authenticator, SocialAccount, SocialApp, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = PasswordChangeForm
    actions = ["deactivate_users", "reactivate_users"]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.save_user(user=obj, by_operator=True)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The op log and snapshots are read-only one by one, but go with what owns them.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_user(operator=request.user, user_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user_id in list(queryset.values_list("pk", flat=True)):
            services.delete_user(operator=request.user, user_id=user_id)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Any], *, active: bool) -> None:
        changed = sum(
            services.set_active(user_id=user_id, active=active)
            for user_id in list(queryset.values_list("pk", flat=True))
        )
        verb = "reactivated" if active else "deactivated; their open editors were signed out"
        self.message_user(request, f"{changed} account(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Deactivate the selected accounts (signs them out everywhere)")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(description="Reactivate the selected accounts")
    def reactivate_users(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set_active(request, queryset, active=True)
