"""The padrón reducido del RUC: import SUNAT's bulk file and look up one taxpayer by RUC.

SUNAT publishes ``padron_reducido_ruc.zip`` (one ``padron_reducido_ruc.txt`` inside): ISO-8859-1,
``|``-delimited, a header row, 15 columns, ``-`` for a missing value, about 15 million rows. Some
rows are malformed; they are skipped and counted by reason, never fatal. A file that is not a
padrón at all (empty, wrong header, corrupt zip) is a :class:`PadronFormatError` and leaves the
data already loaded in place.

* :mod:`~bot.knowledge.padron.records`: the entries, errors, import summary and the
  :class:`PadronStore` interface.
* :mod:`~bot.knowledge.padron.reader`: the file parser (``.txt`` or SUNAT's ``.zip``).
* Two stores behind :class:`PadronStore`, picked from a URL by :func:`open_padron` (below):

  * :mod:`~bot.knowledge.padron.sqlite` (default): each import writes a new database file next to
    the live one and ``os.replace``-s it in; lookups notice the new inode and reopen, so they see
    the old or the new padrón, never a mix. To reach SUNAT-sized files quickly each valid row is
    stored verbatim as one value and the RUC index is built once at the end; ``-`` becomes
    ``None`` when a row is read (see :class:`SqlitePadron`).
  * :mod:`~bot.knowledge.padron.postgres` (psycopg2, imported only when used): ``COPY`` into a
    fresh table, primary key built, then the tables are swapped by renaming in one transaction.

Shared by the gateway (Python >= 3.11) and the action server (Python 3.10): standard library,
plus psycopg2 for PostgreSQL URLs. Full RUCs and names are never logged at info level.
"""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.padron.postgres import PostgresPadron
from bot.knowledge.padron.records import PadronStore
from bot.knowledge.padron.sqlite import SqlitePadron
from bot.knowledge.store_url import store_location


def open_padron(database_url: str) -> PadronStore:
    """The store for a URL: ``sqlite:///var/padron.db`` or ``postgresql://user@host/db``.

    A SQLAlchemy driver suffix (``sqlite+aiosqlite``, ``postgresql+asyncpg``) is ignored, so the
    gateway's own ``DATABASE_URL`` works as is.
    """
    location = store_location(database_url, "padrón")
    if isinstance(location, Path):
        return SqlitePadron(location)
    return PostgresPadron(location)
