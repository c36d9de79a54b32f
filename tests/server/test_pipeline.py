"""The commit pipeline and the hub: group commit, holding through database failures, gap repair
of a lost last op, and access re-read from the database whatever event was lost."""

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.db import database_sync_to_async
from unittest import mock

from django.db import OperationalError, connection, transaction

from documents import broadcast, pipeline, selectors, services
from documents.errors import DocumentNotFound, OpBadlyFormed, OpRejected
from documents.models import Operation
from documents.services import SubmitRequest
from documents.services import submit as submit_module

from .conftest import ProtocolClient, connected

SRC_E = "e" * 32
SRC_V = "v" * 32


def _edit(user: Any, seq: int, base: int, text: str, src: str = SRC_E) -> SubmitRequest:
    return SubmitRequest(user, src, seq, base, "edit", [{"insert": text}])


def test_a_batch_commits_consecutive_versions_each_op_once(users: Any, document: Any) -> None:
    ed, vera, nina = users["ed"], users["vera"], users["nina"]
    requests = [
        services.clean_request(_edit(ed, 1, 1, "a")),
        services.clean_request(_edit(ed, 2, 1, "b")),  # same base: transformed against "a"
        services.clean_request(_edit(vera, 1, 1, "x", src=SRC_V)),  # a viewer: refused alone
        services.clean_request(_edit(ed, 1, 1, "a")),  # the same op again: acked, not applied
        services.clean_request(_edit(nina, 1, 1, "n", src="n" * 32)),  # not a member
        SubmitRequest(ed, SRC_E, 3, 1, "edit", [{"retain": 99}, {"insert": "!"}]),  # past the end
        services.clean_request(_edit(ed, 4, 3, "c")),
    ]
    outcomes = services.submit_batch(document_id=document.pk, requests=requests)
    assert [getattr(o, "version", type(o)) for o in outcomes] == [
        1,
        2,
        OpRejected,
        1,
        DocumentNotFound,
        OpBadlyFormed,
        3,
    ]
    assert outcomes[3].duplicate and not outcomes[0].duplicate
    assert [r.version for r in outcomes[1].missing] == [1]
    log = list(Operation.objects.filter(document=document).order_by("version").values_list("version", "seq"))
    assert log == [(0, 1), (1, 1), (2, 2), (3, 4)]
    document.refresh_from_db()
    assert document.version == 4
    state = selectors.snapshot_at(document=document)
    assert state.content == [{"insert": "cabHello\n"}]


def _submit_alone_and_inside_a_transaction(ed: Any, document: Any) -> None:
    services.submit_batch(document_id=document.pk, requests=[services.clean_request(_edit(ed, 1, 1, "a"))])
    with transaction.atomic():  # a caller's own transaction: its exit commits
        services.submit_batch(
            document_id=document.pk, requests=[services.clean_request(_edit(ed, 2, 2, "b"))]
        )


def test_the_outermost_batch_commits_in_the_round_trip_of_its_append(users: Any, document: Any) -> None:
    """On PostgreSQL the lock carries the BEGIN and the append the COMMIT: the moment the append
    returns, another connection sees the ops, and the server never warns of a second BEGIN or a
    COMMIT outside a transaction. Inside a caller's transaction both are left to that caller.
    Elsewhere (SQLite) the blocks begin and commit as Django does: no statement carries either."""
    ed = users["ed"]
    statements: list[str] = []
    if connection.vendor != "postgresql":

        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            _submit_alone_and_inside_a_transaction(ed, document)
        # Each block's own BEGIN goes alone (Django's, IMMEDIATE here); no statement commits.
        assert [sql for sql in statements if "BEGIN" in sql] == ["BEGIN IMMEDIATE"] * 2
        assert not any("COMMIT" in sql for sql in statements)
        document.refresh_from_db()
        assert document.version == 3
        return
    import psycopg

    settings_dict = connection.settings_dict
    other = psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        dbname=settings_dict["NAME"],
        autocommit=True,
    )
    seen: list[tuple[Any, int]] = []

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        statements.append(sql.split(" ", 1)[0])
        if "WITH appended" in sql:
            (version,) = other.execute(
                "SELECT version FROM documents_document WHERE id = %s", [document.pk]
            ).fetchone()
            seen.append((connection.connection.pgconn.transaction_status, version))
        return result

    connection.ensure_connection()
    notices: list[str] = []
    connection.connection.add_notice_handler(lambda notice: notices.append(notice.message_primary or ""))
    with connection.execute_wrapper(watch):
        _submit_alone_and_inside_a_transaction(ed, document)
    other.close()
    assert seen == [(psycopg.pq.TransactionStatus.IDLE, 2), (psycopg.pq.TransactionStatus.INTRANS, 2)]
    assert notices == []
    assert statements[:2] == ["BEGIN;", "WITH"]  # the pipeline's own: two round trips
    assert statements[2:] == ["SAVEPOINT", "SELECT", "WITH", "RELEASE"]  # inside a caller's transaction
    document.refresh_from_db()
    assert document.version == 3


