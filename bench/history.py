"""``python -m bench.history``: the cost of long conversations in the engine (issue 15).

Concurrent users each hold one long conversation (100 turns by default) with the Spanish mix of
``make bench`` (greeting, RUC, regime advisor, Clave SOL, thanks: bench/load_driver.py; the
advisor's questions answered), sent to Rasa's own REST channel, and every answer's latency is
kept with its turn number. The same load
runs, in one run on the same Rasa model and action server, against

a. Rasa with the project's endpoints.yml: the kept window of the past
   (:mod:`bot.engine.tracker_window`),
b. Rasa with its own in-memory tracker store (the same endpoints without ``tracker_store``):
   every message replays and featurises the whole conversation.

Runs alternate (a, b, a, b…) and each turn band keeps the latencies of every run. The figures are
p50/p95 of the turns around turn 5 (3–7) and around the last turn (the last five), and their
ratio; the issue's target is turn 100 within 1.5× the p95 of turn 5. Writes
``var/results/bench/history.json`` and its section of ``docs/benchmarks.md`` (between its
markers, so ``python -m bench.load`` keeps it), and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.doc_section import replace_section
from bench.load_driver import CONVERSATIONS, percentile
from bench.report import machine
from bot.ops import processes
from bot.ops.processes import Child, free_ports
from bot.ops.settings import ROOT, Settings
from bot.workbench.training import MODELS

DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "var" / "results" / "bench"
BEGIN, END = "<!-- bench.history: begin -->", "<!-- bench.history: end -->"
TARGET_RATIO = 1.5
#: The regime advisor asked and answered (the load mix only asks: a form left open for 95
#: turns is not a conversation people have).
ADVISOR = ["que regimen me conviene", "vendo unos 7 mil al mes", "compro como 3 mil",
           "tengo una bodega", "nada", "solo yo"]  # fmt: skip


def spoken(conversation: list[str]) -> list[str]:
    """A conversation of the mix, the advisor answered where it is asked."""
    return [p for text in conversation for p in (ADVISOR if text == ADVISOR[0] else [text])]


#: The phrasings of one long conversation: the mix's conversations one after another.
PHRASES = [phrase for conversation in CONVERSATIONS for phrase in spoken(conversation)]
#: Where each of the mix's conversations begins in PHRASES: each user starts at one of them.
STARTS = list(itertools.accumulate((len(spoken(c)) for c in CONVERSATIONS[:-1]), initial=0))
WINDOW = "kept window (endpoints.yml)"
FULL = "full history (Rasa's in-memory store)"


def latest_model() -> Path:
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("error: no model in models/; run `make train` first")
    return models[-1]


def full_history_endpoints(directory: Path) -> Path:
    """endpoints.yml without its tracker store: Rasa's own in-memory store."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints.pop("tracker_store", None)
    path = directory / "endpoints-full-history.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def wait_ready(settings: Settings, children: list[Child], timeout: float = 300.0) -> None:
    """Until Rasa has loaded its model and the action server answers."""
    deadline = time.monotonic() + timeout
    token = settings.rasa_token.get_secret_value()
    while time.monotonic() < deadline:
        if dead := [c.name for c in children if c.process.poll() is not None]:
            raise SystemExit(f"error: {', '.join(dead)} stopped (logs in {RESULTS})")
        try:
            status = httpx.get(f"{settings.rasa_url}/status", params={"token": token}, timeout=3)
            actions = httpx.get(f"{settings.action_server_url}/health", timeout=3)
            loaded = status.status_code == 200 and status.json().get("model_file")
            if loaded and actions.status_code == 200:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1.0)
    raise SystemExit("error: Rasa did not load its model in time")


