"""The JSON API used by the browser UI, scripts and tests: parse, call selectors/services, serialize.

Session authentication with Django's CSRF protection on: unsafe methods need the `X-CSRFToken`
header carrying the `csrftoken` cookie, which every response here sets. Errors are
`{"error": {"code", "message"}}` with the status of the CollabError raised; a document the user
may not see answers exactly like one that does not exist.
"""

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import RequestDataTooBig
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import ensure_csrf_cookie

from . import convert, imports, pdf, selectors, services, word
from .services import audit
from .errors import (
    CollabError,
    CsrfFailed,
    DocumentNotFound,
    ImageNotAccepted,
    MessageBadlyFormed,
    MethodNotAllowed,
    NotAuthenticated,
    ServerUnavailable,
    ValidationFailed,
)
from .models import Document, EmailInvitation, GuestLink, Invite, Membership, Role
from .ot import suggestions

logger = logging.getLogger(__name__)

# CSRF failures under this prefix answer JSON instead of Django's HTML page.
API_PREFIX = "/api/"

Handler = Callable[..., HttpResponse]


# --- Plumbing ---------------------------------------------------------------------------------


def error_response(error: CollabError) -> JsonResponse:
    return JsonResponse({"error": error.as_dict()}, status=error.http_status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a JSON error for the API, Django's page everywhere else."""
    if request.path.startswith(API_PREFIX):
        return error_response(CsrfFailed())
    return django_csrf_failure(request, reason=reason)


def _endpoint(**handlers: Handler) -> Callable[..., HttpResponse]:
    """Build a view that dispatches on the HTTP method to `handlers` (GET=..., POST=...)."""
    allowed = ", ".join(sorted(handlers))

    @ensure_csrf_cookie
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is None:
            response: HttpResponse = error_response(MethodNotAllowed())
            response["Allow"] = allowed
            return response
        if not request.user.is_authenticated:
            return error_response(NotAuthenticated())
        try:
            return handler(request, **kwargs)
        except CollabError as error:
            return error_response(error)
        except Exception:
            logger.exception("API %s %s failed", request.method, request.path)
            response = error_response(CollabError("Internal error."))
            response.status_code = 500
            return response

    return view


def _json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; an empty body counts as `{}`."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise MessageBadlyFormed("The request body is too large.") from None
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MessageBadlyFormed("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MessageBadlyFormed("The request body must be a JSON object.")
    return data


def _visible_document(
    request: HttpRequest, document_id: str, min_role: str = Role.VIEWER
) -> tuple[Document, str]:
    """The live document and my role; deleted, missing and forbidden all look the same."""
    return selectors.access_document(user=request.user, document_id=document_id, min_role=min_role)


def _display_name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


# --- Serializers ------------------------------------------------------------------------------


def _document_json(document: Document, role: str) -> dict[str, Any]:
    return {
        "id": str(document.pk),
        "title": document.title,
        "owner": {"username": document.owner.get_username(), "name": _display_name(document.owner)},
        "role": role,
        "version": document.version,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
    }


def _member_json(membership: Membership, *, with_email: bool) -> dict[str, Any]:
    """A member; the email only for the document's owner, who shared it with them."""
    user = membership.user
    member = {"username": user.get_username(), "name": _display_name(user), "role": membership.role}
    if with_email:
        member["email"] = user.email
    return member


def _invite_json(request: HttpRequest, invite: Invite) -> dict[str, Any]:
    return {
        "token": invite.token,
        "role": invite.role,
        "url": request.build_absolute_uri(reverse("invite-accept", kwargs={"token": invite.token})),
        "created_at": invite.created_at,
    }


# --- Documents --------------------------------------------------------------------------------


def _list_documents(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:200]
    memberships = list(selectors.documents_for_user(user=request.user, search=search)[:500])
    here = selectors.visitors_of(
        document_ids=[m.document_id for m in memberships], within_seconds=selectors.visitor_ttl()
    )
    return JsonResponse(
        {
            "documents": [
                {**_document_json(m.document, m.role), "editing_now": here.get(str(m.document_id), [])}
                for m in memberships
            ]
        }
    )


def _create_document(request: HttpRequest) -> HttpResponse:
    body = _json_body(request)
    content = body.get("content")
    # Accept a bare ops list or a Delta-shaped {"ops": [...]}; the service validates either way.
    if isinstance(content, dict) and "ops" in content:
        content = content["ops"]
    document = services.create_document(
        owner=request.user, title=body.get("title", "Untitled"), content=content
    )
    state = selectors.snapshot_at(document=document)
    return JsonResponse({**_document_json(document, Role.OWNER.value), "content": state.content}, status=201)


def _get_document(request: HttpRequest, document_id: str) -> HttpResponse:
    document, role = _visible_document(request, document_id)
    state = selectors.snapshot_at(document=document)
    return JsonResponse({**_document_json(document, role), "content": state.content})


def _rename_document(request: HttpRequest, document_id: str) -> HttpResponse:
    _document, role = _visible_document(request, document_id)
    body = _json_body(request)
    if "title" not in body:
        raise ValidationFailed("Give the new title.")
    document = services.rename_document(user=request.user, document_id=document_id, title=body["title"])
    return JsonResponse(_document_json(document, role))


def _delete_document(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    services.delete_document(user=request.user, document_id=document_id)
    return HttpResponse(status=204)


# --- Members ----------------------------------------------------------------------------------


def _list_members(request: HttpRequest, document_id: str) -> HttpResponse:
    document, role = _visible_document(request, document_id)
    members = selectors.members_of(document=document)
    return JsonResponse({"members": [_member_json(m, with_email=role == Role.OWNER) for m in members]})


def _invitable_people(request: HttpRequest, document_id: str) -> HttpResponse:
    """For the owner's `@` picker: people they share other documents with, not members here."""
    document, _role = _visible_document(request, document_id, min_role=Role.OWNER)
    return JsonResponse(
        {
            "people": [
                {"username": user.get_username(), "name": _display_name(user)}
                for user in selectors.invitable_people(document=document)
            ]
        }
    )


def _add_member(request: HttpRequest, document_id: str) -> HttpResponse:
    """The same answer whether or not the person has an account, so accounts cannot be probed."""
    _visible_document(request, document_id)
    body = _json_body(request)
    services.add_member(
        actor=request.user, document_id=document_id, identifier=body.get("username"), role=body.get("role")
    )
    return JsonResponse({"message": services.ADDED_NOTICE}, status=202)


def _change_member(request: HttpRequest, document_id: str, username: str) -> HttpResponse:
    _visible_document(request, document_id)
    body = _json_body(request)
    membership = services.set_member_role(
        actor=request.user, document_id=document_id, username=username, role=body.get("role")
    )
    return JsonResponse(_member_json(membership, with_email=True))


def _remove_member(request: HttpRequest, document_id: str, username: str) -> HttpResponse:
    _visible_document(request, document_id)
    services.remove_member(actor=request.user, document_id=document_id, username=username)
    return HttpResponse(status=204)


# --- Invite links -----------------------------------------------------------------------------


def _list_invites(request: HttpRequest, document_id: str) -> HttpResponse:
    document, _role = _visible_document(request, document_id, min_role=Role.OWNER)
    active = document.invites.filter(revoked_at__isnull=True).order_by("created_at")
    return JsonResponse({"invites": [_invite_json(request, invite) for invite in active]})


def _create_invite(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    body = _json_body(request)
    invite = services.create_invite(actor=request.user, document_id=document_id, role=body.get("role"))
    return JsonResponse(_invite_json(request, invite), status=201)


def _revoke_invite(request: HttpRequest, document_id: str, token: str) -> HttpResponse:
    _visible_document(request, document_id)
    services.revoke_invite(actor=request.user, document_id=document_id, token=token)
    return HttpResponse(status=204)


# --- Invitations by email ----------------------------------------------------------------------


def _invitation_json(invitation: EmailInvitation) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


def _list_invitations(request: HttpRequest, document_id: str) -> HttpResponse:
    document, _role = _visible_document(request, document_id, min_role=Role.OWNER)
    pending = selectors.pending_invitations(document=document)
    return JsonResponse({"invitations": [_invitation_json(invitation) for invitation in pending]})


def _create_invitation(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    body = _json_body(request)
    invitation = services.invite_by_email(
        actor=request.user,
        document_id=document_id,
        email=body.get("email"),
        role=body.get("role"),
        link_for=lambda token: request.build_absolute_uri(
            reverse("invitation-accept", kwargs={"token": token})
        ),
    )
    return JsonResponse(_invitation_json(invitation), status=201)


def _revoke_invitation(request: HttpRequest, document_id: str, invitation_id: int) -> HttpResponse:
    _visible_document(request, document_id)
    services.revoke_invitation(actor=request.user, document_id=document_id, invitation_id=invitation_id)
    return HttpResponse(status=204)


# --- The guest link ----------------------------------------------------------------------------


def _guest_link_json(request: HttpRequest, document: Any) -> dict[str, Any]:
    link = GuestLink.objects.filter(document=document).first()
    return {
        "available": settings.COLLAB_GUEST_LINKS,
        "role": link.role if link else None,
        "url": request.build_absolute_uri(reverse("guest-link", kwargs={"token": link.token}))
        if link
        else None,
        "joined": document.memberships.filter(via_link=True).count(),
    }


def _get_guest_link(request: HttpRequest, document_id: str) -> HttpResponse:
    document, _role = _visible_document(request, document_id, min_role=Role.OWNER)
    return JsonResponse(_guest_link_json(request, document))


def _set_guest_link(request: HttpRequest, document_id: str) -> HttpResponse:
    """{"role": "viewer" | "commenter" | "suggester" | "editor"} turns it on; {"role": null} off."""
    document, _role = _visible_document(request, document_id, min_role=Role.OWNER)
    body = _json_body(request)
    if "role" not in body:
        raise ValidationFailed("Give the role for people with the link, or null to turn it off.")
    services.set_guest_link(actor=request.user, document_id=document_id, role=body["role"])
    return JsonResponse(_guest_link_json(request, document))


# --- History, restore, export and import -------------------------------------------------------


def _int_param(request: HttpRequest, name: str, default: int | None, *, maximum: int) -> int | None:
    value = request.GET.get(name)
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or int(value) > maximum:
        raise ValidationFailed(f"{name} must be a whole number up to {maximum}.")
    return int(value)


def _history(request: HttpRequest, document_id: str) -> HttpResponse:
    document, _role = _visible_document(request, document_id)
    before = _int_param(request, "before", None, maximum=2**53)
    limit = _int_param(request, "limit", 50, maximum=200) or 50
    sessions, next_before = selectors.history_sessions(document=document, before_version=before, limit=limit)
    return JsonResponse({"version": document.version, "sessions": sessions, "next_before": next_before})


def _version(request: HttpRequest, document_id: str, version: int) -> HttpResponse:
    """The document at a version, with who wrote each part of it."""
    document, _role = _visible_document(request, document_id)
    state = selectors.snapshot_at(document=document, version=version, with_authorship=True)
    author_ids = {
        op["attributes"]["author"]
        for op in state.authorship or []
        if (op.get("attributes") or {}).get("author")
    }
    authors = {
        str(user.pk): {
            "username": user.get_username(),
            "name": _display_name(user),
            "color": getattr(getattr(user, "profile", None), "color", ""),
        }
        for user in get_user_model().objects.filter(pk__in=author_ids).select_related("profile")
    }
    return JsonResponse(
        {
            "version": state.version,
            "content": state.content,
            "authorship": state.authorship,
            "authors": authors,
        }
    )


def _restore(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    version = _json_body(request).get("version")
    result = services.restore_version(user=request.user, document_id=document_id, version=version)
    return JsonResponse({"version": result.version + 1})


def _export(request: HttpRequest, document_id: str, fmt: str) -> HttpResponse:
    document, _role = _visible_document(request, document_id)
    if fmt not in EXPORTS:
        raise DocumentNotFound("Export as html, md, txt, docx or pdf.")
    return export_response(
        document, fmt, with_comments=request.GET.get("comments") == "1", site=request.build_absolute_uri("/")
    )


# Format -> (content type, extension). Text formats come from `convert`; Word and PDF are files.
EXPORTS = {
    **convert.EXPORTERS,
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "pdf": ("application/pdf", "pdf"),
}


class _ExportImages:
    """The document's images for an export: their bytes, as data URIs, or as absolute URLs."""

    def __init__(self, document: Document, site: str) -> None:
        self.stored = selectors.images_by_path(document=document)
        self.site = site.rstrip("/")

    def data(self, path: str) -> bytes | None:
        image = self.stored.get(path)
        if image is None:
            return None
        with image.file.open("rb") as handle:
            return bytes(handle.read())

    def data_uri(self, path: str) -> str | None:
        data = self.data(path)
        if data is None:
            return None
        return f"data:{self.stored[path].content_type};base64,{base64.b64encode(data).decode('ascii')}"

    def absolute(self, path: str) -> str | None:
        return self.site + path if path in self.stored else None


def export_response(
    document: Document, fmt: str, *, with_comments: bool = False, site: str = ""
) -> HttpResponse:
    """The document as a download (the editor's Download menu and the admin's Export action).

    Images travel inside HTML, Word and PDF files; Markdown links to them (readers sign in).
    """
    content_type, extension = EXPORTS[fmt]
    state = selectors.snapshot_at(document=document)
    notes = convert.Footnotes(selectors.thread_notes(document=document)) if with_comments else None
    # Pending suggestions are proposals, not text: exports leave them out.
    content = suggestions.accepted_only(state.content or [])
    images = _ExportImages(document, site or settings.COLLAB_PUBLIC_URL)
    body: str | bytes
    if fmt == "docx":
        body = word.to_docx(content, title=document.title, images=images.data)
    elif fmt == "pdf":
        sources = {path: images.data_uri(path) for path in images.stored}
        try:
            body = imports.run_bounded(
                pdf.to_pdf_with,
                content,
                document.title,
                sources,
                notes,
                time_limit=settings.COLLAB_EXPORT_TIME_LIMIT,
                label=f"PDF of {document.pk}",
            )
        except imports.ImportTooSlow:
            raise ServerUnavailable("The PDF took too long to make; try the Word or HTML download.") from None
        except ValueError:  # out of memory in the child
            raise ServerUnavailable("The PDF is too large to make; try the Word or HTML download.") from None
    elif fmt == "md":
        body = convert.to_markdown(content, images=images.absolute)
    else:
        body = convert.export(content, fmt, title=document.title, notes=notes, images=images.data_uri)
    response = HttpResponse(body, content_type=content_type)
    filename = "".join(c if c.isalnum() or c in " -_" else "_" for c in document.title).strip() or "document"
    response["Content-Disposition"] = f'attachment; filename="{filename[:80]}.{extension}"'
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


MAX_IMPORT_BYTES = word.MAX_DOCX_BYTES


def _import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationFailed("Attach a .docx, .md, .html or .txt file as 'file'.")
    if upload.size is None or upload.size > MAX_IMPORT_BYTES:
        raise ValidationFailed(f"The file must be at most {MAX_IMPORT_BYTES // 1024 // 1024} MB.")
    try:
        imported = imports.parse_upload(
            upload.name or "",
            upload.read(),
            time_limit=settings.COLLAB_IMPORT_TIME_LIMIT,
            max_image_bytes=settings.COLLAB_MAX_IMAGE_BYTES,
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    except imports.ImportTooSlow:
        raise ValidationFailed("The file took too long to read; split it into smaller files.") from None
    # The title people expect: the one they typed, else the file's first heading, else its name.
    title = request.POST.get("title") or imported.title or (upload.name or "Imported").rsplit(".", 1)[0]
    document = services.import_document(
        owner=request.user,
        title=title,
        content=imported.ops,
        images=imported.images,
        threads=imported.threads,
    )
    return JsonResponse(
        {**_document_json(document, Role.OWNER.value), "warnings": imported.warnings}, status=201
    )


# --- Images -------------------------------------------------------------------------------------


def _upload_image(request: HttpRequest, document_id: str) -> HttpResponse:
    _visible_document(request, document_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationFailed("Attach the image as 'file'.")
    if upload.size is None or upload.size > settings.COLLAB_MAX_IMAGE_BYTES:
        raise ImageNotAccepted(
            f"An image can be at most {settings.COLLAB_MAX_IMAGE_BYTES // (1024 * 1024)} MB."
        )
    image = services.upload_image(user=request.user, document_id=document_id, data=upload.read())
    path = services.image_path(document_id=image.document_id, image_id=image.pk)
    return JsonResponse(
        {"id": image.pk, "url": path, "width": image.width, "height": image.height}, status=201
    )


IMAGE_CACHE_CONTROL = "private, max-age=3600"
"""Browsers may keep an image an hour; no shared cache may keep it at all (it is not public)."""


def _get_image(request: HttpRequest, document_id: str, image_id: str) -> HttpResponse:
    """An image, to a reader of its document only: checked on every request, never a public URL."""
    document, _role = _visible_document(request, document_id)
    image = selectors.image_of(document=document, image_id=image_id)
    etag = f'"{image.pk}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = FileResponse(image.file.open("rb"), content_type=image.content_type)
        response["Content-Disposition"] = (
            f'inline; filename="{image.pk}.{image.file.name.rsplit(".", 1)[-1]}"'
        )
    response["ETag"] = etag
    response["Cache-Control"] = IMAGE_CACHE_CONTROL
    response["Vary"] = "Cookie"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _audit_log(request: HttpRequest, document_id: str) -> JsonResponse:
    """Export the document's audit log as JSON, newest first (owner only)."""
    document, _role = selectors.access_document(
        user=request.user, document_id=document_id, min_role=Role.OWNER
    )
    return JsonResponse(
        {"events": [audit.as_dict(event) for event in selectors.audit_events(document=document)]}
    )


documents = _endpoint(GET=_list_documents, POST=_create_document)
audit_log = _endpoint(GET=_audit_log)
history = _endpoint(GET=_history)
version = _endpoint(GET=_version)
restore = _endpoint(POST=_restore)
export = _endpoint(GET=_export)
import_document = _endpoint(POST=_import)
images = _endpoint(POST=_upload_image)
image = _endpoint(GET=_get_image)
document_detail = _endpoint(GET=_get_document, PATCH=_rename_document, DELETE=_delete_document)
members = _endpoint(GET=_list_members, POST=_add_member)
people = _endpoint(GET=_invitable_people)
member_detail = _endpoint(PATCH=_change_member, DELETE=_remove_member)
invites = _endpoint(GET=_list_invites, POST=_create_invite)
invite_detail = _endpoint(DELETE=_revoke_invite)
invitations = _endpoint(GET=_list_invitations, POST=_create_invitation)
invitation_detail = _endpoint(DELETE=_revoke_invitation)
guest_link = _endpoint(GET=_get_guest_link, PUT=_set_guest_link)
