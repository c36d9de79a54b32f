"""Full-text search over the documents a user can read: ranked hits with highlighted snippets.

PostgreSQL answers from the generated `vector` column of `SearchText` and its GIN index
(migration 0006): `websearch_to_tsquery` parses what people type (quotes, `-word`, `or`),
`ts_rank_cd` ranks (title words weigh more), `ts_headline` cuts the snippet. Other databases
(the embedded SQLite) fall back to a LIKE filter in SQL and rank the matches here.

Access is part of the query itself: only rows joined to one of the user's memberships on a live
document are read, so no text of a document the user cannot read ever leaves the database.
Snippets are returned as segments (text, matched), never as HTML: the page escapes them.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q

from . import text
from .errors import ValidationFailed
from .models import Membership, SearchText

# The text search configuration of migration 0006's generated column.
SEARCH_CONFIG = "english"
MAX_QUERY_LENGTH = 200
MAX_RESULTS = 50
# How much of a document's text ts_headline reads to cut a snippet (its cost grows with it).
HEADLINE_CHARACTERS = 50_000
# Private-use characters mark the matches inside a headline; indexed text never holds them.
START, STOP, GAP = "\ue000", "\ue001", "\ue002"
MARKERS = re.compile(f"[{START}{STOP}{GAP}]")
# Ranking reads each match's tsvector: a word found in most documents is ranked among the
# readable matches edited most recently, this many (bench/search_bench.py).
RANK_CANDIDATES = 1000
# The SQLite fallback ranks at most this many matching documents.
FALLBACK_CANDIDATES = 500
SNIPPET_RADIUS = 80


@dataclass(frozen=True)
class SearchHit:
    document_id: str
    title: str
    role: str
    updated_at: datetime
    rank: float
    # The snippet: (text, matched) in order; the title's own matches are not marked.
    snippet: list[tuple[str, bool]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.document_id,
            "title": self.title,
            "role": self.role,
            "updated_at": self.updated_at,
            "rank": round(self.rank, 6),
            "snippet": [{"text": part, "match": matched} for part, matched in self.snippet],
        }


def plain_text(content: list[dict[str, Any]] | None) -> str:
    """The text people read in a document: its string inserts (embeds skipped), made storable.

    Halves of an emoji split between two inserts are joined (a lone one becomes U+FFFD); NUL,
    which PostgreSQL cannot store, and our snippet markers become spaces.
    """
    parts = [op["insert"] for op in content or [] if isinstance(op.get("insert"), str)]
    joined = "".join(parts).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return MARKERS.sub(" ", joined.replace("\x00", " "))


def clean_query(query: Any) -> str:
    if not isinstance(query, str):
        raise ValidationFailed("The search must be text.")
    query = " ".join(query.split())
    if not text.is_plain(query):
        raise ValidationFailed("The search must not contain control characters.")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationFailed(f"The search must be at most {MAX_QUERY_LENGTH} characters.")
    return query


def search_documents(*, user: Any, query: Any, limit: int = 20) -> list[SearchHit]:
    """The user's readable documents matching `query`, best first (empty for an empty query)."""
    query = clean_query(query)
    limit = max(1, min(int(limit), MAX_RESULTS))
    if not query or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if connection.vendor == "postgresql":
        return _search_postgresql(user.pk, query, limit)
    return _search_fallback(user.pk, query, limit)


def tsquery_sql(query: str) -> tuple[str, list[str]]:
    """The tsquery of a search, as SQL and its parameters: websearch syntax, the last word a prefix."""
    head, prefix = split_prefix(query)
    parts = []
    if head.strip():
        parts.append(("websearch_to_tsquery(%s::regconfig, %s)", head))
    if prefix:
        parts.append(("to_tsquery(%s::regconfig, %s)", prefix))
    return " && ".join(sql for sql, _ in parts), [
        value for _, text in parts for value in (SEARCH_CONFIG, text)
    ]


def _search_postgresql(user_id: Any, query: str, limit: int) -> list[SearchHit]:
    options = (
        f"StartSel={START}, StopSel={STOP}, FragmentDelimiter={GAP}, "
        "MaxFragments=2, MaxWords=18, MinWords=6, ShortWord=2"
    )
    tsquery, tsquery_params = tsquery_sql(query)
    db = connection.ops
    search, membership = SearchText._meta.db_table, Membership._meta.db_table
    document = "documents_document"
    # 1. candidates: matches from the GIN index (no tsvector is read for that) that the user can
    #    read, the RANK_CANDIDATES most recently edited; 2. rank those, keep `limit`; 3. cut a
    #    headline for each of these only.
    sql = f"""
        WITH q AS (SELECT {tsquery} AS query),
        candidates AS MATERIALIZED (
            SELECT s.document_id, d.title, m.role, d.updated_at
            FROM {db.quote_name(search)} s
            JOIN {db.quote_name(membership)} m ON m.document_id = s.document_id AND m.user_id = %s
            JOIN {db.quote_name(document)} d ON d.id = s.document_id AND d.deleted_at IS NULL, q
            WHERE s.vector @@ q.query
            ORDER BY d.updated_at DESC
            LIMIT {RANK_CANDIDATES}
        ),
        hits AS MATERIALIZED (
            SELECT c.*, ts_rank_cd(s.vector, q.query) AS rank
            FROM candidates c JOIN {db.quote_name(search)} s ON s.document_id = c.document_id, q
            ORDER BY rank DESC, c.updated_at DESC
            LIMIT %s
        )
        SELECT hits.document_id, hits.title, hits.role, hits.updated_at, hits.rank,
               ts_headline(%s::regconfig, left(s.body, {HEADLINE_CHARACTERS}), q.query, %s)
        FROM hits JOIN {db.quote_name(search)} s ON s.document_id = hits.document_id, q
        ORDER BY hits.rank DESC, hits.updated_at DESC
    """
    params = [*tsquery_params, user_id, limit, SEARCH_CONFIG, options]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        SearchHit(
            document_id=str(document_id),
            title=title,
            role=role,
            updated_at=updated_at,
            rank=float(rank),
            snippet=_segments(headline),
        )
        for document_id, title, role, updated_at, rank, headline in rows
    ]


