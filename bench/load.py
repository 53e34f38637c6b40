"""``make bench``: pipeline comparison and load test, written to docs/benchmarks.md.

1. Pipelines: each candidate config is trained from scratch (fresh Rasa cache, timed),
   evaluated on the held-out file (macro-F1) and timed per parse in process.
2. Load: 10 concurrent users, each holding 5-turn conversations, against
   a. the gateway (``POST /webhooks/webchat``) with the project's model,
   b. Rasa's own REST channel directly, same model, same Rasa process,
   c. the gateway with the same data trained on Rasa's default config (DIET, TED, UnexpecTED).
   Everything runs in one run on this machine, loopback only.

The users and their conversations are in bench/load_driver.py, the document's sections in
bench/report.py; the other benchmarks (padrón, webhooks, handoff, workbench) are run from here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.load_driver import API_KEY, Load, Send, gateway_sender, rasa_sender, run_load
from bench.report import render, render_answers, render_handoff, render_issue3, render_webhooks
from bot.knowledge.articles import load_knowledge
from bot.ops import processes
from bot.ops.engine_env import engine_bin, engine_environ
from bot.ops.processes import free_ports
from bot.ops.settings import ROOT, Settings
from bot.workbench.answer_evaluation import evaluate_file
from bot.workbench.evaluation import HELDOUT, HELDOUT_OUTSIDE, evaluate_nlu
from bot.workbench.training import train

DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "var" / "results" / "bench"
PIPELINES = [
    ("config.yml", "spaCy Spanish tokenizer + word/char n-grams + LogisticRegression; rules"),
    ("bench/config-spacy-lemmas.yml", "same + spaCy lemmas (tok2vec, morphologizer, lemmatizer)"),
    ("bench/config-spacy-full.yml", "same + lemmas, Rasa's stock SpacyNLP (also NER, senter)"),
    ("bench/config-whitespace.yml", "whitespace tokens (no spaCy) + n-grams + LogisticRegression"),
    ("bench/config-diet.yml", "spaCy tokenizer + n-grams + DIETClassifier (100 epochs); rules"),
    ("bench/config-default.yml", "Rasa default: DIET + ResponseSelector; TED + UnexpecTED"),
]


def fresh_training(config: str) -> tuple[Path, float]:
    """Train ``config`` from scratch (empty Rasa cache); return the model and seconds."""
    with tempfile.TemporaryDirectory() as cache:
        os.environ["RASA_CACHE_DIRECTORY"] = cache
        try:
            started = time.monotonic()
            model = train(config=config, force=True)
            return model, time.monotonic() - started
        finally:
            del os.environ["RASA_CACHE_DIRECTORY"]


def parse_latency(model: Path) -> dict[str, float]:
    out = subprocess.run(
        [str(engine_bin("python")), str(ROOT / "bench" / "parse_latency.py"), str(model),
         str(HELDOUT)],
        cwd=ROOT, env=engine_environ(), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6, help="conversations per user")
    parser.add_argument("--repeat", type=int, default=3, help="runs per target (median kept)")
    parser.add_argument("--skip-pipelines", action="store_true")
    parser.add_argument(
        "--skip-default", action="store_true", help="no run on Rasa's default config (DIET, TED)"
    )
    parser.add_argument("--padron-rows", type=int, default=15_000_000)
    parser.add_argument("--skip-padron", action="store_true")
    parser.add_argument("--skip-webhooks", action="store_true")
    parser.add_argument("--skip-handoff", action="store_true")
    parser.add_argument("--skip-workbench", action="store_true")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument("--skip-sentiment", action="store_true")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    pipeline_rows: list[str] = []
    models: dict[str, Path] = {}
    train_seconds: dict[str, float] = {}
    for index, (config, description) in enumerate(PIPELINES, 1):
        if args.skip_pipelines and config not in ("config.yml", "bench/config-default.yml"):
            continue
        if args.skip_default and config == "bench/config-default.yml":
            continue
        print(f"[pipelines {index}/{len(PIPELINES)}] {config}", flush=True)
        model, seconds = fresh_training(config)
        models[config], train_seconds[config] = model, seconds
        report = evaluate_nlu(config, RESULTS / f"nlu-{Path(config).stem}")
        latency = parse_latency(model)
        pipeline_rows.append(
            f"| `{config}` | {description} | {report['macro avg']['f1-score']:.3f} | "
            f"{report['accuracy']:.3f} | {latency['p50_ms']:.1f} | {latency['p95_ms']:.1f} | "
            f"{seconds:.0f} |"
        )

    print("[answers] both held-out sets, decided as the engine decides", flush=True)
    answers = {
        path.name: evaluate_file(path, models["config.yml"]) for path in (HELDOUT, HELDOUT_OUTSIDE)
    }
    project_report = RESULTS / "nlu-config" / "intent_report.json"  # written just above
    heldout_macro_f1 = json.loads(project_report.read_text())["macro avg"]["f1-score"]
    confusions = confusion_pairs(RESULTS / "nlu-config" / "intent_report.json")
    print("[search] knowledge search quality, folded words and with spaCy lemmas", flush=True)
    search = [
        search_quality([sys.executable]),
        search_quality([str(engine_bin("python")), "--lemmas"]),
    ]
    padron: dict[str, Any] | None = None
    if not args.skip_padron:
        print(f"[padrón] {args.padron_rows:,} rows: import, lookups, pandas baseline", flush=True)
        subprocess.run(
            [sys.executable, "-m", "bench.padron", "--rows", str(args.padron_rows)],
            cwd=ROOT, check=True,
        )  # fmt: skip
        padron = json.loads((RESULTS / "padron.json").read_text(encoding="utf-8"))

    gateway_port, rasa_port, actions_port = free_ports(3)
    settings = Settings(
        gateway_port=gateway_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url=f"http://127.0.0.1:{actions_port}",
        rasa_token=uuid.uuid4().hex + uuid.uuid4().hex,
        database_url=f"sqlite+aiosqlite:///{RESULTS / 'bench-gateway.db'}",
        log_level="WARNING",
        webchat_api_keys=[API_KEY],
    )
    (RESULTS / "bench-gateway.db").unlink(missing_ok=True)
    gateway_url = f"http://127.0.0.1:{settings.gateway_port}"
    notice = load_knowledge(settings.knowledge_dir).require("error_servicio").answer
    gateway_env = processes.gateway_process_environ(settings)
    engine_env = processes.engine_process_environ(settings)

    def start_rasa(config: str) -> processes.Child:
        command = processes.rasa_command(settings, models[config])
        return processes.spawn("rasa", command, engine_env, RESULTS / "rasa.log")

    def load(name: str, send: Send) -> Load:
        return asyncio.run(run_load(name, send, args.users, args.rounds))

    def median_of(runs: list[Load]) -> Load:
        # This machine's speed drifts: report the run with the median throughput.
        return sorted(runs, key=lambda run: run.throughput)[len(runs) // 2]

    spawned = time.monotonic()
    actions_command = processes.actions_command(settings)
    actions = processes.spawn("actions", actions_command, engine_env, RESULTS / "actions.log")
    rasa = start_rasa("config.yml")
    gateway_command = processes.gateway_command()
    gateway = processes.spawn("gateway", gateway_command, gateway_env, RESULTS / "gateway.log")
    through_gateway = gateway_sender(gateway_url, notice)
    loads: list[Load] = []
    try:
        processes.wait_healthy(gateway_url, 300, [actions, rasa, gateway])
        ready_seconds = time.monotonic() - spawned
        print(f"stack ready in {ready_seconds:.0f} s", flush=True)
        print(f"[load 1-2/3] gateway and Rasa directly, project model, {args.repeat}x each "
              "interleaved", flush=True)  # fmt: skip
        to_rasa = rasa_sender(settings.rasa_url)
        gateway_runs: list[Load] = []
        direct_runs: list[Load] = []
        for _ in range(args.repeat):
            gateway_runs.append(load("gateway → Rasa (project config)", through_gateway))
            direct_runs.append(load("Rasa REST channel directly (project config)", to_rasa))
        loads += [median_of(gateway_runs), median_of(direct_runs)]
        if not args.skip_default:
            processes.stop([rasa])
            rasa = start_rasa("bench/config-default.yml")
            processes.wait_healthy(gateway_url, 300, [actions, rasa, gateway])
            print("[load 3/3] gateway, Rasa default config", flush=True)
            default_runs = [
                load("gateway → Rasa (default config)", through_gateway) for _ in range(args.repeat)
            ]
            loads.append(median_of(default_runs))
    finally:
        processes.stop([gateway, rasa, actions])

    webhooks: dict[str, Any] | None = None
    if not args.skip_webhooks:
        print("[webhooks] Messenger: acknowledgement burst, end to end, CPU", flush=True)
        subprocess.run([sys.executable, "-m", "bench.webhooks"], cwd=ROOT, check=True)
        webhooks = json.loads((RESULTS / "webhooks.json").read_text(encoding="utf-8"))

    handoff: dict[str, Any] | None = None
    if not args.skip_handoff:
        print("[handoff] agents' desk: escalation to console, a queue of 500", flush=True)
        subprocess.run([sys.executable, "-m", "bench.handoff"], cwd=ROOT, check=True)
        handoff = json.loads((RESULTS / "handoff.json").read_text(encoding="utf-8"))

    ours, direct = loads[:2]
    load_rows = [
        f"| {load.name} | {len(load.latencies_ms)} | {load.errors} | {load.throughput:.1f} | "
        f"{load.pct(0.50):.0f} | {load.pct(0.95):.0f} | {load.pct(0.99):.0f} |"
        for load in loads
    ]
    overhead = 1 - ours.throughput / direct.throughput
    # Not measured with --skip-default (shown as nan).
    speedup = ours.throughput / loads[2].throughput if len(loads) > 2 else float("nan")
    command = "make bench  # = .venv/bin/python -m bench.load " + " ".join(sys.argv[1:])
    DOC.write_text(
        render(
            command,
            pipeline_rows,
            load_rows,
            ours,
            overhead,
            speedup,
            train_seconds,
            ready_seconds,
            args,
        )
        + render_answers(answers, heldout_macro_f1)
        + render_issue3(confusions, search, padron)
        + render_webhooks(webhooks)
        + render_handoff(handoff),
        encoding="utf-8",
    )
    if not args.skip_workbench:
        # Writes its own section of the document (annotation → deployed model, latency while a
        # training runs).
        print("[workbench] annotation → deployed model; chat latency while training", flush=True)
        subprocess.run([sys.executable, "-m", "bench.workbench"], cwd=ROOT, check=True)
    if not args.skip_sentiment:
        # Writes its own section too: the fanpage comments' sentiment on the labelled set.
        print("[sentiment] fanpage comments: packaged model against the baselines", flush=True)
        subprocess.run([sys.executable, "-m", "bench.sentiment"], cwd=ROOT, check=True)
    if not args.skip_dashboard:
        # Writes its own section too: the supervisors' dashboard over 1,000,000 messages.
        print("[dashboard] 1,000,000 stored messages: the dashboard's API, timed", flush=True)
        subprocess.run([sys.executable, "-m", "bench.dashboard"], cwd=ROOT, check=True)
    print(
        f"bench done in {time.monotonic() - started:.0f} s: gateway {ours.throughput:.1f} msg/s "
        f"(p95 {ours.pct(0.95):.0f} ms), overhead {overhead:+.0%} vs direct Rasa, "
        f"{speedup:.1f}x Rasa's default config; written to {DOC.relative_to(ROOT)}",
        flush=True,
    )
    return 0


def confusion_pairs(report_path: Path) -> list[tuple[str, str, int]]:
    """(intent, predicted instead, times) from Rasa's intent report, most frequent first."""
    if not report_path.exists():
        return []
    report = json.loads(report_path.read_text(encoding="utf-8"))
    pairs = [
        (intent, other, int(times))
        for intent, row in report.items()
        if isinstance(row, dict)
        for other, times in (row.get("confused_with") or {}).items()
    ]
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))


def search_quality(python: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [python[0], str(ROOT / "bench" / "search_quality.py"), *python[1:]],
        cwd=ROOT, env=engine_environ() if "--lemmas" in python else None,
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    raise SystemExit(main())
