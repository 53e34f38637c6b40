"""The scale benchmark's section of docs/benchmarks.md and its chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bench.scale_report import BEGIN, END, targets, write_section

SVG = "{http://www.w3.org/2000/svg}"


def _run(users: int, throughput: float, p95: float) -> dict[str, Any]:
    return {
        "users": users, "seconds": 60.0, "requests": int(throughput * 60) + 2,
        "answered": int(throughput * 60), "errors": 2, "errors_by_reason": {"HTTP 502": 2},
        "throughput": throughput, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 1.5,
        "cpu_ms_per_message": 21.5, "postgres_cpu_ms_per_message": 1.25,
    }  # fmt: skip


def _results(two_at_50: float, stored_throughput: float) -> dict[str, Any]:
    return {
        "command": "python -m bench.scale --users 10,50",
        "warmup": 10.0,
        "duration": 60.0,
        "topologies": [
            {
                "spec": "1",
                "label": "1 gateway, 1 engine (bot up --scale 1)",
                "ready_seconds": 40,
                "runs": [_run(10, 50.0, 240), _run(50, 58.0, 1300)],
                "memory": {
                    "opened": 10_000,
                    "failed": 0,
                    "per_10000_bytes": {"gateway": 3 * 2**20, "Rasa": 40 * 2**20},
                },
            },
            {
                "spec": "2",
                "label": "2 gateways, 2 engines (bot up --scale 2)",
                "ready_seconds": 70,
                "runs": [_run(10, 55.0, 230), _run(50, two_at_50, 420)],
            },
        ],
        "history": {
            "users": 10,
            "spec": "1",
            "seeded": {"conversations": 100_000, "messages": 1_000_000, "seconds": 41.0},
            "empty": _run(10, 50.0, 240),
            "stored": _run(10, stored_throughput, 250),
        },
    }


def test_the_section_is_replaced_in_place_and_the_rest_kept(tmp_path: Path) -> None:
    doc, chart = tmp_path / "benchmarks.md", tmp_path / "benchmarks-scale.svg"
    before = (
        "# Benchmarks\n\nfigures\n\n<!-- bench.other: begin -->\nother\n<!-- bench.other: end -->\n"
    )
    doc.write_text(before)
    write_section(_results(90.0, 48.0), doc, chart)
    first = doc.read_text()
    assert first.startswith(before) and first.count(BEGIN) == 1 and first.rstrip().endswith(END)
    assert (
        "| 2 gateways, 2 engines (bot up --scale 2) | 50 | 5,400 | 2 | 90.0 | 210 | 420 | 630 |"
        in first
    )
    assert "| 50 | 58.0 / 1300 | 90.0 / 420 |" in first  # side by side
    assert "![messages per second and p95 against users](benchmarks-scale.svg)" in first
    assert "| 1 gateway, 1 engine (bot up --scale 1) | 10,000 (0 failed) | +43.0 |" in first
    assert "python -m bench.scale --users 10,50" in first

    doc.write_text(first + "\n<!-- bench.after: begin -->\nlater\n<!-- bench.after: end -->\n")
    write_section(_results(60.0, 40.0), doc, chart)
    second = doc.read_text()
    assert second.startswith(before) and second.count(BEGIN) == 1
    assert "| 50 | 58.0 / 1300 | 60.0 / 420 |" in second and "90.0 / 420" not in second
    assert second.rstrip().endswith("<!-- bench.after: end -->")


def test_the_chart_has_a_line_per_topology_in_each_panel(tmp_path: Path) -> None:
    doc, chart = tmp_path / "benchmarks.md", tmp_path / "benchmarks-scale.svg"
    write_section(_results(90.0, 48.0), doc, chart)
    svg = ET.fromstring(chart.read_text())
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 4  # 2 topologies × (msg/s, p95)
    assert all(len(line.get("points", "").split()) == 2 for line in lines)  # 10 and 50 users
    labels = [text.text for text in svg.findall(f"{SVG}text")]
    assert "1 gateway, 1 engine (bot up --scale 1)" in labels and "users" in labels


def test_the_issue_targets_are_judged_from_the_run() -> None:
    met = {t: ok for t, _, ok in targets(_results(two_at_50=90.0, stored_throughput=48.0))}
    assert met == {
        "2 engines at 50 users ≥ 1.3× one engine's throughput": True,  # 90 / 58 = 1.55
        "2 engines at 50 users: p95 ≤ 500 ms": True,
        "1,000,000 stored messages: throughput within 10% of an empty database": True,  # -4%
        "1,000,000 stored messages: p95 within 10% of an empty database": True,  # +4%
    }
    missed = targets(_results(two_at_50=70.0, stored_throughput=40.0))
    measured = [(m, ok) for _, m, ok in missed]
    assert measured[0] == ("1.21×", False)
    assert measured[2] == ("-20.0%", False)


def test_two_engines_behind_one_gateway_are_what_the_target_compares_when_run() -> None:
    results = _results(two_at_50=90.0, stored_throughput=48.0)
    results["topologies"].append(
        {
            "spec": "1x2",
            "label": "1 gateway, 2 engines",
            "ready_seconds": 50,
            "runs": [_run(50, 66.0, 800)],
        }
    )
    measured = {t: m for t, m, _ in targets(results)}
    assert measured["2 engines at 50 users ≥ 1.3× one engine's throughput"] == "1.14×"  # 66/58
    assert measured["2 engines at 50 users: p95 ≤ 500 ms"] == "800 ms"
