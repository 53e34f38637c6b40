"""Delivery for platforms that call a webhook and take answers through their API (Messenger).

1. ``accept``: each message of the webhook is stored, keyed by the platform's message id,
   before the webhook gets its 200; a redelivered message is recognised and dropped.
2. In the background, in order per conversation, the engine answers; the answers go to the
   outbox (``pending`` outbound messages) in the same transaction as the "answered" mark.
3. The outbox is sent in order per conversation: retried with exponential backoff and jitter
   on temporary errors (the next attempt's time is stored), marked ``failed`` with the reason
   on permanent ones, ``not_sent`` when the platform's 24-hour window has closed; the
   re-engagement template is sent at most once a day per conversation (stored).
4. While the engine is down, a message waits (still ``received``) and is tried again after
   2, 4, 8… up to 30 seconds, for as long as it takes: answered once the engine is back.

Any number of gateways may share the database: exactly one answers and sends for a
conversation at a time, the holder of its lease (:mod:`bot.conversation.store_leases`). The
gateway that stores a message takes the lease when it is free and works until nothing is due,
renewing it (every third of ``lease_seconds``) and giving it back at the end; a message stored
meanwhile by another gateway is found by the holder before it gives the lease back. Every
``sweep_seconds`` each gateway takes the conversations with due work whose lease is free or
expired: a reply whose backoff ended, work of a gateway that stopped or was killed (its leases
expire after ``lease_seconds``), what was stored before a restart (``resume``). A worker that
finds its lease gone (it stalled longer than the lease) stops before its next step.

A crash between the platform accepting a send and its recording here repeats that send
(at-least-once), and a reply sent in parts is retried from its first part. Delivery and read
receipts are recorded against the outbound messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import secrets
from collections.abc import Callable
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


class LeaseLost(Exception):
    """Another gateway took the conversation over (this one stalled past its lease)."""


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
        lease_seconds: float = 30.0,
        sweep_seconds: float = 3.0,
        gateway_id: str | None = None,
    ) -> None:
        self._service = service
        self._store = store
        self._knowledge = knowledge
        self.channels = channels
        self._max_attempts = max_attempts
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._lease = dt.timedelta(seconds=lease_seconds)
        self._sweep_seconds = sweep_seconds
        #: This gateway's name in the leases: given (host and port, so that a gateway started
        #: again in a dead one's place takes its leases back at once), or new at every start.
        self.gateway_id = gateway_id or secrets.token_hex(8)
        #: The one worker of each conversation whose lease this gateway holds or is taking.
        self._workers: dict[int, asyncio.Task[None]] = {}
        #: Conversations given work here while their worker ran: it looks again before leaving.
        self._again: set[int] = set()
        #: Until when this gateway holds each lease (as last written).
        self._held: dict[int, dt.datetime] = {}
        #: One wake-up per conversation with a reply backing off.
        self._timers: dict[int, asyncio.Task[None]] = {}
        #: The sweep and the leases' renewal (started by ``resume``).
        self._loops: list[asyncio.Task[None]] = []
        #: Background jobs running at once: the webhooks' acknowledgements stay fast under a
        #: burst (what waits is already stored).
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)

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
            self._wake(conversation_id)
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
        self._wake(conversation_id)
        return True

    async def resume(self) -> None:
        """At start-up: take what is due (acknowledged but not answered, answered but not
        sent, on this gateway or a stopped one; replies backing off are tried now), and start
        the periodic sweep and the leases' renewal."""
        # Leases under this gateway's name are a dead predecessor's (this one holds nothing yet).
        await self._store.release_all(self.gateway_id)
        outbox = await self._store.pending("out", list(self.channels))
        now = self._clock()
        for item in outbox:
            # A start tries waiting replies at once, as before leases (the platform's error
            # may well be over; the backoff starts again from this attempt).
            if item.next_attempt_at is not None and item.next_attempt_at > now:
                await self._store.update_outbound(item.message_id, PENDING, next_attempt_at=now)
        taken = await self._sweep()
        if taken:
            logger.info("resuming: %d conversations with messages to answer or send", taken)
        if not self._loops:
            self._loops = [
                asyncio.create_task(self._sweeping()),
                asyncio.create_task(self._renewing()),
            ]

    # --- leases --------------------------------------------------------------------------------

    async def _sweep(self) -> int:
        """Take conversations with due work and a free or expired lease; how many."""
        room = self._concurrency - len(self._workers)
        if room <= 0:
            return 0
        until = self._clock() + self._lease
        taken = await self._store.claim_due(
            list(self.channels), self.gateway_id, until, self._clock(), room
        )
        for conversation_id in taken:
            self._held[conversation_id] = until
            self._wake(conversation_id, claimed=True)
        return len(taken)

    async def _sweeping(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_seconds)
            try:
                await self._sweep()
            except Exception:
                logger.warning("delivery sweep failed", exc_info=True)

    async def _renewing(self) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            held = list(self._held)
            until = self._clock() + self._lease
            try:
                kept = await self._store.renew(held, self.gateway_id, until)
            except Exception:
                logger.warning("renewing delivery leases failed", exc_info=True)
                continue
            for conversation_id in held:
                if conversation_id in kept:
                    self._held[conversation_id] = until
                else:  # taken over: its worker stops before its next step
                    self._held.pop(conversation_id, None)

    async def _hold(self, conversation_id: int) -> None:
        """Make sure this gateway holds the lease for at least half its length more; raise
        :class:`LeaseLost` when another gateway took it."""
        now = self._clock()
        until = self._held.get(conversation_id)
        if until is not None and until - now >= self._lease / 2:
            return
        until = now + self._lease
        if conversation_id not in await self._store.renew(
            [conversation_id], self.gateway_id, until
        ):
            self._held.pop(conversation_id, None)
            raise LeaseLost(conversation_id)
        self._held[conversation_id] = until

    # --- the work, in order per conversation -------------------------------------------------

    def _wake(self, conversation_id: int, claimed: bool = False) -> None:
        """The conversation has work: its worker here looks again, or one starts (and takes
        the lease unless ``claimed``; when another gateway holds it, that one does the work)."""
        if conversation_id in self._workers:
            self._again.add(conversation_id)
            return
        self._workers[conversation_id] = asyncio.create_task(self._work(conversation_id, claimed))

    async def _claim(self, conversation_id: int) -> bool:
        now = self._clock()
        until = now + self._lease
        if not await self._store.claim(conversation_id, self.gateway_id, until, now):
            return False
        self._held[conversation_id] = until
        return True

    async def _work(self, conversation_id: int, claimed: bool) -> None:
        """Answer and send until nothing is due, then give the lease back."""
        try:
            if not claimed and not await self._claim(conversation_id):
                return
            while True:
                self._again.discard(conversation_id)
                if not await self._step(conversation_id):
                    # Given up for now: the lease expires at once, a sweep tries again.
                    await self._store.renew([conversation_id], self.gateway_id, self._clock())
                    self._held.pop(conversation_id, None)
                    return
                if await self._store.release(conversation_id, self.gateway_id, self._clock()):
                    self._held.pop(conversation_id, None)
                    # Checked with no wait since: a message stored here later starts a worker.
                    if conversation_id not in self._again:
                        return
                    if not await self._claim(conversation_id):
                        return
                # Otherwise work is due (stored meanwhile, here or on another gateway).
        except LeaseLost:
            logger.warning("conversation %s was taken over by another gateway", conversation_id)
        except Exception:
            # Left to its lease: it expires and a sweep (here or elsewhere) goes on.
            logger.exception("delivery failed for conversation %s", conversation_id)
        finally:
            if self._workers.get(conversation_id) is asyncio.current_task():
                del self._workers[conversation_id]

    async def _step(self, conversation_id: int) -> bool:
        """Answer what waits and send what is due, in order; False when answering a message
        was given up (a store error, after ``max_attempts``)."""
        names = list(self.channels)
        async with self._slots:
            await self._hold(conversation_id)
            for item in await self._store.pending("in", names, conversation_id):
                if not await self._answer(self.channels[item.channel], item):
                    return False
                await self._flush(self.channels[item.channel], conversation_id)
            outbox = await self._store.pending("out", names, conversation_id)
            if outbox:
                await self._flush(self.channels[outbox[0].channel], conversation_id, outbox)
        return True

    async def _answer(self, channel: PlatformChannel, item: Pending) -> bool:
        conversation_id, message_id = item.conversation_id, item.message_id
        inbound = _inbound_of(item)
        with contextlib.suppress(Exception):
            await channel.acknowledge(inbound)
        replies = None
        if inbound.unsupported:
            replies = [self._knowledge.current.require(UNSUPPORTED_ARTICLE).as_bot_message()]
        engine_down = failed = 0
        while True:
            await self._hold(conversation_id)
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
            except LeaseLost:
                raise
            except Exception:
                # A store error: tried again a few times, then by a later sweep.
                failed += 1
                logger.exception("answering message %s failed (attempt %d)", message_id, failed)
                if failed >= self._max_attempts:
                    return False
                delay = self._retry_seconds * 2 ** (failed - 1)
            await self._pause(delay)
        if engine_down:
            logger.info("message %s answered after %d engine attempts", message_id, engine_down)
        return True

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
        self, channel: PlatformChannel, conversation_id: int, outbox: list[Pending] | None = None
    ) -> None:
        """Send the conversation's outbox in order; stop at a reply that must be retried."""
        if outbox is None:
            outbox = await self._store.pending("out", [channel.name], conversation_id)
        for item in outbox:
            now = self._clock()
            if item.next_attempt_at is not None and item.next_attempt_at > now:
                # Backing off: a wake-up (or any gateway's sweep) sends it, and what follows.
                self._later((item.next_attempt_at - now).total_seconds(), conversation_id)
                return
            await self._hold(conversation_id)
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
                # Invite to write again, once a day: recorded before sending, across gateways.
                if await self._store.mark_invited(item.conversation_id, now, WINDOW):
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
                self._later(delay, item.conversation_id)
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

    def _later(self, delay: float, conversation_id: int) -> None:
        """One wake-up per conversation looks for due work after ``delay`` seconds."""
        if conversation_id in self._timers:
            return

        async def wake() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                del self._timers[conversation_id]
            self._wake(conversation_id)

        self._timers[conversation_id] = asyncio.create_task(wake())

    async def idle(self) -> None:
        """Wait until no conversation is being worked on or waiting to retry here (tests)."""
        while self._workers or self._timers:
            await asyncio.gather(
                *self._workers.values(), *self._timers.values(), return_exceptions=True
            )

    async def close(self, release: bool = True) -> None:
        """Stop; with ``release``, give the leases back at once (otherwise they expire, as a
        killed gateway's do, and other gateways take the work over then)."""
        tasks = [*self._loops, *self._timers.values(), *self._workers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loops = []
        if release:
            try:
                await self._store.release_all(self.gateway_id)
            except Exception:
                logger.warning("delivery leases not given back (they expire)", exc_info=True)


def _inbound_of(item: Pending) -> InboundMessage:
    """A stored message as it came (the text of an attachment is stored as ``[kind]``)."""
    metadata = dict((item.payload or {}).get("metadata") or {})
    unsupported = metadata.pop("unsupported", None)
    return InboundMessage(
        item.channel, item.sender_id, "" if unsupported else item.text or "", metadata,
        item.platform_id, unsupported=str(unsupported) if unsupported else None,
    )  # fmt: skip
