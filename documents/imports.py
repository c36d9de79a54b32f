"""Parse uploaded files in a child process with a hard time limit.

Parsing is linear (documents/convert.py), but a large hostile file still costs seconds of CPU;
run here, it never holds the web process's threads (or its GIL) beyond the limit, and stops
when the limit passes even if the client has gone. Children are forked from a small,
single-threaded forkserver that has already imported the parsers, so each one starts quickly.
"""

import logging
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from .convert import Imported, Ops, import_document, without_comments

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["documents.convert"])


class ImportTooSlow(Exception):
    """Parsing the file took longer than the time limit."""


def _parse_in_child(connection: Connection, name: str, source: str) -> None:
    try:
        connection.send(("ok", tuple(import_document(name, source))))
    except ValueError as exc:
        connection.send(("invalid", str(exc)))
    finally:
        connection.close()


def parse_upload(name: str, source: str, *, time_limit: float) -> Ops:
    """`convert.import_file` in a child process; ValueError as there, ImportTooSlow past the limit."""
    return without_comments(parse_upload_document(name, source, time_limit=time_limit).ops)


def parse_upload_document(name: str, source: str, *, time_limit: float) -> Imported:
    """`convert.import_document` (content and comment threads) in a child process, as `parse_upload`."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_parse_in_child, args=(sender, name, source), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(time_limit):
            raise ImportTooSlow()
        outcome: tuple[str, Any] = receiver.recv()
    except EOFError:
        raise ImportTooSlow() from None  # the child died (out of memory, killed)
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
            logger.warning("import of %r stopped after %.1f s", name, time_limit)
        child.join()
    kind, value = outcome
    if kind == "invalid":
        raise ValueError(value)
    ops, threads = value
    return Imported(list(ops), dict(threads))
