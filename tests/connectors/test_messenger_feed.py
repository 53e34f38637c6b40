"""The Page's ``feed`` changes on Messenger's webhook, read by the Messenger connector: every
comment of every entry of a batch, added, edited or removed; other changes, the Page's own
comments and malformed ones left out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.conversation.page_feed import CommentSource
from connectors.messenger import MessengerChannel

PAGE = "1000001"
CHANNEL = MessengerChannel(None, "", "", "")  # type: ignore[arg-type]


def value(comment_id: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "from": {"id": "4242", "name": "Rosa Quispe"},
        "post": {"id": f"{PAGE}_9", "status_type": "mobile_status_update"},
        "message": "¿Cómo saco mi RUC?",
        "post_id": f"{PAGE}_9",
        "comment_id": comment_id,
        "created_time": 1767225600,
        "item": "comment",
        "parent_id": f"{PAGE}_9",
        "verb": "add",
    }
    return {**base, **changes}


def payload(*entries: list[dict[str, Any]], messaging: bool = False) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": 1, "changes": [{"field": "feed", "value": v} for v in values],
             **({"messaging": []} if messaging else {})}
            for values in entries
        ],
    }  # fmt: skip


def test_messenger_is_a_source_of_comments() -> None:
    assert isinstance(CHANNEL, CommentSource)


def test_every_comment_of_a_batch_in_order() -> None:
    found = CHANNEL.comments(
        payload(
            [
                value(f"{PAGE}_9_1"),
                value(f"{PAGE}_9_2", parent_id=f"{PAGE}_9_1", message="yo igual"),
            ],
            [value(f"{PAGE}_9_1", verb="edited", message="¿Cómo saco mi RUC? gracias")],
            [value(f"{PAGE}_9_2", verb="remove", message=None)],
        )
    )
    assert [(c.platform_id, c.verb) for c in found] == [
        (f"{PAGE}_9_1", "add"), (f"{PAGE}_9_2", "add"), (f"{PAGE}_9_1", "edited"),
        (f"{PAGE}_9_2", "remove"),
    ]  # fmt: skip
    first, reply = found[0], found[1]
    assert (first.post_id, first.parent_id, first.author_id, first.author_name) == (
        f"{PAGE}_9", None, "4242", "Rosa Quispe",
    )  # fmt: skip
    assert first.text == "¿Cómo saco mi RUC?"
    assert first.created_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert reply.parent_id == f"{PAGE}_9_1" and reply.text == "yo igual"
    assert found[3].text == ""


def test_other_changes_the_pages_own_comments_and_malformed_ones_are_left_out() -> None:
    found = CHANNEL.comments(
        payload([
            {"item": "reaction", "verb": "add", "post_id": f"{PAGE}_9", "reaction_type": "like"},
            {"item": "status", "verb": "add", "post_id": f"{PAGE}_9", "message": "Nuevo post"},
            value(f"{PAGE}_9_3", **{"from": {"id": PAGE, "name": "SUNAT"}}),  # the Page itself
            value(f"{PAGE}_9_4", verb="hide"),
            value("../../me/messages"),
            value(f"{PAGE}_9_5", post_id=None),
            "not a change",
            value(f"{PAGE}_9_6", message={"text": "x"}, created_time="2026-01-01T05:00:00+0000"),
        ])
    )  # fmt: skip
    assert [(c.platform_id, c.text) for c in found] == [(f"{PAGE}_9_6", "")]
    assert found[0].created_at == dt.datetime(2026, 1, 1, 5, tzinfo=dt.UTC)
    other_field = {"object": "page", "entry": [{"id": PAGE, "changes": [
        {"field": "mention", "value": value(f"{PAGE}_9_7")}]}]}  # fmt: skip
    assert CHANNEL.comments(other_field) == []


@pytest.mark.parametrize(
    "body", [None, [], {"object": "instagram"}, {"object": "page", "entry": "x"},
             {"object": "page", "entry": 5}, {"object": "page", "entry": [{"changes": 7}]},
             {"object": "page", "entry": [None, {"id": PAGE, "changes": None}]}],
)  # fmt: skip
def test_no_comments_in_other_payloads(body: Any) -> None:
    assert CHANNEL.comments(body) == []
