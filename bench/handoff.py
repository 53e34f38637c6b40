"""``python -m bench.handoff``: the agents' desk on the real stack (Rasa, action server, gateway).

1. Escalation to console: an agent's console is open (WebSocket); citizens ask for a person
   one after another through the web chat; time from posting the message to the chat's
   appearance in the console (p50/p95). In the same run, a console that polls the queue API
   every second (what a desk without push does) sees the same chats: its delay is measured too.
2. A queue of 500 open conversations: the queue listing (``GET /api/handoffs``) and one chat's
   detail, as a supervisor, p50/p95 over repeated requests; and an escalation while they wait.

Writes ``var/results/bench/handoff.json`` and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.load_driver import API_HEADERS, API_KEY, percentile
from bot.ops import processes
from bot.ops.settings import ROOT, Settings
from bot.web.deps import COOKIE, CSRF_HEADER
from bot.workbench.training import model_path, train

RESULTS = ROOT / "var" / "results" / "bench"
PASSWORD = "bench-clave-larga-123"
ASK = "quiero hablar con un asesor"


def _create_user(settings: Settings, username: str, role: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", "create-user", username, "--role", role,
         "--password-stdin"],
        input=PASSWORD + "\n", text=True, check=True, cwd=ROOT, capture_output=True,
        env={**processes.gateway_process_environ(settings),
             "DATABASE_URL": settings.database_url},
    )  # fmt: skip


async def _login(http: httpx.AsyncClient, username: str) -> tuple[str, str]:
    response = await http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return response.cookies[COOKIE], response.json()["csrf_token"]


async def escalations(base_url: str, count: int) -> dict[str, list[float]]:
    """Push (WebSocket) and polling (1 s) delays from the citizen's message to the console."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        cookie, _ = await _login(http, "agente")
        http.cookies.clear()
        headers = {"Cookie": f"{COOKIE}={cookie}"}
        ws_url = base_url.replace("http://", "ws://") + "/api/console/events"
        sent_at: dict[str, float] = {}
        pushed: dict[str, float] = {}
        polled: dict[str, float] = {}
        async with websockets.connect(ws_url, additional_headers=headers) as socket:

            async def listen() -> None:
                async for raw in socket:
                    event = json.loads(raw)
                    handoff = event.get("handoff") or {}
                    if event.get("type") == "handoff" and handoff.get("state") == "pending":
                        pushed.setdefault(str(handoff["id"]), time.perf_counter())

            async def poll() -> None:
                while True:
                    response = await http.get("/api/handoffs", headers=headers)
                    now = time.perf_counter()
                    for item in response.json():
                        polled.setdefault(str(item["id"]), now)
                    await asyncio.sleep(1.0)

            listener = asyncio.create_task(listen())
            poller = asyncio.create_task(poll())
            push_delays: list[float] = []
            poll_delays: list[float] = []
            try:
                for index in range(count):
                    sender = f"bench-handoff-{index}-{uuid.uuid4().hex[:6]}"
                    before = set(pushed)
                    started = time.perf_counter()
                    sent_at[sender] = started
                    response = await http.post(
                        "/webhooks/webchat",
                        json={"sender": sender, "message": ASK},
                        headers=API_HEADERS,
                    )
                    response.raise_for_status()
                    deadline = time.perf_counter() + 10
                    while set(pushed) == before and time.perf_counter() < deadline:
                        await asyncio.sleep(0.001)
                    [new] = set(pushed) - before
                    push_delays.append((pushed[new] - started) * 1000)
                    while new not in polled and time.perf_counter() < deadline + 5:
                        await asyncio.sleep(0.005)
                    poll_delays.append((polled[new] - started) * 1000)
                    # Close it so the next citizen is first in line again.
                    await _close_as_supervisor(http, int(new))
                    await asyncio.sleep(0.3)
            finally:
                listener.cancel()
                poller.cancel()
    return {"push_ms": push_delays, "poll_ms": poll_delays}


_SUPERVISOR: dict[str, str] = {}


async def _close_as_supervisor(http: httpx.AsyncClient, handoff_id: int) -> None:
    if not _SUPERVISOR:
        cookie, csrf = await _login(http, "supervisora")
        http.cookies.clear()
        _SUPERVISOR.update(cookie=cookie, csrf=csrf)
    response = await http.post(
        f"/api/handoffs/{handoff_id}/close",
        json={"resolution": "resuelto"},
        headers={"Cookie": f"{COOKIE}={_SUPERVISOR['cookie']}", CSRF_HEADER: _SUPERVISOR["csrf"]},
    )
    response.raise_for_status()


