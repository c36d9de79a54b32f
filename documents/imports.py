"""Parse uploaded files, check uploaded images and render PDFs in a child process with a time limit.

Parsing is linear (documents/convert.py), but a large hostile file still costs seconds of CPU;
so do decoding a hostile image and laying out a long PDF. Run here, that work never holds the
web process's threads (or its GIL) beyond the limit, and stops when the limit passes even if
the client has gone; a child that runs out of memory dies alone. Children are forked from a
small, single-threaded forkserver that has already imported the parsers, so each one starts
quickly.
"""

import logging
import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from .convert import Imported, import_upload
from .images import CheckedImage, ImageRefused, check_image

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["documents.convert", "documents.images", "documents.word", "documents.pdf"])

T = TypeVar("T")


class ImportTooSlow(Exception):
    """The work took longer than the time limit (or its process died)."""


CHILD_MEMORY_BYTES = 2 * 1024**3
"""Address space a child may use: a file built to need more fails alone, with a sentence."""
TOO_MUCH_MEMORY = "The file needs too much memory to read; split it into smaller files."


def _run_in_child(connection: Connection, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
        connection.send(("ok", work(*args)))
    except ValueError as exc:  # ImageRefused is one: a sentence for the person
        connection.send(("invalid", str(exc)))
    except MemoryError:
        connection.send(("invalid", TOO_MUCH_MEMORY))
    finally:
        connection.close()


def run_bounded(work: Callable[..., T], *args: Any, time_limit: float, label: str) -> T:
    """`work(*args)` in a child process; its ValueError re-raised, ImportTooSlow past the limit."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_run_in_child, args=(sender, work, args), daemon=True)
    child.start()
    sender.close()
    finished = False
    try:
        if not receiver.poll(time_limit):
            raise ImportTooSlow()
        outcome: tuple[str, Any] = receiver.recv()
        finished = True
    except EOFError:
        raise ImportTooSlow() from None  # the child died (out of memory, killed)
    finally:
        receiver.close()
        if finished:
            child.join(timeout=5)  # it has answered and is exiting
        if child.is_alive():
            child.kill()
            if not finished:
                logger.warning("%s stopped after %.1f s", label, time_limit)
        child.join()
    kind, value = outcome
    if kind == "invalid":
        raise ValueError(value)
    return value  # type: ignore[no-any-return]


def parse_upload(
    name: str, data: bytes | str, *, time_limit: float, max_image_bytes: int = 10 << 20
) -> Imported:
    """`convert.import_upload` (content, images, warnings, title, comment threads) in a child
    process; ValueError as there, ImportTooSlow past the limit."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return run_bounded(
        import_upload, name, raw, max_image_bytes, time_limit=time_limit, label=f"import of {name!r}"
    )


def _check(data: bytes, max_bytes: int) -> CheckedImage:
    return check_image(data, max_bytes=max_bytes)


def check_upload(data: bytes, *, max_bytes: int, time_limit: float) -> CheckedImage:
    """`images.check_image` in a child process: ImageRefused (a ValueError) says why not."""
    try:
        return run_bounded(_check, data, max_bytes, time_limit=time_limit, label="image check")
    except ValueError as exc:
        raise ImageRefused(str(exc)) from None
