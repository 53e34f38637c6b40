"""``python -m bot``: the project's command line."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from pydantic import ValidationError

from bot.knowledge.articles import KnowledgeError
from bot.ops.settings import ROOT, Settings


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
    from bot.ops.preflight import check_knowledge, ensure_padron, ensure_transparency
    from bot.ops.processes import up
    from bot.workbench.training import train

    # `make run` needs no secret set up: a fresh token for this run protects Rasa's API.
    if not os.environ.get("RASA_TOKEN"):
        os.environ["RASA_TOKEN"] = secrets.token_urlsafe(32)
    settings = _settings()
    scaled = any(n is not None for n in (args.scale, args.gateways, args.engines))
    if scaled:
        from bot.ops.topology import TopologyError, engine_stores_environ, up_scaled

        try:
            engine_stores_environ(settings)  # before training: the settings can run it
        except TopologyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    check_knowledge(settings.knowledge_dir)
    print(ensure_padron(settings.padron_url))
    print(ensure_transparency(settings.transparency_url, settings.environment))
    model = args.model.resolve() if args.model else train()
    if not model.is_file():
        print(f"error: {model} not found", file=sys.stderr)
        return 1
    if scaled:
        both = 1 if args.scale is None else args.scale
        gateways, engines = (both if n is None else n for n in (args.gateways, args.engines))
        return up_scaled(model, settings, gateways, engines, ready_timeout=args.timeout)
    return up(model, settings, ready_timeout=args.timeout)


def cmd_train(args: argparse.Namespace) -> int:
    from bot.workbench.training import train

    train(config=args.config, force=args.force, root=args.project or ROOT)
    return 0


def cmd_check_knowledge(_: argparse.Namespace) -> int:
    from bot.ops.preflight import check_knowledge

    print(check_knowledge(Path(os.environ.get("KNOWLEDGE_DIR", ROOT / "data" / "knowledge"))))
    return 0


def cmd_evaluate_nlu(args: argparse.Namespace) -> int:
    from bot.workbench.evaluation import check_nlu

    return check_nlu(args.config, args.min_f1)


def cmd_evaluate_answers(args: argparse.Namespace) -> int:
    from bot.workbench.evaluation import HELDOUT_OUTSIDE, report_answers

    heldout = Path(args.heldout) if args.heldout else HELDOUT_OUTSIDE
    report_answers(heldout, args.config, Path(args.model) if args.model else None, args.show)
    return 0


def cmd_test_conversations(_: argparse.Namespace) -> int:
    from bot.workbench.evaluation import run_conversation_tests

    return run_conversation_tests()


def cmd_import_padron(args: argparse.Namespace) -> int:
    import time

    from bot.knowledge.padron import open_padron
    from bot.knowledge.padron.records import PadronError, format_summary
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


def cmd_import_transparency(args: argparse.Namespace) -> int:
    """SUNAT's budget execution figures from a CSV in the MEF's open-data format."""
    import time

    from bot.knowledge.transparency import open_transparency
    from bot.knowledge.transparency.reader import metadata_date
    from bot.knowledge.transparency.records import TransparencyError, format_summary
    from bot.ops.settings import DEFAULT_DATABASE_URL, transparency_url

    url = transparency_url(
        os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        os.environ.get("TRANSPARENCY_DATABASE_URL"),
    )
    started = time.monotonic()

    def progress(rows: int, read: int, total: int) -> None:
        share = read / total if total else 1.0
        bar = "#" * int(share * 30)
        print(f"\r[{bar:<30}] {share:4.0%} {rows:,} filas", end="", flush=True)

    try:
        fecha = metadata_date(args.fecha_corte) if args.fecha_corte else None
        with open_transparency(url) as store:
            summary = store.import_file(
                args.path, fecha, args.fuente, args.fuente_url, args.pliego, progress
            )
    except (TransparencyError, OSError, ValueError) as exc:
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


def cmd_consume_events(_: argparse.Namespace) -> int:
    """Rasa's events from RabbitMQ into the analytics tables, until Ctrl-C or SIGTERM."""
    import asyncio

    from bot.analytics.consumer import BrokerAddress, consume_events

    # The consumer talks to no Rasa: without RASA_TOKEN set, any token satisfies the settings.
    settings = _settings(**({} if os.environ.get("RASA_TOKEN") else {"rasa_token": "-" * 32}))
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    broker = BrokerAddress(
        settings.event_broker_host,
        settings.event_broker_port,
        settings.event_broker_user,
        settings.event_broker_password.get_secret_value(),
        settings.event_broker_queue,
        settings.event_broker_exchange,
    )
    asyncio.run(consume_events(settings.database_url, broker, settings.analytics_seen_days))
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
                    http, settings.engine_urls, settings.rasa_token.get_secret_value(), 300.0
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
    from bot.workbench.evaluation import evaluate_against_live
    from bot.workbench.training import model_path

    model = Path(args.model) if args.model else model_path()
    if not model.exists():
        print(f"error: {model} not found (train first: python -m bot train)", file=sys.stderr)
        return 1

    async def job(registry: Any, rasa: Any, _: Settings) -> int:
        return await evaluate_against_live(registry, rasa, model)

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
    p.add_argument("--heldout")  # default: heldout/heldout_outside.yml
    p.add_argument("--config", default="config.yml")
    p.add_argument("--model", help="a trained model (default: train if needed)")
    p.add_argument("--show", type=int, default=0, help="list the N most frequent misroutes")
    p.set_defaults(func=cmd_evaluate_answers)

    p = sub.add_parser(
        "up", help="train if needed, then run Rasa, the action server and the gateway"
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait until healthy")
    p.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="N gateways, Rasa engines and action servers behind nginx, on the machine's "
        "PostgreSQL, Redis and RabbitMQ (bot/ops/topology.py)",
    )
    p.add_argument("--gateways", type=int, metavar="G", help="G gateways (default: --scale's N)")
    p.add_argument("--engines", type=int, metavar="E", help="E engines (default: --scale's N)")
    p.add_argument("--model", type=Path, help="run this model file (default: train if needed)")
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
        "import-transparency",
        help="import SUNAT's budget execution figures (CSV in the MEF's open-data format)",
    )
    p.add_argument("path", type=Path)
    p.add_argument("--fecha-corte", help="the date of the figures, YYYY-MM-DD (else the file's)")
    p.add_argument("--fuente", help="the source's name (default: the MEF's open data)")
    p.add_argument("--fuente-url", help="the source's https:// address")
    p.add_argument("--pliego", help="the entity's PLIEGO code, when the file holds several")
    p.set_defaults(func=cmd_import_transparency)

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

    p = sub.add_parser(
        "consume-events",
        help="keep the analytics tables current from Rasa's events in RabbitMQ",
    )
    p.set_defaults(func=cmd_consume_events)

    args = parser.parse_args(argv)
    # Settings in .env reach every command and every child process (Rasa reads the
    # TRACKER_STORE_* and LOCK_STORE_* ones); the environment wins over the file.
    load_dotenv(ROOT / ".env", override=False)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
