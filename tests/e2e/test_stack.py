"""End to end: ``python -m bot up`` starts the three processes; chat through the web chat."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.stack import Stack, running_up, stop
from tests.integrator import HEADERS

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")


def chat(base_url: str, sender: str, message: str) -> list[dict[str, object]]:
    response = httpx.post(
        f"{base_url}/webhooks/webchat",
        json={"sender": sender, "message": message},
        headers=HEADERS,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    replies: list[dict[str, object]] = response.json()
    return replies


def history_of(base_url: str, sender: str) -> list[dict[str, object]]:
    response = httpx.get(f"{base_url}/webchat/history", params={"sender": sender}, headers=HEADERS)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()
    return items


#: A message with words the assistant knows but no clear topic: it asks "¿Quisiste…?".
UNSURE = "mi problema con sunat"


def answer_of(article_id: str) -> str:
    return KB.require(article_id).answer


@pytest.mark.parametrize(
    ("message", "article"),
    [
        ("hola buenas", "saludo"),
        ("oe causa como saco mi ruc con mi dni", "ruc_inscripcion_dni"),
        ("soy venezolano puedo sacar ruc?", "ruc_inscripcion_extranjero"),
        ("cuanto cuesta sacar el ruc", "ruc_costo"),
        ("vendo ropa por facebook necesito ruc", "ruc_vendedor_online"),
        ("quiero cerrar mi ruc definitivamente", "ruc_baja"),
        ("que regimenes tributarios existen", "regimenes_resumen"),
        ("cuanto pago en el nuevo rus", "regimen_nuevo_rus"),
        ("que es el regimen mype tributario", "regimen_rmt"),
        ("cuanto es el igv", "igv"),
        ("cuanto vale la uit este año", "uit"),
        ("diferencia entre boleta y factura", "boleta_vs_factura"),
        ("como emito factura electronica", "facturacion_electronica"),
        ("que es la clave sol", "clave_sol_que_es"),
        ("me olvide mi clave sol", "clave_sol_recuperar"),
        ("cuando vence mi declaracion mensual", "cronograma"),
        ("no vendi nada este mes igual declaro?", "declaracion_sin_ventas"),
        ("cual es el telefono de sunat", "contacto_sunat"),
        ("quiero hablar con una persona", "pedir_humano"),
        ("eres un robot?", "es_bot"),
    ],
)
def test_topics_are_answered_from_the_knowledge_base(
    base_url: str, message: str, article: str
) -> None:
    replies = chat(base_url, f"e2e-{uuid.uuid4()}", message)
    assert [r.get("text") for r in replies] == [answer_of(article)]


def test_quick_reply_payload_sent_back_as_message(base_url: str) -> None:
    sender = f"e2e-{uuid.uuid4()}"
    greeting = chat(base_url, sender, "hola")[0]
    buttons = greeting["buttons"]
    assert isinstance(buttons, list) and buttons
    first = buttons[0]
    replies = chat(base_url, sender, first["payload"])
    assert replies[0]["text"] == answer_of(first["payload"].removeprefix("/"))
    assert replies[0]["recipient_id"] == sender


def test_misunderstanding_offers_candidates_then_the_polite_fallback(stack: Stack) -> None:
    base_url = stack.base_url
    sender = f"e2e-{uuid.uuid4()}"
    replies = chat(base_url, sender, UNSURE)
    assert len(replies) == 1  # the review report is the gateway's, not the citizen's
    first = replies[0]
    assert str(first["text"]).startswith("No estoy seguro de haberte entendido. ¿Quisiste")
    assert "custom" not in first
    assert isinstance(first["buttons"], list)
    assert first["buttons"][-1]["payload"] == "/fuera_de_alcance"
    offered = [b["payload"] for b in first["buttons"][:-1]]
    assert offered and all(KB.require(p[1:]).title.strip("¿?") in first["text"] for p in offered)
    second = chat(base_url, sender, "xjq wwz kkp")[0]
    assert second["text"] == answer_of("fallback")
    # Both went to the review inbox: what was guessed, offered and (not) picked.
    db = sqlite3.connect(stack.workdir / "gateway.db")
    try:
        rows = db.execute(
            "SELECT r.text, r.offered, r.picked, r.intents FROM review_items r "
            "JOIN conversations c ON c.id = r.conversation_id WHERE c.sender_id = ? "
            "ORDER BY r.id",
            (sender,),
        ).fetchall()
    finally:
        db.close()
    assert [(text, json.loads(o), picked) for text, o, picked, _ in rows] == [
        (UNSURE, offered, ""),
        ("xjq wwz kkp", [], None),
    ]
    assert json.loads(rows[0][3])[0]["name"] == "nlu_fallback"


def test_gibberish_is_not_understood_and_gets_the_menu(stack: Stack) -> None:
    [reply] = chat(stack.base_url, f"e2e-{uuid.uuid4()}", "fkdjsl qwpeoi zmxn")
    menu = KB.require("ayuda")
    assert reply["text"] == KB.require("fallback").render("no_entendi", menu=menu.answer)
    assert [b["payload"] for b in reply["buttons"]] == [b.payload for b in menu.buttons]  # type: ignore[union-attr]


def test_a_clarification_button_picked_is_recorded(stack: Stack) -> None:
    sender = f"e2e-{uuid.uuid4()}"
    first = chat(stack.base_url, sender, UNSURE)[0]
    picked = first["buttons"][0]["payload"]  # type: ignore[index]
    assert chat(stack.base_url, sender, picked)[0]["text"] == answer_of(picked[1:])
    db = sqlite3.connect(stack.workdir / "gateway.db")
    try:
        [(recorded,)] = db.execute(
            "SELECT r.picked FROM review_items r JOIN conversations c "
            "ON c.id = r.conversation_id WHERE c.sender_id = ?",
            (sender,),
        ).fetchall()
    finally:
        db.close()
    assert recorded == picked


def test_conversation_is_kept_for_a_reloaded_page(base_url: str) -> None:
    sender = f"e2e-{uuid.uuid4()}"
    chat(base_url, sender, "que es el ruc")
    history = history_of(base_url, sender)
    assert [(h["direction"], h["text"]) for h in history] == [
        ("in", "que es el ruc"),
        ("out", answer_of("ruc_que_es")),
    ]


def test_a_citizens_session_is_answered_and_ended(stack: Stack) -> None:
    with stack.citizen() as page:
        response = page.post(
            "/webhooks/webchat", json={"sender": "otro", "message": "que es el igv"}
        )
        assert response.status_code == 200, response.text
        reply = response.json()[0]
        assert reply["text"] == answer_of("igv")
        # The conversation's key is the session's random id, not what the body said.
        assert re.fullmatch(r"sesion-[A-Za-z0-9_-]{32}", str(reply["recipient_id"]))
        texts = [item["text"] for item in page.get("/webchat/history").json()]
        assert texts == ["que es el igv", answer_of("igv")]
        assert page.delete("/webchat/session").status_code == 204
        assert page.get("/webchat/history").status_code == 401


def test_health_reports_every_component_up(base_url: str) -> None:
    body = httpx.get(f"{base_url}/health").json()
    assert body == {
        "status": "ok",
        "components": {"rasa": "up", "action_server": "up", "database": "up"},
        "down": [],
        "channels": {
            "webchat": "on",
            "messenger": "off (credentials missing)",
            "whatsapp": "off (credentials missing)",
            "twilio": "off (credentials missing)",
        },
    }


def test_ctrl_c_stops_all_three_processes(tmp_path: Path) -> None:
    with running_up(tmp_path) as (stack, process):
        assert chat(stack.base_url, "ctrl-c", "hola")[0]["text"] == answer_of("saludo")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    output = (tmp_path / "up.log").read_text()
    assert "stopped: gateway, Rasa and the action server" in output
    for port in stack.ports:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_gateway_survives_engine_outages_and_recovers(tmp_path: Path) -> None:
    stack = Stack.on_free_ports(tmp_path)
    base_url = stack.base_url
    children = stack.start_all()
    try:
        stack.wait_healthy()
        notice = answer_of("error_servicio")

        # The action server stops: Rasa answers nothing, the citizen gets the notice.
        stop(children["actions"])
        health = httpx.get(f"{base_url}/health")
        assert health.status_code == 503 and health.json()["down"] == ["action_server"]
        assert chat(base_url, "caida", "que es el igv")[0]["text"] == notice

        # Rasa stops too.
        stop(children["rasa"])
        assert httpx.get(f"{base_url}/health").json()["down"] == ["rasa", "action_server"]
        assert chat(base_url, "caida", "que es el igv")[0]["text"] == notice
        assert children["gateway"].process.poll() is None

        # Both come back: the gateway recovers by itself, nothing was lost.
        children["actions"] = stack.start_actions()
        children["rasa"] = stack.start_rasa()
        stack.wait_healthy()
        assert chat(base_url, "caida", "que es el igv")[0]["text"] == answer_of("igv")
        history = history_of(base_url, "caida")
        assert [h["text"] for h in history if h["direction"] == "in"] == ["que es el igv"] * 3
    finally:
        for child in children.values():
            stop(child)
