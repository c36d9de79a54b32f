"""One error tree with stable codes, shared by the WebSocket protocol and the HTTP API.

Codes are ShareDB's where the sharedb client gives them a meaning (see docs/protocol.md);
`http_status` is what the JSON API answers with.
"""


class CollabError(Exception):
    """Base of every error a client may see: a stable code and a sentence, never a traceback."""

    code = "ERR_UNKNOWN_ERROR"
    http_status = 400
    default_message = "Something went wrong."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class MessageBadlyFormed(CollabError):
    """The frame is not a well-formed protocol message."""

    code = "ERR_MESSAGE_BADLY_FORMED"
    default_message = "The message is badly formed."


class OpBadlyFormed(CollabError):
    """The op is not a valid rich-text delta for this document."""

    code = "ERR_OT_OP_BADLY_FORMED"
    default_message = "The operation is not a valid delta."


class OpRejected(CollabError):
    """A policy refusal; the client rolls the op back without retrying it."""

    code = "ERR_OP_SUBMIT_REJECTED"
    http_status = 403
    default_message = "The operation was rejected."


class DocumentNotFound(CollabError):
    """Missing and forbidden look the same, so document ids cannot be probed."""

    code = "ERR_DOC_NOT_FOUND"
    http_status = 404
    default_message = "Document not found."


class PermissionDenied(CollabError):
    """The user can see the document but not do this to it."""

    code = "ERR_PERMISSION_DENIED"
    http_status = 403
    default_message = "You do not have permission to do that."


class VersionNewer(CollabError):
    """The client claims a version the server has not reached."""

    code = "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT"
    default_message = "The version is newer than the document's current version."


class OpsNotFound(CollabError):
    """The ops needed to transform or catch up are no longer kept."""

    code = "ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND"
    http_status = 410
    default_message = "The edits since that version are no longer available; reload the document."


class CatchUpTooLong(CollabError):
    """Sending every op since that version would cost more than one fresh load of the document."""

    code = "ERR_CATCH_UP_TOO_LONG"
    default_message = "The document has changed too much since that version; load it afresh."


class DocAlreadyCreated(CollabError):
    code = "ERR_DOC_ALREADY_CREATED"
    http_status = 409
    default_message = "The document has already been created."


class DocWasDeleted(CollabError):
    code = "ERR_DOC_WAS_DELETED"
    http_status = 410
    default_message = "The document has been deleted."


class DocDoesNotExist(CollabError):
    """An edit to a document that was never created (or has been deleted)."""

    code = "ERR_DOC_DOES_NOT_EXIST"
    http_status = 404
    default_message = "The document does not exist."


class TypeNotRecognized(CollabError):
    code = "ERR_DOC_TYPE_NOT_RECOGNIZED"
    default_message = "Only rich-text documents are supported."


class MaxRetriesExceeded(CollabError):
    code = "ERR_MAX_SUBMIT_RETRIES_EXCEEDED"
    http_status = 503
    default_message = "The document is too busy; try again."


class RateLimited(CollabError):
    code = "ERR_RATE_LIMITED"
    http_status = 429
    default_message = "Too many messages; slow down."


class TooManySubscriptions(CollabError):
    code = "ERR_TOO_MANY_SUBSCRIPTIONS"
    default_message = "Too many documents open on one connection."


class DocumentFull(CollabError):
    code = "ERR_DOCUMENT_FULL"
    http_status = 503
    default_message = "This document already has as many editors open as the server allows."


class NotSupported(CollabError):
    code = "ERR_NOT_SUPPORTED"
    default_message = "That action is not supported by this server."


class SeqOverflow(CollabError):
    code = "ERR_CONNECTION_SEQ_INTEGER_OVERFLOW"
    default_message = "The connection's sequence number is too large."


class PresenceBadlyFormed(CollabError):
    code = "ERR_PRESENCE_BADLY_FORMED"
    default_message = "The presence message is badly formed."


class ValidationFailed(CollabError):
    """Bad input to the HTTP API (a title too long, an unknown role, ...)."""

    code = "ERR_VALIDATION"
    default_message = "The request is not valid."


class NotAuthenticated(CollabError):
    """The request has no signed-in session."""

    code = "ERR_NOT_AUTHENTICATED"
    http_status = 401
    default_message = "Sign in to use the API."


class MethodNotAllowed(CollabError):
    """The endpoint does not answer this HTTP method."""

    code = "ERR_METHOD_NOT_ALLOWED"
    http_status = 405
    default_message = "This method is not allowed here."


class CsrfFailed(CollabError):
    """The unsafe request lacks a valid CSRF token (or comes from an untrusted origin)."""

    code = "ERR_CSRF_FAILED"
    http_status = 403
    default_message = "CSRF verification failed; send the csrftoken cookie's value as X-CSRFToken."


class ServerUnavailable(CollabError):
    """The database or Redis stayed unreachable; never sent as an op error (the socket closes)."""

    code = "ERR_SERVER_UNAVAILABLE"
    http_status = 503
    default_message = "The server cannot reach its database right now; reconnect and resend."


class ImageNotAccepted(CollabError):
    """An upload is not an image we store (not an image, SVG, too large, too many pixels)."""

    code = "ERR_IMAGE_NOT_ACCEPTED"
    http_status = 422
    default_message = "The image cannot be used."
