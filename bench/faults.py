"""``python -m bench.faults`` (part of ``make bench``; alone: ``make bench-faults``): faults under
load on ``bot up --scale 2`` (issue 15), counting every reply at a fake Graph API.

The topology runs on its own new PostgreSQL database (dropped after) and the machine's Redis and
RabbitMQ, with Messenger on against a local FakeGraphApi (tests/fakes/graph_api.py).

1. **Baseline**, without faults: how many Send API message calls each Messenger text makes
   (``--baseline`` new senders per text); a text whose count varies stops the run.
2. **Load**: ``--users`` web chat conversations through nginx (each request's time and status
   recorded; an answer that is the engine-down notice, ``error_servicio``, is a failure) and
   Messenger traffic, ``--rate`` signed webhooks a second, each from a new psid so its replies
   are unambiguous; a webhook without a 200 is posted again with the same mid, as Meta does
   (``--graph-delay``: the fake Send API answers each call that much later, which widens the
   window between a send and its recording).
3. **Faults**, in turn, each once the web chat has gone ``--steady`` seconds without a failure,
   the next once the topology is whole again (every process ready, /health ok through nginx):
   kill -9 gateway-1, rasa-1, actions-1 (pids from the supervisor's status file), restart
   PostgreSQL, Redis, RabbitMQ. The machine's services are left running whatever happens.
4. **Drain**: the load stops, unanswered webhooks are posted until accepted, then up to
   ``--drain`` seconds for the answers, and ``--settle`` more for any duplicate.

Per fault: seconds to recovery (to the last failed web chat request, to the topology whole
again), web chat requests failed, Messenger messages accepted / answered exactly once / lost /
duplicated. Writes ``var/results/bench/faults.json`` and its section of docs/benchmarks.md
(bench/faults_report.py) and ends with a one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.faults_report import summary, write_section
from bench.faults_tally import (
    BEFORE_FAULTS,
    Posted,
    WebRequest,
    Window,
    expected_calls,
    failures_before,
    last_activity,
    recovery,
    slowest_answer,
    steady_since,
    stretch_of,
    tally_by_stretch,
)
from bench.load_driver import API_HEADERS, CONVERSATIONS
from bench.scale import POSTGRES, delete_broker_queue
from bench.scale_seed import create_database, drop_database
from bench.scale_stack import Stack
from bot.conversation.service import ENGINE_DOWN_ARTICLE
from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from bot.ops.supervisor import read_status, status_path
from bot.ops.topology import Topology, wait_ready, waiting_for
from bot.workbench.training import train
from connectors.meta import sign
from tests.fakes.graph_api import FakeGraphApi, messenger_message

RESULTS = ROOT / "var" / "results" / "bench"
#: Not bench.scale's Redis database: both may run on the machine at once.
REDIS = os.environ.get("BENCH_FAULTS_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET = "bench-faults-app-secret"
SCALE = 2
PROCESS_FAULTS = ("gateway-1", "rasa-1", "actions-1")
SERVICE_FAULTS = ("postgresql", "redis", "rabbitmq")
FAULTS = (*PROCESS_FAULTS, *SERVICE_FAULTS)
#: Messenger texts, one per new sender in turn (each one's Send API calls measured first).
TEXTS = ("hola", "que es el ruc", "como saco mi clave sol")
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
ENGINE_DOWN = load_knowledge(ROOT / "data" / "knowledge").require(ENGINE_DOWN_ARTICLE).answer


def say(line: str) -> None:
    print(line, flush=True)


def _run(*command: str, timeout: float = 120) -> bool:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    return done.returncode == 0


SERVICE_UP: dict[str, Callable[[], bool]] = {
    "postgresql": lambda: _run("pg_isready", "-h", "127.0.0.1", "-q"),
    "redis": lambda: _run("redis-cli", "-h", "127.0.0.1", "ping"),
    "rabbitmq": lambda: _run("rabbitmqctl", "await_startup", "--timeout", "5"),
}


def _cluster() -> str:
    """The machine's PostgreSQL cluster version (as .ci/run finds it)."""
    versions = (
        sorted(p.name for p in Path("/etc/postgresql").iterdir())
        if Path("/etc/postgresql").is_dir()
        else []
    )
    return versions[0] if versions else "15"


def start_service(name: str) -> None:
    """Start ``name`` if it does not answer (the run leaves the machine's services running)."""
    if SERVICE_UP[name]():
        return
    if name == "postgresql":
        _run("pg_ctlcluster", _cluster(), "main", "start")
    elif name == "redis":
        _run(*REDIS_START)
    else:
        _run("rabbitmqctl", "start_app") or _run("rabbitmq-server", "-detached")


