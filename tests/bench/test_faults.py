"""The fault runs' counting (bench/faults_tally.py) and section (bench/faults_report.py): lost,
duplicated and recovery computed from recorded requests and Send API calls."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench.faults_report import BEGIN, END, summary, write_section
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
    tally,
    tally_by_stretch,
)

NOTICE = "El servicio no está disponible"
OWED = {"hola": 1, "que es el ruc": 2}


def posted(psid: str, text: str = "hola", at: float = 0.0, accepted: bool = True) -> Posted:
    return Posted(psid, text, at, attempts=1, accepted=accepted)


def test_each_accepted_message_is_once_lost_or_duplicated_by_its_own_calls() -> None:
    messages = [
        posted("a"),  # one call owed, one made
        posted("b"),  # none made
        posted("c"),  # two made
        posted("d", "que es el ruc"),  # two owed, one made: its answer is incomplete
        posted("e", "que es el ruc"),  # two owed, two made
    ]
    sent = {"a": ["hi"], "c": ["hi", "hi"], "d": ["ruc"], "e": ["ruc", "more"], "x": ["?"]}

    counted = tally(messages, sent, OWED)

    assert (counted.accepted, counted.once, counted.lost, counted.duplicated) == (5, 2, 2, 1)
    assert counted.lost_senders == ["b", "d"]
    assert counted.duplicated_senders == ["c"]


def test_a_message_never_accepted_is_not_owed_but_counts_when_sent_twice() -> None:
    messages = [posted("a", accepted=False), posted("b", accepted=False)]

    counted = tally(messages, {"b": ["hi", "hi"]}, OWED)

    assert (counted.accepted, counted.lost, counted.not_accepted) == (0, 0, 2)
    assert counted.duplicated_senders == ["b"]


def test_engine_down_notices_are_counted() -> None:
    counted = tally([posted("a"), posted("b")], {"a": [NOTICE], "b": ["hola"]}, OWED, NOTICE)

    assert counted.engine_down == 1 and counted.once == 2


def test_the_baseline_needs_one_steady_count_per_text() -> None:
    assert expected_calls({"hola": [1, 1], "que es el ruc": [2, 2]}) == OWED
    with pytest.raises(ValueError, match="hola"):
        expected_calls({"hola": [1, 2]})
    with pytest.raises(ValueError):
        expected_calls({"hola": [0, 0]})
    with pytest.raises(ValueError):
        expected_calls({"hola": []})


WINDOWS = [Window("gateway-1", 100.0, 104.0, 150.0), Window("redis", 150.0, None, 200.0)]


def test_messages_and_requests_belong_to_the_stretch_they_started_in() -> None:
    assert stretch_of(99.9, WINDOWS) == BEFORE_FAULTS
    assert stretch_of(100.0, WINDOWS) == "gateway-1"
    assert stretch_of(150.0, WINDOWS) == "redis"
    assert stretch_of(500.0, WINDOWS) == "redis"

    by_stretch = tally_by_stretch(
        [posted("a", at=50), posted("b", at=120), posted("c", at=160), posted("d", at=170)],
        {"a": ["hi"], "b": [], "c": ["hi", "hi"], "d": ["hi"]},
        OWED,
        WINDOWS,
        last_call_at={"a": 50.5, "c": 161.0, "d": 170.2},
    )

    assert [(name, t.accepted, t.lost, t.duplicated) for name, t in by_stretch.items()] == [
        (BEFORE_FAULTS, 1, 0, 0),
        ("gateway-1", 1, 1, 0),
        ("redis", 2, 0, 1),
    ]


def test_a_message_in_flight_at_a_fault_counts_in_the_fault_s_stretch() -> None:
    # Posted before the gateway was killed, sent again after it: the kill's duplicate.
    messages = [posted("a", at=99.0), posted("b", at=99.5)]
    last_call_at = {"a": 99.2, "b": 131.0}

    by_stretch = tally_by_stretch(messages, {"a": ["hi"], "b": ["hi", "hi"]}, OWED, WINDOWS,
                                  last_call_at)  # fmt: skip

    assert last_activity(messages[1], last_call_at) == 131.0
    assert last_activity(messages[0], {}) == 99.0
    assert by_stretch[BEFORE_FAULTS].once == 1 and by_stretch[BEFORE_FAULTS].duplicated == 0
    assert by_stretch["gateway-1"].duplicated_senders == ["b"]


def test_recovery_counts_the_requests_that_ended_in_the_stretch() -> None:
    requests = [
        WebRequest(90.0, 99.0, 200),  # before the fault
        WebRequest(99.0, 101.0, 502),  # in flight when the gateway died: this fault's
        WebRequest(101.0, 103.5, 200, engine_down=True),  # answered with the notice
        WebRequest(104.0, 110.0, 200),
        WebRequest(140.0, 151.0, None),  # ended in the next stretch
    ]

    gateway = recovery(WINDOWS[0], requests)

    assert (gateway.requests, gateway.failed) == (3, 2)
    assert gateway.failing_seconds == pytest.approx(3.5)
    assert gateway.ready_seconds == pytest.approx(4.0)
    assert gateway.longest_seconds == pytest.approx(6.0)
    assert gateway.statuses == {"502": 1, "engine-down notice": 1}
    redis = recovery(WINDOWS[1], requests)
    assert (redis.failed, redis.ready_seconds, redis.statuses) == (1, None, {"no answer": 1})
    assert failures_before(WINDOWS, [WebRequest(1, 2, 500), *requests]) == 1


def test_the_slowest_answer_is_from_first_post_to_first_call() -> None:
    messages = [posted("a", at=10.0), posted("b", at=12.0), posted("c", at=13.0)]

    assert slowest_answer(messages, {"a": 11.0, "b": 42.5, "x": 99.0}) == pytest.approx(30.5)
    assert slowest_answer(messages, {}) is None


def test_a_stretch_without_failures_recovered_at_once() -> None:
    calm = recovery(WINDOWS[0], [WebRequest(100.5, 101.0, 200)])

    assert (calm.failed, calm.failing_seconds) == (0, 0.0)


def test_the_load_is_steady_from_its_last_failure_once_something_succeeded_after() -> None:
    assert steady_since([], 10.0) == 0.0
    assert steady_since([WebRequest(1.0, 2.0, 200)], 10.0) == pytest.approx(9.0)
    failing = [WebRequest(1.0, 2.0, 200), WebRequest(3.0, 4.0, 503)]
    assert steady_since(failing, 10.0) == 0.0
    recovered = [*failing, WebRequest(4.5, 5.0, 200)]
    assert steady_since(recovered, 10.0) == pytest.approx(6.0)
    # Counted from the end of the last fault when that is later.
    assert steady_since(recovered, 10.0, since=8.0) == 0.0
    assert steady_since([*recovered, WebRequest(8.5, 9.0, 200)], 10.0, since=8.0) == 2.0


def results(lost: int = 0, duplicated: int = 0) -> dict[str, object]:
    counted = dataclasses.asdict(tally([posted("a")], {"a": ["hi"]}, OWED))
    fault = {
        "fault": "rasa-1",
        **dataclasses.asdict(recovery(WINDOWS[0], [WebRequest(100, 101, 502)])),
        "messenger": {**counted, "lost": lost, "duplicated": duplicated},
    }
    return {
        "command": "python -m bench.faults --users 2",
        "scale": 2,
        "users": 2,
        "rate": 1.0,
        "steady": 15.0,
        "calls_per_text": {"hola": 1},
        "faults": [fault],
        "before_faults": {"webchat_failed": 0, "messenger": counted},
        "webchat_requests": 10,
        "messenger_posted": 2,
    }


def test_the_summary_says_lost_and_duplicated_and_the_slowest_recovery() -> None:
    assert summary(results(lost=1, duplicated=2)) == (
        "1 faults, 2 Messenger messages accepted: 1 lost, 2 duplicated; 1 web chat requests "
        "failed; slowest recovery rasa-1 (4.0 s)"
    )


def test_the_section_is_replaced_between_its_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{BEGIN}\nold\n{END}\n\n## After\n", encoding="utf-8")

    write_section(results(lost=1), doc)
    text = doc.read_text(encoding="utf-8")

    assert "old" not in text and text.endswith("\n\n## After\n")
    assert "`python -m bench.faults --users 2`" in text
    assert "| 1 lost, 0 duplicated | no |" in text
    write_section(results(), doc)
    again = doc.read_text(encoding="utf-8")
    assert again.count(BEGIN) == 1 and "| 0 lost, 0 duplicated | yes |" in again


def test_the_section_is_added_at_the_end_when_missing(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n", encoding="utf-8")

    write_section(results(), doc)

    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\n" + BEGIN) and text.endswith(END + "\n")