async def conversations(rasa_url: str, users: int, turns: int) -> dict[str, Any]:
    """``users`` concurrent conversations of ``turns`` turns; latencies (ms) by turn."""
    by_turn: list[list[float]] = [[] for _ in range(turns)]
    errors = 0

    async def user(index: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        sender = f"history-{uuid.uuid4().hex[:12]}"
        for turn in range(turns):
            text = PHRASES[(STARTS[index % len(STARTS)] + turn) % len(PHRASES)]
            started = time.perf_counter()
            try:
                response = await http.post(
                    f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                )
                ok = response.status_code == 200 and bool(response.json())
            except (httpx.HTTPError, ValueError):
                ok = False
            if ok:
                by_turn[turn].append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        for text in PHRASES[:5]:  # warm-up, not measured
            await http.post(
                f"{rasa_url}/webhooks/rest/webhook", json={"sender": "warmup", "message": text}
            )
        started = time.perf_counter()
        await asyncio.gather(*(user(i, http) for i in range(users)))
        seconds = time.perf_counter() - started
    answered = sum(len(t) for t in by_turn)
    return {"by_turn": by_turn, "errors": errors, "throughput": answered / seconds}


def band(by_turn: list[list[float]], first: int, last: int) -> list[float]:
    """Latencies of turns ``first``..``last`` (1-based, inclusive)."""
    return [ms for turn in by_turn[first - 1 : last] for ms in turn]


def summary(runs: list[dict[str, Any]], turns: int) -> dict[str, Any]:
    by_turn = [[ms for run in runs for ms in run["by_turn"][t]] for t in range(turns)]
    early, late = band(by_turn, 3, 7), band(by_turn, turns - 4, turns)
    return {
        "turn5_p50": percentile(early, 0.5),
        "turn5_p95": percentile(early, 0.95),
        "last_p50": percentile(late, 0.5),
        "last_p95": percentile(late, 0.95),
        "ratio_p95": percentile(late, 0.95) / percentile(early, 0.95),
        "samples": len(early),
        "errors": sum(r["errors"] for r in runs),
        "throughput": sorted(r["throughput"] for r in runs)[len(runs) // 2],
        # p50 by tens of turns: the curve.
        "curve_p50": [percentile(band(by_turn, t + 1, min(t + 10, turns)), 0.5)
                      for t in range(0, turns, 10)],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history")
    parser.add_argument("--users", type=int, default=10, help="concurrent conversations")
    parser.add_argument("--turns", type=int, default=100, help="turns of each conversation")
    parser.add_argument("--repeat", type=int, default=2, help="runs per target, alternating")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    model = args.model or latest_model()
    rasa_port, actions_port = free_ports(2)
    settings = Settings(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{actions_port}",
        rasa_token=uuid.uuid4().hex + uuid.uuid4().hex,
        log_level="WARNING",
    )
    endpoints = {WINDOW: "endpoints.yml", FULL: str(full_history_endpoints(RESULTS))}
    env = processes.engine_process_environ(settings)
    actions = processes.spawn(
        "actions", processes.actions_command(settings), env, RESULTS / "history-actions.log"
    )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
    load_before = os.getloadavg()[0]
    try:
        for repeat in range(args.repeat):
            for name, path in endpoints.items():
                target = settings.model_copy(update={"rasa_endpoints": path})
                rasa_command = processes.rasa_command(target, model)
                rasa = processes.spawn("rasa", rasa_command, env, RESULTS / "history-rasa.log")
                try:
                    wait_ready(settings, [actions, rasa])
                    print(f"[history {repeat + 1}/{args.repeat}] {name}: {args.users} users × "
                          f"{args.turns} turns", flush=True)  # fmt: skip
                    run = asyncio.run(conversations(settings.rasa_url, args.users, args.turns))
                    runs[name].append(run)
                    print(f"  {run['throughput']:.1f} msg/s, {run['errors']} errors", flush=True)
                finally:
                    processes.stop([rasa])
    finally:
        processes.stop([actions])
    command = "python -m bench.history " + " ".join(sys.argv[1:])
    results: dict[str, Any] = {
        "command": command.strip(),
        "machine": machine(),
        "date": dt.date.today().isoformat(),
        "model": model.name,
        "users": args.users,
        "turns": args.turns,
        "repeat": args.repeat,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "targets": {name: summary(r, args.turns) for name, r in runs.items()},
    }
    (RESULTS / "history.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_section(results)
    ours, full = results["targets"][WINDOW], results["targets"][FULL]
    print(
        f"history done: turn {args.turns} p95 {ours['last_p95']:.0f} ms vs turn 5 "
        f"{ours['turn5_p95']:.0f} ms = {ours['ratio_p95']:.2f}x with the kept window "
        f"(target ≤ {TARGET_RATIO}x: {'met' if ours['ratio_p95'] <= TARGET_RATIO else 'NOT met'}); "
        f"{full['ratio_p95']:.2f}x with the full history ({full['last_p95']:.0f} vs "
        f"{full['turn5_p95']:.0f} ms); {ours['throughput']:.1f} vs {full['throughput']:.1f} msg/s",
        flush=True,
    )
    return 0


def render(r: dict[str, Any]) -> str:
    rows = []
    for name, s in r["targets"].items():
        rows.append(
            f"| {name} | {s['throughput']:.1f} | {s['turn5_p50']:.0f} | {s['turn5_p95']:.0f} | "
            f"{s['last_p50']:.0f} | {s['last_p95']:.0f} | {s['ratio_p95']:.2f}× | {s['errors']} |"
        )
    curves = "\n".join(
        f"- {name}: " + ", ".join(f"{ms:.0f}" for ms in s["curve_p50"])
        for name, s in r["targets"].items()
    )
    ours = r["targets"][WINDOW]
    met = "yes" if ours["ratio_p95"] <= TARGET_RATIO else "no"
    table = "\n".join(rows)
    turns = r["turns"]
    return f"""{BEGIN}
## Long conversations in the engine (issue 15)

`{r["command"]}`, {r["date"]} on {r["machine"]} (load average {r["load_before"]:.1f} before,
{r["load_after"]:.1f} after): {r["users"]} concurrent users, each holding one {turns}-turn
conversation (the Spanish mix of the load test, one conversation after another) against Rasa's
REST channel, model `{r["model"]}`; {r["repeat"]} runs per target, alternating, with the same
action server. "Turn 5" is turns 3–7 of every conversation ({ours["samples"]} answers), "turn
{turns}" the last five turns. The kept window (`bot/engine/tracker_window.py`) keeps the
conversation's state (slots, active form, pause) and its last turns, and replays only those;
Rasa's own in-memory store replays and featurises the whole conversation on every message.

| Rasa's tracker store | msg/s | turn 5 p50 ms | p95 | turn {turns} p50 | p95 | ratio | errors |
|---|---|---|---|---|---|---|---|
{table}

p50 (ms) by tens of turns:

{curves}

| target (issue 15) | measured | met |
|---|---|---|
| turn {turns} within {TARGET_RATIO}× the p95 of turn 5 | {ours["ratio_p95"]:.2f}× | {met} |
{END}
"""


def write_section(results: dict[str, Any]) -> None:
    section = render(results)
    replace_section(DOC, section, BEGIN, END)


if __name__ == "__main__":
    raise SystemExit(main())
