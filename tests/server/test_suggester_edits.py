"""What a suggester's deletions and marks may touch, decided on the committed text once their op
is transformed: their own suggestion goes for real, other text only as a struck suggestion, and
nobody's proposal is overwritten by another's. Users as in tests/server/conftest.py (`team`:
olga owns "Hello\\n", ed edits, sue suggests)."""

from typing import Any

import pytest
from channels.db import database_sync_to_async

from documents import errors, selectors, services
from documents.models import Document
from documents.ot import suggestions
from documents.services import lines

from .conftest import ProtocolClient

pytestmark = pytest.mark.django_db(transaction=True)

SUE_SRC, OLGA_SRC = "s" * 32, "o" * 32


def tag(user: Any) -> str:
    return f"{user.pk}:1764600000000"


def submit(user: Any, document: Any, seq: int, base: int, op: Any, src: str = SUE_SRC) -> int:
    return services.submit_operation(
        user=user, document_id=document.pk, src=src, seq=seq, base_version=base, kind="edit", data=op
    ).version


def content(document: Any) -> list[dict[str, Any]]:
    return list(selectors.snapshot_at(document=Document.objects.get(pk=document.pk)).content)


def suggest_xy(team: dict[str, Any], document: Any) -> None:
    """Sue proposes "XY" after the "H" (version 1, giving version 2)."""
    submit(
        team["sue"],
        document,
        1,
        1,
        [{"retain": 1}, {"insert": "XY", "attributes": {"suggest-insert": tag(team["sue"])}}],
    )


@pytest.fixture(autouse=True)
def nothing_kept() -> None:
    lines.forget_all()


def test_a_suggester_withdraws_their_own_suggestion(team: dict[str, Any], document: Any) -> None:
    suggest_xy(team, document)
    assert submit(team["sue"], document, 2, 2, [{"retain": 2}, {"delete": 1}]) == 2
    submit(team["sue"], document, 3, 3, [{"retain": 1}, {"delete": 1}])
    assert content(document) == [{"insert": "Hello\n"}]


@pytest.mark.parametrize(
    "op",
    [
        pytest.param([{"delete": 1}], id="plain text"),
        pytest.param([{"retain": 2}, {"delete": 2}], id="own suggestion and plain text"),
        pytest.param([{"retain": 3}, {"delete": 1}], id="another's suggestion"),
    ],
)
def test_a_suggester_cannot_delete_other_text(team: dict[str, Any], document: Any, op: Any) -> None:
    suggest_xy(team, document)  # "HXYello\n"
    # The owner, in suggesting mode, proposes "Z" after Sue's "XY": "HXYZello\n".
    submit(
        team["olga"],
        document,
        1,
        2,
        [{"retain": 3}, {"insert": "Z", "attributes": {"suggest-insert": tag(team["olga"])}}],
        src=OLGA_SRC,
    )
    before = content(document)
    with pytest.raises(errors.OpRejected, match="only their own suggested text"):
        submit(team["sue"], document, 2, 3, op)
    assert content(document) == before
    assert Document.objects.get(pk=document.pk).version == 3


def test_an_accept_committed_first_makes_the_suggestion_text_sue_may_not_delete(
    team: dict[str, Any], document: Any
) -> None:
    suggest_xy(team, document)
    # Sue strikes "e" (the content is now kept at version 2), then olga accepts everything.
    submit(
        team["sue"],
        document,
        2,
        2,
        [{"retain": 3}, {"retain": 1, "attributes": {"suggest-delete": tag(team["sue"])}}],
    )
    accept = suggestions.resolve_suggestions(content(document), accept=True)
    submit(team["olga"], document, 1, 3, accept, src=OLGA_SRC)
    assert content(document) == [{"insert": "HXYllo\n"}]
    # Sue's backspace, sent before she saw the accept: transformed, it deletes accepted text.
    with pytest.raises(errors.OpRejected, match="only their own suggested text"):
        submit(team["sue"], document, 3, 3, [{"retain": 2}, {"delete": 1}])
    assert content(document) == [{"insert": "HXYllo\n"}]


def test_a_reject_committed_first_leaves_sue_nothing_to_delete(team: dict[str, Any], document: Any) -> None:
    suggest_xy(team, document)
    reject = suggestions.resolve_suggestions(content(document), accept=False)
    submit(team["olga"], document, 1, 2, reject, src=OLGA_SRC)
    assert submit(team["sue"], document, 2, 2, [{"retain": 1}, {"delete": 2}]) == 3
    assert content(document) == [{"insert": "Hello\n"}]


@pytest.mark.parametrize(
    ("mark", "value"),
    [
        pytest.param("suggest-delete", lambda user: tag(user), id="strike"),
        pytest.param("suggest-format", lambda user: f"{tag(user)}:bold=1", id="format"),
    ],
)
def test_a_suggester_cannot_overwrite_another_authors_proposal(
    team: dict[str, Any], document: Any, mark: str, value: Any
) -> None:
    # The owner proposes on "ell"; Sue's proposal over "Hel" would replace hers on "el".
    submit(
        team["olga"],
        document,
        1,
        1,
        [{"retain": 1}, {"retain": 3, "attributes": {mark: value(team["olga"])}}],
        src=OLGA_SRC,
    )
    before = content(document)
    with pytest.raises(errors.OpRejected, match="another person's suggestion"):
        submit(team["sue"], document, 1, 2, [{"retain": 3, "attributes": {mark: value(team["sue"])}}])
    assert content(document) == before
    # Beside it, and again over her own, is fine.
    submit(
        team["sue"], document, 2, 2, [{"retain": 4}, {"retain": 1, "attributes": {mark: value(team["sue"])}}]
    )
    submit(
        team["sue"], document, 3, 3, [{"retain": 4}, {"retain": 1, "attributes": {mark: value(team["sue"])}}]
    )
    assert content(document)[-2:] == [
        {"insert": "o", "attributes": {mark: value(team["sue"])}},
        {"insert": "\n"},
    ]


async def test_over_the_socket_sue_withdraws_her_suggestion_but_not_accepted_text(
    team: dict[str, Any], team_cookies: dict[str, str], document: Any
) -> None:
    doc_id = str(document.pk)
    sue = ProtocolClient(team_cookies["sue"])
    await sue.handshake()
    await sue.subscribe(doc_id)
    mine = {"suggest-insert": tag(team["sue"])}
    [ack] = await sue.submit(doc_id, 1, 1, [{"retain": 1}, {"insert": "XYZ", "attributes": mine}])
    assert ack["v"] == 1
    [ack] = await sue.submit(doc_id, 2, 2, [{"retain": 3}, {"delete": 1}])
    assert ack["v"] == 2
    # The owner accepts "XY"; Sue deletes the "Y" from the version before.
    accept = [{"retain": 1}, {"retain": 2, "attributes": {"suggest-insert": None}}]
    await database_sync_to_async(submit)(team["olga"], document, 1, 3, accept, OLGA_SRC)
    await sue.send(
        {"a": "op", "c": "documents", "d": doc_id, "v": 3, "seq": 3, "op": [{"retain": 2}, {"delete": 1}]}
    )
    frames = await sue.recv_until(lambda m: "error" in m)
    assert frames[-1]["error"]["code"] == "ERR_OP_SUBMIT_REJECTED"
    assert "only their own suggested text" in frames[-1]["error"]["message"]
    assert await database_sync_to_async(content)(document) == [{"insert": "HXYello\n"}]
    await sue.disconnect()
