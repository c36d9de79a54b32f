"""The ShareDB wire contract: parse every incoming frame, build every outgoing message.

Nothing here touches the database or the channel layer. docs/protocol.md describes the messages.
"""

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .errors import (
    CollabError,
    DocumentNotFound,
    MessageBadlyFormed,
    PresenceBadlyFormed,
    SeqOverflow,
    TypeNotRecognized,
)
from .models import OperationKind
from .ot import rich_text
from .records import OpRecord, SnapshotData

COLLECTION = "documents"
PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 2
# The handshake names the *default* type, which the client insists is json0.
DEFAULT_TYPE_URI = "http://sharejs.org/types/JSONv0"
RICH_TEXT_NAMES = {"rich-text", rich_text.URI}
MAX_SAFE_INTEGER = 2**53 - 1
MAX_ID_LENGTH = 100
CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Fields echoed in an error reply so the client can route it; never the (possibly huge) payload.
ROUTING_FIELDS = ("a", "c", "d", "v", "seq", "src", "id", "ch", "b", "pv")
# Close codes (docs/protocol.md). daphne only sends 1000 and 3000-4999, so ours are in 4000-4999.
CLOSE_SESSION_ENDED = 4401
CLOSE_BAD_FRAME = 4400  # a frame that is not a JSON object
CLOSE_UNSUPPORTED_DATA = 4415  # a binary frame
CLOSE_TOO_SLOW = 4429  # the client read too slowly; reconnect and resync
CLOSE_SERVER_UNAVAILABLE = 4503  # the database stayed unreachable; reconnect and resend
CLOSE_DOCUMENT_FULL = 4409  # the document's connection cap is reached; do not retry at once
CLOSE_RESTARTING = 4012  # this process is restarting (as 1012); reconnect at once and resend

# The named action table: every wire action and the consumer method that handles it (`on_<name>`),
# checked when the consumer class is defined.
ACTIONS = {
    "hs": "handshake",
    "pp": "ping",
    "f": "fetch",
    "s": "subscribe",
    "u": "unsubscribe",
    "bf": "bulk_fetch",
    "bs": "bulk_subscribe",
    "bu": "bulk_unsubscribe",
    "op": "submit",
    "nf": "snapshot_at_version",
    "nt": "snapshot_at_time",
    "p": "presence",
    "ps": "presence_subscribe",
    "pu": "presence_unsubscribe",
    "pr": "presence_request",
    "qf": "query",
    "qs": "query",
    "qu": "query",
}
# Reads that cost the server a database read and a possibly large reply: rate-limited per connection.
READ_ACTIONS = frozenset({"f", "s", "bf", "bs", "nf", "nt"})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_frame(text: str) -> dict[str, Any]:
    """Decode one text frame strictly: JSON (no NaN or Infinity), and an object."""
    try:
        message = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise MessageBadlyFormed("The frame is not valid JSON.") from None
    if not isinstance(message, dict):
        raise MessageBadlyFormed("A message must be a JSON object.")
    return message


def parse_action(message: dict[str, Any]) -> str:
    """The handler name for the message's action."""
    action = message.get("a")
    if not isinstance(action, str) or action not in ACTIONS:
        raise MessageBadlyFormed(f"Unknown or missing action {str(action)[:20]!r}.")
    return ACTIONS[action]


def encode(message: dict[str, Any]) -> str:
    """One outgoing frame's text."""
    return json.dumps(message, separators=(",", ":"))


def error_reply(message: dict[str, Any] | None, error: CollabError) -> dict[str, Any]:
    reply = {k: message[k] for k in ROUTING_FIELDS if message and k in message}
    reply["error"] = error.as_dict()
    return reply


# --- Field parsers ----------------------------------------------------------------------------


