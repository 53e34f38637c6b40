"""End to end through the real stack: the regime advisor form on every path, and the
calculators (figures from data/tax, wording from the knowledge base)."""

from __future__ import annotations

import uuid

import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.test_stack import chat

pytestmark = pytest.mark.e2e
ADVISOR = load_knowledge(ROOT / "data" / "knowledge").require("asesor_regimen")


def question(slot: str) -> str:
    return ADVISOR.render(f"pregunta_{slot}")


def texts(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


class Conversation:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sender = f"asesor-{uuid.uuid4().hex[:8]}"

    def say(self, message: str) -> str:
        return texts(chat(self.base_url, self.sender, message))


def test_happy_path_with_the_amount_in_the_first_message(base_url: str) -> None:
    c = Conversation(base_url)
    reply = c.say("vendo 3000 al mes, que regimen me conviene?")
    assert question("compras_mensuales") in reply  # sales are not asked again
    assert question("ventas_mensuales") not in reply
    replies = chat(base_url, c.sender, "1000")
    assert question("actividad") in texts(replies)
    payloads = [b["payload"] for b in replies[-1]["buttons"]]  # type: ignore[union-attr]
    assert '/asesor_regimen{"actividad":"comercio"}' in payloads
    assert question("activos_fijos") in c.say('/asesor_regimen{"actividad":"comercio"}')
    reply = c.say("no tengo")
    assert "Nuevo RUS, categoría 1" in reply
    assert "cuota fija de S/ 20.00" in reply
    assert "UIT 2026 (S/ 5,500.00)" in reply


def test_correction_and_side_question_then_back_to_the_form(base_url: str) -> None:
    c = Conversation(base_url)
    assert question("ventas_mensuales") in c.say("que regimen me conviene")
    assert question("compras_mensuales") in c.say("12 mil")
    reply = c.say("que es el igv?")
    assert load_knowledge(ROOT / "data" / "knowledge").require("igv").answer in reply
    assert reply.rstrip().endswith(question("compras_mensuales"))
    assert question("actividad") in c.say("6 mil")
    reply = c.say("no, en realidad vendo 15000")
    assert "Anotado: vendes S/ 15,000.00 al mes." in reply
    assert question("actividad") in reply
    assert question("activos_fijos") in c.say("tengo una bodega")
    assert question("trabajadores") in c.say("10 mil")
    reply = c.say("3")
    assert "Régimen Especial de Renta (RER)" in reply
    assert "1.5% de tus ventas del mes, unos S/ 225.00" in reply  # 15,000 x 1.5%
    assert "unos S/ 1,620.00" in reply  # 18% x (15,000 - 6,000)


def test_leaving_the_form(base_url: str) -> None:
    c = Conversation(base_url)
    assert question("ventas_mensuales") in c.say("que regimen me conviene")
    reply = c.say("cancelar")
    assert load_knowledge(ROOT / "data" / "knowledge").require("cancelar").answer in reply
    reply = c.say("hola")
    assert question("ventas_mensuales") not in reply
    assert question("compras_mensuales") not in reply


def test_excluded_activity_changes_the_recommendation(base_url: str) -> None:
    c = Conversation(base_url)
    assert question("ventas_mensuales") in c.say("soy abogado, que regimen me conviene")
    reply = c.say("5000")  # the sales settle it: nothing more is asked
    assert "Régimen MYPE Tributario (RMT)" in reply
    assert "Nuevo RUS" in reply and "RER" in reply  # why not the simpler ones


@pytest.mark.parametrize(
    ("message", "expected"),
    [("cuanto es el igv de 580", "IGV (18%) S/ 104.40; precio con IGV S/ 684.40"),
     ("100 soles mas igv", "Precio con IGV: S/ 118.00"),
     ("cuantos soles son 15 UIT", "15 UIT de 2026 = S/ 82,500.00")],
)  # fmt: skip
def test_calculators(base_url: str, message: str, expected: str) -> None:
    assert expected in Conversation(base_url).say(message)
