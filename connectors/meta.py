"""What Messenger and WhatsApp share: Meta's webhook subscription check and request signature.

- Subscription: Meta calls ``GET`` with ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge``; the challenge is echoed as plain text only for our verify token.
- Signature: ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body with the
  app secret, compared in constant time. Nothing is parsed before it matches.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from connectors.base import ChannelError

SIGNATURE_HEADER = "x-hub-signature-256"


def check_subscription(mode: str | None, token: str | None, expected: str) -> None:
    if (
        mode != "subscribe"
        or token is None
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise ChannelError(403, "verification_failed", "Verificación de webhook rechazada.")


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``body`` (tests and the fake Graph API use it too)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(body: bytes, headers: Mapping[str, str], app_secret: str) -> None:
    received = headers.get(SIGNATURE_HEADER, "")
    if not received.startswith("sha256=") or not hmac.compare_digest(
        received.encode(), sign(body, app_secret).encode()
    ):
        raise ChannelError(403, "invalid_signature", "Firma del webhook inválida.")
