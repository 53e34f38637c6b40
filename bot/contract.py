"""What the action server and the gateway tell each other besides the citizen's words.

The gateway sends each message to Rasa with metadata (:data:`CHANNEL`: which channel it came
from). An action reports back to the gateway in a bot message's ``custom`` payload (Rasa's
``json_message``); the gateway takes these keys out before the citizen's channel sees the
message (``bot.conversation.rasa_client.take_report``):

- :data:`HANDOFF`: a conversation needs a person (:class:`HandoffRequest`, with one of the
  :data:`REASONS`);
- :data:`CLARIFICATION`: the assistant was unsure (:class:`Clarification`: what the NLU guessed,
  what was offered), for the admins' review inbox;
- :data:`ARTICLE`: the article an answer came from, so the gateway offers 👍/👎 on it.

Buttons may also carry the payloads of :data:`GATEWAY_PAYLOADS`: the gateway's own services
(a ticket, an event sign-up, the satisfaction survey) answer them, and the engine never sees
them (articles may offer them: ``bot/ops/preflight.py`` accepts them besides the intents).

Both sides build and read these through this module, never as bare strings. It is imported by
the action server (Python 3.10, Rasa's environment): standard library only, and it imports
nothing of ours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# --- keys of a bot message's ``custom`` payload (action server → gateway) ----------------------

#: A :class:`HandoffRequest`.
HANDOFF = "handoff"
#: A :class:`Clarification`.
CLARIFICATION = "clarification"
#: The id of the article the answer came from (a string).
ARTICLE = "article"

# --- keys of a user message's ``metadata`` (gateway → action server) ---------------------------

#: The channel the citizen wrote from (``webchat``, ``messenger``, ``whatsapp``, ``twilio``).
CHANNEL = "channel"

# --- payloads the gateway's services answer (``bot/conversation/services.py``) ---------------
# Written like an intent's payload, with arguments as JSON when they take some:
# ``/evento_inscribir{"evento": 12}``.

#: Open a ticket (a complaint, a claim, a suggestion, a request for public information).
TICKET_NEW = "/solicitud_nueva"
#: Sign up for an event (``{"evento": id}``), cancel a place (``{"evento": id}``), propose a
#: topic for a future event.
EVENT_SIGN_UP, EVENT_CANCEL, EVENT_PROPOSE = (
    "/evento_inscribir",
    "/evento_cancelar",
    "/evento_proponer",
)
#: A satisfaction rating (``{"nota": 1..5}``).
SURVEY_RATE = "/satisfaccion"
GATEWAY_PAYLOADS = (TICKET_NEW, EVENT_SIGN_UP, EVENT_CANCEL, EVENT_PROPOSE, SURVEY_RATE)


def gateway_payload(text: str) -> tuple[str, dict[str, Any]] | None:
    """``(payload, arguments)`` when ``text`` is one of :data:`GATEWAY_PAYLOADS` (arguments
    ``{}`` when none, or when they are not a JSON object); None otherwise."""
    for payload in GATEWAY_PAYLOADS:
        if text == payload:
            return payload, {}
        if text.startswith(payload + "{"):
            try:
                arguments = json.loads(text[len(payload) :])
            except ValueError:
                return payload, {}
            return payload, arguments if isinstance(arguments, dict) else {}
    return None


# --- why a conversation goes to a person (``HandoffRequest.reason``) ---------------------------

ASKED, TOPIC, FRUSTRATION, NOT_UNDERSTOOD, REPEATED = (
    "pedido",  # the citizen asked for a person
    "tema",  # a topic that goes to a person (``escalation.topics``)
    "frustracion",  # the citizen is fed up with the assistant
    "no_entiende",  # a second misunderstanding in a row
    "repite",  # the same question ``repeat_limit`` times in a row
)
REASONS = (ASKED, TOPIC, FRUSTRATION, NOT_UNDERSTOOD, REPEATED)


def engine_sender_id(channel: str, sender_id: str) -> str:
    """The conversation's id inside Rasa (its tracker): channel-qualified so channels never
    collide."""
    return f"{channel}:{sender_id}"


@dataclass(frozen=True)
class HandoffRequest:
    """An action asks the gateway to hand the conversation to ``team`` (the gateway decides
    what happens: queue, callback request, or nothing when no desk is set up)."""

    reason: str
    team: str | None
    intent: str | None
    confidence: float | None

    def as_custom(self) -> dict[str, Any]:
        """The ``custom`` payload that carries the request."""
        return {
            HANDOFF: {
                "reason": self.reason,
                "team": self.team,
                "intent": self.intent,
                "confidence": self.confidence,
            }
        }

    @classmethod
    def read(cls, raw: Any) -> HandoffRequest | None:
        """The request in what the engine sent under :data:`HANDOFF`; None when it is not one
        (no known reason). Fields of the wrong type are left out."""
        if not isinstance(raw, dict) or raw.get("reason") not in REASONS:
            return None
        team, intent, confidence = raw.get("team"), raw.get("intent"), raw.get("confidence")
        return cls(
            str(raw["reason"]),
            team if isinstance(team, str) else None,
            intent if isinstance(intent, str) else None,
            float(confidence) if isinstance(confidence, int | float) else None,
        )


@dataclass(frozen=True)
class Clarification:
    """The assistant was unsure: the intents the NLU guessed (``{"name", "confidence"}``, best
    first), the payloads offered to the citizen, and the article ``answered`` when the
    knowledge search decided alone."""

    intents: list[dict[str, Any]]
    offered: list[str] = field(default_factory=list)
    answered: str | None = None

    def as_custom(self) -> dict[str, Any]:
        """The ``custom`` payload that carries the report (``answered`` only when set)."""
        report: dict[str, Any] = {"intents": self.intents, "offered": self.offered}
        if self.answered is not None:
            report["answered"] = self.answered
        return {CLARIFICATION: report}

    @classmethod
    def read(cls, raw: Any) -> Clarification | None:
        """The report in what the engine sent under :data:`CLARIFICATION`; None when it is
        not one. Entries of the wrong type are left out."""
        if not isinstance(raw, dict):
            return None
        answered = raw.get("answered")
        return cls(
            [i for i in raw.get("intents") or [] if isinstance(i, dict)],
            [p for p in raw.get("offered") or [] if isinstance(p, str)],
            answered if isinstance(answered, str) else None,
        )
