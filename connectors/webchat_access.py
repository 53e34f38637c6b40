"""Who may use a web chat conversation: a citizen's session cookie, or an integrator's API key.

- Citizens (the page at ``/``, also inside another site's iframe) hold a session the gateway
  issued (:mod:`bot.conversation.webchat_sessions`) in an HttpOnly cookie; a ``sender`` they send is
  ignored.
- Servers of integrators send ``X-Api-Key`` (one of ``WEBCHAT_API_KEYS``, compared in constant
  time) and name the conversation themselves with ``sender``.

The cookie is ``SameSite=None; Secure; Partitioned`` (CHIPS) wherever the browser can keep a
Secure cookie (``SECURE_COOKIES``, HTTPS, or a loopback host, which browsers treat as secure),
so it also works in an embedding site's iframe, partitioned by that site; ``SameSite=Lax``
over plain HTTP elsewhere (development on a LAN address).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from fastapi import Request, Response
from pydantic import SecretStr

from bot.conversation.channel import ChannelError
from bot.conversation.webchat_sessions import SESSION_SENDER_PREFIX, WebchatSession, WebchatSessions
from bot.ops.settings import Settings

COOKIE = "asistente_webchat"
API_KEY_HEADER = "X-Api-Key"
#: Where an integrator may name the conversation on a GET (``?sender=`` works too).
SENDER_HEADER = "X-Webchat-Sender"
MAX_SENDER_CHARS = 128
#: Hosts browsers treat as secure contexts even over plain HTTP.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

NO_SESSION = "Tu conversación terminó o no existe. Recarga la página para empezar una nueva."
BAD_KEY = "La clave de API no es válida."


@dataclass(frozen=True)
class WebchatCaller:
    """Whose conversation a request is about: ``sender`` is its key in the web chat channel.

    ``session_token`` is the citizen's cookie and ``session`` what it opens (both None for an
    integrator with an API key)."""

    sender: str
    session_token: str | None = None
    session: WebchatSession | None = None

    @property
    def integrator(self) -> bool:
        return self.session_token is None


def check_sender(value: str) -> str:
    """A conversation key an integrator chose: 1–128 characters, no control characters."""
    if not value or len(value) > MAX_SENDER_CHARS:
        raise ValueError(f"sender must have 1 to {MAX_SENDER_CHARS} characters")
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise ValueError("sender must not contain control characters")
    return value


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def api_key_matches(given: str, keys: list[SecretStr]) -> bool:
    """Whether ``given`` is one of ``keys``; every key is compared, each in constant time."""
    given_digest = _digest(given)
    found = False
    for key in keys:
        found |= hmac.compare_digest(given_digest, _digest(key.get_secret_value()))
    return found


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def sessions_of(request: Request) -> WebchatSessions:
    sessions: WebchatSessions = request.app.state.webchat_sessions
    return sessions


async def identify(request: Request, sender: str | None) -> WebchatCaller:
    """The caller of a web chat route, or a 401/422 :class:`ChannelError`.

    ``sender`` counts only with a valid API key; without one the session cookie decides."""
    given_key = request.headers.get(API_KEY_HEADER)
    if given_key is not None:
        if not api_key_matches(given_key, _settings(request).webchat_api_keys):
            raise ChannelError(401, "invalid_api_key", BAD_KEY)
        if sender is None:
            raise ChannelError(
                422, "sender_required", "Con una clave de API indica la conversación (sender)."
            )
        try:
            if sender.startswith(SESSION_SENDER_PREFIX):
                raise ValueError("a citizen's session, not an integrator's conversation")
            return WebchatCaller(check_sender(sender))
        except ValueError as exc:
            raise ChannelError(
                422, "invalid_sender", "El identificador de conversación no es válido."
            ) from exc
    token = request.cookies.get(COOKIE)
    session = await sessions_of(request).find(token)
    if token is None or session is None:
        raise ChannelError(401, "session_required", NO_SESSION)
    return WebchatCaller(session.sender_id, token, session)


def refuse_cross_site(request: Request) -> None:
    """A 403 for a state-changing request another site's page made with the citizen's cookie.

    The chat page (even inside an embedding site's iframe) calls its own origin: same-origin.
    Origins in ``WEBCHAT_ALLOWED_ORIGINS`` may call cross-site."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site in ("same-origin", "none"):
        return
    if origin in _settings(request).webchat_allowed_origins:
        return
    # Browsers that send no Sec-Fetch-Site still send Origin on cross-site writes.
    own = f"{request.url.scheme}://{request.url.netloc}"
    if site is None and origin in (None, own):
        return
    raise ChannelError(403, "cross_site", "Esta solicitud no viene de la página del asistente.")


def _cookie_attributes(request: Request) -> str:
    host = request.url.hostname or ""
    if (
        _settings(request).secure_cookies
        or request.url.scheme == "https"
        or host in LOOPBACK_HOSTS
        or host.endswith(".localhost")
    ):
        return "SameSite=None; Secure; Partitioned"
    return "SameSite=Lax"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session's cookie: HttpOnly, for the browser's session (the server expires it)."""
    response.headers.append(
        "set-cookie", f"{COOKIE}={token}; Path=/; HttpOnly; {_cookie_attributes(request)}"
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.headers.append(
        "set-cookie",
        f'{COOKIE}=""; Max-Age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; '
        f"{_cookie_attributes(request)}",
    )
