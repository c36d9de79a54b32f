"""History: sessions, authorship, retention, export and import."""

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.utils import timezone

from documents import convert, errors, selectors, services
from documents.models import Document, Operation, Snapshot
from documents.ot import rich_text

pytestmark = pytest.mark.django_db(transaction=True)


def edit(
    user: Any, document: Any, seq: int, op: Any, src: str = "a" * 32, base: int | None = None
) -> services.SubmitResult:
    return services.submit_operation(
        user=user, document_id=document.pk, src=src, seq=seq, base_version=base, kind="edit", data=op
    )


def fresh(document: Any) -> Document:
    return Document.objects.get(pk=document.pk)


def test_sessions_group_ops_by_author_and_pause(users: Any, document: Any) -> None:
    edit(users["ed"], document, 1, [{"insert": "a"}])
    edit(users["ed"], document, 2, [{"insert": "b"}])
    edit(users["olga"], document, 1, [{"delete": 1}], src="o" * 32)
    Operation.objects.filter(document=document, version=3).update(
        created_at=timezone.now() + timedelta(hours=1)
    )
    sessions, cursor = selectors.history_sessions(document=fresh(document))
    assert cursor is None
    assert [
        (s["author"]["username"], s["from_version"], s["to_version"], s["inserted"], s["deleted"])
        for s in sessions
    ] == [
        ("olga", 3, 4, 0, 1),
        ("ed", 1, 3, 2, 0),
        ("olga", 0, 1, 6, 0),
    ]
    first_page, cursor = selectors.history_sessions(document=fresh(document), limit=1)
    assert len(first_page) == 1 and cursor == 3
    rest, _ = selectors.history_sessions(document=fresh(document), before_version=cursor)
    assert [s["from_version"] for s in rest] == [1, 0]


def test_authorship_follows_edits_and_survives_snapshots(users: Any, document: Any) -> None:
    edit(users["ed"], document, 1, [{"retain": 5}, {"insert": " there", "attributes": {"bold": True}}])
    services.take_snapshot(document_id=document.pk)
    edit(users["olga"], document, 1, [{"delete": 1}, {"insert": "J"}], src="o" * 32)
    state = selectors.snapshot_at(document=fresh(document), with_authorship=True)
    olga, ed = users["olga"].pk, users["ed"].pk
    assert rich_text.compose([], state.authorship) == [
        {"insert": "Jello", "attributes": {"author": olga}},
        {"insert": " there", "attributes": {"author": ed}},
        {"insert": "\n", "attributes": {"author": olga}},
    ]
    assert "".join(op["insert"] for op in state.authorship) == "Jello there\n"


def test_retention_compacts_old_ops_but_keeps_the_window(users: Any, document: Any) -> None:
    for seq in range(1, 5):
        edit(users["ed"], document, seq, [{"insert": str(seq)}])
    old = timezone.now() - timedelta(days=40)
    Operation.objects.filter(document=document, version__lt=3).update(created_at=old)
    removed = services.compact_document(document_id=document.pk, cutoff=timezone.now() - timedelta(days=30))
    assert removed == 3
    assert list(Operation.objects.filter(document=document).values_list("version", flat=True)) == [3, 4]
    assert Snapshot.objects.filter(document=document, version=3).exists()
    assert selectors.snapshot_at(document=fresh(document)).content == [{"insert": "4321Hello\n"}]
    # A client that returns from before the window must reload; one inside it is served.
    with pytest.raises(errors.OpsNotFound):
        edit(users["ed"], document, 1, [{"insert": "x"}], src="b" * 32, base=2)
    edit(users["ed"], document, 2, [{"insert": "y"}], src="b" * 32, base=3)
    # A resend of an op inside the window is still recognised.
    again = edit(users["ed"], document, 4, [{"insert": "4"}], src="a" * 32, base=4)
    assert again.duplicate and again.version == 4


class ElementCollector(HTMLParser):
    """Every element and attribute a browser would build from the markup."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    @classmethod
    def collect(cls, markup: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
        parser = cls()
        parser.feed(markup)
        return parser.elements


XSS = '<img src=x onerror=alert(1)>"><svg onload=alert(2)><script>alert(3)</script>'


def test_exported_html_cannot_carry_script(users: Any) -> None:
    hostile = [
        {"insert": XSS},
        {"insert": "link", "attributes": {"link": "javascript:alert(4)", "bold": True}},
        {"insert": "ok", "attributes": {"link": "https://example.com/?a=1&b=2"}},
        {"insert": {"image": "javascript:alert(5)"}},
        {"insert": "\n"},
    ]
    with pytest.raises(errors.OpBadlyFormed):
        services.create_document(owner=users["olga"], title=XSS, content=hostile)
    # Content stored before the schema existed is exported safely all the same.
    document = services.create_document(owner=users["olga"], title=XSS, content=[{"insert": XSS + "\n"}])
    html = convert.to_html(hostile, title=document.title)
    elements = ElementCollector.collect(html)
    names = {name for name, _ in elements}
    assert names <= {"html", "head", "meta", "title", "body", "p", "strong", "a"}, names
    for _name, attrs in elements:
        for key, value in attrs:
            assert not key.startswith("on") and "javascript" not in (value or "").lower()
    assert '<a href="https://example.com/?a=1&amp;b=2"' in html and "<strong>link</strong>" in html


def test_formats_round_trip_through_markdown_and_html() -> None:
    doc = [
        {"insert": "Title"},
        {"insert": "\n", "attributes": {"header": 1}},
        {"insert": "Plain "},
        {"insert": "bold", "attributes": {"bold": True}},
        {"insert": " and "},
        {"insert": "italic", "attributes": {"italic": True}},
        {"insert": " <tag> a_b*c "},
        {"insert": "site", "attributes": {"link": "https://example.com/x_y"}},
        {"insert": " 😀\n"},
        {"insert": "one"},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "two"},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "first"},
        {"insert": "\n", "attributes": {"list": "ordered"}},
        {"insert": "x = 1"},
        {"insert": "\n", "attributes": {"code-block": True}},
        {"insert": "quoted"},
        {"insert": "\n", "attributes": {"blockquote": True}},
    ]
    normal = rich_text.compose([], doc)
    assert rich_text.compose([], convert.from_html(convert.to_html(doc))) == normal
    assert rich_text.compose([], convert.from_markdown(convert.to_markdown(doc))) == normal
    assert convert.to_text(doc).startswith("Title\nPlain bold and italic <tag> a_b*c site 😀\none\n")
    assert rich_text.compose([], convert.from_text(convert.to_text(doc))) == [
        {"insert": convert.to_text(doc)}
    ]


def test_import_rejects_unknown_extensions() -> None:
    with pytest.raises(ValueError):
        convert.import_file("notes.exe", "x")
    assert convert.import_file("a.txt", "hi") == [{"insert": "hi\n"}]
