"""When a conversation goes to a person, and what the agents' desk offers: ``data/handoff/``.

Shared by the action server (which decides that a conversation needs a person: the topics and
the repetition limit) and the gateway (which owns the handoff: teams, resolution codes, the
words that cancel a wait, office hours). Standard library + PyYAML. A bad file is a
:class:`EscalationError` naming the field.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.watched_directory import WatchedDirectory

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "handoff"
FILE = "handoff.yml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = dict(zip(WEEKDAYS, ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado",
                                 "domingo"), strict=True))  # fmt: skip
#: A topic's, team's or resolution's name.
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
_NAME = re.compile(NAME_PATTERN)
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class EscalationError(ValueError):
    pass


@dataclass(frozen=True)
class OfficeHours:
    """Opening hours per weekday (0 = Monday) in ``timezone``; none at all means always."""

    days: Mapping[int, tuple[dt.time, dt.time]]
    timezone: str = "America/Lima"

    @classmethod
    def parse(cls, raw: Any, timezone: str = "America/Lima") -> OfficeHours:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise EscalationError("el horario debe indicar días (mon..sun) y horas HH:MM-HH:MM")
        days: dict[int, tuple[dt.time, dt.time]] = {}
        for day, hours in raw.items():
            if day not in WEEKDAYS:
                raise EscalationError(f"«{day}» no es un día (mon..sun)")
            match = _HOURS.match(str(hours).strip())
            if match is None:
                raise EscalationError(
                    f"{_DAY_NAMES.get(day, day)}: escribe las horas como HH:MM-HH:MM"
                )
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h2 == 24 and m2 != 0:
                raise EscalationError(f"office_hours.{day}: a day ends at 24:00 at the latest")
            opens = dt.time(h1, m1)
            closes = dt.time(23, 59, 59) if h2 == 24 else dt.time(h2, m2)
            if closes <= opens:
                raise EscalationError(
                    f"{_DAY_NAMES.get(day, day)}: la hora de cierre es anterior a la de apertura"
                )
            days[WEEKDAYS.index(day)] = (opens, closes)
        return cls(days, timezone)

    def as_dict(self) -> dict[str, str]:
        return {
            WEEKDAYS[d]: f"{o:%H:%M}-{'24:00' if c == dt.time(23, 59, 59) else f'{c:%H:%M}'}"
            for d, (o, c) in sorted(self.days.items())
        }

    def is_open(self, moment: dt.datetime) -> bool:
        if not self.days:
            return True
        from zoneinfo import ZoneInfo

        local = moment.astimezone(ZoneInfo(self.timezone))
        hours = self.days.get(local.weekday())
        return hours is not None and hours[0] <= local.time().replace(tzinfo=None) < hours[1]

    def describe(self) -> str:
        """In words for citizens: "lunes a viernes de 08:30 a 17:00; sábado de 09:00 a 13:00"."""
        names = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
        groups: list[tuple[int, int, tuple[dt.time, dt.time]]] = []
        for day in sorted(self.days):
            hours = self.days[day]
            if groups and groups[-1][1] == day - 1 and groups[-1][2] == hours:
                groups[-1] = (groups[-1][0], day, hours)
            else:
                groups.append((day, day, hours))
        parts = []
        for first, last, (opens, closes) in groups:
            span = names[first] if first == last else f"{names[first]} a {names[last]}"
            end = "24:00" if closes == dt.time(23, 59, 59) else f"{closes:%H:%M}"
            parts.append(f"{span} de {opens:%H:%M} a {end}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Escalation:
    topics: Mapping[str, str]
    repeat_limit: int
    not_repeated: tuple[str, ...]
    default_team: str


@dataclass(frozen=True)
class Desk:
    teams: Mapping[str, str]
    resolutions: Mapping[str, str]
    cancel: tuple[str, ...]
    office_hours: OfficeHours


@dataclass(frozen=True)
class HandoffRules:
    escalation: Escalation
    desk: Desk

    @classmethod
    def load(cls, directory: Path | None = None) -> HandoffRules:
        path = (directory or configured_dir()) / FILE
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise EscalationError(f"{path.name}: cannot be read ({exc})") from exc
        if not isinstance(data, dict):
            raise EscalationError(f"{path.name}: must be a mapping")
        return cls(_escalation(_section(data, "escalation")), _desk(_section(data, "desk")))


def configured_dir() -> Path:
    return Path(os.environ.get("HANDOFF_DIR") or DEFAULT_DIR)


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    section = data.get(name)
    if not isinstance(section, dict):
        raise EscalationError(f"{name}: missing or not a mapping")
    return section


def _names(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise EscalationError(f"{field}: must map names to labels")
    for key, label in value.items():
        if not isinstance(key, str) or not _NAME.match(key):
            raise EscalationError(f"{field}.{key}: names are lower case letters, digits and _")
        if not isinstance(label, str) or not label.strip():
            raise EscalationError(f"{field}.{key}: needs a label")
    return dict(value)


def _escalation(raw: dict[str, Any]) -> Escalation:
    topics = raw.get("topics") or {}
    if not isinstance(topics, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _NAME.match(v) for k, v in topics.items()
    ):
        raise EscalationError("escalation.topics: must map intents to team names")
    limit = raw.get("repeat_limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 2:
        raise EscalationError("escalation.repeat_limit: must be an integer of 2 or more")
    not_repeated = raw.get("not_repeated") or []
    if not isinstance(not_repeated, list) or not all(isinstance(i, str) for i in not_repeated):
        raise EscalationError("escalation.not_repeated: must be a list of intents")
    team = raw.get("default_team")
    if not isinstance(team, str) or not _NAME.match(team):
        raise EscalationError("escalation.default_team: must be a team name")
    return Escalation(dict(topics), limit, tuple(not_repeated), team)


def _desk(raw: dict[str, Any]) -> Desk:
    cancel = raw.get("cancel") or []
    if not isinstance(cancel, list) or not all(isinstance(c, str) and c.strip() for c in cancel):
        raise EscalationError("desk.cancel: must be a list of phrases")
    timezone = raw.get("timezone") or "America/Lima"
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(timezone))
    except Exception as exc:
        raise EscalationError(f"desk.timezone: unknown time zone {timezone!r}") from exc
    return Desk(
        _names(raw.get("teams"), "desk.teams"),
        _names(raw.get("resolutions"), "desk.resolutions"),
        tuple(c.strip().lower() for c in cancel),
        OfficeHours.parse(raw.get("office_hours"), str(timezone)),
    )


class HandoffRulesStore(WatchedDirectory[HandoffRules]):
    """``data/handoff/``, reloaded when edited; a broken edit keeps the last good rules."""

    def __init__(self, directory: Path | None = None, check_every: float = 0.0) -> None:
        super().__init__(
            directory or configured_dir(),
            "*.yml",
            HandoffRules.load,
            (EscalationError,),
            "handoff rules",
            check_every,
        )
