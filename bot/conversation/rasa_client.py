"""Client of the Rasa engine: its REST channel (messages) and HTTP API (status)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bot.conversation.channel import BotMessage

logger = logging.getLogger(__name__)


#: Answers of a proxy in front of an engine that is not there (the message never reached it).
NOT_THERE = (502, 503)


class EngineUnavailable(Exception):
    """Rasa (or the action server behind it) could not answer.

    ``reached``: Rasa may have taken the message (a timeout, an error or an empty answer after
    it was sent), so sending it again could repeat it in the conversation. False when it was
    not taken for sure (no connection, a connection dropped by a dying engine, or a proxy
    saying the engine is not there)."""

    def __init__(self, message: str, *, reached: bool = True) -> None:
        super().__init__(message)
        self.reached = reached


class RasaClient:
    """Talks to Rasa through the gateway's shared ``httpx.AsyncClient``."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, timeout: float) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Send one user message; return the bot's replies.

        Raises :class:`EngineUnavailable` when Rasa cannot be reached, fails, or returns no
        answer at all (every intent has an answer, so an empty reply means an action failed).
        """
        body = {"sender": sender_id, "message": text, "metadata": metadata or {}}
        try:
            response = await self._http.post(
                f"{self._base_url}/webhooks/rest/webhook", json=body, timeout=self._timeout
            )
        except httpx.ReadTimeout as exc:
            # Rasa took the message and is still working on it (or stuck): it may be kept.
            raise EngineUnavailable(f"rasa did not answer: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            # Not there, or gone mid-request (a killed engine drops its connections; with it
            # goes what it held in memory): safe to send again.
            raise EngineUnavailable(
                f"rasa unreachable: {type(exc).__name__}", reached=False
            ) from exc
        if response.status_code in NOT_THERE:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}", reached=False)
        if response.status_code != 200:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}")
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
        try:
            response = await self._http.post(
                f"{self._base_url}/webhooks/rest/webhook", json=body, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}")

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to a conversation's tracker (HTTP API, token-protected): what the
        citizen and an agent said while people owned the conversation."""
        try:
            response = await self._http.post(
                f"{self._base_url}/conversations/{quote(sender_id, safe=':')}/tracker/events",
                params={"token": self._token, "include_events": "NONE"},
                json=events,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}")

    async def parse(self, text: str) -> dict[str, Any]:
        """What the live model understands of ``text`` (intent ranking), without a turn."""
        try:
            response = await self._http.post(
                f"{self._base_url}/model/parse",
                params={"token": self._token},
                json={"text": text},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}")
        parsed: dict[str, Any] = response.json()
        return parsed

    async def loaded_model(self) -> str | None:
        """The file name of the model Rasa has loaded, if any."""
        try:
            response = await self._http.get(
                f"{self._base_url}/status", params={"token": self._token}, timeout=5.0
            )
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise EngineUnavailable(f"rasa answered HTTP {response.status_code}")
        model = (response.json() or {}).get("model_file")
        return Path(str(model)).name if model else None

    async def replace_model(self, model_file: Path) -> None:
        """Load another model (Rasa's ``PUT /model``); the current one answers meanwhile."""
        try:
            response = await self._http.put(
                f"{self._base_url}/model",
                params={"token": self._token},
                json={"model_file": str(model_file)},
                timeout=300.0,
            )
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code not in (200, 204):
            raise EngineUnavailable(f"rasa refused the model: HTTP {response.status_code}")

    async def is_ready(self) -> bool:
        """Rasa answers its status API and has a model loaded."""
        try:
            response = await self._http.get(
                f"{self._base_url}/status", params={"token": self._token}, timeout=3.0
            )
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        try:
            status = response.json()
        except ValueError:
            return False
        return isinstance(status, dict) and bool(status.get("model_file"))


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
