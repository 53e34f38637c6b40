"""Delivery for platforms that call a webhook and take answers through their API (Messenger).

1. ``accept``: each message of the webhook is stored, keyed by the platform's message id,
   before the webhook gets its 200; a redelivered message is recognised and dropped.
2. In the background, in order per conversation, the engine answers; the answers go to the
   outbox (``pending`` outbound messages) in the same transaction as the "answered" mark.
3. The outbox is sent in order per conversation: retried with exponential backoff and jitter
   on temporary errors, marked ``failed`` with the reason on permanent ones, ``not_sent`` when
   the platform's 24-hour window has closed.
4. While the engine is down, a message waits (still ``received``) and is tried again after
   2, 4, 8… up to 30 seconds, for as long as it takes: answered once the engine is back.
5. ``resume`` at start-up picks up what was acknowledged but not answered, and what was
   answered but not sent: after a restart each is handled once. A crash between the platform
   accepting a send and its recording here repeats that send (at-least-once), and a reply sent
   in parts is retried from its first part.

Delivery and read receipts are recorded against the outbound messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from bot.conversation.channel import BotMessage, InboundMessage, PlatformChannel, SendError
from bot.conversation.rasa_client import EngineUnavailable
from bot.conversation.service import ENGINE_DOWN_ARTICLE, ConversationService
from bot.conversation.store import (
    FAILED,
    NOT_SENT,
    PENDING,
    SENT,
    ConversationStore,
    Outbound,
    Pending,
)
from bot.knowledge.articles import KnowledgeStore
from bot.storage.time import utcnow

logger = logging.getLogger(__name__)

UNSUPPORTED_ARTICLE = "adjunto_no_soportado"
#: The platforms' customer-service window: bot answers only within it.
WINDOW = dt.timedelta(hours=24)
#: Longest wait between two attempts at answering while the engine is down.
ENGINE_RETRY_LONGEST_SECONDS = 30.0
#: Key in an outbound message's payload marking it as written by a human agent.
AGENT_KEY = "agent"
#: Key in an agent's message naming them (the console's transcript shows it; never sent).
AGENT_NAME_KEY = "agent_name"


class Delivery:
    def __init__(
        self,
        service: ConversationService,
        store: ConversationStore,
        knowledge: KnowledgeStore,
        channels: dict[str, PlatformChannel],
        max_attempts: int = 6,
        retry_seconds: float = 2.0,
        clock: Callable[[], dt.datetime] = utcnow,
        concurrency: int = 8,
    ) -> None:
        self._service = service
        self._store = store
        self._knowledge = knowledge
        self.channels = channels
        self._max_attempts = max_attempts
        self._retry_seconds = retry_seconds
        self._clock = clock
        #: The last job of each conversation: a new one waits for it (order per conversation).
        self._chains: dict[int, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Background jobs running at once: the webhooks' acknowledgements stay fast under a
        #: burst (what waits is already stored).
        self._slots = asyncio.Semaphore(concurrency)
        #: When each conversation was last sent the platform's re-engagement template (kept
        #: while the gateway runs: after a restart it may be sent once more).
        self._invited: dict[int, dt.datetime] = {}
        #: Conversations with a wake-up pending (a reply backing off).
        self._waking: set[int] = set()

    # --- in -----------------------------------------------------------------------------------

    async def accept(self, channel: PlatformChannel, payload: Any) -> tuple[int, int]:
        """Store the webhook's messages and receipts; (new messages, redeliveries)."""
        new = repeated = 0
        for inbound in channel.parse(payload):
            if inbound.platform_id is None:
                logger.warning("%s message without an id ignored", channel.name)
                continue
            conversation_id = await self._service.conversation_id(channel.name, inbound.sender_id)
            stored = inbound.text or f"[{inbound.unsupported or 'adjunto'}]"
            metadata = {**inbound.metadata}
            if inbound.unsupported:
                metadata["unsupported"] = inbound.unsupported
            message_id = await self._store.accept_inbound(
                conversation_id, stored, {"metadata": metadata} if metadata else None,
                inbound.platform_id,
            )  # fmt: skip
            if message_id is None:
                repeated += 1
                continue
            new += 1
            self._chain(
                conversation_id,
                functools.partial(self._answer, channel, conversation_id, message_id, inbound),
            )
        for status in channel.statuses(payload):
            if status.status == "delivered":
                await self._store.mark_delivered(status.platform_ids, status.moment)
            elif status.status in ("read", "failed") and status.platform_ids:
                await self._store.mark_by_platform_id(
                    status.platform_ids, status.status, status.moment, status.error
                )
            elif status.status == "read":
                conversation_id = await self._service.conversation_id(
                    channel.name, status.sender_id
                )
                await self._store.mark_read(conversation_id, status.moment)
        return new, repeated

    async def send_later(
        self,
        conversation_id: int,
        channel_name: str,
        messages: list[BotMessage],
        agent: bool,
    ) -> bool:
        """Queue messages that do not answer a webhook (an agent's reply, a desk notice) and
        send them in order with the conversation's other replies. False when the channel is
        off (they are recorded as failed)."""
        marked = [{**m, AGENT_KEY: True} if agent else m for m in messages]
        outbound = [Outbound.of(m) for m in marked]
        channel = self.channels.get(channel_name)
        if channel is None:
            await self._store.record_outbound(conversation_id, outbound, FAILED)
            logger.warning("%s is off: desk message for %s not sent", channel_name, conversation_id)
            return False
        await self._store.record_outbound(conversation_id, outbound, PENDING)
        self._chain(conversation_id, functools.partial(self._flush, channel, conversation_id))
        return True

    async def resume(self) -> None:
        """After a restart: answer what was acknowledged, send what was answered."""
        names = list(self.channels)
        waiting = await self._store.pending("in", names)
        for item in waiting:
            channel = self.channels[item.channel]
            inbound = _inbound_of(item)
            self._chain(
                item.conversation_id,
                functools.partial(
                    self._answer, channel, item.conversation_id, item.message_id, inbound
                ),
            )
        outbox = await self._store.pending("out", names)
        for conversation_id, channel_name in {(o.conversation_id, o.channel) for o in outbox}:
            channel = self.channels[channel_name]
            # A restart is a fresh start: one attempt now, then the backoff goes on.
            self._chain(
                conversation_id, functools.partial(self._flush, channel, conversation_id, True)
            )
        if waiting or outbox:
            logger.info(
                "resuming: %d messages to answer, %d replies to send", len(waiting), len(outbox)
            )

    # --- the work, in order per conversation -------------------------------------------------

    def _chain(self, conversation_id: int, job: Callable[[], Awaitable[None]]) -> None:
        previous = self._chains.get(conversation_id)

        async def run() -> None:
            if previous is not None:
                try:
                    await previous
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # this job is cancelled too (shutdown), not just the previous
                except Exception:
                    pass  # the previous job's failure was logged; this one goes on
            try:
                async with self._slots:
                    await job()
            except Exception:
                logger.exception("delivery job failed for conversation %s", conversation_id)

        task = asyncio.create_task(run())
        self._chains[conversation_id] = task
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if self._chains.get(conversation_id) is finished:
                del self._chains[conversation_id]

        task.add_done_callback(done)

    async def _answer(
        self,
        channel: PlatformChannel,
        conversation_id: int,
        message_id: int,
        inbound: InboundMessage,
    ) -> None:
        with contextlib.suppress(Exception):
            await channel.acknowledge(inbound)
        replies = None
        if inbound.unsupported:
            replies = [self._knowledge.current.require(UNSUPPORTED_ARTICLE).as_bot_message()]
        engine_down = failed = 0
        while True:
            try:
                await self._service.answer(
                    conversation_id, message_id, inbound, PENDING, replies, notice_when_down=False
                )
                break
            except EngineUnavailable as exc:
                if exc.reached:
                    # Rasa may have taken it: not sent again (it would repeat in the
                    # conversation); the citizen gets the notice and the next messages go on.
                    await self._service.answer(
                        conversation_id, message_id, inbound, PENDING, [self._engine_notice()]
                    )
                    break
                # Nothing was recorded: the message stays "received" and the conversation's next
                # messages wait behind it, so the order holds. Tried again until it is answered.
                engine_down += 1
                delay = min(
                    self._retry_seconds * 2 ** min(engine_down - 1, 16),
                    ENGINE_RETRY_LONGEST_SECONDS,
                )
                if engine_down == 1:
                    logger.warning(
                        "engine down: message %s waits (%s); trying again every %.0f s at most",
                        message_id, exc, ENGINE_RETRY_LONGEST_SECONDS,
                    )  # fmt: skip
            except Exception:
                # A store error: tried again a few times; after a restart ``resume`` does it.
                failed += 1
                logger.exception("answering message %s failed (attempt %d)", message_id, failed)
                if failed >= self._max_attempts:
                    return
                delay = self._retry_seconds * 2 ** (failed - 1)
            await self._pause(delay)
        if engine_down:
            logger.info("message %s answered after %d engine attempts", message_id, engine_down)
        await self._flush(channel, conversation_id)

    def _engine_notice(self) -> BotMessage:
        return self._knowledge.current.require(ENGINE_DOWN_ARTICLE).as_bot_message()

    async def _pause(self, seconds: float) -> None:
        """Wait without holding a job slot (other conversations go on meanwhile)."""
        self._slots.release()
        try:
            await asyncio.sleep(seconds)
        finally:
            await self._slots.acquire()

    async def _flush(
        self, channel: PlatformChannel, conversation_id: int, now_anyway: bool = False
    ) -> None:
        """Send the conversation's outbox in order; stop at a reply that must be retried."""
        outbox = await self._store.pending("out", [channel.name], conversation_id)
        for item in outbox:
            now = self._clock()
            if not now_anyway and item.next_attempt_at is not None and item.next_attempt_at > now:
                # Backing off: a wake-up sends it (and what follows it) when the time comes.
                if conversation_id not in self._waking:
                    wait = (item.next_attempt_at - now).total_seconds()
                    self._later(wait, channel, conversation_id)
                return
            last_in = await self._store.last_inbound_at(item.conversation_id)
            idle = now - last_in if last_in is not None else None
            within = idle is not None and idle <= WINDOW
            # A human agent may still answer for a while after the window where the platform
            # allows it (Messenger's HUMAN_AGENT tag, 7 days); the assistant may not.
            agent = bool((item.payload or {}).get(AGENT_KEY))
            extended = channel.human_agent_window
            if not within and agent and extended and idle is not None and idle <= extended:
                if not await self._send(channel, item, within_window=False):
                    return
                continue
            if not within:
                reason = "outside the 24-hour window"
                invited = self._invited.get(item.conversation_id)
                if invited is None or now - invited > WINDOW:  # invite to write again, once
                    self._invited[item.conversation_id] = now
                    with contextlib.suppress(SendError):
                        if await channel.reengage(item.sender_id) is not None:
                            reason += "; re-engagement template sent"
                await self._store.update_outbound(item.message_id, NOT_SENT, error=reason)
                continue
            if not await self._send(channel, item):
                return

    async def _send(
        self, channel: PlatformChannel, item: Pending, within_window: bool = True
    ) -> bool:
        """Send one reply; False when it is to be retried later (the rest must wait)."""
        message = {
            k: v for k, v in (item.payload or {}).items() if k not in (AGENT_KEY, AGENT_NAME_KEY)
        }
        message["text"] = item.text
        attempts = item.attempts + 1
        try:
            platform_id = await channel.send(item.sender_id, message, within_window)
        except SendError as exc:
            if exc.retryable and attempts < self._max_attempts:
                delay = self._retry_seconds * 2 ** (attempts - 1) * random.uniform(0.5, 1.5)
                await self._store.update_outbound(
                    item.message_id, PENDING, attempts=attempts, error=exc.reason,
                    next_attempt_at=self._clock() + dt.timedelta(seconds=delay),
                )  # fmt: skip
                logger.warning(
                    "%s send failed (%s), retry %d in %.1f s", channel.name, exc.reason,
                    attempts, delay,
                )  # fmt: skip
                self._later(delay, channel, item.conversation_id)
                return False
            await self._store.update_outbound(
                item.message_id, NOT_SENT if exc.outside_window else FAILED,
                attempts=attempts, error=exc.reason,
            )  # fmt: skip
            logger.warning("%s send failed for good: %s", channel.name, exc.reason)
            return True
        await self._store.update_outbound(
            item.message_id, SENT, attempts=attempts, platform_id=platform_id or None
        )
        return True

    def _later(self, delay: float, channel: PlatformChannel, conversation_id: int) -> None:
        """One wake-up per conversation flushes its outbox after ``delay`` seconds."""
        if conversation_id in self._waking:
            return
        self._waking.add(conversation_id)

        async def wake() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                self._waking.discard(conversation_id)
            self._chain(conversation_id, functools.partial(self._flush, channel, conversation_id))

        task = asyncio.create_task(wake())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until no job is running or waiting to retry (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _inbound_of(item: Pending) -> InboundMessage:
    metadata = dict((item.payload or {}).get("metadata") or {})
    unsupported = metadata.pop("unsupported", None)
    return InboundMessage(
        item.channel, item.sender_id, item.text or "", metadata, None,
        unsupported=str(unsupported) if unsupported else None,
    )  # fmt: skip
