"""URL wiring: the admin, the account pages, and the documents app (pages and JSON API)."""

from django.contrib import admin
from django.urls import include, path

from documents import accounts
from documents import monitoring

urlpatterns = [
    path("admin/live/", admin.site.admin_view(monitoring.live_view), name="admin-live"),
    path("admin/", admin.site.urls),
    # Ours before Django's: they save passwords through the services and know whether mail is set up.
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/password_change/", accounts.password_change, name="password_change"),
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path("accounts/reset/<uidb64>/<token>/", accounts.password_reset_confirm, name="password_reset_confirm"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("documents.urls")),
]
