"""What the tickets are made of, read from ``data/tickets/tickets.yml``: the kinds of ticket with
each one's deadline and where it comes from (a legal deadline names its norm and source; one the
agency promises itself says so), the statuses as citizens read them, and the assistant's
wording. Read once at start-up; a bad file stops it with a message naming the field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.tickets.calendar import long_date

#: A ticket's statuses, in the order they normally follow each other.
RECEIVED, IN_PROGRESS, ANSWERED, CLOSED = "recibido", "en_proceso", "respondido", "cerrado"
STATUSES = (RECEIVED, IN_PROGRESS, ANSWERED, CLOSED)
#: Every text the form and the status answers use (a missing one is refused at start-up).
MESSAGES = (
    "inicio", "tipo_no_entendido", "pide_descripcion", "descripcion_larga", "descripcion_corta",
    "pide_documento", "documento_invalido", "dni_invalido", "pide_contacto_web",
    "pide_contacto_chat", "contacto_invalido", "contacto_requerido", "resumen", "sin_dato",
    "que_corregir", "elige_opcion", "cancelado", "registrado", "plazo_legal",
    "plazo_legal_calendario", "plazo_ofrecido", "plazo_ofrecido_calendario", "limite",
    "no_guardado", "estado", "estado_plazo", "estado_vencido", "estado_respondida",
    "estado_cerrada", "ultima_respuesta", "codigo_no_encontrado", "codigo_mal_escrito",
    "sin_solicitudes", "tus_solicitudes", "linea_solicitud", "aviso_estado", "aviso_respuesta",
    "aviso_respondida", "correo_asunto", "correo_pie",
)  # fmt: skip
BUTTONS = (
    "omitir", "confirmar", "corregir", "cancelar", "nueva", "corregir_tipo", "corregir_detalle",
    "corregir_documento", "corregir_contacto",
)  # fmt: skip


class CatalogError(ValueError):
    """The tickets' file is wrong; the message names the field."""


@dataclass(frozen=True)
class Source:
    name: str
    url: str


@dataclass(frozen=True)
class Kind:
    """A kind of ticket and its deadline: ``days`` business days (or calendar days), from the
    norm ``basis`` when ``legal``, else the agency's own promise."""

    name: str
    label: str
    hint: str
    ask: str
    days: int
    business_days: bool
    legal: bool
    basis: str
    sources: tuple[Source, ...]
    next: str

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "days": self.days,
            "business_days": self.business_days,
            "legal": self.legal,
            "basis": self.basis,
            "sources": [{"name": s.name, "url": s.url} for s in self.sources],
        }


@dataclass(frozen=True)
class Catalog:
    kinds: dict[str, Kind]
    statuses: dict[str, str]
    messages: dict[str, str]
    buttons: dict[str, str]

    def say(self, message: str, **values: object) -> str:
        """A message of the file with its placeholders filled in (trailing space trimmed)."""
        return self.messages[message].format(**values).strip()

    def kind(self, name: str) -> Kind:
        return self.kinds[name]

    def status_label(self, status: str) -> str:
        return self.statuses.get(status, status)

    def deadline(self, kind: Kind, due_at: dt.datetime) -> str:
        """ "hasta el martes 15 de diciembre de 2026 (10 días hábiles, Ley 27806; …)": the
        date, how it was counted and on what basis (a promise is said to be one)."""
        message = ("plazo_legal" if kind.legal else "plazo_ofrecido") + (
            "" if kind.business_days else "_calendario"
        )
        return self.say(message, fecha=long_date(due_at), dias=kind.days, base=kind.basis)


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise CatalogError(f"{where}: a non-empty text is required")
    return raw.strip()


def _kind(name: str, raw: Any) -> Kind:
    where = f"kinds.{name}"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: a mapping is required")
    days = raw.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise CatalogError(f"{where}.days: a whole number of days from 1 to 365 is required")
    for flag in ("business_days", "legal"):
        if not isinstance(raw.get(flag), bool):
            raise CatalogError(f"{where}.{flag}: true or false is required")
    sources = raw.get("sources") or []
    if not isinstance(sources, list):
        raise CatalogError(f"{where}.sources: a list is required")
    parsed = tuple(
        Source(_text(s.get("name"), f"{where}.sources"), _text(s.get("url"), f"{where}.sources"))
        for s in sources
        if isinstance(s, dict)
    )
    if raw["legal"] and not parsed:
        raise CatalogError(f"{where}.sources: a legal deadline needs its source")
    if any(not s.url.startswith("https://") for s in parsed):
        raise CatalogError(f"{where}.sources: every url must be https://")
    return Kind(
        name,
        _text(raw.get("label"), f"{where}.label"),
        _text(raw.get("hint"), f"{where}.hint"),
        _text(raw.get("ask"), f"{where}.ask"),
        days,
        raw["business_days"],
        raw["legal"],
        _text(raw.get("basis"), f"{where}.basis"),
        parsed,
        _text(raw.get("next"), f"{where}.next"),
    )


def _texts(raw: Any, names: tuple[str, ...], where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: a mapping is required")
    return {name: _text(raw.get(name), f"{where}.{name}") for name in names}


def load_catalog(path: Path) -> Catalog:
    """The catalog in ``path`` (``data/tickets/tickets.yml``), checked."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("kinds"), dict) or not raw["kinds"]:
        raise CatalogError(f"{path}: kinds are required")
    kinds = {str(name): _kind(str(name), value) for name, value in raw["kinds"].items()}
    if any(len(name) > 32 for name in kinds):
        raise CatalogError("kinds: a kind's name has at most 32 characters")
    return Catalog(
        kinds,
        _texts(raw.get("statuses"), STATUSES, "statuses"),
        _texts(raw.get("messages"), MESSAGES, "messages"),
        _texts(raw.get("buttons"), BUTTONS, "buttons"),
    )
