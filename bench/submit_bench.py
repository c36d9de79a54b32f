"""Server hot path: the cost of committing a small op as the document grows.

Commits small edits through services.submit_operation (the whole submit path: validation, lock,
de-duplication, transform against concurrent ops, length check, insert) into documents of 1 kB,
100 kB and 900 kB, and prints commits per second with the ratio to the 1 kB baseline measured in the
same run. A ratio near 1.0 means the commit does no work proportional to the document's size.

A second column makes every other op a line format (a header on the last line), the case where
the submit path must know where the document's newlines are (`services/lines.py`): its ratio to
typing alone, at the same size in the same run, is the cost of keeping the text.

    .venv/bin/python bench/submit_bench.py                 # temporary SQLite database
    DATABASE_URL=postgres://... .venv/bin/python bench/submit_bench.py   # a temporary database on that server
"""

import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")
SERVER_URL = os.environ.get("DATABASE_URL", "")
BENCH_DB = f"collab_bench_{os.getpid()}"
if SERVER_URL:
    # Never touch the database we were pointed at: measure in a private one on the same server.
    import psycopg

    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ["DATABASE_URL"] = SERVER_URL.rsplit("/", 1)[0] + "/" + BENCH_DB
else:
    os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
os.environ.setdefault("REDIS_URL", "")
os.environ["COLLAB_SNAPSHOT_EVERY"] = str(10**9)  # measure commits, not snapshot tasks

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from documents import services  # noqa: E402

COMMITS = int(os.environ.get("BENCH_COMMITS", "300"))


def formatted_document(size: int) -> list[dict[str, object]]:
    ops: list[dict[str, object]] = []
    total, line = 0, 0
    while total < size:
        text = f"Line {line} of the benchmark document with some words 😀 in it. "
        ops.append({"insert": text, "attributes": {"bold": True}} if line % 3 == 0 else {"insert": text})
        ops.append({"insert": "\n", "attributes": {"header": 2}} if line % 10 == 0 else {"insert": "\n"})
        total += len(text.encode("utf-16-le")) // 2 + 1
        line += 1
    return ops


def run(size: int, user: object, rng: random.Random, *, formatting: bool = False) -> float:
    document = services.create_document(owner=user, title=f"bench {size}", content=formatted_document(size))
    lengths = [document.length]  # the document's length at each version since the start
    src = f"{size:032x}"[-32:]
    start = time.perf_counter()
    for seq in range(1, COMMITS + 1):
        # Half the ops are one version stale, so the transform path runs too.
        stale = 1 if seq % 2 and seq > 1 else 0
        base = document.version + seq - 1 - stale
        if formatting and seq % 2 == 0:
            # A header on the final newline (never moved by the typing, which inserts before it).
            header = {"header": 1 + seq % 3}
            op = [{"retain": lengths[-1] - 1}, {"retain": 1, "attributes": header}]
            services.submit_operation(
                user=user,
                document_id=document.pk,
                src=src,
                seq=seq,
                base_version=base + stale,
                kind="edit",
                data=op,
            )
            lengths.append(lengths[-1])
            continue
        position = rng.randrange(0, lengths[-1 - stale] - 1)
        op = [
            {"retain": position},
            {"insert": "x" * rng.randint(1, 50), "attributes": {"italic": True} if seq % 4 == 0 else None},
        ]
        op[1] = {k: v for k, v in op[1].items() if v is not None}
        services.submit_operation(
            user=user, document_id=document.pk, src=src, seq=seq, base_version=base, kind="edit", data=op
        )
        lengths.append(lengths[-1] + len(op[1]["insert"]))
    return COMMITS / (time.perf_counter() - start)


def main() -> None:
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username=f"bench{random.randint(0, 10**9)}")
    rng = random.Random(7)
    print(f"database: {connection.vendor}; {COMMITS} small commits per size (1-50 chars, half of them stale)")
    baseline = None
    print(f"{'document size':>15} {'commits/s':>10} {'vs 1 kB':>8} {'½ formats/s':>12} {'vs typing':>10}")
    for size in (1_000, 100_000, 900_000):
        rate = run(size, user, rng)
        formats = run(size, user, rng, formatting=True)
        baseline = baseline or rate
        print(
            f"{size:>12,} ch {rate:>10.0f} {rate / baseline:>8.2f} {formats:>12.0f} {formats / rate:>10.2f}"
        )


if __name__ == "__main__":
    try:
        main()
    finally:
        if SERVER_URL:
            connection.close()
            with psycopg.connect(SERVER_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
