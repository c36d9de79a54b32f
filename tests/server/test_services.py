"""The submit path and snapshots, against the configured database (SQLite or PostgreSQL)."""

import io
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from documents import errors, selectors, services
from documents.models import Document, Operation, Snapshot
from documents.ot import rich_text

pytestmark = pytest.mark.django_db(transaction=True)

SRC_A, SRC_B = "a" * 32, "b" * 32


def submit(user: Any, document: Any, src: str, seq: int, base: int, op: Any) -> services.SubmitResult:
    return services.submit_operation(
        user=user, document_id=document.pk, src=src, seq=seq, base_version=base, kind="edit", data=op
    )


def content(document: Any) -> Any:
    return selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content


def test_create_document_commits_version_zero_create_op(users: Any) -> None:
    document = services.create_document(
        owner=users["olga"], title="  Two   words ", content=[{"insert": "a😀b\n"}]
    )
    assert document.title == "Two words" and document.version == 1 and document.length == 5
    [op] = Operation.objects.filter(document=document)
    assert (op.version, op.kind, op.author_id) == (0, "create", users["olga"].pk)
    assert content(document) == [{"insert": "a😀b\n"}]


def test_stale_ops_are_transformed_and_ties_go_to_the_committed_op(users: Any, document: Any) -> None:
    submit(users["ed"], document, SRC_A, 1, 1, [{"insert": "A"}])
    result = submit(users["olga"], document, SRC_B, 1, 1, [{"insert": "B"}])
    assert result.version == 2 and [r.version for r in result.missing] == [1]
    assert content(document) == [{"insert": "ABHello\n"}]


def test_utf16_positions_agree_with_the_browser(users: Any) -> None:
    document = services.create_document(owner=users["olga"], content=[{"insert": "a😀b\n"}])
    # Retain 3 UTF-16 units = past "a" and the two halves of the emoji.
    submit(users["olga"], document, SRC_A, 1, 1, [{"retain": 3}, {"insert": "X"}])
    assert content(document) == [{"insert": "a😀Xb\n"}]
    assert Document.objects.get(pk=document.pk).length == 6


def test_resubmission_is_acknowledged_not_applied_twice(users: Any, document: Any) -> None:
    first = submit(users["ed"], document, SRC_A, 7, 1, [{"insert": "Z"}])
    again = submit(users["ed"], document, SRC_A, 7, 1, [{"insert": "Z"}])
    assert again.duplicate and again.version == first.version
    assert Operation.objects.filter(document=document).count() == 2
    assert content(document) == [{"insert": "ZHello\n"}]


def test_op_past_the_end_is_refused_after_transformation(users: Any, document: Any) -> None:
    submit(users["ed"], document, SRC_A, 1, 1, [{"delete": 5}])  # "\n" remains
    with pytest.raises(errors.OpBadlyFormed):
        submit(users["olga"], document, SRC_B, 1, 2, [{"retain": 3}, {"insert": "x"}])
    with pytest.raises(errors.VersionNewer):
        submit(users["olga"], document, SRC_B, 2, 9, [{"insert": "x"}])
    assert content(document) == [{"insert": "\n"}]


def test_permissions_are_checked_inside_the_submit(users: Any, document: Any) -> None:
    with pytest.raises(errors.OpRejected):
        submit(users["vera"], document, SRC_A, 1, 1, [{"insert": "x"}])
    with pytest.raises(errors.DocumentNotFound):
        submit(users["nina"], document, SRC_A, 1, 1, [{"insert": "x"}])
    with pytest.raises(errors.OpRejected):
        services.submit_operation(
            user=users["ed"], document_id=document.pk, src=SRC_A, seq=2, base_version=1, kind="delete"
        )


def test_concurrent_submits_take_distinct_versions_and_lose_nothing(users: Any, document: Any) -> None:
    """Threads submit stale ops at once; each lands exactly once with its own version."""
    per_thread, threads = 15, 4
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        src = f"{index:x}" * 32
        try:
            for seq in range(1, per_thread + 1):
                # Always based on version 1: every op after the first must be transformed.
                submit(users["ed"], document, src[:32], seq, 1, [{"insert": f"<{index}.{seq}>"}])
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not failures, failures
    versions = list(
        Operation.objects.filter(document=document).order_by("version").values_list("version", flat=True)
    )
    assert versions == list(range(1 + per_thread * threads))
    text = "".join(op["insert"] for op in content(document))
    for index in range(threads):
        for seq in range(1, per_thread + 1):
            assert text.count(f"<{index}.{seq}>") == 1
    assert Document.objects.get(pk=document.pk).length == rich_text.length(content(document))


