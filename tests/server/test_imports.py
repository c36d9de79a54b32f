"""Imports parse in a child process with a hard time limit, and answer as the parsers do."""

import multiprocessing
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from documents import convert, imports

HOSTILE_HTML = "<b>x</b><i>y</i>" * 60_000  # a second or more of parsing


def test_a_file_parses_in_the_child_as_it_would_here() -> None:
    source = "# Plan\n\n- one\n- **two** [x](https://example.com/)\n"
    assert imports.parse_upload("plan.md", source, time_limit=30).ops == convert.import_file(
        "plan.md", source
    )


def test_what_the_parser_refuses_is_refused_the_same_way() -> None:
    with pytest.raises(ValueError, match="Import a"):
        imports.parse_upload("notes.exe", "x", time_limit=30)
    with pytest.raises(ValueError, match="at most"):
        imports.parse_upload("big.md", "a" * (convert.MAX_IMPORT_CHARACTERS["md"] + 1), time_limit=30)


def _allocate(size: int) -> int:
    return len(bytearray(size))


def test_work_that_needs_too_much_memory_fails_alone_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="too much memory"):
        imports.run_bounded(_allocate, imports.CHILD_MEMORY_BYTES, time_limit=30, label="allocation")
    assert imports.run_bounded(_allocate, 1024, time_limit=30, label="allocation") == 1024


def test_parsing_past_the_limit_is_stopped() -> None:
    with pytest.raises(imports.ImportTooSlow):
        imports.parse_upload("slow.html", HOSTILE_HTML, time_limit=0.01)
    # The child was killed, not left running after the answer.
    assert multiprocessing.active_children() == []


@pytest.mark.django_db
def test_the_api_refuses_an_import_that_takes_too_long(users: Any, settings: Any) -> None:
    settings.COLLAB_IMPORT_TIME_LIMIT = 0.01
    client = Client()
    client.force_login(users["ed"])
    upload = SimpleUploadedFile("slow.html", HOSTILE_HTML.encode(), content_type="text/html")
    response = client.post("/api/documents/import/", {"file": upload})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ERR_VALIDATION"
    assert "too long" in response.json()["error"]["message"]