def is_rich_text_name(value: Any) -> bool:
    """True for a name of the rich-text type (a list or object is no name, and is unhashable)."""
    return isinstance(value, str) and value in RICH_TEXT_NAMES


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_version(value: Any, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if not is_int(value) or value < 0 or value > MAX_SAFE_INTEGER:
        raise MessageBadlyFormed("The version must be a non-negative integer.")
    return int(value)


def parse_seq(value: Any) -> int:
    if not is_int(value) or value < 0:
        raise MessageBadlyFormed("seq must be a non-negative integer.")
    if value >= MAX_SAFE_INTEGER:
        raise SeqOverflow()
    return int(value)


def canonical_document_id(document_id: str) -> str:
    """Ids are checked once, here: only the canonical form we issue names a document.

    `{...}`, `urn:uuid:...` or upper-case spellings of an id would parse as the same UUID but
    name other broadcast channels, so they are simply not found.
    """
    if not CANONICAL_ID.fullmatch(document_id):
        raise DocumentNotFound()
    return document_id


def parse_doc_ref(message: dict[str, Any]) -> str:
    """The doc id of a message on our one collection."""
    collection = message.get("c")
    document_id = message.get("d")
    if not isinstance(collection, str) or not isinstance(document_id, str):
        raise MessageBadlyFormed("c and d must be strings.")
    if len(document_id) > MAX_ID_LENGTH or len(collection) > MAX_ID_LENGTH:
        raise MessageBadlyFormed("c or d is too long.")
    if collection != COLLECTION:
        raise DocumentNotFound(f"There is no such collection; documents live in {COLLECTION!r}.")
    return document_id


# Milliseconds since 1970 that a date can hold (years 1 to 9999 would overflow elsewhere).
MAX_TIMESTAMP_MS = 253402300799999


def parse_timestamp(value: Any) -> int | None:
    """The `ts` of an `nt` request: Unix milliseconds, or None for now."""
    if value is None:
        return None
    if not is_int(value) or not (0 <= value <= MAX_TIMESTAMP_MS):
        raise MessageBadlyFormed("ts must be a Unix time in milliseconds or null.")
    return int(value)


def parse_bulk(message: dict[str, Any]) -> dict[str, int | None]:
    """The `b` of a bulk request: a list of ids (no version) or a map of id to version."""
    collection = message.get("c")
    ids = message.get("b")
    if not isinstance(collection, str):
        raise MessageBadlyFormed("c must be a string.")
    if collection != COLLECTION:
        raise DocumentNotFound(f"There is no such collection; documents live in {COLLECTION!r}.")
    if isinstance(ids, list):
        if not all(isinstance(i, str) and len(i) <= MAX_ID_LENGTH for i in ids):
            raise MessageBadlyFormed("b must list document ids.")
        return {i: None for i in ids}
    if isinstance(ids, dict):
        return {str(i)[:MAX_ID_LENGTH]: parse_version(v) for i, v in ids.items()}
    raise MessageBadlyFormed("b must be a list or an object.")


def parse_channel(channel: Any) -> str:
    """A presence channel is 'documents.<doc id>'; return the doc id."""
    if not isinstance(channel, str) or len(channel) > MAX_ID_LENGTH + len(COLLECTION) + 1:
        raise PresenceBadlyFormed("ch must be a presence channel name.")
    prefix = COLLECTION + "."
    if not channel.startswith(prefix):
        raise PresenceBadlyFormed("Only document presence channels are supported.")
    return channel[len(prefix) :]


def parse_presence_channel(channel: Any) -> str:
    """The canonical doc id of a presence channel (not found, like any other unknown id)."""
    return canonical_document_id(parse_channel(channel))


@dataclass(frozen=True)
class Submit:
    """A parsed `op` message."""

    document_id: str
    src: str | None
    seq: int
    version: int | None
    kind: str
    data: Any


def parse_submit(message: dict[str, Any]) -> Submit:
    document_id = parse_doc_ref(message)
    seq = parse_seq(message.get("seq"))
    src = message.get("src")
    if src is not None and (not isinstance(src, str) or len(src) > MAX_ID_LENGTH):
        raise MessageBadlyFormed("src must be a string.")
    version = parse_version(message.get("v"))
    present = [k for k in ("op", "create", "del") if k in message]
    if len(present) != 1:
        raise MessageBadlyFormed("An op message needs exactly one of op, create and del.")
    if "op" in message:
        payload = message["op"]
        if isinstance(payload, dict):
            payload = payload.get("ops")
        return Submit(canonical_document_id(document_id), src, seq, version, OperationKind.EDIT, payload)
    if "create" in message:
        create = message["create"]
        if not isinstance(create, dict) or not is_rich_text_name(create.get("type")):
            raise TypeNotRecognized()
        data = create.get("data")
        if isinstance(data, dict):
            data = data.get("ops")
        return Submit(
            canonical_document_id(document_id),
            src,
            seq,
            version,
            OperationKind.CREATE,
            data if data is not None else [],
        )
    if message["del"] is not True:
        raise MessageBadlyFormed("del must be true.")
    return Submit(canonical_document_id(document_id), src, seq, version, OperationKind.DELETE, None)


@dataclass(frozen=True)
class Presence:
    """A parsed `p` message; `value` is a {index, length, ...} range or None."""

    document_id: str
    channel: str
    presence_id: str
    pv: int
    version: int
    value: dict[str, Any] | None


def parse_presence(message: dict[str, Any]) -> Presence:
    channel = message.get("ch")
    document_id = parse_channel(channel)
    presence_id = message.get("id")
    if not isinstance(presence_id, str) or not presence_id or len(presence_id) > MAX_ID_LENGTH:
        raise PresenceBadlyFormed("id must be a short string.")
    pv = message.get("pv")
    if not is_int(pv) or pv < 0 or pv > MAX_SAFE_INTEGER:
        raise PresenceBadlyFormed("pv must be a non-negative integer.")
    if not is_rich_text_name(message.get("t")):
        raise PresenceBadlyFormed("Presence must name the rich-text type.")
    version = message.get("v")
    if not is_int(version) or version < 0 or version > MAX_SAFE_INTEGER:
        raise PresenceBadlyFormed("v must be a non-negative integer.")
    value = message.get("p")
    if value is not None:
        if not isinstance(value, dict):
            raise PresenceBadlyFormed("p must be a range or null.")
        index, length = value.get("index"), value.get("length", 0)
        limit = settings.COLLAB_MAX_DOCUMENT_LENGTH
        if not is_int(index) or not is_int(length) or not (0 <= index <= limit) or not (0 <= length <= limit):
            raise PresenceBadlyFormed("p must have a non-negative integer index and length.")
        # Only the range travels; who it belongs to is added by the server from the session.
        value = {"index": index, "length": length}
    return Presence(canonical_document_id(document_id), channel, presence_id, int(pv), int(version), value)


# --- Connection ids ---------------------------------------------------------------------------


def _src_mac(user_id: Any, nonce: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"collab-src:{user_id}:{nonce}".encode(), hashlib.sha256).hexdigest()[:16]


def issue_src(user_id: Any) -> str:
    """A connection id bound to its user, so nobody else can pass it off as theirs."""
    nonce = secrets.token_hex(8)
    return nonce + _src_mac(user_id, nonce)


def src_belongs_to(src: Any, user_id: Any) -> bool:
    if not isinstance(src, str) or len(src) != 32:
        return False
    return hmac.compare_digest(src[16:], _src_mac(user_id, src[:16]))


# --- Outgoing messages ------------------------------------------------------------------------


def handshake_reply(src: str) -> dict[str, Any]:
    return {
        "a": "hs",
        "protocol": PROTOCOL_MAJOR,
        "protocolMinor": PROTOCOL_MINOR,
        "id": src,
        "type": DEFAULT_TYPE_URI,
    }


def op_message(record: OpRecord) -> dict[str, Any]:
    message: dict[str, Any] = {
        "a": "op",
        "c": COLLECTION,
        "d": record.document_id,
        "v": record.version,
        "src": record.src,
        "seq": record.seq,
    }
    if record.kind == OperationKind.CREATE:
        message["create"] = {"type": rich_text.URI, "data": record.data}
    elif record.kind == OperationKind.DELETE:
        message["del"] = True
    else:
        message["op"] = record.data
    return message


def stored_op_frame(
    *, document_id: str, version: int, kind: str, src: str, seq: int, stored: str | None
) -> str:
    """The frame of `op_message`, built around a delta still in its stored JSON text."""
    head = f'{{"a":"op","c":"{COLLECTION}","d":{json.dumps(document_id)},"v":{version},"src":{json.dumps(src)},"seq":{seq}'
    if kind == OperationKind.CREATE:
        return f'{head},"create":{{"type":{json.dumps(rich_text.URI)},"data":{stored}}}}}'
    if kind == OperationKind.DELETE:
        return head + ',"del":true}'
    return f'{head},"op":{stored}}}'


def ack_message(*, document_id: str, src: str, seq: int, version: int) -> dict[str, Any]:
    return {"a": "op", "c": COLLECTION, "d": document_id, "src": src, "seq": seq, "v": version}


def ack_of(record: OpRecord) -> dict[str, Any]:
    """What the op's own connection gets instead of the op: the client takes it as the ack."""
    return ack_message(document_id=record.document_id, src=record.src, seq=record.seq, version=record.version)


def reply(message: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The bare reply to a document request: its action, collection and id, plus `fields`."""
    return {"a": message["a"], "c": COLLECTION, "d": message["d"], **fields}


def access_message(document_id: str, role: str | None) -> dict[str, Any]:
    """Tell the page its role on a document changed (None: it has no access any more)."""
    return {"a": "x-access", "c": COLLECTION, "d": document_id, "role": role}


def title_message(document_id: str, title: str) -> dict[str, Any]:
    """Tell the page an open document was renamed."""
    return {"a": "x-title", "c": COLLECTION, "d": document_id, "title": title}


def trash_message(document_id: str, trashed: bool) -> dict[str, Any]:
    """Tell a member's page the document went to the trash (`trashed`) or was restored from it."""
    return {"a": "x-trash", "c": COLLECTION, "d": document_id, "trashed": trashed}


def comment_message(document_id: str, thread: dict[str, Any]) -> dict[str, Any]:
    """Tell the page a comment thread changed (``thread["deleted"]``: it is gone)."""
    return {"a": "x-comment", "c": COLLECTION, "d": document_id, "thread": thread}


def notification_message(unread: int) -> dict[str, Any]:
    """Tell the page how many unread notifications its user has now."""
    return {"a": "x-notify", "unread": unread}


def build_outdated(message: dict[str, Any], current: str) -> bool:
    """The handshake names a build (our pages send one) other than the one served now."""
    build = message.get("build")
    return isinstance(build, str) and build != current


def reload_message(build: str) -> dict[str, Any]:
    """Tell a page of another build to reload once its pending edits are saved."""
    return {"a": "x-reload", "code": "ERR_BUILD_OUTDATED", "build": build}


def session_ended_message() -> dict[str, Any]:
    return {"a": "x-session", "reason": "signed-out"}


def presence_channel(document_id: str) -> str:
    return f"{COLLECTION}.{document_id}"


def presence_clear(*, document_id: str, src: str, presence_id: str, pv: int, version: int) -> dict[str, Any]:
    """A cursor gone (its connection left or died), at the head version so it applies at once."""
    return {
        "a": "p",
        "ch": presence_channel(document_id),
        "src": src,
        "id": presence_id,
        "p": None,
        "pv": pv,
        "c": COLLECTION,
        "d": document_id,
        "v": version,
        "t": rich_text.URI,
    }


def snapshot_data(state: SnapshotData) -> dict[str, Any]:
    if not state.type:
        return {"v": state.version, "data": None, "type": None}
    return {"v": state.version, "data": {"ops": state.content or []}, "type": state.type}


def snapshot_reply(action: str, request_id: Any, state: SnapshotData) -> dict[str, Any]:
    """The `nf`/`nt` reply: the snapshot's fields at the top level, `id` the request's id."""
    data = snapshot_data(state)
    return {
        "a": action,
        "id": request_id,
        "v": data["v"],
        "type": data["type"],
        "data": data["data"],
        "m": None,
    }


def presence_message(
    presence: Presence, *, src: str, version: int, value: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "a": "p",
        "ch": presence.channel,
        "src": src,
        "id": presence.presence_id,
        "p": value,
        "pv": presence.pv,
        "c": COLLECTION,
        "d": presence.document_id,
        "v": version,
        "t": rich_text.URI,
    }
