"""End to end on a fresh ``make run`` (``python -m bot up``), through ``POST /webhooks/webchat``:
the kinds of question the first outside trial missed (issue #11), each in several phrasings.
None of these phrasings is in the training data or in a held-out set."""

from __future__ import annotations

import uuid

import pytest

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
KB = load_knowledge(ROOT / "data" / "knowledge")


def ask(stack: Stack, message: str) -> list[dict[str, object]]:
    """A new conversation's replies to ``message``."""
    return stack.chat(f"ciudadano-{uuid.uuid4().hex[:10]}", message)


def text_of(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def answered_with(replies: list[dict[str, object]], article_id: str) -> bool:
    """Whether the replies carry the article's answer (as the web chat shows it)."""
    return KB.require(article_id).answer_for("webchat") in text_of(replies)


# Each kind of miss, in several phrasings: unseen words, missing topics, the wrong article.
@pytest.mark.parametrize(
    ("message", "article"),
    [
        ("¿de qué manera consigo mi número de RUC?", "ruc_inscripcion_dni"),
        ("kiero tramitar el ruc xfa como es el proceso", "ruc_inscripcion_dni"),
        ("tengo RUC pero no lo estoy usando, ¿pasa algo?", "ruc_sin_uso"),
        ("saqué ruc hace un año y nunca lo usé, eso trae problemas?", "ruc_sin_uso"),
        ("no me alcanza para pagar a SUNAT", "fraccionamiento"),
        ("no tengo plata para pagar toda la deuda de golpe", "fraccionamiento"),
        ("¿me pueden embargar la cuenta?", "embargo"),
        ("la sunat puede congelar mi cuenta del banco?", "embargo"),
        ("¿cuánto le debo a la sunat?", "consultar_deuda"),
        ("como veo si tengo deudas con sunat", "consultar_deuda"),
        ("¿hay alguna amnistía tributaria?", "amnistia_beneficios"),
        ("van a perdonar las multas este año?", "amnistia_beneficios"),
        ("¿cómo emito un recibo por honorarios?", "recibo_honorarios_emitir"),
        ("soy independiente, como hago mi recibo por honorarios electronico",
         "recibo_honorarios_emitir"),
        ("¿hasta qué hora atienden?", "horario_atencion"),
        ("a que hora abren las oficinas de sunat", "horario_atencion"),
        ("declaré tarde, ¿me multan?", "multa_declarar_tarde"),
        ("se me pasó la fecha de declarar, cuanto es la multa", "multa_declarar_tarde"),
        ("quiero quejarme de la mala atención que recibí en la sunat", "quejas_sugerencias"),
        ("el personal de la sunat me trató mal, donde reclamo", "quejas_sugerencias"),
        ("¿cómo reactivo mi RUC suspendido?", "ruc_reactivar"),
        ("quiero volver a activar mi ruc que suspendí", "ruc_reactivar"),
        ("no estoy de acuerdo con la deuda que me cobran", "reclamacion_deuda"),
        ("me pusieron una multa injusta, como la impugno", "reclamacion_deuda"),
        ("¿puedo buscar un RUC con el nombre de la empresa?", "consulta_ruc_nombre"),
        ("como averiguo el ruc de una persona con su dni", "consulta_ruc_nombre"),
    ],
)  # fmt: skip
def test_each_kind_of_question_gets_its_article(stack: Stack, message: str, article: str) -> None:
    replies = ask(stack, message)
    assert answered_with(replies, article), text_of(replies)
    assert "Quisiste" not in text_of(replies)


def test_a_disputed_debt_is_explained_not_sent_to_the_queue(stack: Stack) -> None:
    replies = ask(stack, "no estoy de acuerdo con la deuda que me cobran")
    assert answered_with(replies, "reclamacion_deuda")
    assert KB.require("derivacion").answer_for("webchat") not in text_of(replies)


@pytest.mark.parametrize(
    "message",
    ["¿es riesgoso pasarle mi Clave SOL a alguien?", "es peligroso darle mi clave sol al contador?",
     "¿puedo compartir mi clave sol con mi hermano?"],
)  # fmt: skip
def test_yes_no_questions_get_a_statement_not_the_wrong_polarity(
    stack: Stack, message: str
) -> None:
    replies = ask(stack, message)
    assert answered_with(replies, "clave_sol_seguridad")
    first = text_of(replies).lstrip().lower()
    assert not first.startswith(("no.", "no,", "sí.", "sí,", "si.", "si,"))


@pytest.mark.parametrize("message", ["¿qué significa RER?", "RER q es", "que quiere decir rer"])
def test_rer_is_spelled_out(stack: Stack, message: str) -> None:
    assert "Régimen Especial de Renta" in text_of(ask(stack, message))


@pytest.mark.parametrize(
    ("message", "shown"),
    [("mi ruc es 98765", "98765"), ("consulta ruc 1234567", "1234567"),
     ("este es mi RUC: 123456789012345", "123456789012345")],
)  # fmt: skip
def test_a_ruc_of_the_wrong_length_is_told_so(stack: Stack, message: str, shown: str) -> None:
    reply = text_of(ask(stack, message))
    assert f"{shown} no es un RUC: un RUC tiene 11 dígitos" in reply


@pytest.mark.parametrize("message", ["cuánto es 3+3", "cuanto es 15 por 4", "2 x 5 cuanto da"])
def test_numbers_without_a_tax_context_are_not_igv(stack: Stack, message: str) -> None:
    reply = text_of(ask(stack, message))
    assert "IGV (18%)" not in reply and "S/ 3.00" not in reply
    assert "Base imponible" not in reply


@pytest.mark.parametrize(
    "message",
    [
        "buenas tardes, mi proveedor me vende un producto a 236 soles con IGV incluido y "
        "necesito saber cuál es el precio sin IGV para mi cotización",
        "oe una consulta, si cobro 236 soles igv incluido cuanto es el valor sin igv?",
    ],
)
def test_a_price_with_igv_in_free_text_is_worked_back(stack: Stack, message: str) -> None:
    reply = text_of(ask(stack, message))
    assert "200.00" in reply and "36.00" in reply


@pytest.mark.parametrize(
    "message",
    ["vendo 25 mil al mes, ¿me conviene el RUS?",
     "mis ventas son 25000 mensuales, puedo ir al nuevo rus?"],
)  # fmt: skip
def test_the_advisor_answers_at_once_when_one_figure_decides(stack: Stack, message: str) -> None:
    reply = text_of(ask(stack, message))
    assert "Nuevo RUS" in reply and "300,000" in reply
    assert "96,000" in reply


@pytest.mark.parametrize("message", ["asdfgh qwerty", "jjjjj kkkk ñññ"])
def test_gibberish_gets_no_te_entendi_and_the_menu(stack: Stack, message: str) -> None:
    replies = ask(stack, message)
    assert text_of(replies).startswith("Disculpa, no te entendí.")
    assert KB.require("ayuda").answer_for("webchat") in text_of(replies)
    assert "Quisiste" not in text_of(replies)


@pytest.mark.parametrize(
    "message",
    ["¿Cuánto cuesta sacar el RUC? Y también, ¿cómo recupero mi clave sol?",
     "hola, me olvidé mi clave sol, cómo la recupero? además quería saber cuánto cuesta sacar "
     "el ruc"],
)  # fmt: skip
def test_a_message_with_two_questions_gets_the_second_offered(stack: Stack, message: str) -> None:
    replies = ask(stack, message)
    pair = {"ruc_costo", "clave_sol_recuperar"}
    answered = [a for a in pair if answered_with(replies, a)]
    assert len(answered) >= 1, text_of(replies)
    if len(answered) == 1:  # the other one is offered, by name and as a button
        [other] = pair - set(answered)
        offer = replies[-1]
        assert offer["text"] == (
            f"También preguntaste por «{KB.require(other).title}». ¿Quieres que te lo explique?"
        )
        assert [b["payload"] for b in offer["buttons"]] == [f"/{other}"]  # type: ignore[attr-defined]


def test_a_fresh_start_has_the_sample_padron_loaded(stack: Stack) -> None:
    reply = text_of(ask(stack, "consulta ruc 10000000014"))
    assert "QUISPE MAMANI ROSA ELENA" in reply
    up_log = (stack.workdir / "up.log").read_text(encoding="utf-8")
    assert "the bundled SAMPLE (invented taxpayers) was imported" in up_log


@pytest.mark.parametrize(
    "message",
    ["cuando vence mi declaracion si mi ruc termina en 0", "mi ruc acaba en 0, q dia pago?"],
)
def test_the_due_date_comes_from_the_2026_calendar(stack: Stack, message: str) -> None:
    reply = text_of(ask(stack, message))
    assert reply.startswith("Tu RUC termina en 0 (grupo 0). La declaración y pago del periodo")
    assert "vence el" in reply and "2026" in reply
    assert "Confirma la fecha en www.sunat.gob.pe" in reply
