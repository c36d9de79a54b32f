"""URL wiring: the admin, Django's auth pages, and the documents app (pages and JSON API)."""

from django.contrib import admin
from django.urls import include, path

from documents import monitoring

urlpatterns = [
    path("admin/live/", admin.site.admin_view(monitoring.live_view), name="admin-live"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("documents.urls")),
]
