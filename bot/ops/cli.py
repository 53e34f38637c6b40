"""``python -m bot``: the project's command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from dotenv import load_dotenv
from pydantic import ValidationError

from bot.knowledge.articles import SYSTEM_ARTICLES, KnowledgeError, load_knowledge
from bot.ops.settings import ROOT, Settings

HELDOUT = ROOT / "heldout" / "heldout.yml"
#: The second held-out set, phrased as outside sources phrase things (never trained on).
HELDOUT_OUTSIDE = ROOT / "heldout" / "heldout_outside.yml"
CONVERSATIONS = ROOT / "heldout" / "conversations"
RESULTS = ROOT / "var" / "results"


def _settings(**values: Any) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SystemExit(f"error: invalid settings ({problems}); see .env.example") from exc


def _operator_settings() -> Settings:
    """Settings for the commands that talk to a running Rasa (evaluate, deploy, rollback):
    without ``RASA_TOKEN`` set, the token ``bot up`` keeps in ``var/run/`` for its run."""
    if os.environ.get("RASA_TOKEN"):
        return _settings()
    from bot.ops.processes import read_token_file, token_file

    rasa_url = os.environ.get("RASA_URL") or str(Settings.model_fields["rasa_url"].default)
    path = token_file(rasa_url)
    token = read_token_file(path)
    if token is None:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        raise SystemExit(
            f"error: RASA_TOKEN is not set and there is no private token file {shown}: start "
            "the bot first (`make run` keeps its token there while it runs), or set RASA_TOKEN "
            "to the token of the Rasa at RASA_URL"
        )
    return _settings(rasa_token=token)


def cmd_serve(_: argparse.Namespace) -> int:
    import uvicorn

    from bot.web.app import create_app

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and Rasa's status API takes its token in the URL.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        app = create_app(settings)
    except KnowledgeError as exc:
        raise SystemExit(f"error: {exc}") from exc
    uvicorn.run(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # X-Forwarded-For is read by bot/web/client_address.py, through TRUSTED_PROXIES only.
        proxy_headers=False,
        timeout_graceful_shutdown=3,
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from bot.ops.processes import up
    from bot.workbench.training import train

    # `make run` needs no secret set up: a fresh token for this run protects Rasa's API.
    if not os.environ.get("RASA_TOKEN"):
        os.environ["RASA_TOKEN"] = secrets.token_urlsafe(32)
    settings = _settings()
    check_knowledge(settings.knowledge_dir)
    print(ensure_padron(settings.padron_url))
    model = train()
    return up(model, settings, ready_timeout=args.timeout)


#: The invented sample padrón (data/padron/README.md), imported when no padrón is loaded.
SAMPLE_PADRON = ROOT / "data" / "padron" / "sample_padron_reducido_ruc.txt"


def ensure_padron(url: str, sample: Path = SAMPLE_PADRON) -> str:
    """Import the bundled sample padrón when none is loaded, so RUC lookups answer on a fresh
    ``make run``; a loaded padrón (SUNAT's, or the sample earlier) is left alone. Says which."""
    import time

    from bot.knowledge.padron.store import PadronError, format_summary, open_padron

    try:
        with open_padron(url) as store:
            loaded = store.count()
            if loaded:
                return f"padrón: {loaded:,} RUCs loaded"
            started = time.monotonic()
            summary = store.import_file(sample)
    except (PadronError, OSError) as exc:
        return f"padrón: none loaded and the sample could not be imported ({exc})"
    return (
        "padrón: none was loaded, so the bundled SAMPLE (invented taxpayers) was imported; "
        "import SUNAT's with `make import-padron FILE=padron_reducido_ruc.zip`\n"
        + format_summary(summary, time.monotonic() - started)
    )


def cmd_train(args: argparse.Namespace) -> int:
    from bot.workbench.training import train

    train(config=args.config, force=args.force, root=args.project or ROOT)
    return 0


def _domain_intents() -> list[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])]


