"""The scale benchmark's section of docs/benchmarks.md (between its markers, which
``python -m bench.load`` leaves to each benchmark) and its chart, an SVG drawn here
(docs/benchmarks-scale.svg): messages per second and p95 against users, one line per topology.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from pathlib import Path
from typing import Any

from bench.doc_section import replace_section
from bench.report import machine
from bot.ops.settings import ROOT

DOC = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks-scale.svg"
BEGIN, END = "<!-- bench.scale: begin -->", "<!-- bench.scale: end -->"
#: Issue 15's targets.
SPEEDUP_TARGET, P95_TARGET_MS, HISTORY_TARGET = 1.3, 500.0, 0.10
COLOURS = ("#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b")
MB = 1024 * 1024


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0f}"


def _run_row(label: str, run: dict[str, Any]) -> str:
    return (
        f"| {label} | {run['users']} | {run['answered']:,} | {run['errors']:,} | "
        f"{run['throughput']:.1f} | {_ms(run['p50_ms'])} | {_ms(run['p95_ms'])} | "
        f"{_ms(run['p99_ms'])} | {run['cpu_ms_per_message']:.1f} | "
        f"{run['postgres_cpu_ms_per_message']:.1f} |"
    )


def _find(results: dict[str, Any], spec: str, users: int) -> dict[str, Any] | None:
    for topology in results["topologies"]:
        if topology["spec"] == spec:
            return next((run for run in topology["runs"] if run["users"] == users), None)
    return None


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for the issue's targets this run measured."""
    checks = []
    # Two engines behind one gateway against one of each: what the second engine brings (with
    # two gateways too when the run has no 1x2).
    one, two = _find(results, "1", 50), _find(results, "1x2", 50) or _find(results, "2", 50)
    if one and two:
        speedup = two["throughput"] / one["throughput"]
        checks.append((f"2 engines at 50 users ≥ {SPEEDUP_TARGET}× one engine's throughput",
                       f"{speedup:.2f}×", speedup >= SPEEDUP_TARGET))  # fmt: skip
    if two:
        checks.append((f"2 engines at 50 users: p95 ≤ {P95_TARGET_MS:.0f} ms",
                       f"{_ms(two['p95_ms'])} ms", two["p95_ms"] <= P95_TARGET_MS))  # fmt: skip
    if history := results.get("history"):
        empty, stored = history["empty"], history["stored"]
        loss = 1 - stored["throughput"] / empty["throughput"]
        growth = stored["p95_ms"] / empty["p95_ms"] - 1
        checks.append((f"{history['seeded']['messages']:,} stored messages: throughput within "
                       f"{HISTORY_TARGET:.0%} of an empty database", f"{-loss:+.1%}",
                       loss <= HISTORY_TARGET))  # fmt: skip
        checks.append((f"{history['seeded']['messages']:,} stored messages: p95 within "
                       f"{HISTORY_TARGET:.0%} of an empty database", f"{growth:+.1%}",
                       growth <= HISTORY_TARGET))  # fmt: skip
    return checks


def render(results: dict[str, Any], chart: str | None) -> str:
    topologies = results["topologies"]
    rows = [_run_row(t["label"], run) for t in topologies for run in t["runs"]]
    users = sorted({run["users"] for t in topologies for run in t["runs"]})
    side = [
        f"| {n} | "
        + " | ".join(
            f"{run['throughput']:.1f} / {_ms(run['p95_ms'])}"
            if (run := _find(results, t["spec"], n))
            else "–"
            for t in topologies
        )
        + " |"
        for n in users
    ]
    header = " | ".join(t["label"] for t in topologies)
    ready = ", ".join(f"{t['label']} {t.get('ready_seconds', math.nan):.0f} s" for t in topologies)
    memory_rows = []
    for t in topologies:
        if m := t.get("memory"):
            per = m["per_10000_bytes"]
            shown = ", ".join(f"{role} {value / MB:+.1f}" for role, value in per.items())
            memory_rows.append(
                f"| {t['label']} | {m['opened']:,} ({m['failed']} failed) | "
                f"{sum(per.values()) / MB:+.1f} | {shown} |"
            )
    history = results.get("history")
    history_part = ""
    if history:
        seeded = history["seeded"]
        history_part = f"""
### Stored history: an empty database against {seeded["messages"]:,} stored messages

The same load ({history["users"]} users on {history.get("label", history["spec"])}) on a new
empty database and on one holding {seeded["messages"]:,} messages in
{seeded["conversations"]:,} web chat conversations (written in {seeded["seconds"]:.0f} s with
`INSERT … SELECT generate_series`, bench/scale_seed.py), each on a topology started anew.

| database | users | answered | errors | msg/s | p50 ms | p95 ms | p99 ms | CPU ms/msg | PostgreSQL CPU ms/msg |
|---|---|---|---|---|---|---|---|---|---|
{_run_row("empty", history["empty"])}
{_run_row(f"{seeded['messages']:,} messages", history["stored"])}
"""  # noqa: E501
    memory_part = ""
    if memory_rows:
        table = "\n".join(memory_rows)
        memory_part = f"""
### Memory per 10,000 open conversations

After the loads, new conversations (one "hola" each, 20 at a time); the resident memory (RSS)
of each kind of process before and after, scaled to 10,000 conversations, in MB.

| topology | conversations opened | total MB | by process |
|---|---|---|---|
{table}
"""
    checks = targets(results)
    target_rows = "\n".join(f"| {t} | {m} | {'yes' if ok else 'no'} |" for t, m, ok in checks)
    target_part = (
        f"\n### Targets (issue 15)\n\n| target | measured | met |\n|---|---|---|\n{target_rows}\n"
        if checks else ""
    )  # fmt: skip
    chart_part = f"\n![messages per second and p95 against users]({chart})\n" if chart else ""
    return f"""{BEGIN}
## Scale out: gateways and engines under a locust load (issue 15)

Measured {dt.date.today().isoformat()} on {machine()}, in one run:

```sh
{results["command"]}
```

Each topology is started by `python -m bot up` (`single`: one gateway, Rasa and action
server) or `python -m bot up --scale N` (N gateways, N Rasa engines and N action servers,
the event consumer, nginx in front) on its own new PostgreSQL database and the machine's
Redis and RabbitMQ. Locust users (bench/locustfile.py) hold the Spanish 5-turn mix of
`make bench` through the web chat API, a new conversation each time, one message at a time,
no pause; locust itself runs on the same machine (one process). After
{results["warmup"]:.0f} s of warm-up, {results["duration"]:.0f} s are measured: msg/s are
messages answered (not the engine's error notice) per second; percentiles are locust's;
CPU ms/msg is the CPU time of every process of the topology over the window per message
answered (PostgreSQL's server processes for its database apart). Ready: {ready}.

| topology | users | answered | errors | msg/s | p50 ms | p95 ms | p99 ms | CPU ms/msg | PostgreSQL CPU ms/msg |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Side by side, msg/s / p95 ms:

| users | {header} |
|---|{"---|" * len(topologies)}
{chr(10).join(side)}
{chart_part}{history_part}{memory_part}{target_part}
{END}
"""  # noqa: E501