def restart_service(name: str) -> None:
    if name == "postgresql":
        _run("pg_ctlcluster", _cluster(), "main", "restart")
    elif name == "redis":
        _run("redis-cli", "-h", "127.0.0.1", "shutdown", "nosave")
        _run(*REDIS_START)
    else:
        _run("rabbitmqctl", "stop_app")
        _run("rabbitmqctl", "start_app")


def supervised_pid(stack: Stack, name: str) -> int | None:
    """The pid of ``name`` in the status file of the stack's ``bot up`` (``None``: restarting)."""
    assert stack.child is not None
    path = status_path(stack.settings.gateway_port)
    status = read_status(path, stack.child.process.pid) or read_status(path)
    entry = (status or {}).get("processes", {}).get(name) or {}
    pid = entry.get("pid")
    return pid if isinstance(pid, int) and entry.get("state") == "running" else None


def other_topologies(stack: Stack) -> list[int]:
    """Pids of other ``python -m bot up`` processes on this machine: they share the services
    restarted here, and their load competes for the CPU."""
    mine = stack.child.process.pid if stack.child is not None else None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == mine:
            continue
        with contextlib.suppress(OSError):
            words = (entry / "cmdline").read_bytes().split(b"\0")
            if b"bot" in words and b"up" in words and b"-m" in words:
                found.append(int(entry.name))
    return found


def make_fault(stack: Stack, fault: str) -> int | None:
    """Make the fault; the pid killed (for a process)."""
    if fault in SERVICE_FAULTS:
        if others := other_topologies(stack):
            say(f"  (warning: other `bot up` processes share {fault}: pids {others})")
        restart_service(fault)
        return None
    pid = supervised_pid(stack, fault)
    if pid is None:
        raise RuntimeError(f"{fault} is not running: nothing to kill")
    os.kill(pid, signal.SIGKILL)
    return pid


def wait_whole(stack: Stack, fault: str, killed: int | None, timeout: float) -> float | None:
    """Until the faulty part is back and every part of the topology ready (/health ok through
    nginx); the time then (``time.time()``), ``None`` after ``timeout`` seconds."""
    topology = Topology(stack.settings, SCALE, SCALE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fault in SERVICE_FAULTS:
            back = SERVICE_UP[fault]()
        else:
            pid = supervised_pid(stack, fault)
            back = pid is not None and pid != killed
        if back and not waiting_for(topology):
            return time.time()
        time.sleep(0.5)
    return None


@dataclasses.dataclass
class Load:
    """What the load recorded; ``stopping`` ends it."""

    url: str
    run_id: str
    requests: list[WebRequest] = dataclasses.field(default_factory=list)
    posted: list[Posted] = dataclasses.field(default_factory=list)
    stopping: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)


async def web_citizen(http: httpx.AsyncClient, load: Load, index: int, pause: float) -> None:
    """One citizen after another (a new sender each) holding a 5-turn conversation."""
    conversation = CONVERSATIONS[index % len(CONVERSATIONS)]
    for turn in range(1_000_000):
        sender = f"faults-{load.run_id}-web-{index}-{turn}"
        for text in conversation:
            if load.stopping.is_set():
                return
            started, status, down = time.time(), None, False
            try:
                response = await http.post(
                    f"{load.url}/webhooks/webchat", headers=API_HEADERS, timeout=60,
                    json={"sender": sender, "message": text},
                )  # fmt: skip
                status = response.status_code
                if status == 200:
                    down = any(r.get("text") == ENGINE_DOWN for r in response.json())
            except (httpx.HTTPError, ValueError):
                pass
            load.requests.append(WebRequest(started, time.time(), status, down))
            await asyncio.sleep(pause)


async def deliver(http: httpx.AsyncClient, url: str, psid: str, text: str) -> Posted:
    """Post one message's webhook until it gets a 200, as Meta does: the same body (same mid)
    again after 1, 2, 4… up to 15 seconds, for at most 10 minutes."""
    body = messenger_message(psid, f"m_{psid}", text)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    first, attempts, delay = time.time(), 0, 1.0
    while time.time() - first < 600:
        attempts += 1
        with contextlib.suppress(httpx.HTTPError):
            response = await http.post(url, content=body, headers=headers, timeout=20)
            if response.status_code == 200:
                return Posted(psid, text, first, attempts, accepted=True)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 15.0)
    return Posted(psid, text, first, attempts, accepted=False)


