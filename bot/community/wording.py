"""What citizens read from the community events: the list of upcoming events, the sign-up's
questions and answers, the notices sent later (a place freed, a change, a cancellation, the
reminder). Every date is in Lima time (``bot/community/events.py``)."""

from __future__ import annotations

import datetime as dt

from bot import contract
from bot.community.events import Event, when_text
from bot.conversation.channel import BotMessage
from bot.knowledge.text import fold

#: A button's payload for each of the events' own actions.
PROPOSE_BUTTON = {"title": "Proponer un tema", "payload": contract.EVENT_PROPOSE}
#: Answers offered as buttons inside the sign-up (their payload is what the citizen "types").
CONFIRM_BUTTONS = [
    {"title": "Confirmar", "payload": "confirmar"},
    {"title": "Cancelar", "payload": "cancelar"},
]
WAITING_BUTTONS = [
    {"title": "Sí, lista de espera", "payload": "lista de espera"},
    {"title": "No, gracias", "payload": "no"},
]
SKIP_BUTTON = {"title": "Omitir", "payload": "omitir"}
THIS_CHAT_BUTTON = {"title": "Por este chat", "payload": "este chat"}
STOP_HINT = "(Escribe «cancelar» si ya no quieres seguir.)"
#: How the confirmation shows a contact that is the chat itself (``whatsapp:51…``).
THIS_CHAT = "este chat"

NO_EVENTS = (
    "Por ahora no hay charlas, talleres ni otros eventos con inscripción abierta. "
    "¿Te gustaría proponer un tema para una próxima charla?"
)
NONE_THAT_MONTH = "{mes} no hay eventos con inscripción abierta; estos son los próximos:"
UPCOMING = "Eventos de SUNAT con inscripción abierta:"
CHOOSE = "Toca un evento para inscribirte, o propón un tema para una próxima charla."

UNKNOWN = (
    "No encontramos ese evento. Escribe «charlas» para ver los eventos con inscripción abierta."
)
CANCELLED = "El evento «{titulo}» fue cancelado, así que ya no recibe inscripciones."
CLOSED = "Las inscripciones para «{titulo}» ya cerraron ({cierre})."
STARTED = "El evento «{titulo}» ya empezó o ya pasó."
ALREADY = "Ya tienes un lugar en «{titulo}» ({cuando}). ¡Te esperamos!"
ALREADY_WAITING = (
    "Ya estás en la lista de espera de «{titulo}». Si se libera un lugar, te avisaremos por "
    "este chat."
)

ASK_NAME = "Vamos a inscribirte en «{titulo}» ({cuando}). ¿Cuál es tu nombre completo?"
BAD_NAME = "Escribe tu nombre completo, solo con letras (por ejemplo: Ana Quispe Huamán)."
ASK_CONTACT = "Gracias, {nombre}. ¿Cómo te contactamos? Escribe tu correo o tu número de celular."
ASK_CONTACT_CHAT = (
    "Gracias, {nombre}. ¿Cómo te contactamos? Escribe tu correo o tu número de celular, o toca "
    "«Por este chat»."
)
BAD_CONTACT = (
    "No reconocí un correo ni un teléfono. Escribe tu correo (nombre@correo.com) o tu celular "
    "de 9 dígitos."
)
ASK_RUC = "Si tienes RUC, escríbelo (es opcional). Si no, toca «Omitir»."
BAD_RUC = "{problema} Escríbelo otra vez, o toca «Omitir»."
CONFIRM = (
    "Revisa tus datos:\n"
    "• Evento: {titulo} ({cuando})\n"
    "• Nombre: {nombre}\n"
    "• Contacto: {contacto}\n"
    "• RUC: {ruc}\n"
    "¿Confirmas tu inscripción?"
)
CONFIRM_AGAIN = "Toca «Confirmar» para inscribirte, o «Cancelar» si ya no quieres."
STOPPED = "Listo, no guardé nada. Si quieres, escribe «charlas» para ver los eventos."