def check_knowledge(directory: Path) -> str:
    """Validate articles and their fit with the domain; return a summary or exit with errors."""
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        raise SystemExit(f"error: {exc}") from exc
    intents = set(_domain_intents())
    problems = [
        f"intent '{i}' has no article data/knowledge/{i}.yml"
        for i in sorted(intents)
        if i not in kb
    ]
    for article in kb.articles:
        if article.id not in intents and article.id not in SYSTEM_ARTICLES:
            problems.append(f"{article.id}.yml answers no intent of domain.yml")
        for button in article.buttons:
            if button.payload[1:] not in intents:
                problems.append(
                    f"{article.id}.yml: button '{button.title}' "
                    f"names unknown intent {button.payload}"
                )
    if problems:
        raise SystemExit("error: knowledge base and domain disagree:\n  " + "\n  ".join(problems))
    return f"knowledge OK: {len(kb)} articles, {len(intents)} intents answered"


def cmd_check_knowledge(_: argparse.Namespace) -> int:
    print(check_knowledge(Path(os.environ.get("KNOWLEDGE_DIR", ROOT / "data" / "knowledge"))))
    return 0


def _rasa(*args: str) -> int:
    from bot.ops.engine_env import engine_bin, engine_environ

    return subprocess.run(
        [str(engine_bin("rasa")), *args], cwd=ROOT, env=engine_environ()
    ).returncode


def evaluate_nlu(config: str, out: Path) -> dict[str, dict[str, float]]:
    """Train (if needed) with ``config`` and evaluate on the held-out file; return the report."""
    from bot.workbench.training import train

    model = train(config=config)
    code = _rasa("test", "nlu", "--nlu", str(HELDOUT), "--model", str(model), "--out", str(out))
    if code != 0:
        raise SystemExit(f"error: rasa test nlu failed (exit {code})")
    report: dict[str, dict[str, float]] = json.loads((out / "intent_report.json").read_text())
    return report


def cmd_evaluate_nlu(args: argparse.Namespace) -> int:
    out = RESULTS / f"nlu-{Path(args.config).stem}"
    report = evaluate_nlu(args.config, out)
    weak = sorted(
        (
            (name, row)
            for name, row in report.items()
            if isinstance(row, dict)
            and "support" in row
            and name not in ("macro avg", "weighted avg", "micro avg")
            and row["f1-score"] < 1.0
        ),
        key=lambda item: item[1]["f1-score"],
    )
    for name, row in weak:
        print(
            f"  {name:28} f1={row['f1-score']:.3f} support={row['support']:.0f} "
            f"confused_with={row.get('confused_with', {})}"
        )
    macro = report["macro avg"]["f1-score"]
    verdict = "PASS" if macro >= args.min_f1 else "FAIL"
    print(
        f"NLU held-out {verdict}: macro-F1 {macro:.4f} (minimum {args.min_f1}), "
        f"accuracy {report.get('accuracy', 0.0):.4f}, report in {out.relative_to(ROOT)}"
    )
    return 0 if macro >= args.min_f1 else 1


def cmd_evaluate_answers(args: argparse.Namespace) -> int:
    from bot.workbench.answer_evaluation import evaluate_file
    from bot.workbench.training import train

    model = Path(args.model) if args.model else train(config=args.config)
    report, nlu_only = evaluate_file(Path(args.heldout), model, config=ROOT / args.config)
    for (expected, answered), count in report.misroutes().most_common(args.show):
        print(f"  misrouted {count}× {expected} → {answered}")
    print(f"without the search's second signal: {nlu_only.summary()}")
    print(f"answers on {Path(args.heldout).name}: {report.summary()}")
    return 0


def cmd_test_conversations(_: argparse.Namespace) -> int:
    from bot.workbench.training import train

    model = train()
    out = RESULTS / "conversations"
    code = _rasa(
        "test",
        "core",
        "--stories",
        str(CONVERSATIONS),
        "--model",
        str(model),
        "--fail-on-prediction-errors",
        "--e2e",
        "--out",
        str(out),
    )
    print(
        f"conversation tests {'PASS' if code == 0 else 'FAIL'} (report in {out.relative_to(ROOT)})"
    )
    return code


