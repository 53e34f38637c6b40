"""Start Rasa with its HTTP API token kept off the command line (engine environment, Python 3.10).

``python -m bot.engine.launcher run --enable-api …`` takes the token from ``RASA_TOKEN`` (or
from the file named by ``RASA_TOKEN_FILE``, which only its owner may read), removes both from
the environment and runs ``rasa`` in this process with ``--auth-token`` added to ``sys.argv``.
The process's command line, which every local user sees (``ps``, ``/proc/PID/cmdline``), stays
the launcher's, without the token.
"""

import os
import sys
from pathlib import Path
from typing import Callable, List, MutableMapping, Optional

TOKEN_VARIABLE = "RASA_TOKEN"
TOKEN_FILE_VARIABLE = "RASA_TOKEN_FILE"


def take_token(environ: MutableMapping[str, str]) -> str:
    """The token, removed from ``environ`` with the file's name (Rasa's children never see it)."""
    token = environ.pop(TOKEN_VARIABLE, "").strip()
    path = environ.pop(TOKEN_FILE_VARIABLE, "")
    if not token and path:
        file = Path(path)
        if file.stat().st_mode & 0o077:
            raise SystemExit(f"error: {file} may be read by others; it must have mode 0600")
        token = file.read_text(encoding="utf-8").strip()
    if not token:
        raise SystemExit(f"error: set {TOKEN_VARIABLE} (the token of Rasa's HTTP API)")
    return token


def rasa_argv(arguments: List[str], token: str) -> List[str]:
    """What ``rasa`` parses: the arguments and the token."""
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in arguments):
        raise SystemExit(f"error: the token goes in {TOKEN_VARIABLE}, not on the command line")
    return ["rasa", *arguments, "--auth-token", token]


def _rasa_main() -> None:
    from rasa.__main__ import main

    main()


def main(arguments: Optional[List[str]] = None, run: Callable[[], None] = _rasa_main) -> None:
    token = take_token(os.environ)
    sys.argv = rasa_argv(list(sys.argv[1:] if arguments is None else arguments), token)
    run()


if __name__ == "__main__":
    main()
