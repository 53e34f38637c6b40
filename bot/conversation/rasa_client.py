"""Client of the Rasa engines: their REST channel (messages) and HTTP API (status, models).

One engine or several (``RASA_URLS``): every engine serves every conversation, because with
several of them Rasa keeps trackers in a shared store and serialises each conversation with a
lock in Redis (``endpoints.scale.yml``). Each message goes to the least busy engine in rotation
(round robin among equally busy ones). An engine that cannot be reached is left out for
:data:`DOWN_SECONDS` and the message is sent at once to another; once that time is over the
engine's status API is asked again (a probe) before it gets messages back. Model deploys go to
every engine; the model reported is the one all engines that answer have loaded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from bot.conversation.channel import BotMessage

logger = logging.getLogger(__name__)
T = TypeVar("T")


#: Answers of a proxy in front of an engine that is not there (the message never reached it).
NOT_THERE = (502, 503)
#: How long an engine that could not be reached gets no messages before it is probed again.
DOWN_SECONDS = 5.0
#: The probe of an engine left out: its status API must answer, with a model, within this.
PROBE_TIMEOUT_SECONDS = 2.0


class EngineUnavailable(Exception):
    """Rasa (or the action server behind it) could not answer.

    ``reached``: Rasa may have taken the message (a timeout, an error or an empty answer after
    it was sent), so sending it again could repeat it in the conversation. False when it was
    not taken for sure (no connection, a connection dropped by a dying engine, or a proxy
    saying the engine is not there)."""

    def __init__(self, message: str, *, reached: bool = True) -> None:
        super().__init__(message)
        self.reached = reached


class EnginesDisagree(EngineUnavailable):
    """The engines that answer have not loaded the same model (``models``: engine URL → model
    file name, None when none is loaded); a deploy to all of them settles it."""

    def __init__(self, models: dict[str, str | None]) -> None:
        shown = ", ".join(f"{name or 'no model'} on {url}" for url, name in models.items())
        super().__init__(f"the engines run different models: {shown}")
        self.models = models


class DeployIncomplete(EngineUnavailable):
    """A model was not loaded by every engine: ``loaded`` lists those that took it, ``failed``
    maps the others to what went wrong (those still run the model they had)."""

    def __init__(self, loaded: list[str], failed: dict[str, str]) -> None:
        problems = "; ".join(f"{url}: {why}" for url, why in failed.items())
        super().__init__(
            f"the model was loaded by {len(loaded)} of {len(loaded) + len(failed)} engines "
            f"({problems})"
        )
        self.loaded = loaded
        self.failed = failed


@dataclass
class _Engine:
    url: str
    #: Requests this client has sent it that are not answered yet.
    in_flight: int = 0
    #: While left out: when it may be probed again; None while it gets messages.
    down_until: float | None = None
    probing: bool = False


class RasaClient:
    """Talks to one or several Rasa engines through the gateway's shared ``httpx.AsyncClient``.

    ``base_url``: one engine's URL, or several (each gets a share of the messages)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str | Sequence[str],
        token: str,
        timeout: float,
        *,
        down_seconds: float = DOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("RasaClient needs at least one engine URL")
        self._http = http
        self._engines = [_Engine(url) for url in dict.fromkeys(u.rstrip("/") for u in urls)]
        self._token = token
        self._timeout = timeout
        self._down_seconds = down_seconds
        self._clock = clock
        self._turn = -1  # the first message goes to the first engine

    @property
    def engines(self) -> list[str]:
        """The engines' base URLs."""
        return [engine.url for engine in self._engines]

    def available(self) -> list[str]:
        """The engines that get messages now (those not left out after a failure)."""
        return [engine.url for engine in self._engines if engine.down_until is None]

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Send one user message; return the bot's replies.

        Raises :class:`EngineUnavailable` when no engine can be reached, or when the engine
        that took the message fails or returns no answer at all (every intent has an answer,
        so an empty reply means an action failed).

        An engine that was not reached (``reached=False``: no connection, a connection dropped
        by a dying engine, a proxy saying it is not there) is left out for a while and the
        message goes at once to the next engine. One that may have taken the message
        (``reached=True``: a timeout, an error or an empty answer after the message was sent)
        is not retried elsewhere: the conversation is shared by all engines, so a second engine
        would add the same message to the same tracker once more (the citizen would read two
        answers, and a form would take the value twice); the caller tells the citizen instead.
        """
        body = {"sender": sender_id, "message": text, "metadata": metadata or {}}
        return await self._on_one_engine(lambda url: self._send(url, body))

    async def _send(self, base_url: str, body: dict[str, Any]) -> list[BotMessage]:
        response = await self._post(base_url, "/webhooks/rest/webhook", body)
        try:
            replies = response.json()
        except ValueError as exc:
            raise EngineUnavailable("rasa answered something that is not JSON") from exc
        if not isinstance(replies, list) or not replies:
            raise EngineUnavailable("rasa answered no message (is the action server up?)")
        return [r for r in replies if isinstance(r, dict)]

    async def start_session(self, sender_id: str) -> None:
        """Start a new session for ``sender_id`` (Rasa's ``/session_start``: slots reset)."""
        body = {"sender": sender_id, "message": "/session_start"}
        await self._on_one_engine(lambda url: self._post(url, "/webhooks/rest/webhook", body))

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to a conversation's tracker (HTTP API, token-protected): what the
        citizen and an agent said while people owned the conversation."""
        path = f"/conversations/{quote(sender_id, safe=':')}/tracker/events"
        params = {"token": self._token, "include_events": "NONE"}
        await self._on_one_engine(lambda url: self._post(url, path, events, params))

    async def parse(self, text: str) -> dict[str, Any]:
        """What the live model understands of ``text`` (intent ranking), without a turn."""

        async def parse_on(base_url: str) -> dict[str, Any]:
            response = await self._post(
                base_url, "/model/parse", {"text": text}, {"token": self._token}
            )
            parsed: dict[str, Any] = response.json()
            return parsed

        # Nothing is kept by a parse: any engine may be asked again.
        return await self._on_one_engine(parse_on, repeatable=True)

    async def loaded_model(self) -> str | None:
        """The file name of the model the engines have loaded, if any.

        Asked of every engine; those that do not answer are passed over. Raises
        :class:`EnginesDisagree` when the ones that answer run different models (a deploy that
        reached only some), :class:`EngineUnavailable` when none answers."""
        results = await asyncio.gather(
            *(self._status(engine.url, 5.0) for engine in self._engines), return_exceptions=True
        )
        models: dict[str, str | None] = {}
        for engine, result in zip(self._engines, results, strict=True):
            if isinstance(result, EngineUnavailable):
                continue
            if isinstance(result, BaseException):
                raise result
            model = result.get("model_file")
            models[engine.url] = Path(str(model)).name if model else None
        if not models:
            first = next(r for r in results if isinstance(r, EngineUnavailable))
            raise first
        if len(set(models.values())) > 1:
            raise EnginesDisagree(models)
        return next(iter(models.values()))

    async def replace_model(self, model_file: Path) -> None:
        """Load another model on every engine (Rasa's ``PUT /model``, all at once); the current
        one answers meanwhile. Raises :class:`DeployIncomplete` naming the engines that failed
        (the others run the new model: deploying again settles it)."""

        async def load(base_url: str) -> None:
            try:
                response = await self._http.put(
                    f"{base_url}/model",
                    params={"token": self._token},
                    json={"model_file": str(model_file)},
                    timeout=300.0,
                )
            except httpx.HTTPError as exc:
                raise EngineUnavailable(f"rasa unreachable: {type(exc).__name__}") from exc
            if response.status_code not in (200, 204):
                raise EngineUnavailable(f"rasa refused the model: HTTP {response.status_code}")

        results = await asyncio.gather(
            *(load(engine.url) for engine in self._engines), return_exceptions=True
        )
        loaded, failed = [], {}
        for engine, result in zip(self._engines, results, strict=True):
            if isinstance(result, EngineUnavailable):
                failed[engine.url] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                loaded.append(engine.url)
        if failed:
            if len(self._engines) == 1:
                raise next(r for r in results if isinstance(r, EngineUnavailable))
            raise DeployIncomplete(loaded, failed)

    async def is_ready(self) -> bool:
        """At least one engine answers its status API with a model loaded (messages go to the
        engines that are ready; see :meth:`send`)."""
        ready = await asyncio.gather(*(self._ready(engine.url, 3.0) for engine in self._engines))
        return any(ready)

    async def _ready(self, base_url: str, timeout: float) -> bool:
        try:
            status = await self._status(base_url, timeout)
        except EngineUnavailable:
            return False
        return bool(status.get("model_file"))

    async def _status(self, base_url: str, timeout: float) -> dict[str, Any]:
        try:
            response = await self._http.get(
                f"{base_url}/status", params={"token": self._token}, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise EngineUnavailable(
                f"rasa unreachable: {type(exc).__name__}", reached=False
            ) from exc
        if response.status_code != 200:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}")
        try:
            status = response.json()
        except ValueError as exc:
            raise EngineUnavailable("rasa answered something that is not JSON") from exc
        return status if isinstance(status, dict) else {}

    async def _post(
        self,
        base_url: str,
        path: str,
        body: object,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST to one engine; a 200 answer, else :class:`EngineUnavailable` saying whether
        the engine may have taken the request."""
        try:
            response = await self._http.post(
                f"{base_url}{path}", json=body, params=params, timeout=self._timeout
            )
        except httpx.ReadTimeout as exc:
            # Rasa took the request and is still working on it (or stuck): it may be kept.
            raise EngineUnavailable(f"rasa did not answer: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            # Not there, or gone mid-request (a killed engine drops its connections; with it
            # goes what it held in memory, its conversation lock expires): safe to send again.
            raise EngineUnavailable(
                f"rasa unreachable: {type(exc).__name__}", reached=False
            ) from exc
        if response.status_code in NOT_THERE:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}", reached=False)
        if response.status_code != 200:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}")
        return response

    async def _on_one_engine(
        self, call: Callable[[str], Awaitable[T]], *, repeatable: bool = False
    ) -> T:
        """``call`` on the engine whose turn it is; on the next one when it was not reached
        (or, ``repeatable``, on any failure); each engine is tried once at most."""
        failure: EngineUnavailable | None = None
        for engine in await self._candidates():
            engine.in_flight += 1
            try:
                result = await call(engine.url)
            except EngineUnavailable as exc:
                if exc.reached and not repeatable:
                    raise
                if not exc.reached:
                    self._leave_out(engine, exc)
                failure = exc
                continue
            finally:
                engine.in_flight -= 1
            if engine.down_until is not None:
                logger.info("rasa engine %s answers again", engine.url)
                engine.down_until = None
            return result
        assert failure is not None  # there is always at least one engine
        raise failure

    async def _candidates(self) -> list[_Engine]:
        """The engines to try, in order: those in rotation, the least busy first (round robin
        among equally busy ones; an engine whose time out is over rejoins once a probe finds it
        ready), then those left out (better a try than no answer when all seem down)."""
        now = self._clock()
        due = [e for e in self._engines if e.down_until is not None and now >= e.down_until]
        for engine in due:
            if not engine.probing:
                await self._probe(engine)
        self._turn = (self._turn + 1) % len(self._engines)
        rotation = self._engines[self._turn :] + self._engines[: self._turn]
        up = sorted((e for e in rotation if e.down_until is None), key=lambda e: e.in_flight)
        left_out = sorted(
            (e for e in self._engines if e.down_until is not None),
            key=lambda e: e.down_until or 0.0,
        )
        return up + left_out

    async def _probe(self, engine: _Engine) -> None:
        engine.probing = True
        try:
            ready = await self._ready(engine.url, PROBE_TIMEOUT_SECONDS)
        finally:
            engine.probing = False
        if ready:
            logger.info("rasa engine %s is back: it gets messages again", engine.url)
            engine.down_until = None
        else:
            engine.down_until = self._clock() + self._down_seconds

    def _leave_out(self, engine: _Engine, failure: EngineUnavailable) -> None:
        if len(self._engines) == 1:
            return  # the only engine is always tried: nothing to spread, nothing to probe
        if engine.down_until is None:
            logger.warning(
                "rasa engine %s left out for %.0f s: %s", engine.url, self._down_seconds, failure
            )
        engine.down_until = self._clock() + self._down_seconds


def take_report(replies: list[BotMessage], key: str) -> tuple[list[BotMessage], Any]:
    """Take what the engine reports to the gateway under ``custom[key]`` out of the replies
    (channels never see it; Rasa's REST channel often sends it as a message of its own, dropped
    when nothing else is left) and return it (the last one, or None)."""
    found: Any = None
    kept: list[BotMessage] = []
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and key in custom:
            found = custom.pop(key)
            if not custom:
                del reply["custom"]
            if not any(name != "recipient_id" for name in reply):
                continue  # nothing left to show
        kept.append(reply)
    return kept, found