def _tick(rough: float) -> float:
    """A round step at least ``rough``: 1, 2, 2.5 or 5 times a power of ten."""
    if rough <= 0 or math.isnan(rough):
        return 1.0
    power = 10.0 ** math.floor(math.log10(rough))
    return next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= rough)


def chart_svg(results: dict[str, Any]) -> str:
    """Two panels, msg/s and p95 (ms) against users (evenly spaced), a line per topology."""
    topologies = [t for t in results["topologies"] if t["runs"]]
    users = sorted({run["users"] for t in topologies for run in t["runs"]})
    width, height, panel, top, left, bottom = 880, 330, 400, 40, 60, 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for p, (key, title) in enumerate((("throughput", "messages answered per second"),
                                      ("p95_ms", "p95 latency (ms)"))):  # fmt: skip
        x0, plot_w, plot_h = left + p * (panel + 40), panel - left, height - top - bottom
        values = [run[key] for t in topologies for run in t["runs"] if not math.isnan(run[key])]
        peak = 4 * _tick(max(values, default=1.0) / 4)
        parts.append(f'<text x="{x0 + plot_w / 2}" y="20" text-anchor="middle" '
                     f'font-weight="bold">{title}</text>')  # fmt: skip
        for i in range(5):  # horizontal grid and its labels
            value = peak * i / 4
            y = top + plot_h * (1 - i / 4)
            parts.append(f'<line x1="{x0}" x2="{x0 + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="#ddd"/><text x="{x0 - 6}" y="{y + 4:.1f}" '
                         f'text-anchor="end">{value:g}</text>')  # fmt: skip

        def x(n: int, x0: int = x0, plot_w: int = plot_w) -> float:
            return x0 + plot_w * (users.index(n) + 0.5) / len(users)

        if key == "p95_ms" and peak > P95_TARGET_MS:  # the p95 target at 50 users
            y = top + plot_h * (1 - P95_TARGET_MS / peak)
            parts.append(f'<line x1="{x0}" x2="{x0 + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="#c0392b" stroke-dasharray="4 3"/><text x="{x0 + plot_w}" '
                         f'y="{y - 4:.1f}" text-anchor="end" fill="#c0392b">target</text>'
                         )  # fmt: skip
        for n in users:
            parts.append(f'<text x="{x(n):.1f}" y="{top + plot_h + 18}" '
                         f'text-anchor="middle">{n}</text>')  # fmt: skip
        parts.append(f'<text x="{x0 + plot_w / 2}" y="{top + plot_h + 36}" '
                     'text-anchor="middle">users</text>')  # fmt: skip
        for colour, t in zip(COLOURS * 3, topologies, strict=False):
            points = [(x(run["users"]), top + plot_h * (1 - run[key] / peak))
                      for run in t["runs"] if not math.isnan(run[key])]  # fmt: skip
            line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                         'stroke-width="2"/>')  # fmt: skip
            parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>'
                      for px, py in points]  # fmt: skip
    for i, (colour, t) in enumerate(zip(COLOURS * 3, topologies, strict=False)):
        y = height - 8
        x_legend = left + i * 260
        parts.append(f'<rect x="{x_legend}" y="{y - 9}" width="12" height="3" fill="{colour}"/>'
                     f'<text x="{x_legend + 16}" y="{y}">{escape(t["label"])}</text>')  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_section(results: dict[str, Any], doc: Path = DOC, chart: Path = CHART) -> Path:
    """Write the chart and replace this benchmark's section of ``doc`` (appended when absent;
    the rest of the document is kept as it is); ``doc``."""
    has_runs = any(t["runs"] for t in results["topologies"])
    if has_runs:
        chart.write_text(chart_svg(results), encoding="utf-8")
    link = chart.name if has_runs and chart.parent == doc.parent else None
    section = render(results, link)
    replace_section(doc, section, BEGIN, END)
    return doc
