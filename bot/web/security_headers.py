"""Security headers on every HTTP answer of the gateway (pages, JSON, static files, errors).

- ``Content-Security-Policy``: scripts, styles, connections and images from the gateway only, no
  inline scripts or ``style`` attributes, no plugins; no page may be framed (``frame-ancestors
  'none'`` and ``X-Frame-Options: DENY``) — except the web chat page ``/``, which ``embed.js``
  puts in an iframe on the sites listed in WEBCHAT_ALLOWED_ORIGINS.
- ``/docs`` and ``/redoc`` (only served when API_DOCS is on) load Swagger UI and ReDoc from their
  CDN with an inline start-up script: they get a policy that allows exactly that.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` everywhere;
  ``Cross-Origin-Resource-Policy: same-origin`` except under ``/static/`` (``embed.js`` is loaded
  by citizens' sites with a script tag).
- ``Strict-Transport-Security`` only when the deployment is served over HTTPS (SECURE_COOKIES).

A header the route set itself is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The web chat page, framed by ``embed.js`` on the allowed sites.
WEBCHAT_PAGE = "/"
#: Files other sites may load (``embed.js``).
EMBEDDABLE_PREFIX = "/static/"
#: Swagger UI and ReDoc: CDN assets and an inline start-up script.
DOCS_PAGES = ("/docs", "/redoc")
#: One year; HSTS is sent only by HTTPS deployments.
HSTS_SECONDS = 365 * 24 * 3600

_BASE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)
_DOCS_CDN = "https://cdn.jsdelivr.net"
_DOCS_POLICY = (
    "default-src 'self'",
    f"script-src 'self' 'unsafe-inline' {_DOCS_CDN}",
    f"style-src 'self' 'unsafe-inline' {_DOCS_CDN} https://fonts.googleapis.com",
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src 'self' https://fonts.gstatic.com",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
#: A frame-ancestors source: ``*`` or a scheme with a host (and port), nothing that could end
#: the directive (``;``, ``,``, quotes, spaces).
_FRAME_SOURCE = re.compile(r"^(\*|https?://[A-Za-z0-9.*-]+(:\d{1,5})?)$")


def frame_sources(origins: Sequence[str]) -> str:
    """The ``frame-ancestors`` sources of the web chat page: itself and ``origins``.

    Raises ``ValueError`` naming an origin that is not ``scheme://host[:port]`` (or ``*``).
    """
    sources = ["'self'"]
    for origin in origins:
        origin = origin.rstrip("/")
        if not _FRAME_SOURCE.match(origin):
            raise ValueError(
                f"WEBCHAT_ALLOWED_ORIGINS: {origin!r} is not an origin like https://www.sunat.gob.pe"
            )
        sources.append(origin)
    return " ".join(sources)


class SecurityHeaders:
    """Pure ASGI middleware (streams and server-sent events pass through untouched)."""

    def __init__(
        self, app: ASGIApp, *, embedding_origins: Sequence[str] = (), https: bool = False
    ) -> None:
        self.app = app
        strict = "; ".join((*_BASE_POLICY, "frame-ancestors 'none'"))
        chat = "; ".join((*_BASE_POLICY, f"frame-ancestors {frame_sources(embedding_origins)}"))
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]
        if https:
            common.append((b"strict-transport-security", f"max-age={HSTS_SECONDS}".encode()))
        self._default = [
            *common,
            (b"content-security-policy", strict.encode()),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        self._webchat_page = [
            *common,
            (b"content-security-policy", chat.encode()),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        self._embeddable = [
            *common,
            (b"content-security-policy", strict.encode()),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"cross-origin"),
        ]
        self._docs = [
            *common,
            (b"content-security-policy", "; ".join(_DOCS_POLICY).encode()),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        """The headers an answer to ``path`` carries."""
        if path == WEBCHAT_PAGE:
            return self._webchat_page
        if path.startswith(EMBEDDABLE_PREFIX):
            return self._embeddable
        if path in DOCS_PAGES or path.startswith("/docs/"):
            return self._docs
        return self._default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name.decode() not in headers:
                        headers.raw.append((name, value))
            await send(message)

        await self.app(scope, receive, send_with_headers)