def cmd_import_padron(args: argparse.Namespace) -> int:
    import time

    from bot.knowledge.padron.store import PadronError, format_summary, open_padron
    from bot.ops.settings import DEFAULT_DATABASE_URL, padron_url

    # Only the database settings matter here (no Rasa token needed to import).
    url = padron_url(
        os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        os.environ.get("PADRON_DATABASE_URL"),
    )
    started = time.monotonic()
    last = [0.0]

    def progress(rows: int, read: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and read < total:
            return
        last[0] = now
        share = read / total if total else 0.0
        bar = "#" * int(share * 30)
        rate = rows / max(now - started, 1e-9)
        print(f"\r[{bar:<30}] {share:4.0%} {rows:,} rows {rate:,.0f} rows/s", end="", flush=True)

    try:
        with open_padron(url) as store:
            summary = store.import_file(args.path, progress=progress)
    except (PadronError, OSError, ValueError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    print()
    print(format_summary(summary, time.monotonic() - started))
    return 0


def cmd_load_cronograma(args: argparse.Namespace) -> int:
    from bot.knowledge.tax.cronograma import DEFAULT_DIR, CronogramaError, year_from_csv

    try:
        text = year_from_csv(args.csv, args.year, args.norm, args.source)
    except (CronogramaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    target = Path(os.environ.get("CRONOGRAMA_DIR") or DEFAULT_DIR) / f"{args.year}.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_suffix(".tmp").write_text(text, encoding="utf-8")
    target.with_suffix(".tmp").replace(target)  # readers see the old or the new year, whole
    print(f"cronograma {args.year} loaded: 12 periods, written to {target}")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """A console account; the password comes from stdin (never from the command line)."""
    import asyncio

    from bot.accounts.agents import AccountError, AgentDirectory, Role
    from bot.handoff.store import HandoffStore
    from bot.knowledge.handoff_rules import HandoffRules
    from bot.ops.settings import DEFAULT_DATABASE_URL
    from bot.storage.database import create_engine, migrate

    if not args.password_stdin:
        print("error: pass the password on stdin with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")

    async def create() -> str:
        engine = create_engine(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        try:
            await migrate(engine)
            await HandoffStore(engine).add_teams(dict(HandoffRules.load().desk.teams))
            agent = await AgentDirectory(engine).create(
                args.username, password, Role(args.role), args.name, args.team
            )
            return f"user {agent.username} created (role {agent.role.value}, id {agent.id})"
        finally:
            await engine.dispose()

    try:
        print(asyncio.run(create()))
    except AccountError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _workbench(job: Any) -> int:
    """Run ``job(registry, rasa)`` against the gateway's database and the running Rasa."""
    import asyncio

    import httpx

    from bot.conversation.rasa_client import EngineUnavailable, RasaClient
    from bot.storage.database import create_engine, migrate
    from bot.workbench.model_registry import DeployRefused, ModelRegistry
    from bot.workbench.training import MODELS

    settings = _operator_settings()

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            async with httpx.AsyncClient() as http:
                rasa = RasaClient(
                    http, settings.rasa_url, settings.rasa_token.get_secret_value(), 300.0
                )
                code: int = await job(ModelRegistry(engine, MODELS), rasa, settings)
                return code
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DeployRefused as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except EngineUnavailable as exc:
        print(f"error: Rasa did not answer ({exc}); is it running?", file=sys.stderr)
        return 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a model on the held-out set and the conversation tests, record it, compare."""
    from bot.workbench.model_registry import EVALUATIONS, compare, evaluate_model, sync_live
    from bot.workbench.training import fingerprint, model_path

    model = Path(args.model) if args.model else model_path()
    if not model.exists():
        print(f"error: {model} not found (train first: python -m bot train)", file=sys.stderr)
        return 1

    async def job(registry: Any, rasa: Any, _: Settings) -> int:
        live = await sync_live(registry, rasa)
        print(f"evaluating {model.name} (held-out set and conversation tests)", flush=True)
        metrics = evaluate_model(model, EVALUATIONS / model.name.removesuffix(".tar.gz"))
        live_metrics = live.metrics if live is not None and live.file != model.name else None
        if live is not None and live.file != model.name and not live_metrics:
            print(f"evaluating the live model {live.file}", flush=True)
            live_metrics = evaluate_model(
                registry.path(live), EVALUATIONS / live.file.removesuffix(".tar.gz")
            )
            await registry.record(live.file, live.data_hash, live.created_by, live_metrics)
        metrics["comparison"] = compare(metrics, live_metrics)
        await registry.record(model.name, fingerprint(), "cli", metrics)
        result = metrics["comparison"]
        print(
            f"{model.name}: macro-F1 {metrics['macro_f1']:.4f}, accuracy "
            f"{metrics['accuracy']:.4f}, conversation tests "
            f"{'pass' if metrics.get('conversations_passed') else 'FAIL'}; against the live "
            f"model: {result['verdict']} ({len(result['changed'])} predictions changed)"
        )
        return 0

    return _workbench(job)


def cmd_deploy(args: argparse.Namespace) -> int:
    from bot.workbench.model_registry import deploy

    async def job(registry: Any, rasa: Any, settings: Settings) -> int:
        model = await registry.by_file(Path(args.model).name)
        if model is None:
            print(
                f"error: {args.model} is not evaluated; run python -m bot evaluate {args.model}",
                file=sys.stderr,
            )
            return 1
        previous = await deploy(
            registry, rasa, model, "cli", settings.deploy_max_f1_drop, args.override
        )
        print(f"{model.file} is live (was {previous.file if previous else 'none'})")
        return 0

    return _workbench(job)


def cmd_rollback(_: argparse.Namespace) -> int:
    from bot.workbench.model_registry import deploy, sync_live

    async def job(registry: Any, rasa: Any, __: Settings) -> int:
        await sync_live(registry, rasa)
        previous = await registry.previous()
        if previous is None:
            print("error: there is no earlier model to go back to", file=sys.stderr)
            return 1
        replaced = await deploy(registry, rasa, previous, "cli", 1.0, "rollback")
        print(f"{previous.file} is live again (replaced {replaced.file if replaced else 'none'})")
        return 0

    return _workbench(job)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "evaluate-answers",
        help="accuracy, misroutes and clarifications on a held-out set, as the engine decides",
    )
    p.add_argument("--heldout", default=str(HELDOUT_OUTSIDE))
    p.add_argument("--config", default="config.yml")
    p.add_argument("--model", help="a trained model (default: train if needed)")
    p.add_argument("--show", type=int, default=0, help="list the N most frequent misroutes")
    p.set_defaults(func=cmd_evaluate_answers)

    p = sub.add_parser(
        "up", help="train if needed, then run Rasa, the action server and the gateway"
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait until healthy")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("serve", help="run the gateway alone (Rasa must be running)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("train", help="train a model unless one for the current data exists")
    p.add_argument("--config", default="config.yml")
    p.add_argument("--force", action="store_true")
    p.add_argument("--project", type=Path, help="the Rasa project (default: this repository)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("check-knowledge", help="validate the knowledge base against the domain")
    p.set_defaults(func=cmd_check_knowledge)

    p = sub.add_parser("evaluate-nlu", help="macro-F1 on the held-out file, fail under a minimum")
    p.add_argument("--config", default="config.yml")
    p.add_argument(
        "--min-f1", type=float, default=float(os.environ.get("NLU_MIN_MACRO_F1", "0.97"))
    )
    p.set_defaults(func=cmd_evaluate_nlu)

    p = sub.add_parser("test-conversations", help="rasa test core --fail-on-prediction-errors")
    p.set_defaults(func=cmd_test_conversations)

    p = sub.add_parser(
        "import-padron", help="import SUNAT's padrón reducido del RUC (.zip or .txt) atomically"
    )
    p.add_argument("path", type=Path)
    p.set_defaults(func=cmd_import_padron)

    p = sub.add_parser(
        "load-cronograma", help="validate a year's due dates (CSV) and write data/cronograma/"
    )
    p.add_argument("csv", type=Path, help="periodo,0,1,2-3,4-5,6-7,8-9,buenos_contribuyentes")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--norm", required=True, help='e.g. "RS N.° 000-2025/SUNAT"')
    p.add_argument("--source", required=True, help="the official https:// page of the norm")
    p.set_defaults(func=cmd_load_cronograma)

    p = sub.add_parser("evaluate", help="evaluate a model and compare it with the live one")
    p.add_argument("model", nargs="?", help="model file (default: the current data's model)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("deploy", help="make an evaluated model live (Rasa's PUT /model)")
    p.add_argument("model")
    p.add_argument("--override", help="deploy even if worse than the live model: the reason")
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("rollback", help="make the previously live model live again")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("create-user", help="create an agents' console account")
    p.add_argument("username")
    p.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    p.add_argument("--name", help="name shown to citizens (default: the username)")
    p.add_argument("--team", help="team name (data/handoff/handoff.yml)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=cmd_create_user)

    args = parser.parse_args(argv)
    # Settings in .env reach every command and every child process (Rasa reads the
    # TRACKER_STORE_* and LOCK_STORE_* ones); the environment wins over the file.
    load_dotenv(ROOT / ".env", override=False)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