def test_a_failing_append_commits_nothing_and_the_batch_goes_again(users: Any, document: Any) -> None:
    """The version is taken meanwhile: the append fails, nothing of the batch is committed (on
    PostgreSQL the COMMIT that rides with it never runs), and the retry commits the op once."""
    real_append = submit_module._append
    calls: list[int] = []

    def taken_first(document_row: Any, rows: Any, *, commit: bool = False) -> None:
        calls.append(len(rows))
        if len(calls) == 1:
            Operation.objects.create(
                document=document_row, version=rows[0].version, src="x" * 32, seq=1, data=[]
            )
        real_append(document_row, rows, commit=commit)

    with mock.patch.object(submit_module, "_append", taken_first):
        outcomes = services.submit_batch(
            document_id=document.pk, requests=[services.clean_request(_edit(users["ed"], 1, 1, "c"))]
        )
    assert calls == [1, 1]
    assert [getattr(o, "version", o) for o in outcomes] == [1]
    assert Operation.objects.filter(document=document, src="x" * 32).count() == 0


async def test_ops_queued_for_one_document_commit_together(
    users: Any, document: Any, monkeypatch: Any
) -> None:
    batches: list[int] = []
    real = pipeline._commit

    def counting(document_id: str, requests: list[SubmitRequest]) -> Any:
        batches.append(len(requests))
        return real(document_id, requests)

    monkeypatch.setattr(pipeline, "_commit", counting)
    line = pipeline.CommitPipeline(asyncio.get_running_loop())
    results = await asyncio.gather(
        *(line.submit(str(document.pk), _edit(users["ed"], seq, 1, str(seq))) for seq in range(1, 21))
    )
    assert sorted(r.version for r in results) == list(range(1, 21))
    assert sum(batches) == 20 and len(batches) < 20  # the first commits alone, the rest together


async def test_a_database_blip_holds_ops_instead_of_rejecting_them(
    users: Any, document: Any, monkeypatch: Any
) -> None:
    failures = {"left": 3}
    real = pipeline._commit

    def flaky(document_id: str, requests: list[SubmitRequest]) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return real(document_id, requests)

    monkeypatch.setattr(pipeline, "_commit", flaky)
    client = ProtocolClient((await _cookie(users["ed"])))
    await client.handshake()
    await client.subscribe(str(document.pk))
    replies = await client.submit(str(document.pk), 1, 1, [{"insert": "kept"}])
    assert [m for m in replies if "error" in m] == []
    assert replies[-1]["v"] == 1 and failures["left"] == 0
    await client.disconnect()


