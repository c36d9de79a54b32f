"""Account pages: sign-in, password change and reset, each saving through `services.accounts`."""

from typing import Any

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import services


class SetPasswordForm(auth_forms.SetPasswordForm):
    """The reset link's new-password form; saving ends every open editor of the account."""

    def save(self, commit: bool = True) -> Any:
        return services.set_password(user=self.user, password=self.cleaned_data["new_password1"])


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        return services.set_password(user=self.user, password=self.cleaned_data["new_password1"])


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "password_reset": settings.COLLAB_PASSWORD_RESET_BY_EMAIL,
        }


def password_reset(request: HttpRequest) -> HttpResponse:
    """Reset by email only where mail is configured; elsewhere say who can help instead."""
    if not settings.COLLAB_PASSWORD_RESET_BY_EMAIL:
        return render(request, "registration/password_reset_unavailable.html")
    return auth_views.PasswordResetView.as_view()(request)


password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(form_class=SetPasswordForm)
password_change = auth_views.PasswordChangeView.as_view(form_class=PasswordChangeForm)
