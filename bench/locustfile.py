"""The citizens of the scale benchmark (``python -m bench.scale``), for locust.

Each :class:`Citizen` holds the Spanish 5-turn conversations of ``make bench``
(:data:`bench.load_driver.CONVERSATIONS`) one after another, a new conversation (``sender``) each
time, one message at a time and no pause, through the web chat as an integrator's server does
(``POST /webhooks/webchat`` with ``X-Api-Key`` and ``sender``). A :class:`LongCitizen` keeps
one conversation for ``BENCH_LONG_TURNS`` turns (default 100), cycling through the same
messages. Requests are named by kind, so locust's CSV has a row for each kind and one
"Aggregated".

A message counts as answered when the gateway returns 200 with at least one reply that is not
the knowledge base's ``error_servicio`` notice (what the gateway says when the engine failed);
anything else is a locust failure, with the reason.

The window: locust's stats are reset ``--warmup-seconds`` after every user is spawned, and
``--measure-seconds`` later the users are stopped, the CSV files written once more (locust
writes them every second) and locust quits. Lines on standard output mark both moments for
the caller (:data:`bench.scale_stats.MEASURING`, ``MEASURED`` followed by the window's
seconds), which takes its CPU readings there.

Environment: ``BENCH_API_KEY`` (one of the gateway's ``WEBCHAT_API_KEYS``, required),
``BENCH_LONG_TURNS``, ``BENCH_SHORT_WEIGHT`` and ``BENCH_LONG_WEIGHT`` (the users' shares when
both classes are named on locust's command line, as the caller does), ``KNOWLEDGE_DIR``.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.stats import CSV_STATS_INTERVAL_SEC

from bench.load_driver import CONVERSATIONS
from bench.scale_stats import LONG, MEASURED, MEASURING, SHORT
from bot.knowledge.articles import load_knowledge
from connectors.webchat_access import API_KEY_HEADER

PATH = "/webhooks/webchat"

_ROOT = Path(__file__).resolve().parent.parent
_NOTICE = (
    load_knowledge(Path(os.environ.get("KNOWLEDGE_DIR") or _ROOT / "data" / "knowledge"))
    .require("error_servicio")
    .answer
)
_HEADERS = {API_KEY_HEADER: os.environ.get("BENCH_API_KEY", "")}
_LONG_TURNS = int(os.environ.get("BENCH_LONG_TURNS", "100"))
_USER_NUMBERS = itertools.count()


def refusal(status: int, body: Any) -> str | None:
    """Why an answer does not count as answered (None when it does)."""
    if status != 200:
        return f"HTTP {status}"
    if not isinstance(body, list) or not body:
        return "no reply"
    first = body[0]
    if isinstance(first, dict) and first.get("text") == _NOTICE:
        return "the engine failed (error_servicio notice)"
    return None


class Citizen(FastHttpUser):
    """5-turn conversations of the mix, one after another (each user starts at its own)."""

    wait_time = constant(0)
    weight = int(os.environ.get("BENCH_SHORT_WEIGHT", "1"))

    def on_start(self) -> None:
        if not _HEADERS[API_KEY_HEADER]:
            raise RuntimeError("BENCH_API_KEY is not set (one of the gateway's WEBCHAT_API_KEYS)")
        self.number = next(_USER_NUMBERS)
        self.rounds = 0

    def say(self, sender: str, text: str, kind: str) -> None:
        with self.client.post(
            PATH, json={"sender": sender, "message": text}, headers=_HEADERS, name=kind,
            catch_response=True,
        ) as response:  # fmt: skip
            try:
                body = response.json() if response.status_code == 200 else None
            except ValueError:
                body = None
            reason = refusal(response.status_code or 0, body)
            if reason is None:
                response.success()
            else:
                response.failure(reason)

    @task
    def conversation(self) -> None:
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        for text in CONVERSATIONS[(self.number + self.rounds) % len(CONVERSATIONS)]:
            self.say(sender, text, SHORT)
        self.rounds += 1


class LongCitizen(Citizen):
    """One conversation of ``BENCH_LONG_TURNS`` turns, then another."""

    weight = int(os.environ.get("BENCH_LONG_WEIGHT", "1"))

    @task
    def conversation(self) -> None:
        sender = f"bench-long-{uuid.uuid4().hex[:12]}"
        texts = itertools.cycle(itertools.chain.from_iterable(CONVERSATIONS))
        for text in itertools.islice(texts, _LONG_TURNS):
            self.say(sender, text, LONG)


def _window_options(parser: LocustArgumentParser) -> None:
    parser.add_argument("--warmup-seconds", type=float, default=0.0, include_in_web_ui=False)
    parser.add_argument("--measure-seconds", type=float, default=0.0, include_in_web_ui=False)


def _measure(environment: Environment, **_: Any) -> None:
    def start(user_count: int, **__: Any) -> None:
        options = environment.parsed_options
        if options is not None and options.measure_seconds > 0:
            # Locust has patched threading and time.sleep (gevent): this thread is a greenlet.
            window = (environment, options.warmup_seconds, options.measure_seconds)
            threading.Thread(target=_window, args=window, daemon=True).start()

    environment.events.spawning_complete.add_listener(start)  # type: ignore[no-untyped-call]


def _window(environment: Environment, warmup: float, measure: float) -> None:
    runner = environment.runner
    assert runner is not None
    time.sleep(warmup)
    runner.stats.reset_all()
    started = time.monotonic()
    print(MEASURING, flush=True)
    time.sleep(measure)
    runner.stop()
    print(f"{MEASURED} {time.monotonic() - started:.3f}", flush=True)
    time.sleep(CSV_STATS_INTERVAL_SEC + 0.5)  # one more write of the CSV files, then quit
    runner.quit()


events.init_command_line_parser.add_listener(_window_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_measure)  # type: ignore[no-untyped-call]