REGISTERED = (
    "¡Listo, {nombre}! Tu lugar en «{titulo}» está confirmado.\n"
    "• Cuándo: {cuando}\n"
    "• {donde}\n"
    "Antes del evento te enviaremos un recordatorio por este chat."
)
FULL = (
    "Lo sentimos: «{titulo}» ya está lleno. ¿Quieres anotarte en la lista de espera? Si se "
    "libera un lugar, te avisaremos por este chat."
)
WAITING = (
    "Te anotamos en la lista de espera de «{titulo}» (puesto {puesto}). Si se libera un lugar, "
    "te avisaremos por este chat."
)
NOT_WAITING = "Entendido, no te anotamos. Escribe «charlas» si quieres ver otros eventos."

GAVE_UP = (
    "Cancelamos tu inscripción en «{titulo}». Gracias por avisarnos: tu lugar queda para otra "
    "persona."
)
GAVE_UP_WAITING = "Te sacamos de la lista de espera de «{titulo}»."
NO_PLACE = "No tienes una inscripción en «{titulo}»."

ASK_TOPIC = (
    "¿Sobre qué tema te gustaría una próxima charla o taller? Escríbelo en pocas palabras "
    "(por ejemplo: «emitir facturas electrónicas»)."
)
BAD_TOPIC = "Escribe el tema en pocas palabras (entre 3 y 300 caracteres)."
PROPOSED = (
    "¡Gracias! Anotamos tu propuesta: «{tema}». Con las propuestas de todos elegimos los temas "
    "de las próximas charlas."
)
TOO_MANY_PROPOSALS = (
    "Ya nos enviaste varias propuestas hoy, ¡gracias! Podrás enviar otra más adelante."
)

# --- sent later, through the citizen's channel (bot/community/notices.py) --------------------

PROMOTED = (
    "¡Buenas noticias, {nombre}! Se liberó un lugar en «{titulo}» ({cuando}) y ya está "
    "reservado para ti.\n• {donde}\nSi no podrás ir, toca «Cancelar inscripción»."
)
EVENT_CANCELLED = "Lamentamos avisarte que el evento «{titulo}» ({cuando}) fue cancelado."
EVENT_CHANGED = (
    "El evento «{titulo}» cambió. Así queda:\n• Cuándo: {cuando}\n• {donde}\n"
    "Si ya no podrás ir, avísanos con el botón de abajo."
)
REMINDER = (
    "Recordatorio: tienes un lugar en «{titulo}».\n• Cuándo: {cuando}\n• {donde}\n"
    "Si ya no podrás ir, toca «Cancelar inscripción» para que otra persona use tu lugar."
)


def cancel_button(event: Event, waiting: bool = False) -> dict[str, str]:
    title = "Salir de la espera" if waiting else "Cancelar inscripción"
    return {"title": title, "payload": f'{contract.EVENT_CANCEL}{{"evento": {event.id}}}'}


def sign_up_button(number: int, event: Event) -> dict[str, str]:
    return {
        "title": f"{number}. {event.title}",
        "payload": f'{contract.EVENT_SIGN_UP}{{"evento": {event.id}}}',
    }


def fields(event: Event, now: dt.datetime | None = None) -> dict[str, str]:
    """What the texts above say about an event."""
    return {
        "titulo": event.title,
        "cuando": when_text(event.starts_at, now),
        "cierre": when_text(event.registration_deadline, now),
        "donde": event.where_text() or "Lugar por confirmar",
    }


def listing(events: list[Event], now: dt.datetime, lead: str = UPCOMING) -> BotMessage:
    """The events citizens may sign up for, numbered, with a button each and one to propose
    a topic (at most 9 events: with the proposal, 10 buttons, what WhatsApp lists)."""
    lines = [lead]
    for number, event in enumerate(events, start=1):
        places = (
            f"quedan {event.free} lugares" if event.free > 1
            else "queda 1 lugar" if event.free == 1
            else "lleno, con lista de espera"
        )  # fmt: skip
        where = event.where_text()
        named = fold(event.title).startswith(fold(event.kind_label))  # "Charla: …"
        title = event.title if named else f"{event.kind_label}: {event.title}"
        lines.append(
            f"{number}. {title} — {when_text(event.starts_at, now)}"
            f"{f' — {where}' if where else ''} ({places})."
        )
    lines.append(CHOOSE)
    buttons = [sign_up_button(n, e) for n, e in enumerate(events, start=1)]
    return {"text": "\n".join(lines), "buttons": [*buttons, PROPOSE_BUTTON]}