def test_snapshots_bound_the_work_of_loading(users: Any, settings: Any, monkeypatch: Any) -> None:
    """A document with 10,000 ops loads from its latest snapshot plus the ops after it."""
    settings.COLLAB_SNAPSHOT_EVERY = 10**9  # no automatic snapshots while building the history
    document = services.create_document(owner=users["olga"], content=[{"insert": "\n"}])
    Operation.objects.bulk_create(
        Operation(document=document, version=v, kind="edit", data=[{"insert": "x"}], src=SRC_A, seq=v)
        for v in range(1, 10_000)
    )
    Document.objects.filter(pk=document.pk).update(version=10_000, length=10_000)
    services.take_snapshot(document_id=document.pk, version=9_950)
    applied = []
    real_apply = selectors.apply_record
    monkeypatch.setattr(
        selectors, "apply_record", lambda state, record: applied.append(record) or real_apply(state, record)
    )
    state = selectors.snapshot_at(document=Document.objects.get(pk=document.pk))
    assert state.version == 10_000 and state.content == [{"insert": "x" * 9_999 + "\n"}]
    assert len(applied) == 50


def test_snapshot_task_is_idempotent(users: Any, document: Any) -> None:
    first = services.take_snapshot(document_id=document.pk)
    second = services.take_snapshot(document_id=document.pk)
    assert first is not None and second is not None and first.pk == second.pk
    assert Snapshot.objects.filter(document=document).count() == 1
    assert first.content == [{"insert": "Hello\n"}]


def test_snapshots_are_taken_every_n_versions(
    users: Any, document: Any, settings: Any, monkeypatch: Any
) -> None:
    from documents.tasks import take_snapshot

    settings.COLLAB_SNAPSHOT_EVERY = 3
    # Run the real task in-process whatever the broker (the real worker is tested in tests/deploy).
    monkeypatch.setattr(take_snapshot, "delay", lambda *args: take_snapshot.apply(args=args))
    for seq in range(1, 6):
        submit(users["ed"], document, SRC_A, seq, None, [{"insert": str(seq)}])
    assert list(Snapshot.objects.filter(document=document).values_list("version", flat=True)) == [6, 3]


def test_replace_content_is_one_ordinary_op(users: Any, document: Any) -> None:
    result = services.replace_content(
        user=users["ed"], document_id=document.pk, content=[{"insert": "Hello there\n"}]
    )
    assert result.version == 1
    last = Operation.objects.get(document=document, version=1)
    assert last.data == [{"retain": 5}, {"insert": " there"}] and last.author_id == users["ed"].pk
    assert content(document) == [{"insert": "Hello there\n"}]


def test_delete_then_edit_is_refused(users: Any, document: Any) -> None:
    services.delete_document(user=users["olga"], document_id=document.pk)
    with pytest.raises(errors.DocDoesNotExist):
        submit(users["ed"], document, SRC_A, 1, None, [{"insert": "x"}])
    assert not selectors.documents_for_user(user=users["ed"]).exists()


def test_an_emoji_split_between_two_formats_is_stored_and_snapshotted(users: Any) -> None:
    """sharedb splits a surrogate pair when a format ends inside an emoji; nothing may break."""
    document = services.create_document(owner=users["olga"], content=[{"insert": "a😀b\n"}])
    # Bold from the start to the middle of the emoji: a retain that splits the pair.
    submit(users["olga"], document, SRC_A, 1, 1, [{"retain": 2, "attributes": {"bold": True}}])
    submit(
        users["olga"],
        document,
        SRC_A,
        2,
        2,
        [{"retain": 1}, {"insert": "[\ud83d", "attributes": {"bold": True}}, {"insert": "\ude00]"}],
    )
    snapshot = services.take_snapshot(document_id=document.pk)
    assert snapshot is not None
    stored = Snapshot.objects.get(pk=snapshot.pk).content
    assert stored == content(document)
    text = "".join(op["insert"] for op in stored)
    assert text.encode("utf-16-le", "surrogatepass").decode("utf-16-le") == "a[😀]😀b\n"
    with pytest.raises(errors.OpBadlyFormed):
        submit(users["olga"], document, SRC_A, 3, 3, [{"insert": "\ud83d"}])


def test_repair_cuts_a_document_from_before_the_schema_down_to_it(users: Any) -> None:
    document = services.create_document(owner=users["olga"], title="Old", content=[{"insert": "Hello\n"}])
    # Stored before the schema existed (written here straight into the op log, as it once was).
    legacy = [
        {"insert": "Hi", "attributes": {"color": "#f00", "bold": True}},
        {"insert": {"image": "https://example.com/x.png"}},
        {"insert": "\n", "attributes": {"header": 99, "list": "bullet"}},
        {"insert": "tail"},
    ]
    Operation.objects.filter(document=document, version=0).update(data=legacy)
    Document.objects.filter(pk=document.pk).update(length=rich_text.length(legacy))
    result = services.repair_content(document_id=document.pk)
    assert result is not None and result.version == 1
    assert content(document) == [
        {"insert": "Hi", "attributes": {"bold": True}},
        {"insert": "\n", "attributes": {"list": "bullet"}},
        {"insert": "tail\n"},
    ]
    assert Operation.objects.get(document=document, version=1).author is None
    # Run again: nothing left to repair; the command (which calls the service) finds nothing either.
    assert services.repair_content(document_id=document.pk) is None
    out = io.StringIO()
    call_command("repair_documents", stdout=out)
    assert out.getvalue().strip() == "0 document(s) repaired."