async def big_queue(base_url: str, size: int, requests: int) -> dict[str, Any]:
    """``size`` citizens waiting; listing and detail latency for a supervisor."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        cookie, _ = await _login(http, "supervisora")
        http.cookies.clear()
        headers = {"Cookie": f"{COOKIE}={cookie}"}
        semaphore = asyncio.Semaphore(10)

        async def ask(index: int) -> None:
            async with semaphore:
                response = await http.post(
                    "/webhooks/webchat",
                    json={"sender": f"cola-{index}", "message": ASK},
                    headers=API_HEADERS,
                )
                response.raise_for_status()

        await asyncio.gather(*(ask(i) for i in range(size)))
        queue = (await http.get("/api/handoffs", headers=headers)).json()
        listing: list[float] = []
        detail: list[float] = []
        for index in range(requests):
            started = time.perf_counter()
            response = await http.get("/api/handoffs", headers=headers)
            response.raise_for_status()
            listing.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            response = await http.get(
                f"/api/handoffs/{queue[index % len(queue)]['id']}", headers=headers
            )
            response.raise_for_status()
            detail.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        response = await http.post(
            "/webhooks/webchat",
            json={"sender": "cola-extra", "message": ASK},
            headers=API_HEADERS,
        )
        escalation_ms = (time.perf_counter() - started) * 1000
        position = response.json()[0]["text"]
    return {"waiting": len(queue), "list_ms": listing, "detail_ms": detail,
            "escalation_ms": escalation_ms, "reply": position}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.handoff")
    parser.add_argument("--escalations", type=int, default=40)
    parser.add_argument("--queue", type=int, default=500)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    model = model_path() if model_path().exists() else train()
    workdir = Path(tempfile.mkdtemp(prefix="bench-handoff-"))
    gateway_port, rasa_port, actions_port = processes.free_ports(3)
    settings = Settings(
        _env_file=None,
        gateway_port=gateway_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{actions_port}",
        rasa_token=uuid.uuid4().hex * 2,
        database_url=f"sqlite+aiosqlite:///{workdir / 'gateway.db'}",
        log_level="WARNING",
        webchat_api_keys=[API_KEY],
    )
    _create_user(settings, "agente", "agent")
    _create_user(settings, "supervisora", "supervisor")
    engine_env = processes.engine_process_environ(settings)
    gateway_env = processes.gateway_process_environ(settings)
    children = [
        processes.spawn("actions", processes.actions_command(settings), engine_env, workdir / "a"),
        processes.spawn("rasa", processes.rasa_command(settings, model), engine_env, workdir / "r"),
        processes.spawn("gateway", processes.gateway_command(), gateway_env, workdir / "g"),
    ]
    base_url = f"http://127.0.0.1:{settings.gateway_port}"
    try:
        processes.wait_healthy(base_url, 300, children)
        print(f"[1/2] {args.escalations} escalations: push vs polling", flush=True)
        delays = asyncio.run(escalations(base_url, args.escalations))
        print(f"[2/2] a queue of {args.queue} open conversations", flush=True)
        queue = asyncio.run(big_queue(base_url, args.queue, args.requests))
    finally:
        processes.stop(children)
    push, poll = delays["push_ms"], delays["poll_ms"]
    results: dict[str, Any] = {
        "command": "python -m bench.handoff " + " ".join(sys.argv[1:]),
        "escalation_to_console": {
            "n": len(push),
            "push_p50_ms": percentile(push, 0.5), "push_p95_ms": percentile(push, 0.95),
            "poll_p50_ms": percentile(poll, 0.5), "poll_p95_ms": percentile(poll, 0.95),
        },
        "queue": {
            "waiting": queue["waiting"], "requests": args.requests,
            "list_p50_ms": percentile(queue["list_ms"], 0.5),
            "list_p95_ms": percentile(queue["list_ms"], 0.95),
            "detail_p50_ms": percentile(queue["detail_ms"], 0.5),
            "detail_p95_ms": percentile(queue["detail_ms"], 0.95),
            "escalation_with_queue_ms": queue["escalation_ms"],
        },
    }  # fmt: skip
    (RESULTS / "handoff.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
