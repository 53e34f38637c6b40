"""``python -m bench.webhooks``: Messenger's webhook path, next to the web chat's, on the real
stack (Rasa, action server, gateway) with a local fake of the Graph API.

1. Acknowledgement: a burst of signed webhooks at a fixed rate (default 200/s for 5 s), each a
   new message; latency of the 200 (p50/p99). Answers are produced in the background meanwhile.
2. End to end: 10 concurrent conversations of 5 turns; time from posting the webhook to the
   answer's arrival at the fake Send API (p50/p95).
3. CPU of the gateway per message on each path (Messenger and the web chat, same messages).

Writes ``var/results/bench/webhooks.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.load_driver import API_HEADERS, API_KEY, percentile
from bot.ops import processes
from bot.ops.settings import ROOT, Settings
from bot.workbench.training import model_path, train
from connectors.meta import sign
from tests.fakes.graph_api import FakeGraphApi, messenger_message

RESULTS = ROOT / "var" / "results" / "bench"
SECRET = "bench-app-secret"
TURNS = ["hola", "como saco mi ruc", "cuanto cuesta sacar el ruc", "que es la clave sol", "gracias"]


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _post(http: httpx.AsyncClient, url: str, body: bytes) -> float:
    started = time.perf_counter()
    response = await http.post(
        url, content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)},
    )  # fmt: skip
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def burst(url: str, rate: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as http:
        tasks = []
        started = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            body = messenger_message(f"burst-{i % 50}", f"m_burst_{uuid.uuid4().hex}", "hola")
            tasks.append(asyncio.create_task(_post(http, url, body)))
        latencies = list(await asyncio.gather(*tasks))
    return latencies


async def conversations(url: str, graph: FakeGraphApi, users: int) -> list[float]:
    latencies: list[float] = []

    async def user(index: int, http: httpx.AsyncClient) -> None:
        sender = f"conv-{index}-{uuid.uuid4().hex[:6]}"
        for turn, text in enumerate(TURNS):
            before = sum(1 for m in graph.messages() if m["recipient"]["id"] == sender)
            started = time.perf_counter()
            await _post(http, url, messenger_message(sender, f"m_{sender}_{turn}", text))
            while sum(1 for m in graph.messages() if m["recipient"]["id"] == sender) <= before:
                await asyncio.sleep(0.002)
            latencies.append((time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(user(i, http) for i in range(users)))
    return latencies


async def webchat_cpu(base_url: str, users: int) -> int:
    async with httpx.AsyncClient(timeout=30) as http:

        async def user(index: int) -> None:
            sender = f"web-{index}-{uuid.uuid4().hex[:6]}"
            for text in TURNS:
                body = {"sender": sender, "message": text}
                response = await http.post(
                    f"{base_url}/webhooks/webchat", json=body, headers=API_HEADERS
                )
                response.raise_for_status()

        await asyncio.gather(*(user(i) for i in range(users)))
    return users * len(TURNS)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    model = model_path() if model_path().exists() else train()
    graph = FakeGraphApi().start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
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
        meta_app_secret=SECRET,
        messenger_verify_token="bench-verify",
        messenger_page_access_token="bench-page",
        graph_api_url=graph.url,
    )
    engine_env = processes.engine_process_environ(settings)
    gateway_env = processes.gateway_process_environ(settings)
    children = [
        processes.spawn("actions", processes.actions_command(settings), engine_env, workdir / "a"),
        processes.spawn("rasa", processes.rasa_command(settings, model), engine_env, workdir / "r"),
        processes.spawn("gateway", processes.gateway_command(), gateway_env, workdir / "g"),
    ]
    base_url = f"http://127.0.0.1:{settings.gateway_port}"
    url = f"{base_url}/webhooks/messenger"
    gateway = children[2].process
    try:
        processes.wait_healthy(base_url, 300, children)
        print(f"[1/3] burst of {args.rate} webhooks/s for {args.seconds:.0f} s", flush=True)
        acks = asyncio.run(burst(url, args.rate, args.seconds))
        expected = len(acks)
        deadline = time.monotonic() + 300
        while len(graph.messages()) < expected and time.monotonic() < deadline:
            time.sleep(0.5)  # let the burst's answers drain before measuring the rest
        print(f"[2/3] {args.users} conversations x {len(TURNS)} turns, end to end", flush=True)
        cpu0, sent0 = _cpu(gateway.pid), len(graph.messages())
        e2e = asyncio.run(conversations(url, graph, args.users))
        messenger_cpu = (_cpu(gateway.pid) - cpu0) / max(1, len(graph.messages()) - sent0) * 1000
        print("[3/3] the same conversations through the web chat", flush=True)
        cpu0 = _cpu(gateway.pid)
        count = asyncio.run(webchat_cpu(base_url, args.users))
        web_cpu = (_cpu(gateway.pid) - cpu0) / count * 1000
    finally:
        processes.stop(children)
        graph.stop()
    results: dict[str, Any] = {
        "command": "python -m bench.webhooks " + " ".join(sys.argv[1:]),
        "burst": {"rate": args.rate, "seconds": args.seconds, "n": len(acks),
                  "p50_ms": percentile(acks, 0.5), "p99_ms": percentile(acks, 0.99),
                  "answered": len(graph.messages()) >= expected},
        "end_to_end": {"users": args.users, "n": len(e2e), "p50_ms": percentile(e2e, 0.5),
                       "p95_ms": percentile(e2e, 0.95)},
        "cpu_ms_per_message": {"messenger": messenger_cpu, "webchat": web_cpu},
    }  # fmt: skip
    (RESULTS / "webhooks.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
