"""The backup and restore drill of docs/operations.md, against a PostgreSQL of the test's own:
pg_dump a live database, restore it into an empty one, and the app serves the same documents."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, ServerProcess, free_port

pytestmark = pytest.mark.integration

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MARK = "@@DRILL@@"

FILL = """
from django.contrib.auth import get_user_model
from documents import services
from documents.records import OpRecord
from documents.services.submit import SubmitRequest
from documents.models import OperationKind

owner = get_user_model().objects.create_user(username="olga", password="pw-olga-1234")
get_user_model().objects.create_user(username="eli", password="pw-eli-1234")
doc = services.create_document(owner=owner, title="Minutes", content=[{"insert": "Agenda ✍️\\n"}])
services.add_member(actor=owner, document_id=doc.pk, identifier="eli", role="editor")
for seq, word in enumerate(["one ", "two ", "three 🎉 "]):
    request = SubmitRequest(owner, "drill-src", seq + 1, doc.version + seq, OperationKind.EDIT, [{"insert": word}])
    services.submit_batch(document_id=str(doc.pk), requests=[services.clean_request(request)])
services.take_snapshot(document_id=doc.pk)
"""

READ = """
import json
from documents import selectors
from documents.models import Document, Membership, Operation, Snapshot
out = {}
for doc in Document.objects.order_by("title"):
    state = selectors.snapshot_at(document=doc)
    out[doc.title] = {
        "version": doc.version,
        "content": state.content,
        "ops": list(Operation.objects.filter(document=doc).order_by("version").values_list("version", "src", "seq")),
        "members": sorted(Membership.objects.filter(document=doc).values_list("user__username", "role")),
        "snapshots": list(Snapshot.objects.filter(document=doc).values_list("version", flat=True)),
    }
print(MARK + json.dumps(out))
"""


@pytest.fixture
def own_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL on a free port, run as the postgres user; removed afterwards."""
    data = Path(tempfile.mkdtemp(prefix="collab-drill-"))
    shutil.chown(data, "postgres", "postgres")
    port = free_port()

    def as_postgres(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120
        )

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_postgres(
        str(PG_BIN / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l", str(data / "log"), "-w", "start"
    )
    try:
        yield f"postgres://postgres@127.0.0.1:{port}"
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


def manage(database_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "DATABASE_URL": database_url, "REDIS_URL": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def read(database_url: str) -> dict[str, object]:
    out = manage(database_url, "shell", "-c", f"MARK = {MARK!r}\n" + READ)
    return json.loads(next(line for line in out.splitlines() if line.startswith(MARK))[len(MARK) :])


def psql(server: str, sql: str) -> None:
    subprocess.run(
        ["psql", f"{server}/postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True
    )


def test_pg_dump_and_restore_drill(own_postgres: str, tmp_path: Path) -> None:
    live, restored = f"{own_postgres}/collab", f"{own_postgres}/collab_restored"
    psql(own_postgres, "CREATE DATABASE collab")
    manage(live, "migrate", "--noinput", "-v", "0")
    manage(live, "shell", "-c", FILL)
    before = read(live)
    assert before["Minutes"]["version"] == 4 and before["Minutes"]["snapshots"] == [4]  # type: ignore[index]

    # The drill, as docs/operations.md gives it.
    dump = tmp_path / "collab.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), live], check=True, timeout=120
    )
    psql(own_postgres, "CREATE DATABASE collab_restored")
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(dump)],
        check=True,
        timeout=120,
    )

    assert read(restored) == before
    # The app serves the restored database: migrated, ready, and the document loads.
    server = ServerProcess({"DATABASE_URL": restored, "REDIS_URL": ""}, name="restored").start()
    try:
        with urllib.request.urlopen(server.url + "/readyz", timeout=15) as response:
            assert (response.status, response.read()) == (200, b"ok")
    finally:
        server.stop()
