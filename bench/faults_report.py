"""The fault runs' section of docs/benchmarks.md (between its own markers, replaced in place or
added at the end), from what ``python -m bench.faults`` measured, and its one-line summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bench.doc_section import replace_section
from bench.report import machine
from bot.ops.settings import ROOT

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench.faults: begin -->", "<!-- bench.faults: end -->"
MADE = {
    "gateway-1": "kill -9 gateway-1",
    "rasa-1": "kill -9 rasa-1 (engine)",
    "actions-1": "kill -9 actions-1 (action server)",
    "postgresql": "restart PostgreSQL",
    "redis": "restart Redis (data not kept)",
    "rabbitmq": "restart RabbitMQ",
}


def _seconds(value: float | None) -> str:
    return "not in time" if value is None else f"{value:.1f}"


def _answer(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def lost_and_duplicated(results: dict[str, Any]) -> tuple[int, int]:
    """Messenger messages lost and duplicated over the whole run (before and during faults)."""
    stretches = [
        results["before_faults"]["messenger"],
        *(f["messenger"] for f in results["faults"]),
    ]
    return sum(s["lost"] for s in stretches), sum(s["duplicated"] for s in stretches)


def summary(results: dict[str, Any]) -> str:
    """The run in one line: faults made, Messenger lost/duplicated, the slowest recovery."""
    faults = results.get("faults", [])
    if not faults:
        return "no fault made"
    lost, duplicated = lost_and_duplicated(results)
    accepted = results["before_faults"]["messenger"]["accepted"] + sum(
        f["messenger"]["accepted"] for f in faults
    )
    slowest = max(faults, key=lambda f: f["ready_seconds"] or float("inf"))
    failed = sum(f["failed"] for f in faults)
    return (
        f"{len(faults)} faults, {accepted} Messenger messages accepted: {lost} lost, "
        f"{duplicated} duplicated; {failed} web chat requests failed; slowest recovery "
        f"{slowest['fault']} ({_seconds(slowest['ready_seconds'])} s)"
    )


def render(results: dict[str, Any]) -> str:
    rows = []
    for fault in results["faults"]:
        m = fault["messenger"]
        rows.append(
            f"| {MADE.get(fault['fault'], fault['fault'])} | {_seconds(fault['ready_seconds'])} | "
            f"{fault['failing_seconds']:.1f} | {fault['failed']} / {fault['requests']} | "
            f"{fault['longest_seconds']:.1f} | {m['accepted']} | {m['once']} | {m['lost']} | "
            f"{m['duplicated']} | {_answer(m.get('slowest_answer_seconds'))} |"
        )
    before = results["before_faults"]
    lost, duplicated = lost_and_duplicated(results)
    met = "yes" if (lost, duplicated) == (0, 0) else "no"
    table = "\n".join(rows)
    calls = ", ".join(f"“{text}” {n}" for text, n in results["calls_per_text"].items())
    date = dt.datetime.now(dt.UTC).date().isoformat()
    wait = results.get("graph_delay") or 0
    delay = f" (answering each call after {wait:g} s)" if wait else ""
    return f"""{BEGIN}
## Faults under load (issue 15)

`{results["command"]}`, {date} on {machine()}: `bot up --scale {results["scale"]}` on its own
PostgreSQL database and the machine's Redis and RabbitMQ, {results["users"]} web chat citizens
through nginx and {results["rate"]:g} Messenger message(s) a second (each from a new sender,
signed webhooks posted again until answered 200, as Meta does) against a local fake Graph API{delay}.
Each fault is made after the web chat has gone {results["steady"]:g} s without a failure, the
next once the topology is whole again. Send API message calls per text without faults: {calls}.

"Whole again": seconds from the fault until the part is back and every process is ready with
/health ok through nginx; "last failure": until the end of the last failed web chat request
(an error status, no answer, or the engine-down notice); "longest": the longest web chat request
of the stretch. Messenger messages are counted by the stretch in which they were first posted,
after the load stopped and the answers drained: answered exactly once means as many Send API
message calls as without faults; "slowest answer": the longest wait from a message's first post
to its first Send API call.

| fault | whole again (s) | last failure (s) | web chat failed / requests | longest (s) | Messenger accepted | once | lost | duplicated | slowest answer (s) |
|---|---|---|---|---|---|---|---|---|---|
{table}

Before the first fault: {before["webchat_failed"]} web chat requests failed,
{before["messenger"]["accepted"]} Messenger messages accepted, {before["messenger"]["lost"]} lost,
{before["messenger"]["duplicated"]} duplicated. In all: {results["webchat_requests"]} web chat
requests, {results["messenger_posted"]} Messenger messages posted; Messenger replies that were
the engine-down notice: {sum(f["messenger"]["engine_down"] for f in results["faults"])}.

| target (issue 15) | measured | met |
|---|---|---|
| every accepted message answered exactly once | {lost} lost, {duplicated} duplicated | {met} |
{END}
"""  # noqa: E501


def write_section(results: dict[str, Any], doc: Path = DOC) -> Path:
    """Replace the section between its markers (or add it at the end); the document's path."""
    replace_section(doc, render(results), BEGIN, END)
    return doc
