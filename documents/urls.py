"""Pages and the JSON API of the documents app."""

from django.urls import path

from . import api, audit_views, comments_api, monitoring, views, workspace_api

urlpatterns = [
    path("", views.document_list, name="document-list"),
    path("documents/new/", views.document_create, name="document-create"),
    path("trash/", views.trash, name="document-trash"),
    path("trash/<uuid:document_id>/restore/", views.trash_restore, name="document-trash-restore"),
    path("d/<uuid:document_id>/", views.document_editor, name="document-editor"),
    path("d/<uuid:document_id>/history/", views.document_history, name="document-history"),
    path("d/<uuid:document_id>/audit/", audit_views.document_audit, name="document-audit"),
    path("invite/<str:token>/", views.invite_accept, name="invite-accept"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("metrics", monitoring.metrics_view, name="metrics"),
    path("api/documents/", api.documents, name="api-documents"),
    path("api/search/", workspace_api.search_documents, name="api-search"),
    path("api/trash/", workspace_api.trash, name="api-trash"),
    path("api/trash/<str:document_id>/restore/", workspace_api.trash_restore, name="api-trash-restore"),
    path("api/documents/import/", api.import_document, name="api-import"),
    path("api/documents/<str:document_id>/", api.document_detail, name="api-document"),
    path("api/documents/<str:document_id>/members/", api.members, name="api-members"),
    path(
        "api/documents/<str:document_id>/members/<str:username>/",
        api.member_detail,
        name="api-member",
    ),
    path("api/documents/<str:document_id>/invites/", api.invites, name="api-invites"),
    path("api/documents/<str:document_id>/threads/", comments_api.threads, name="api-threads"),
    path("api/documents/<str:document_id>/suggestions/", comments_api.suggestions, name="api-suggestions"),
    path("api/threads/<str:thread_id>/", comments_api.thread_detail, name="api-thread"),
    path("api/threads/<str:thread_id>/replies/", comments_api.replies, name="api-replies"),
    path("api/comments/<int:comment_id>/", comments_api.comment_detail, name="api-comment"),
    path("api/notifications/", comments_api.notifications, name="api-notifications"),
    path("api/notifications/read/", comments_api.notifications_read, name="api-notifications-read"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="notifications-unsubscribe"),
    path("api/documents/<str:document_id>/history/", api.history, name="api-history"),
    path("api/documents/<str:document_id>/audit/", api.audit_log, name="api-audit"),
    path("api/documents/<str:document_id>/versions/<int:version>/", api.version, name="api-version"),
    path("api/documents/<str:document_id>/restore/", api.restore, name="api-restore"),
    path("api/documents/<str:document_id>/export/<str:fmt>/", api.export, name="api-export"),
    path("api/documents/<str:document_id>/invites/<str:token>/", api.invite_detail, name="api-invite"),
    path("api/documents/<str:document_id>/invitations/", api.invitations, name="api-invitations"),
    path(
        "api/documents/<str:document_id>/invitations/<int:invitation_id>/",
        api.invitation_detail,
        name="api-invitation",
    ),
]
