"""What the fault runs (``python -m bench.faults``) recorded, counted: which stretch of the run
each web chat request and Messenger message belongs to, each fault's recovery, and whether every
accepted Messenger message was answered exactly once at the fake Graph API.

Pure functions over the records (times are ``time.time()`` seconds, as the fake API records its
calls); the driver is bench/faults.py, the document's section bench/faults_report.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

#: The stretch before the first fault (the load getting steady).
BEFORE_FAULTS = "before faults"


@dataclass(frozen=True)
class WebRequest:
    """One web chat request: when it was sent and ended, the HTTP status (``None``: no answer,
    e.g. a refused connection or a time-out) and whether the answer was the engine-down notice
    (the ``error_servicio`` article), which counts as a failure too."""

    started: float
    ended: float
    status: int | None
    engine_down: bool = False

    @property
    def failed(self) -> bool:
        return self.status != 200 or self.engine_down


@dataclass(frozen=True)
class Window:
    """One fault's stretch of the run: made at ``start``, the topology whole again (every part
    ready, /health ok) at ``recovered`` (``None``: not within the time allowed), until the next
    fault was made or the load stopped (``end``)."""

    fault: str
    start: float
    recovered: float | None
    end: float


@dataclass(frozen=True)
class Posted:
    """One Messenger message posted as a signed webhook from its own new sender (``psid``):
    when first posted, how many posts it took and whether one got a 200 (``accepted``)."""

    psid: str
    text: str
    first_post: float
    attempts: int
    accepted: bool


@dataclass
class Tally:
    """Messenger messages of one stretch: accepted (a webhook got its 200), answered exactly
    once (as many Send API message calls as the text makes without faults), lost (fewer),
    duplicated (more); ``not_accepted`` never got a 200 (not owed an answer, but counted when
    answered twice all the same); ``engine_down`` replies that were the engine-down notice."""

    accepted: int = 0
    once: int = 0
    lost: int = 0
    duplicated: int = 0
    not_accepted: int = 0
    engine_down: int = 0
    lost_senders: list[str] = field(default_factory=list)
    duplicated_senders: list[str] = field(default_factory=list)


def stretch_of(at: float, windows: Sequence[Window]) -> str:
    """The fault whose stretch holds the instant ``at`` (``BEFORE_FAULTS`` before the first;
    after the last stretch's end, the last fault)."""
    found = BEFORE_FAULTS
    for window in windows:
        if at >= window.start:
            found = window.fault
    return found


def expected_calls(baseline: Mapping[str, Sequence[int]]) -> dict[str, int]:
    """Send API message calls each text makes, from the counts measured without faults (one
    per sender). Raises ``ValueError`` when a text's counts differ or none answered: then no
    count of the fault runs could be trusted."""
    expected = {}
    for text, counts in baseline.items():
        if not counts or min(counts) != max(counts) or counts[0] < 1:
            raise ValueError(f"baseline of {text!r} is not one steady count: {list(counts)}")
        expected[text] = counts[0]
    return expected


def tally(
    posted: Iterable[Posted],
    sent: Mapping[str, Sequence[str]],
    expected: Mapping[str, int],
    engine_down_text: str | None = None,
) -> Tally:
    """Count ``posted`` against ``sent`` (the texts the Send API got, per recipient psid)."""
    result = Tally()
    for message in posted:
        texts = sent.get(message.psid, ())
        calls, owed = len(texts), expected[message.text]
        if engine_down_text is not None:
            result.engine_down += sum(text == engine_down_text for text in texts)
        if calls > owed:
            result.duplicated += 1
            result.duplicated_senders.append(message.psid)
        if not message.accepted:
            result.not_accepted += 1
            continue
        result.accepted += 1
        if calls == owed:
            result.once += 1
        elif calls < owed:
            result.lost += 1
            result.lost_senders.append(message.psid)
    return result


def last_activity(message: Posted, last_call_at: Mapping[str, float]) -> float:
    """When ``message`` was last dealt with: its last Send API call (``last_call_at``, per psid),
    else its first post. A message posted before a fault but answered (or answered again) after
    it was in the fault's hands, so it is counted in the fault's stretch."""
    return max(message.first_post, last_call_at.get(message.psid, message.first_post))


def tally_by_stretch(
    posted: Iterable[Posted],
    sent: Mapping[str, Sequence[str]],
    expected: Mapping[str, int],
    windows: Sequence[Window],
    last_call_at: Mapping[str, float],
    engine_down_text: str | None = None,
) -> dict[str, Tally]:
    """:func:`tally` for each stretch (by each message's :func:`last_activity`)."""
    groups: dict[str, list[Posted]] = {BEFORE_FAULTS: [], **{w.fault: [] for w in windows}}
    for message in posted:
        groups[stretch_of(last_activity(message, last_call_at), windows)].append(message)
    return {name: tally(group, sent, expected, engine_down_text) for name, group in groups.items()}


def slowest_answer(posted: Iterable[Posted], answered_at: Mapping[str, float]) -> float | None:
    """The longest wait, in seconds, from a message's first post to its first Send API call,
    over the messages answered (``answered_at``: the first call's time per psid); ``None``
    when none was."""
    waits = [answered_at[p.psid] - p.first_post for p in posted if p.psid in answered_at]
    return max(waits, default=None)


@dataclass(frozen=True)
class Recovery:
    """A fault's effect on the web chat and its recovery, in seconds from the fault.
    ``failing_seconds``: until the end of the last failed request (0: none failed);
    ``ready_seconds``: until every part was ready and /health ok (``None``: not in time);
    ``longest_seconds``: the longest request that ended in the stretch (a hang shows here)."""

    requests: int
    failed: int
    failing_seconds: float
    ready_seconds: float | None
    longest_seconds: float
    statuses: dict[str, int]


def recovery(window: Window, requests: Iterable[WebRequest]) -> Recovery:
    """The web chat requests that ended within ``window``'s stretch, and its recovery."""
    mine = [r for r in requests if window.start <= r.ended < window.end]
    failed = [r for r in mine if r.failed]
    statuses = Counter(
        "engine-down notice" if r.engine_down else str(r.status or "no answer") for r in failed
    )
    return Recovery(
        requests=len(mine),
        failed=len(failed),
        failing_seconds=max((r.ended - window.start for r in failed), default=0.0),
        ready_seconds=None if window.recovered is None else window.recovered - window.start,
        longest_seconds=max((r.ended - r.started for r in mine), default=0.0),
        statuses=dict(sorted(statuses.items())),
    )


def failures_before(windows: Sequence[Window], requests: Iterable[WebRequest]) -> int:
    """Web chat requests that failed before the first fault (the load alone: should be 0)."""
    first = windows[0].start if windows else float("inf")
    return sum(r.failed for r in requests if r.ended < first)


def steady_since(requests: Sequence[WebRequest], now: float, since: float = 0.0) -> float:
    """Seconds the web chat load has gone on without a failure up to ``now``, counted from the
    latest of: the first request, the end of the last failed one, ``since`` (e.g. when the
    last fault was over); 0 when no request succeeded after that."""
    if not requests:
        return 0.0
    last_failure = max((r.ended for r in requests if r.failed), default=requests[0].started)
    start = max(requests[0].started, last_failure, since)
    if not any(not r.failed and r.ended >= start for r in requests):
        return 0.0
    return max(0.0, now - start)
