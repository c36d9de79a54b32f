"""Full-text search over 10,000 documents on PostgreSQL: answer time against a plain indexed lookup.

Seeds a private database with BENCH_DOCUMENTS (10,000) documents of about 300 words each (a
Zipf-like vocabulary, so some words are in most documents and some in a handful), shared so
that one reader can read all of them and another a tenth. Then it times
`documents.search.search_documents` (the API's and the list page's query: access join, rank,
headline of the top 20) for common, medium and rare words, two words, a phrase and a miss,
next to the anchor measured in the same run: fetching one document by primary key.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/search_bench.py

BENCH_KEEP_DB=1 keeps the seeded database (its name is printed) for EXPLAIN ANALYZE.

The rows are seeded in bulk (the search text built by the same `search.plain_text` the index
service uses): this is fixture data for the measurement, not an actor of the app.
"""

import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")
SERVER_URL = os.environ.get("DATABASE_URL", "")
if not SERVER_URL.startswith("postgres"):
    sys.exit("search_bench measures PostgreSQL: set DATABASE_URL=postgres://...")
BENCH_DB = f"collab_search_bench_{os.getpid()}"
import psycopg  # noqa: E402

with psycopg.connect(SERVER_URL, autocommit=True) as admin:
    admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
os.environ["DATABASE_URL"] = SERVER_URL.rsplit("/", 1)[0] + "/" + BENCH_DB
os.environ.setdefault("REDIS_URL", "")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from documents import search  # noqa: E402
from documents.models import Document, Membership, Role, SearchText  # noqa: E402

DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "10000"))
WORDS_PER_DOCUMENT = int(os.environ.get("BENCH_WORDS", "300"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "30"))
TARGET_MS = 200.0


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size * 2)}
    return sorted(words)[:size]


def seed(rng: random.Random) -> tuple[object, object, list[str]]:
    users = get_user_model().objects
    everything = users.create_user(username="reader_all")
    tenth = users.create_user(username="reader_tenth")
    words = vocabulary(rng)
    # Zipf-like: word k is drawn with weight 1/(k+1).
    weights = [1.0 / (k + 1) for k in range(len(words))]
    documents, memberships, texts = [], [], []
    for n in range(DOCUMENTS):
        body = " ".join(rng.choices(words, weights, k=WORDS_PER_DOCUMENT))
        sentences = [body[i : i + 120] for i in range(0, len(body), 120)]
        content = [{"insert": "\n".join(sentences) + "\n"}]
        document = Document(
            id=uuid.uuid4(), title=f"Report {n} {rng.choice(words)}", owner=everything, version=1
        )
        documents.append(document)
        memberships.append(Membership(document=document, user=everything, role=Role.OWNER))
        if n % 10 == 0:
            memberships.append(Membership(document=document, user=tenth, role=Role.VIEWER))
        texts.append(
            SearchText(document=document, version=1, title=document.title, body=search.plain_text(content))
        )
    Document.objects.bulk_create(documents, batch_size=1000)
    Membership.objects.bulk_create(memberships, batch_size=2000)
    SearchText.objects.bulk_create(texts, batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return everything, tenth, words


def timed(fn, repeats: int = REPEATS) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def matching(query: str) -> int:
    """How many documents match the query (the search's own tsquery), whoever reads them."""
    tsquery, params = search.tsquery_sql(query)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM documents_searchtext WHERE vector @@ ({tsquery})", params)
        return int(cursor.fetchone()[0])


def main() -> None:
    call_command("migrate", verbosity=0)
    rng = random.Random(13)
    started = time.perf_counter()
    everything, tenth, words = seed(rng)
    print(
        f"database: PostgreSQL {connection.pg_version // 10000}; {DOCUMENTS:,} documents of {WORDS_PER_DOCUMENT} words"
    )
    print(f"seeded in {time.perf_counter() - started:.0f} s; {REPEATS} timed runs per query\n")

    ids = list(Document.objects.values_list("pk", flat=True)[:200])
    anchor, anchor_p95 = timed(lambda: Document.objects.get(pk=rng.choice(ids)), repeats=REPEATS * 5)
    print(f"anchor: one document by primary key: median {anchor:.2f} ms, p95 {anchor_p95:.2f} ms\n")

    queries = [
        ("common word", words[0]),
        ("medium word", words[60]),
        ("rare word", words[5000]),
        ("two words", f"{words[3]} {words[40]}"),
        ("phrase", f'"{words[1]} {words[2]}"'),
        ("no match", "zzzzzzzzzz"),
    ]
    print(
        f"{'query':<14} {'reader':<8} {'matches':>8} {'median ms':>10} {'p95 ms':>8} {'× anchor':>9} {'p95 ≤ 200 ms':>13}"
    )
    worst = 0.0
    for label, query in queries:
        count = matching(query)
        for reader_name, reader in (("all", everything), ("a tenth", tenth)):
            median, p95 = timed(lambda: search.search_documents(user=reader, query=query, limit=20))
            worst = max(worst, p95)
            ok = "yes" if p95 <= TARGET_MS else "NO"
            print(
                f"{label:<14} {reader_name:<8} {count:>8,} {median:>10.1f} {p95:>8.1f} {median / anchor:>9.0f} {ok:>13}"
            )
    print(
        f"\nworst p95: {worst:.1f} ms; the 200 ms target {'holds' if worst <= TARGET_MS else 'does NOT hold'}"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        connection.close()
        if os.environ.get("BENCH_KEEP_DB"):
            print(f"kept database {BENCH_DB}")
            sys.exit(0)
        with psycopg.connect(SERVER_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
