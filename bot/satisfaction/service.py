"""The satisfaction survey: a 1–5 rating and an optional comment, asked once per conversation
session on every channel, never during a handoff.

When it is asked (each time only if the session had no survey yet: ``store.py``):

- after a goodbye: the engine answered with the article ``despedida`` → the question follows
  the answer (:meth:`SatisfactionService.follow`);
- after a while idle: a background job (every ``check_every`` seconds) finds conversations
  whose last message is the assistant's answer, quiet for ``idle``
  (``SATISFACTION_IDLE_MINUTES``), and asks through the outreach (the web chat's push, the
  platforms' outbox within their 24-hour window);
- after an agent closes a handoff they attended (:meth:`SatisfactionService.after_handoff`,
  which the app connects to the desk), through the outreach too.

It is not asked while another service's form is open (a ticket half written is not
replaced by the survey).

How it is answered (:meth:`SatisfactionService.take`, an open form ``survey`` in the
conversation's :class:`FlowStore`):

1. the rating: a button (``/satisfaccion{"nota": N}``, accepted as long as the conversation's
   last survey is unrated) or, while the survey waits, a typed rating (``ratings.py``). Any
   other message drops the survey (its row stays unanswered) and goes to the engine: a citizen
   is never held in the survey;
2. then the comment: the next message is the comment, unless it is a button of something else
   (a payload, ``/…``: it goes on to the engine) or declines ("Omitir", "no", "nada"). Personal
   data in it is masked before it is stored; it is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from bot import contract
from bot.conversation.channel import BotMessage
from bot.conversation.flows import FlowStore
from bot.conversation.services import Outreach, Turn
from bot.knowledge.articles import Article, KnowledgeStore
from bot.knowledge.personal_data import mask as mask_personal_data
from bot.satisfaction import ratings
from bot.satisfaction.store import GOODBYE, HANDOFF, IDLE, IDLE_BATCH, SurveyStore

logger = logging.getLogger(__name__)

#: The service's name on its form (``FlowStore``), and the form's two steps.
SERVICE = "survey"
RATING_STEP, COMMENT_STEP = "nota", "comentario"
#: The articles of the goodbye intent: answering with one ends the conversation.
GOODBYE_ARTICLES = frozenset({"despedida"})


class SatisfactionService:
    """A :class:`bot.conversation.services.CitizenService`, the handoff desk's listener and
    the idle job (:meth:`start`, :meth:`close`)."""

    def __init__(
        self,
        surveys: SurveyStore,
        flows: FlowStore,
        knowledge: KnowledgeStore,
        mask: Callable[[str], str] = mask_personal_data,
        idle: dt.timedelta | None = dt.timedelta(minutes=10),
        check_every: float = 60.0,
    ) -> None:
        self._surveys = surveys
        self._flows = flows
        self._knowledge = knowledge
        #: Personal data out of the comments (RUC, DNI, phones, e-mails keep their shape).
        self._mask = mask
        #: None: no survey after a while idle.
        self._idle = idle
        self._check_every = check_every
        self._outreach: Outreach | None = None
        self._job: asyncio.Task[None] | None = None

    @property
    def _article(self) -> Article:
        return self._knowledge.current.require(ratings.ARTICLE)

    def connect(self, outreach: Outreach) -> None:
        """How surveys reach a citizen outside a request (idle, after a handoff)."""
        self._outreach = outreach

    # --- in the conversation -----------------------------------------------------------------

    async def take(self, turn: Turn) -> list[BotMessage] | None:
        payload = contract.gateway_payload(turn.text)
        if payload is not None:
            name, arguments = payload
            if name != contract.SURVEY_RATE:
                return None
            return await self._pressed(turn.conversation_id, arguments)
        flow = await self._flows.get(turn.conversation_id, SERVICE)
        if flow is None:
            return None
        survey_id = int(flow.data.get("survey", 0))
        if flow.step == RATING_STEP:
            rating = ratings.typed_rating(turn.text, self._article)
            if rating is None:
                # Not an answer to the survey: it stays unanswered, the engine answers.
                await self._flows.end(turn.conversation_id)
                return None
            return await self._rated(turn.conversation_id, survey_id, rating)
        await self._flows.end(turn.conversation_id)
        text = turn.text.strip()
        if not text or text.startswith("/"):
            return None  # a button of something else, or nothing written: not a comment
        if ratings.skips(text):
            return [ratings.say(self._article, "omitido")]
        await self._surveys.comment(survey_id, self._mask(text))
        logger.info("survey commented: conversation=%s", turn.conversation_id)
        return [ratings.say(self._article, "gracias_comentario")]

    async def _pressed(
        self, conversation_id: int, arguments: dict[str, object]
    ) -> list[BotMessage]:
        """A survey button: a rating, or "Omitir" the comment."""
        article = self._article
        if arguments.get(ratings.SKIP_KEY):
            if await self._flows.get(conversation_id, SERVICE) is not None:
                await self._flows.end(conversation_id)
            return [ratings.say(article, "omitido")]
        rating = ratings.payload_rating(dict(arguments))
        survey = await self._surveys.latest(conversation_id)
        if survey is None:
            return [ratings.say(article, "sin_encuesta")]
        if rating is None:
            # Not a rating (a payload written by hand): the question again, if unanswered.
            if survey.rating is None:
                return [ratings.question(article, survey.trigger)]
            return [ratings.say(article, "ya_calificado")]
        return await self._rated(conversation_id, survey.id, rating)

    async def _rated(self, conversation_id: int, survey_id: int, rating: int) -> list[BotMessage]:
        if not await self._surveys.rate(survey_id, rating):
            return [ratings.say(self._article, "ya_calificado")]
        logger.info("survey rated: conversation=%s rating=%d", conversation_id, rating)
        await self._flows.put(conversation_id, SERVICE, COMMENT_STEP, {"survey": survey_id})
        return [ratings.ask_comment(self._article)]

    async def follow(self, turn: Turn, article: str | None) -> list[BotMessage]:
        if article not in GOODBYE_ARTICLES:
            return []
        return await self._ask(turn.conversation_id, turn.channel, GOODBYE)

    async def _ask(
        self, conversation_id: int, channel: str, trigger: str, handoff_id: int | None = None
    ) -> list[BotMessage]:
        """The question, when this conversation's session may be asked (the survey is then
        recorded as asked and its form opened); [] otherwise."""
        open_form = await self._flows.get(conversation_id)
        if open_form is not None and open_form.service != SERVICE:
            return []
        survey_id = await self._surveys.claim(conversation_id, channel, trigger, handoff_id)
        if survey_id is None:
            return []
        await self._flows.put(conversation_id, SERVICE, RATING_STEP, {"survey": survey_id})
        logger.info("survey asked: conversation=%s trigger=%s", conversation_id, trigger)
        return [ratings.question(self._article, trigger)]

    # --- outside a request -------------------------------------------------------------------

    async def after_handoff(
        self, conversation_id: int, channel: str, sender_id: str, handoff_id: int
    ) -> bool:
        """An agent closed a handoff they attended: ask, unless the session had a survey.
        True when asked. Never raises (the close stands whatever happens here)."""
        try:
            return await self._ask_outside(conversation_id, channel, sender_id, HANDOFF, handoff_id)
        except Exception:
            logger.exception("survey after handoff %s: not asked", handoff_id)
            return False

    async def ask_idle(self) -> int:
        """Ask every conversation quiet for ``idle`` after the assistant's answer (see the
        module); how many were asked."""
        if self._idle is None:
            return 0
        asked, after = 0, 0
        while True:
            found = await self._surveys.idle_conversations(self._idle, after)
            for conversation in found:
                if await self._ask_outside(
                    conversation.id, conversation.channel, conversation.sender_id, IDLE
                ):
                    asked += 1
            if len(found) < IDLE_BATCH:
                return asked
            after = found[-1].id

    async def _ask_outside(
        self,
        conversation_id: int,
        channel: str,
        sender_id: str,
        trigger: str,
        handoff_id: int | None = None,
    ) -> bool:
        if self._outreach is None:
            logger.warning("survey not asked (%s): no outreach connected", trigger)
            return False
        messages = await self._ask(conversation_id, channel, trigger, handoff_id)
        if not messages:
            return False
        if not await self._outreach.send(conversation_id, channel, sender_id, messages):
            logger.warning("survey of conversation %s not sent: channel %s is off",
                           conversation_id, channel)  # fmt: skip
        return True

    async def start(self) -> None:
        """Start the idle job (when ``idle`` is set)."""
        if self._idle is not None and self._job is None:
            self._job = asyncio.create_task(self._every_while())

    async def _every_while(self) -> None:
        while True:
            await asyncio.sleep(self._check_every)
            try:
                await self.ask_idle()
            except Exception:  # a database hiccup: the next round tries again
                logger.exception("idle surveys: round failed")

    async def close(self) -> None:
        if self._job is not None:
            self._job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._job
            self._job = None
