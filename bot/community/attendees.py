"""An event's attendee list as CSV for a spreadsheet: UTF-8 with a byte-order mark (Excel
reads the accents right), one row per citizen with a place or waiting, times in Lima.

What citizens typed is data, never a formula: a cell starting with ``=``, ``+``, ``-``, ``@``
(or a tab or carriage return) gets a leading apostrophe, as OWASP advises against CSV
injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bot.community.events import Place, Registration, in_lima

HEADER = ("N.º", "Estado", "Nombre", "Contacto", "RUC", "Canal", "Inscripción (hora de Lima)")
STATUS = {Place.REGISTERED: "Inscrito", Place.WAITING: "En lista de espera"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A value safe for a spreadsheet cell."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def attendees_csv(registrations: Iterable[Registration]) -> str:
    """The places and the waiting list (not those who gave up), as CSV text with its BOM."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    number = 0
    for place in registrations:
        if place.status not in STATUS:
            continue
        number += 1
        writer.writerow(
            cell(v)
            for v in (
                number,
                STATUS[place.status],
                place.name,
                place.contact,
                place.document or "",
                place.channel,
                in_lima(place.created_at).strftime("%d/%m/%Y %H:%M"),
            )
        )
    return out.getvalue()
