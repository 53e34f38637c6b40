"""The load driver of ``make bench``: concurrent users holding 5-turn conversations against the
gateway's web chat or Rasa's REST channel, with the latency of every answer."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from connectors.webchat_access import API_KEY_HEADER

CONVERSATIONS = [
    ["hola", "como saco mi ruc", "cuanto cuesta sacar el ruc", "que regimen me conviene",
     "gracias"],
    ["buenas tardes", "que es la clave sol", "me olvide mi clave sol",
     "cuando vence mi declaracion", "chau"],
    ["oe una consulta", "diferencia entre boleta y factura", "desde que monto doy boleta",
     "como emito factura electronica", "gracias causa"],
    ["hola", "cuanto es la uit", "cuanto es el igv", "que es el nuevo rus", "ok gracias"],
]  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    """The value below which a share ``q`` of ``values`` falls (NaN for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


@dataclass
class Load:
    name: str
    latencies_ms: list[float]
    seconds: float
    errors: int

    @property
    def throughput(self) -> float:
        """Messages answered (errors excluded) per second."""
        return len(self.latencies_ms) / self.seconds

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


Send = Callable[[httpx.AsyncClient, str, str], Awaitable[bool]]

#: The benchmarks call the web chat as an integrator's server (naming each conversation) with
#: this run's key, which their gateways accept (WEBCHAT_API_KEYS).
API_KEY = secrets.token_urlsafe(32)
API_HEADERS = {API_KEY_HEADER: API_KEY}


async def run_load(name: str, send: Send, users: int, rounds: int) -> Load:
    """``users`` concurrent users, each holding ``rounds`` 5-turn conversations."""
    latencies: list[float] = []
    errors = 0

    async def user(index: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        for r in range(rounds):
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for text in CONVERSATIONS[(index + r) % len(CONVERSATIONS)]:
                started = time.perf_counter()
                try:
                    ok = await send(http, sender, text)
                except (httpx.HTTPError, ValueError):  # transport failure, body not JSON
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        # Warm-up: one conversation, not measured.
        for text in CONVERSATIONS[0]:
            await send(http, "bench-warmup", text)
        started = time.perf_counter()
        await asyncio.gather(*(user(i, http) for i in range(users)))
        seconds = time.perf_counter() - started
    return Load(name, latencies, seconds, errors)


def gateway_sender(base_url: str, notice: str) -> Send:
    async def send(http: httpx.AsyncClient, sender: str, text: str) -> bool:
        response = await http.post(
            f"{base_url}/webhooks/webchat",
            json={"sender": sender, "message": text},
            headers=API_HEADERS,
        )
        replies = response.json() if response.status_code == 200 else []
        return bool(replies) and replies[0].get("text") != notice

    return send


def rasa_sender(rasa_url: str) -> Send:
    async def send(http: httpx.AsyncClient, sender: str, text: str) -> bool:
        response = await http.post(
            f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        )
        return response.status_code == 200 and bool(response.json())

    return send
