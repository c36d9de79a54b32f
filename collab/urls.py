"""URL wiring: the admin, the account pages (django-allauth), and the documents app (pages and JSON API)."""

from django.contrib import admin
from django.urls import include, path

from documents import accounts
from documents import monitoring

urlpatterns = [
    path("admin/live/", admin.site.admin_view(monitoring.live_view), name="admin-live"),
    path("admin/", admin.site.urls),
    # Before allauth's own: a site without reset mail says so instead of offering the form.
    path("accounts/password/reset/", accounts.password_reset, name="account_reset_password"),
    path("accounts/profile/", accounts.profile, name="account_profile"),
    path(
        "accounts/profile/sign-out-everywhere/",
        accounts.sign_out_everywhere,
        name="account_sign_out_everywhere",
    ),
    path("accounts/profile/sign-out/", accounts.sign_out_session, name="account_sign_out_session"),
    path("accounts/", include("allauth.urls")),
    path("", include("documents.urls")),
]