LAST_WORD = re.compile(r"(?:^|\s)(\w+)$")


def split_prefix(query: str) -> tuple[str, str]:
    """The query for `websearch_to_tsquery`, and its last word as a prefix for `to_tsquery`.

    People search as they type: "groc" should find "Groceries". A last word that is quoted,
    negated (`-word`) or an operator stays with the rest; the prefix holds word characters
    only, so it can never be tsquery syntax.
    """
    match = LAST_WORD.search(query)
    if match is None or query.count('"') % 2 or match.group(1).lower() == "or":
        return query, ""
    return query[: match.start(1)], f"{match.group(1)}:*"


def _segments(headline: str) -> list[tuple[str, bool]]:
    """Split a marked headline into (text, matched) parts; fragments are joined by an ellipsis."""
    segments: list[tuple[str, bool]] = []
    matched = False
    for piece in re.split(f"([{START}{STOP}{GAP}])", headline or ""):
        if piece == START:
            matched = True
        elif piece == STOP:
            matched = False
        elif piece == GAP:
            segments.append((" … ", False))
        elif piece:
            if segments and segments[-1][1] == matched:
                segments[-1] = (segments[-1][0] + piece, matched)
            else:
                segments.append((piece, matched))
    return segments


WORD = re.compile(r"\w+", re.UNICODE)


TERM = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


def fallback_terms(query: str) -> tuple[list[str], list[str]]:
    """What the LIKE fallback looks for: phrases and words to find, and `-word`s to leave out
    (the rest of websearch syntax, `or`, is read as a plain word list)."""
    wanted: list[str] = []
    unwanted: list[str] = []
    for minus, phrase, word_minus, word in TERM.findall(query):
        if phrase or minus:
            term, negated = " ".join(WORD.findall(phrase)), bool(minus)
        else:
            term, negated = " ".join(WORD.findall(word)), bool(word_minus)
        if not term or term.lower() == "or":
            continue
        (unwanted if negated else wanted).append(term.lower())
    return wanted[:10], unwanted[:10]


def _search_fallback(user_id: Any, query: str, limit: int) -> list[SearchHit]:
    """Without PostgreSQL: every word or phrase in the title or the text (LIKE, in SQL), none of
    the `-word`s, ranked here among at most FALLBACK_CANDIDATES matches."""
    words, unwanted = fallback_terms(query)
    if not words:
        return []
    rows = SearchText.objects.filter(
        document__memberships__user_id=user_id, document__deleted_at__isnull=True
    )
    for word in words:
        rows = rows.filter(Q(title__icontains=word) | Q(body__icontains=word))
    for word in unwanted:
        rows = rows.exclude(title__icontains=word).exclude(body__icontains=word)
    candidates = rows.values_list(
        "document_id",
        "title",
        "body",
        "document__memberships__role",
        "document__updated_at",
    ).order_by("-document__updated_at")[:FALLBACK_CANDIDATES]
    hits = []
    for document_id, title, body, role, updated_at in candidates:
        lowered_title, lowered_body = title.lower(), body.lower()
        rank = sum(4 * lowered_title.count(w) + lowered_body.count(w) for w in words) / (1 + len(body) / 1000)
        hits.append(
            SearchHit(
                document_id=str(document_id),
                title=title,
                role=role,
                updated_at=updated_at,
                rank=rank,
                snippet=_fallback_snippet(body, words),
            )
        )
    hits.sort(key=lambda hit: (-hit.rank, -hit.updated_at.timestamp()))
    return hits[:limit]


def _fallback_snippet(body: str, words: list[str]) -> list[tuple[str, bool]]:
    lowered = body.lower()
    found = [i for i in (lowered.find(w) for w in words) if i >= 0]
    if not found:
        return [(" ".join(body[: 2 * SNIPPET_RADIUS].split()), False)] if body.strip() else []
    start = max(0, min(found) - SNIPPET_RADIUS)
    end = min(len(body), min(found) + SNIPPET_RADIUS)
    window = " ".join(body[start:end].split())
    # Whole words are marked, as PostgreSQL's headline does.
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(rf"\w*(?:{alternatives})\w*", re.IGNORECASE)
    segments: list[tuple[str, bool]] = []
    position = 0
    for match in pattern.finditer(window):
        if match.start() > position:
            segments.append((window[position : match.start()], False))
        segments.append((match.group(), True))
        position = match.end()
    if position < len(window):
        segments.append((window[position:], False))
    if start > 0:
        segments.insert(0, ("… ", False))
    if end < len(body):
        segments.append((" …", False))
    return segments
