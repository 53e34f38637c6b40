"""``python -m bench.scale`` (part of ``make bench``; alone: ``make bench-scale``): the topologies
of ``python -m bot up`` under a locust load, side by side in one run (issue 15).

1. **Load**: for each topology (``--topologies``: ``single`` is ``bot up``, the single-process
   ``make run``; ``N`` is ``bot up --scale N``: N gateways, N Rasa engines, N action servers and
   the event consumer behind nginx; ``GxE`` is G gateways in front of E engines, each with its
   action server: ``1x2`` shows what a second engine brings alone), on its own new PostgreSQL
   database (created, then dropped) and the machine's Redis (and RabbitMQ, on a queue and
   exchange of this run, deleted after),
   locust (bench/locustfile.py) runs ``--users`` citizens each holding the Spanish 5-turn mix.
   After ``--warmup`` seconds, ``--duration`` seconds are measured: messages answered per
   second, p50/p95/p99, errors by reason, and CPU per message (the CPU time of every process
   of the topology over the window, read from /proc, over the messages answered; PostgreSQL's
   server processes for the topology's database apart).
2. **Memory per 10,000 open conversations**: then ``--open-conversations`` new conversations
   ("hola" from that many senders); the resident memory of each kind of process before and
   after, scaled to 10,000.
3. **Stored history**: the same load (``--history-users`` on ``--history-topology``) on an
   empty database and on one holding ``--seed-messages`` in ``--seed-conversations``
   (bench/scale_seed.py), each on a topology started anew.
4. **Long conversations**: ``python -m bench.history`` (turn 5 against turn 100), which writes
   its own section.

Writes ``var/results/bench/scale/`` (locust's CSV files and logs, ``scale.json``) and its section
of docs/benchmarks.md with a chart (bench/scale_report.py), and ends with a one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.load_driver import API_HEADERS, API_KEY
from bench.scale_report import write_section
from bench.scale_seed import create_database, drop_database, seed
from bench.scale_stack import Stack, command_flags, counts
from bench.scale_stats import (
    LONG,
    MEASURED,
    MEASURING,
    SHORT,
    ProcessReading,
    cpu_ms_per_message,
    cpu_seconds,
    read_locust,
    rss_by_role,
)
from bot.ops.settings import ROOT, Settings
from bot.workbench.training import train

RESULTS = ROOT / "var" / "results" / "bench" / "scale"
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1/postgres")
#: Locust spawns the users over about this many seconds (then the warm-up starts).
RAMP_SECONDS = 5.0


def topology_label(spec: str) -> str:
    scale = counts(spec)
    if scale is None:
        return "single process (bot up)"
    g, e = scale
    return (
        f"{g} gateway{'s' * (g > 1)}, {e} engine{'s' * (e > 1)} "
        f"(bot up {' '.join(command_flags(spec))})"
    )


def measure(
    stack: Stack, database: str, users: int, args: argparse.Namespace, name: str
) -> dict[str, Any]:
    """One locust run against ``stack``: the figures of its measured window."""
    prefix = RESULTS / name
    classes = ["Citizen"] + (["LongCitizen"] if args.long_percent else [])
    cap = RAMP_SECONDS + args.warmup + args.duration + 60
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
        "--headless", "--only-summary", "--host", stack.url, "--csv", str(prefix),
        "-u", str(users), "-r", str(max(1.0, users / RAMP_SECONDS)), "-t", f"{cap:.0f}s",
        "--warmup-seconds", str(args.warmup), "--measure-seconds", str(args.duration),
        "--loglevel", "WARNING", *classes,
    ]  # fmt: skip
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "BENCH_API_KEY": API_KEY,
        "BENCH_LONG_WEIGHT": str(args.long_percent),
        "BENCH_SHORT_WEIGHT": str(100 - args.long_percent),
    }  # fmt: skip
    before: list[ProcessReading] = []
    after: list[ProcessReading] = []
    window = 0.0
    with Path(f"{prefix}.log").open("w", encoding="utf-8") as log:
        locust = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True
        )
        assert locust.stdout is not None
        for line in locust.stdout:
            log.write(line)
            if line.startswith(MEASURING):
                before = stack.readings(database)
            elif line.startswith(MEASURED):
                after = stack.readings(database)
                window = float(line.split()[-1])
        code = locust.wait(timeout=cap + 60)
    if not window:
        raise RuntimeError(f"locust ended ({code}) before its window; see {prefix}.log")
    stats = read_locust(prefix)
    spent = cpu_seconds(before, after)
    database_cpu = spent.pop("PostgreSQL", 0.0)
    kinds = {}
    for kind in (SHORT, LONG):
        try:
            row = read_locust(prefix, kind)
        except KeyError:
            continue
        kinds[kind] = {"answered": row.answered, "p50_ms": row.p50_ms, "p95_ms": row.p95_ms}
    return {
        "users": users,
        "seconds": window,
        "requests": stats.requests,
        "answered": stats.answered,
        "errors": stats.failures,
        "errors_by_reason": stats.failures_by_reason,
        "throughput": stats.answered / window,
        "p50_ms": stats.p50_ms,
        "p95_ms": stats.p95_ms,
        "p99_ms": stats.p99_ms,
        "cpu_ms_per_message": cpu_ms_per_message(spent, stats.answered),
        "cpu_ms_per_message_by_role": {
            role: cpu_ms_per_message({role: seconds}, stats.answered)
            for role, seconds in sorted(spent.items())
        },
        "postgres_cpu_ms_per_message": cpu_ms_per_message(
            {"PostgreSQL": database_cpu}, stats.answered
        ),
        "kinds": kinds,
    }


def describe(run: dict[str, Any]) -> str:
    return (
        f"{run['throughput']:.1f} msg/s, p95 {run['p95_ms']:.0f} ms, {run['errors']} errors, "
        f"{run['cpu_ms_per_message']:.1f} ms CPU/msg"
    )


async def _open(url: str, count: int, concurrency: int) -> tuple[int, int]:
    """``count`` new conversations, one "hola" each; (opened, failed)."""
    senders = iter(range(count))
    opened = failed = 0
    started = time.monotonic()

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal opened, failed
        for index in senders:
            try:
                response = await http.post(
                    f"{url}/webhooks/webchat",
                    json={"sender": f"open-{index}-{uuid.uuid4().hex[:8]}", "message": "hola"},
                    headers=API_HEADERS,
                )
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            opened, failed = opened + ok, failed + (not ok)
            if (opened + failed) % max(1, count // 10) == 0:
                rate = (opened + failed) / (time.monotonic() - started)
                print(f"    {opened + failed:,}/{count:,} conversations ({rate:.0f}/s)", flush=True)

    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return opened, failed


def memory(stack: Stack, database: str, count: int) -> dict[str, Any]:
    """Resident memory by kind of process before and after opening ``count`` conversations."""
    before = rss_by_role(r for r in stack.readings(database) if r.role != "PostgreSQL")
    started = time.monotonic()
    opened, failed = asyncio.run(_open(stack.url, count, concurrency=20))
    seconds = time.monotonic() - started
    after = rss_by_role(r for r in stack.readings(database) if r.role != "PostgreSQL")
    per_10k = {
        role: (after.get(role, 0) - before.get(role, 0)) * 10_000 / max(opened, 1)
        for role in sorted(set(before) | set(after))
    }
    return {
        "opened": opened, "failed": failed, "seconds": seconds, "before_bytes": before,
        "after_bytes": after, "per_10000_bytes": per_10k,
    }  # fmt: skip


def run_topology(spec: str, args: argparse.Namespace, run_id: str) -> dict[str, Any]:
    """Every load of ``--users`` on ``spec``, then the memory of open conversations."""
    label = topology_label(spec)
    name = f"bench_scale_{run_id}_{spec}"
    url = create_database(POSTGRES, name)
    stack = Stack(spec, url, run_id, RESULTS / f"{spec}-bot-up.log")
    result: dict[str, Any] = {"spec": spec, "label": label, "runs": []}
    try:
        result["ready_seconds"] = stack.start(args.timeout)
        print(f"  {label}: ready in {result['ready_seconds']:.0f} s", flush=True)
        for users in args.users:
            run = measure(stack, name, users, args, f"{spec}-{users}u")
            result["runs"].append(run)
            print(f"  {label}, {users} users: {describe(run)}", flush=True)
        if args.open_conversations:
            print(f"  {label}: opening {args.open_conversations:,} conversations", flush=True)
            result["memory"] = memory(stack, name, args.open_conversations)
    finally:
        stack.stop()
        drop_database(POSTGRES, name)
    return result


def stored_history(args: argparse.Namespace, run_id: str) -> dict[str, Any]:
    """The same load on an empty database and on one holding the seeded history."""
    names = {kind: f"bench_scale_{run_id}_{kind}" for kind in ("empty", "stored")}
    urls = {kind: create_database(POSTGRES, name) for kind, name in names.items()}
    result: dict[str, Any] = {"users": args.history_users, "spec": args.history_topology,
                              "label": topology_label(args.history_topology)}  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {"empty": [], "stored": []}
    try:
        print(
            f"  seeding {args.seed_messages:,} messages in {args.seed_conversations:,} "
            "conversations",
            flush=True,
        )
        per = max(1, args.seed_messages // args.seed_conversations)
        seeded = seed(urls["stored"], args.seed_conversations, per)
        result["seeded"] = {"conversations": seeded.conversations, "messages": seeded.messages,
                            "seconds": seeded.seconds}  # fmt: skip
        print(f"  seeded {seeded.messages:,} messages in {seeded.seconds:.0f} s", flush=True)
        for repeat in range(args.history_repeat):
            for kind in ("empty", "stored"):
                log = RESULTS / f"history-{kind}-bot-up.log"
                stack = Stack(args.history_topology, urls[kind], run_id, log)
                try:
                    stack.start(args.timeout)
                    name = f"history-{kind}-{repeat + 1}"
                    run = measure(stack, names[kind], args.history_users, args, name)
                finally:
                    stack.stop()
                runs[kind].append(run)
                print(f"  {kind} database, run {repeat + 1}: {describe(run)}", flush=True)
    finally:
        for name in names.values():
            drop_database(POSTGRES, name)
    # This machine's speed drifts: keep each database's run with the median throughput.
    for kind, kept in runs.items():
        result[kind] = sorted(kept, key=lambda run: run["throughput"])[len(kept) // 2]
    return result


async def _delete_broker_queue(settings: Settings) -> None:
    import aio_pika  # the event broker's client (bot/analytics/)

    password = settings.event_broker_password.get_secret_value()
    connection = await aio_pika.connect(
        host=settings.event_broker_host, port=settings.event_broker_port,
        login=settings.event_broker_user, password=password, timeout=5,
    )  # fmt: skip
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(settings.event_broker_queue)
        await channel.exchange_delete(settings.event_broker_exchange)


def delete_broker_queue(run_id: str) -> None:
    """This run's RabbitMQ queue and exchange, if RabbitMQ is there (the topology is optional
    about it)."""
    settings = Settings(
        rasa_token="-" * 32, event_broker_queue=f"bench_scale_{run_id}",
        event_broker_exchange=f"bench-scale-{run_id}",
    )  # fmt: skip
    try:
        asyncio.run(_delete_broker_queue(settings))
    except Exception as exc:  # nothing to clean up without RabbitMQ
        print(f"  (RabbitMQ: nothing deleted: {type(exc).__name__})", flush=True)


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--topologies", type=lambda t: t.split(","),
                        default=["single", "1", "1x2", "2"],
                        help="comma list: single (bot up), N (bot up --scale N) or GxE (G "
                        "gateways, E engines)")  # fmt: skip
    parser.add_argument("--users", type=_numbers, default=[10, 50, 200], help="comma list")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--long-percent", type=int, default=0,
                        help="%% of users in long conversations (BENCH_LONG_TURNS)")  # fmt: skip
    parser.add_argument("--open-conversations", type=int, default=10_000, help="0: skip")
    parser.add_argument("--skip-history", action="store_true", help="no empty vs stored run")
    parser.add_argument("--history-topology", default="1")
    parser.add_argument("--history-users", type=int, default=10)
    parser.add_argument("--history-repeat", type=int, default=1)
    parser.add_argument("--seed-messages", type=int, default=1_000_000)
    parser.add_argument("--seed-conversations", type=int, default=100_000)
    parser.add_argument("--skip-turns", action="store_true", help="no python -m bench.history")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to be ready")
    args = parser.parse_args(argv)
    if not 0 <= args.long_percent <= 100:
        parser.error("--long-percent is 0 to 100")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    command = "python -m bench.scale " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"[scale] model: {train().name}", flush=True)  # trained once here, not in each start
    results: dict[str, Any] = {"command": command.strip(), "warmup": args.warmup,
                               "duration": args.duration, "long_percent": args.long_percent,
                               "topologies": []}  # fmt: skip
    try:
        for index, spec in enumerate(args.topologies, 1):
            print(f"[scale {index}/{len(args.topologies)}] {topology_label(spec)}", flush=True)
            results["topologies"].append(run_topology(spec, args, run_id))
        if not args.skip_history:
            print(f"[history] {args.history_users} users on an empty and a stored database",
                  flush=True)  # fmt: skip
            results["history"] = stored_history(args, run_id)
    finally:
        delete_broker_queue(run_id)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    doc = write_section(results)
    if not args.skip_turns and (ROOT / "bench" / "history.py").exists():
        print("[turns] long conversations: python -m bench.history", flush=True)
        subprocess.run([sys.executable, "-m", "bench.history"], cwd=ROOT, check=True)
    print(f"bench.scale done in {time.monotonic() - started:.0f} s: {summary(results)}; "
          f"written to {doc.relative_to(ROOT)}", flush=True)  # fmt: skip
    return 0


def summary(results: dict[str, Any]) -> str:
    """The run in one line: the best throughput of each topology, and the history's cost."""
    parts = []
    for topology in results["topologies"]:
        if topology["runs"]:
            best = max(topology["runs"], key=lambda run: run["throughput"])
            parts.append(f"{topology['spec']}: {best['throughput']:.1f} msg/s at "
                         f"{best['users']} users (p95 {best['p95_ms']:.0f} ms)")  # fmt: skip
    if history := results.get("history"):
        change = history["stored"]["throughput"] / history["empty"]["throughput"] - 1
        parts.append(f"stored history {change:+.0%} throughput")
    return "; ".join(parts) or "nothing measured"


if __name__ == "__main__":
    raise SystemExit(main())