async def test_a_database_that_stays_away_closes_the_socket_so_the_client_resends(
    users: Any, document: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.COLLAB_SUBMIT_HOLD_SECONDS = 0.5

    def down(document_id: str, requests: list[SubmitRequest]) -> Any:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(pipeline, "_commit", down)
    client = ProtocolClient((await _cookie(users["ed"])))
    await client.handshake()
    await client.send(
        {"a": "op", "c": "documents", "d": str(document.pk), "v": 1, "seq": 1, "op": [{"insert": "x"}]}
    )
    assert await client.close_code() == 4503
    assert await database_sync_to_async(Operation.objects.filter(document=document).count)() == 1


async def test_a_lost_last_op_reaches_subscribers_within_a_second(
    cookies: dict[str, str], document: Any, users: Any, monkeypatch: Any
) -> None:
    doc_id = str(document.pk)
    [olga] = await connected(cookies, "olga")
    await olga.subscribe(doc_id)
    monkeypatch.setattr(broadcast, "publish_ops", lambda records: None)  # pub/sub loses it
    await _ed_types(users, doc_id, "1")
    message = await olga.recv(timeout=3)  # two hub sweeps of 0.5 s, with room for a slow machine
    assert (message["v"], message["op"]) == (1, [{"insert": "1"}])
    await olga.disconnect()


def _remove_vera(users: Any, doc_id: str) -> None:
    services.remove_member(actor=users["olga"], document_id=doc_id, username="vera")


def _deactivate_vera(users: Any, doc_id: str) -> None:
    services.set_active(user_id=users["vera"].pk, active=False)


@pytest.mark.parametrize(
    "change, lost, told",
    [
        # The removal's access event is lost: the sweep still re-reads (the access stamp moved).
        (_remove_vera, ["publish_access_changed_on_commit"], True),
        # The session-end event is lost too: her socket ends at the session check, and meanwhile
        # the stamp alone keeps every op from her.
        (_deactivate_vera, ["publish_access_changed_on_commit", "publish_session_end_on_commit"], False),
        # Only the session-end event is lost: the access event's re-check reads the account, not
        # the socket's copy of it, and tells her she has lost the document.
        (_deactivate_vera, ["publish_session_end_on_commit"], True),
    ],
    ids=["removed", "deactivated", "deactivated-told"],
)
async def test_a_reader_who_lost_access_gets_no_op_even_when_the_events_saying_so_are_lost(
    cookies: dict[str, str],
    document: Any,
    users: Any,
    monkeypatch: Any,
    change: Any,
    lost: list[str],
    told: bool,
) -> None:
    doc_id = str(document.pk)
    [vera] = await connected(cookies, "vera")
    await vera.subscribe(doc_id)
    await asyncio.sleep(0.7)  # the hub has read vera's role once
    for name in lost:
        monkeypatch.setattr(broadcast, name, lambda **kwargs: None)
    await database_sync_to_async(change)(users, doc_id)
    await asyncio.sleep(2.0)
    await _ed_types(users, doc_id, "secret")
    seen = []
    while not await vera.nothing_more(1.0):
        seen.append(await vera.recv())
    assert not [m for m in seen if m.get("a") == "op"]
    if told:
        assert {"a": "x-access", "c": "documents", "d": doc_id, "role": None} in seen
    await vera.disconnect()


async def test_the_sync_tick_survives_a_failed_round(
    cookies: dict[str, str], document: Any, users: Any, monkeypatch: Any, settings: Any
) -> None:
    from documents.consumers import ShareDBConsumer

    settings.COLLAB_SYNC_INTERVAL_SECONDS = 0.2
    calls = {"n": 0}
    real = ShareDBConsumer.tick

    def failing_once(self: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("the database went away")
        real(self)

    monkeypatch.setattr(ShareDBConsumer, "tick", failing_once)
    [ed] = await connected(cookies, "ed")
    await ed.subscribe(str(document.pk))
    for _ in range(100):  # the failed round and the rounds after it (one per hub sweep here)
        if calls["n"] >= 3:
            break
        await asyncio.sleep(0.1)
    assert calls["n"] >= 3
    # The tick still notices a deactivated account.
    await database_sync_to_async(type(users["ed"]).objects.filter(pk=users["ed"].pk).update)(is_active=False)
    assert await ed.close_code(timeout=3) == 4401


async def test_each_connection_comes_round_once_per_sync_interval_a_slice_per_sweep(
    cookies: dict[str, str], document: Any, monkeypatch: Any, settings: Any
) -> None:
    """Ticks, session checks and visits go a slice of the process's connections at each sweep,
    not all of them in one sweep that would hold up the broadcasts behind it."""
    from documents.consumers import ShareDBConsumer

    settings.COLLAB_SYNC_INTERVAL_SECONDS = 2.0  # four sweeps of 0.5 s
    ticks: list[tuple[int, int]] = []
    real = ShareDBConsumer.tick

    def recorded(self: Any) -> None:
        ticks.append((self.hub._rounds, id(self)))
        real(self)

    monkeypatch.setattr(ShareDBConsumer, "tick", recorded)
    clients = await connected(cookies, "olga", "ed", "vera", "olga", "ed", "vera", "olga", "ed")
    ticks.clear()
    await asyncio.sleep(2.1)
    by_round: dict[int, set[int]] = {}
    for round_, consumer in ticks:
        by_round.setdefault(round_, set()).add(consumer)
    assert len(set().union(*by_round.values())) == 8  # every connection came round
    assert max(len(connections) for connections in by_round.values()) <= 3  # about 8 / 4 at a time
    for client in clients:
        await client.disconnect()


async def _ed_types(users: Any, doc_id: str, text: str) -> None:
    """ed's first op on the document, committed through the service (not over a socket)."""
    await database_sync_to_async(services.submit_operation)(
        user=users["ed"],
        document_id=doc_id,
        src=SRC_E,
        seq=1,
        base_version=1,
        kind="edit",
        data=[{"insert": text}],
    )


async def _cookie(user: Any) -> str:
    from .conftest import session_cookie

    return await database_sync_to_async(session_cookie)(user)


async def test_one_op_to_many_subscribers_is_one_publish_and_one_encoding(
    cookies: dict[str, str], document: Any, users: Any, monkeypatch: Any
) -> None:
    from documents import protocol
    from documents.broadcast import transport

    doc_id = str(document.pk)
    readers = await connected(cookies, *(["vera"] * 30))
    for reader in readers:
        await reader.subscribe(doc_id)
    published: list[str] = []
    real_publish = transport.publish_sync
    monkeypatch.setattr(
        transport,
        "publish_sync",
        lambda channel, data: (published.append(channel), real_publish(channel, data)),
    )
    encoded: list[Any] = []
    real_encode = protocol.encode
    monkeypatch.setattr(
        protocol, "encode", lambda message: (encoded.append(message), real_encode(message))[1]
    )
    await _ed_types(users, doc_id, "hi")
    frames = [await reader.recv() for reader in readers]
    assert all(frame["v"] == 1 and frame["op"] == [{"insert": "hi"}] for frame in frames)
    assert published == [f"doc:{doc_id}"]
    assert len([m for m in encoded if m.get("a") == "op"]) == 1  # once for all 30 (no ack: no author here)
    for reader in readers:
        await reader.disconnect()


def test_catch_up_frames_built_from_stored_text_equal_the_encoded_ones(users: Any, document: Any) -> None:
    from documents import protocol

    for seq, data in enumerate(
        [
            [{"insert": 'é 😀 \\u2028 "q"'}],
            [{"retain": 2}, {"insert": "x", "attributes": {"bold": True}}],
            [{"delete": 1}],
        ],
        start=1,
    ):
        services.submit_operation(
            user=users["ed"],
            document_id=document.pk,
            src=SRC_E,
            seq=seq,
            base_version=None,
            kind="edit",
            data=data,
        )
    services.delete_document(user=users["olga"], document_id=document.pk)
    document.refresh_from_db()
    records = selectors.operations_between(document_id=document.pk, start=0, end=document.version)
    rows = selectors.stored_ops_between(document_id=document.pk, start=0, end=document.version)
    assert [r.kind for r in records] == ["create", "edit", "edit", "edit", "delete"]
    for record, (version, kind, src, seq, stored) in zip(records, rows, strict=True):
        frame = protocol.stored_op_frame(
            document_id=str(document.pk), version=version, kind=kind, src=src, seq=seq, stored=stored
        )
        assert json.loads(frame) == json.loads(protocol.encode(protocol.op_message(record)))


async def test_a_document_that_never_runs_dry_lets_another_have_the_commit_thread(monkeypatch: Any) -> None:
    one_thread = ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(pipeline, "COMMIT_THREADS", one_thread)
    commits: list[str] = []

    def slow(document_id: str, requests: list[SubmitRequest]) -> Any:
        commits.append(document_id)
        time.sleep(0.01)
        return [object() for _ in requests]

    monkeypatch.setattr(pipeline, "_commit", slow)
    line = pipeline.CommitPipeline(asyncio.get_running_loop())
    busy: list[Any] = []

    async def keep_busy() -> None:
        for seq in range(40):  # always something queued for "a": its drain would never end
            busy.append(asyncio.ensure_future(line.submit("a", _edit(None, seq, 1, "x"))))
            await asyncio.sleep(0.002)

    feeder = asyncio.ensure_future(keep_busy())
    await asyncio.sleep(0.03)
    await line.submit("b", _edit(None, 1, 1, "y"))
    assert not feeder.done()  # committed while "a" still had ops queued
    await feeder
    await asyncio.gather(*busy)
    assert commits.count("b") == 1 and commits[0] == "a"
    one_thread.shutdown()
