"""Through the real app, Messenger on against the fake Graph API and a fake NLU: a signed feed
webhook stores each comment once (masked, with topic and sentiment); staff list, answer
publicly or privately (the fake Graph API receives it), dismiss; and every refusal answers
with the project's JSON error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bot.listening.conftest import (
    PAGE,
    FakeNlu,
    Staff,
    comment_value,
    feed_webhook,
    post_signed,
)
from tests.fakes.graph_api import FakeGraphApi


def analysed(item: dict[str, Any]) -> bool:
    return bool(item["analysed"])


def only(staff: Staff) -> dict[str, Any]:
    [item] = staff.get("/api/comments").json()["comments"]
    return item  # type: ignore[no-any-return]


def test_a_signed_comment_is_stored_once_with_topic_and_sentiment_and_answered_privately(
    app_client: TestClient, graph: FakeGraphApi, nlu: FakeNlu
) -> None:
    body = feed_webhook(comment_value(f"{PAGE}_9_1", "Tengo una queja: nadie contesta el 0-801"))
    first, again = post_signed(app_client, body), post_signed(app_client, body)
    assert first.status_code == again.status_code == 200
    assert first.json()["comments"] == {"accepted": 1, "repeated": 0}
    assert again.json()["comments"] == {"accepted": 0, "repeated": 1}
    staff = Staff(app_client)
    listed = staff.get("/api/comments").json()
    assert len(listed["comments"]) == 1 and listed["counts"]["nuevo"] == 1
    comment = staff.wait_for(listed["comments"][0]["id"], analysed)
    assert (comment["topic"], comment["topic_confidence"]) == ("quejas_sugerencias", 0.91)
    assert comment["topic_title"]  # the article's title, in words
    assert (comment["sentiment"], comment["flagged"], comment["flag_reason"]) == (
        "negativo", True, "queja",
    )  # fmt: skip
    assert comment["author_name"] == "Rosa Quispe" and comment["post_id"] == f"{PAGE}_9"

    answered = staff.post(
        f"/api/comments/{comment['id']}/reply",
        {"kind": "privada", "text": "Hola Rosa, te escribimos por interno para ayudarte."},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "respondido" and answered.json()["private_replied"]
    assert answered.json()["reply"]["by"] == "Ana"
    [private] = graph.private_replies()
    assert private.path == "/v21.0/me/messages" and private.query["access_token"] == "page-token"
    assert private.body == {
        "recipient": {"comment_id": f"{PAGE}_9_1"},
        "message": {"text": "Hola Rosa, te escribimos por interno para ayudarte."},
    }
    second = staff.post(f"/api/comments/{comment['id']}/reply", {"kind": "privada", "text": "Hola"})
    assert second.status_code == 409 and second.json()["error"] == "private_reply_used"
    assert len(graph.private_replies()) == 1
    # A public answer is still possible.
    public = staff.post(
        f"/api/comments/{comment['id']}/reply", {"kind": "publica", "text": "Te escribimos."}
    )
    assert public.status_code == 200 and public.json()["reply"]["kind"] == "publica"
    [under] = graph.public_replies()
    assert under.path == f"/v21.0/{PAGE}_9_1/comments" and under.body == {
        "message": "Te escribimos."
    }


def test_a_wrong_signature_is_refused_and_nothing_is_stored(
    app_client: TestClient, graph: FakeGraphApi
) -> None:
    body = feed_webhook(comment_value(f"{PAGE}_9_1", "hola"))
    refused = post_signed(app_client, body, secret="not-the-app-secret")
    assert refused.status_code == 403 and refused.json()["error"] == "invalid_signature"
    unsigned = app_client.post("/webhooks/messenger", content=body)
    assert unsigned.status_code == 403
    assert Staff(app_client).get("/api/comments").json()["comments"] == []


def test_a_batch_keeps_only_other_peoples_comments_masked(app_client: TestClient) -> None:
    reaction = {"item": "reaction", "verb": "add", "post_id": f"{PAGE}_9", "reaction_type": "like"}
    body = feed_webhook(
        comment_value(f"{PAGE}_9_1", "Mi DNI es 45871236 y mi correo ana@correo.pe, ayuda"),
        reaction,
        comment_value(f"{PAGE}_9_2", "Gracias por escribirnos", author=(PAGE, "SUNAT")),
        comment_value(f"{PAGE}_9_3", "gracias!!", parent=f"{PAGE}_9_1"),
    )
    answer = post_signed(app_client, body).json()
    assert answer["accepted"] == 0 and answer["comments"] == {"accepted": 2, "repeated": 0}
    staff = Staff(app_client)
    texts = {c["text"]: c for c in staff.get("/api/comments").json()["comments"]}
    assert set(texts) == {"Mi DNI es *****236 y mi correo a***@***, ayuda", "gracias!!"}
    assert texts["gracias!!"]["parent_id"] == f"{PAGE}_9_1"


def test_meta_refusing_a_reply_is_a_502_and_nothing_is_marked(
    app_client: TestClient, graph: FakeGraphApi
) -> None:
    post_signed(app_client, feed_webhook(comment_value(f"{PAGE}_9_1", "hola")))
    staff = Staff(app_client)
    comment_id = only(staff)["id"]
    for kind in ("publica", "privada"):
        graph.fail_next(1, 400, code=100)
        failed = staff.post(f"/api/comments/{comment_id}/reply", {"kind": kind, "text": "Hola"})
        assert failed.status_code == 502, failed.text
        assert failed.json()["error"] == "graph_error" and failed.json()["message"]
    after = only(staff)
    assert (after["status"], after["reply"], after["private_replied"]) == ("nuevo", None, False)
    ok = staff.post(f"/api/comments/{comment_id}/reply", {"kind": "privada", "text": "Hola"})
    assert ok.status_code == 200


def test_dismissing_and_filters(app_client: TestClient) -> None:
    post_signed(
        app_client,
        feed_webhook(
            comment_value(f"{PAGE}_9_1", "muchas gracias"),
            comment_value(f"{PAGE}_9_2", "pésimo, nadie responde"),
        ),
    )
    staff = Staff(app_client)
    ids = [c["id"] for c in staff.get("/api/comments").json()["comments"]]
    for comment_id in ids:
        staff.wait_for(comment_id, analysed)
    flagged = staff.get("/api/comments", flagged="true").json()["comments"]
    assert [c["text"] for c in flagged] == ["pésimo, nadie responde"]
    positive = staff.get("/api/comments", sentiment="positivo").json()["comments"]
    assert [c["text"] for c in positive] == ["muchas gracias"]
    first = staff.get("/api/comments").json()["comments"][0]
    assert first["flagged"]  # flagged first
    dismissed = staff.post(f"/api/comments/{positive[0]['id']}/dismiss")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "descartado"
    twice = staff.post(f"/api/comments/{positive[0]['id']}/dismiss")
    assert twice.status_code == 409 and twice.json()["error"] == "not_new"
    done = staff.get("/api/comments", status="descartado").json()["comments"]
    assert [c["id"] for c in done] == [positive[0]["id"]]


def test_a_removed_comment_cannot_be_answered(app_client: TestClient, graph: FakeGraphApi) -> None:
    post_signed(app_client, feed_webhook(comment_value(f"{PAGE}_9_1", "hola")))
    post_signed(app_client, feed_webhook(comment_value(f"{PAGE}_9_1", "", verb="remove")))
    staff = Staff(app_client)
    comment = only(staff)
    assert comment["status"] == "eliminado"
    refused = staff.post(
        f"/api/comments/{comment['id']}/reply", {"kind": "publica", "text": "Hola"}
    )
    assert refused.status_code == 409 and refused.json()["error"] == "comment_removed"
    assert graph.calls == []


def test_only_signed_in_staff_with_the_csrf_token(app_client: TestClient) -> None:
    post_signed(app_client, feed_webhook(comment_value(f"{PAGE}_9_1", "hola")))
    assert app_client.get("/api/comments").status_code == 401
    assert app_client.get("/api/comments/1").status_code == 401
    assert app_client.post("/api/comments/1/dismiss").status_code == 401
    staff = Staff(app_client)
    comment_id = only(staff)["id"]
    no_csrf = staff.post(f"/api/comments/{comment_id}/dismiss", csrf=False)
    assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "csrf"
    assert only(staff)["status"] == "nuevo"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/comments/0/reply", {"kind": "publica", "text": "x"}, 422),
        (f"/api/comments/{2**31}/reply", {"kind": "publica", "text": "x"}, 422),
        ("/api/comments/999/reply", {"kind": "publica", "text": "x"}, 404),
        ("/api/comments/1/reply", {"kind": "otra", "text": "x"}, 422),
        ("/api/comments/1/reply", {"kind": "publica", "text": ""}, 422),
        ("/api/comments/1/reply", {"kind": "publica", "text": "x" * 2001}, 422),
        ("/api/comments/999/dismiss", None, 404),
    ],
)
def test_bad_requests_get_a_clear_error(
    app_client: TestClient, path: str, body: dict[str, Any] | None, status: int
) -> None:
    post_signed(app_client, feed_webhook(comment_value(f"{PAGE}_9_1", "hola")))
    answer = Staff(app_client).post(path, body)
    assert answer.status_code == status
    assert answer.json()["error"] and answer.json()["message"]


def test_bad_filters_get_a_clear_error(app_client: TestClient) -> None:
    staff = Staff(app_client)
    for params in ({"status": "otro"}, {"sentiment": "feliz"}, {"limit": "0"}, {"limit": "500"}):
        answer = staff.get("/api/comments", **params)
        assert answer.status_code == 422 and answer.json()["error"] == "invalid_request"
    assert staff.get("/api/comments/0").status_code == 422
    assert staff.get("/api/comments/5").status_code == 404