async def messenger_traffic(http: httpx.AsyncClient, load: Load, rate: float) -> None:
    """``rate`` new senders a second, each one message; returns once all are posted."""
    pending: list[asyncio.Task[Posted]] = []
    url = f"{load.url}/webhooks/messenger"
    index = 0
    while not load.stopping.is_set():
        psid = f"faults-{load.run_id}-{index}"
        pending.append(asyncio.create_task(deliver(http, url, psid, TEXTS[index % len(TEXTS)])))
        index += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(load.stopping.wait(), 1 / rate)
    load.posted.extend(await asyncio.gather(*pending))


def sent_texts(graph: FakeGraphApi) -> dict[str, list[str]]:
    """The texts of the Send API's message calls, per recipient psid."""
    sent: dict[str, list[str]] = {}
    for call in list(graph.messages()):
        message = call.get("message") or {}
        text = message.get("text") or (message.get("attachment") or {}).get("payload", {}).get(
            "text", ""
        )
        sent.setdefault(str(call.get("recipient", {}).get("id")), []).append(str(text))
    return sent


async def wait_answers(graph: FakeGraphApi, posted: list[Posted], owed: dict[str, int],
                       timeout: float, settle: float) -> None:  # fmt: skip
    """Until every accepted message has its replies (at most ``timeout`` s), then ``settle``
    seconds more for anything sent twice."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = sent_texts(graph)
        if all(len(sent.get(p.psid, ())) >= owed[p.text] for p in posted if p.accepted):
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(settle)


async def baseline(url: str, graph: FakeGraphApi, per_text: int) -> dict[str, int]:
    """Send API message calls each text makes without faults (see ``expected_calls``)."""
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient() as http:
        posted = await asyncio.gather(*(
            deliver(http, f"{url}/webhooks/messenger", f"baseline-{run}-{i}-{n}", text)
            for i, text in enumerate(TEXTS) for n in range(per_text)
        ))  # fmt: skip
    await wait_answers(graph, posted, dict.fromkeys(TEXTS, 1), timeout=120, settle=8)
    sent = sent_texts(graph)
    counts: dict[str, list[int]] = {text: [] for text in TEXTS}
    for message in posted:
        counts[message.text].append(len(sent.get(message.psid, ())))
    return expected_calls(counts)


async def wait_steady(load: Load, seconds: float, since: float, cap: float = 180.0) -> bool:
    """Until the web chat has gone ``seconds`` without a failure after ``since`` (``False``
    after ``cap`` seconds)."""
    deadline = time.monotonic() + cap
    while steady_since(load.requests, time.time(), since) < seconds:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def fault_runs(
    stack: Stack, graph: FakeGraphApi, owed: dict[str, int], args: argparse.Namespace
) -> dict[str, Any]:
    load = Load(stack.url, uuid.uuid4().hex[:6])
    windows: list[Window] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=20)
    async with httpx.AsyncClient(limits=limits) as http:
        tasks = [asyncio.create_task(web_citizen(http, load, n, args.pause))
                 for n in range(args.users)]  # fmt: skip
        messenger = asyncio.create_task(messenger_traffic(http, load, args.rate))
        not_steady, since = [], time.time()
        try:
            for number, fault in enumerate(args.faults, 1):
                if not await wait_steady(load, args.steady, since):
                    not_steady.append(fault)
                    say(f"  (the web chat still failed {args.steady:.0f} s before {fault})")
                start = time.time()
                killed = await asyncio.to_thread(make_fault, stack, fault)
                made = f"kill -9 {fault} (pid {killed})" if killed else f"restart {fault}"
                say(f"[fault {number}/{len(args.faults)}] {made}")
                whole = await asyncio.to_thread(wait_whole, stack, fault, killed, args.recovery)
                if windows:
                    windows[-1] = dataclasses.replace(windows[-1], end=start)
                windows.append(Window(fault, start, whole, float("inf")))
                failed = sum(r.failed for r in load.requests if r.ended >= start)
                ready = "not whole" if whole is None else f"whole in {whole - start:.1f} s"
                say(f"  {fault}: {ready}; {failed} web chat requests failed so far")
                since = whole or time.time()
            await wait_steady(load, args.steady, since)
        finally:
            load.stopping.set()
            stopped = time.time()
            if windows:
                windows[-1] = dataclasses.replace(windows[-1], end=stopped)
            say("[drain] load stopped; posting what was not accepted, waiting for answers")
            await asyncio.gather(*tasks, return_exceptions=True)
            await messenger
    await wait_answers(graph, load.posted, owed, args.drain, args.settle)
    answered_at: dict[str, float] = {}  # first Send API message call per psid
    last_call_at: dict[str, float] = {}
    for call in list(graph.calls):
        if "message" in call.body:
            psid = str(call.body.get("recipient", {}).get("id"))
            answered_at.setdefault(psid, call.at)
            last_call_at[psid] = call.at
    sent = sent_texts(graph)
    stretches = tally_by_stretch(load.posted, sent, owed, windows, last_call_at, ENGINE_DOWN)
    faults = []
    for window in windows:
        web = dataclasses.asdict(recovery(window, load.requests))
        mine = [
            p for p in load.posted
            if stretch_of(last_activity(p, last_call_at), windows) == window.fault
        ]  # fmt: skip
        counted = {**dataclasses.asdict(stretches[window.fault]),
                   "slowest_answer_seconds": slowest_answer(mine, answered_at)}  # fmt: skip
        steady = window.fault not in not_steady
        faults.append({"fault": window.fault, **web, "messenger": counted, "steady_before": steady})
    before = {"messenger": dataclasses.asdict(stretches[BEFORE_FAULTS])}
    return {
        "faults": faults,
        "before_faults": {"webchat_failed": failures_before(windows, load.requests), **before},
        "webchat_requests": len(load.requests),
        "messenger_posted": len(load.posted),
    }


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--faults", type=lambda t: t.split(","), default=list(FAULTS),
                        help=f"comma list of {','.join(FAULTS)}")  # fmt: skip
    parser.add_argument("--users", type=int, default=4, help="web chat conversations at once")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between a citizen's "
                        "messages")  # fmt: skip
    parser.add_argument("--rate", type=float, default=1.0, help="Messenger messages a second")
    parser.add_argument("--baseline", type=int, default=2, help="senders per text, no faults")
    parser.add_argument("--steady", type=float, default=15.0,
                        help="seconds without a failure before each fault")  # fmt: skip
    parser.add_argument("--recovery", type=float, default=300.0, help="seconds to be whole")
    parser.add_argument("--drain", type=float, default=180.0, help="seconds for late answers")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds for duplicates")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to be ready")
    parser.add_argument("--graph-delay", type=float, default=0.0,
                        help="seconds the fake Send API takes to answer each call")  # fmt: skip
    return parser


def run(
    args: argparse.Namespace, log: Path = RESULTS / "faults-bot-up.log", model: Path | None = None
) -> dict[str, Any]:
    """The whole run on ``model`` (by default trained first if needed), ``bot up``'s output in
    ``log``: the figures. The topology, its database and the fake Graph API are gone after it,
    the machine's services running."""
    run_id = uuid.uuid4().hex[:8]
    model = model or train()
    say(f"[faults] model: {model.name}")
    graph = FakeGraphApi().start()
    graph.delay_seconds = args.graph_delay
    name = f"bench_faults_{run_id}"
    url = create_database(POSTGRES, name)
    stack = Stack(
        str(SCALE), url, run_id, log,
        meta_app_secret=SECRET, messenger_verify_token="bench-verify",
        messenger_page_access_token="bench-page", graph_api_url=graph.url,
        limit_webchat_posts_per_address="1000000/minute",
        limit_sessions_per_address="1000000/hour",
        redis_url=REDIS,
    )  # fmt: skip
    results: dict[str, Any] = {"scale": SCALE, "users": args.users, "rate": args.rate,
                               "steady": args.steady, "graph_delay": args.graph_delay}  # fmt: skip
    try:
        results["ready_seconds"] = stack.start(args.timeout, model)
        assert stack.child is not None
        wait_ready(Topology(stack.settings, SCALE, SCALE), args.timeout, [stack.child])
        say(f"[faults] bot up --scale {SCALE} ready in {results['ready_seconds']:.0f} s "
            f"({stack.url}, log {log})")  # fmt: skip
        owed = asyncio.run(baseline(stack.url, graph, args.baseline))
        results["calls_per_text"] = owed
        say(f"[baseline] Send API message calls per text: {owed}")
        say(f"[load] {args.users} web chat citizens, {args.rate:g} Messenger messages/s")
        results.update(asyncio.run(fault_runs(stack, graph, owed, args)))
    finally:
        for service in SERVICE_FAULTS:
            start_service(service)
        stack.stop()
        graph.stop()
        drop_database(POSTGRES, name)
        delete_broker_queue(run_id)
    return results


def main(argv: list[str] | None = None) -> int:
    options = parser()
    args = options.parse_args(argv)
    if unknown := set(args.faults) - set(FAULTS):
        options.error(f"unknown faults: {', '.join(sorted(unknown))}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    command = "python -m bench.faults " + " ".join(argv if argv is not None else sys.argv[1:])
    results = {"command": command.strip(), **run(args)}
    (RESULTS / "faults.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    doc = write_section(results)
    say(f"bench.faults done in {time.monotonic() - started:.0f} s: {summary(results)}; "
        f"written to {doc.relative_to(ROOT)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
