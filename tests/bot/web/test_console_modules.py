"""The agents' console as native ES modules (``bot/web/console/``), checked without a browser:
what a rename or a move could break and only the browser tests would notice.

- every module stays small (under 600 lines);
- every relative import names an existing file and names that file exports (also through
  ``import * as ns``: every ``ns.name`` used);
- every module is reachable from the entry module ``console.js``, which ``index.html`` loads as
  a module; every view module (outside ``lib/``) exports ``mount`` and ``reset``; no module
  exports a mutable binding (shared state goes through functions);
- every HTML fragment a module loads exists, and every element id a module looks up
  (``$("…")``) is in ``index.html`` or a fragment, once;
- the gateway serves them all, without a session like the page, JavaScript as
  ``text/javascript``, under the same Content-Security-Policy (``script-src 'self'``);
- if ``node`` happens to be installed, every module parses as a module.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.ops.settings import Settings
from bot.web.app import create_app

CONSOLE = Path(__file__).resolve().parents[3] / "bot" / "web" / "console"
ENTRY = CONSOLE / "console.js"
MAX_LINES = 600

MODULES = sorted(CONSOLE.rglob("*.js"))
FRAGMENTS = sorted(path for path in CONSOLE.rglob("*.html") if path.name != "index.html")
#: Modules of views: everything but the shared helpers and the entry.
VIEWS = [path for path in MODULES if path != ENTRY and path.parent.name != "lib"]

#: Comments; not the // of a URL in a string ("https://") nor \/\/ in a regular expression.
_COMMENT = re.compile(r"(?<![:\\\w\"'])//[^\n]*|/\*.*?\*/", re.S)
#: A string literal (on one line).
_STRING = re.compile(r"\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'")
_IMPORT = re.compile(
    r'^import\s+(?:\*\s+as\s+(?P<ns>[\w$]+)|\{(?P<names>[^}]*)\})\s+from\s+"(?P<path>[^"]+)";',
    re.M,
)
_EXPORT_DECLARED = re.compile(
    r"^export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([\w$]+)", re.M
)
_EXPORT_LIST = re.compile(r"^export\s+\{([^}]*)\}", re.M)
_MUTABLE_EXPORT = re.compile(r"^export\s+(?:let|var)\s", re.M)
_FRAGMENT_URL = re.compile(r'"(\.{1,2}/[^"]+\.html)"')
_LOOKUP = re.compile(r'\$\("([^"]+)"\)')
_ID = re.compile(r'\bid="([^"]+)"')


def name(path: Path) -> str:
    return path.relative_to(CONSOLE).as_posix()


def code(path: Path) -> str:
    """The module's text without comments (a commented-out import is no import)."""
    return _COMMENT.sub("", path.read_text(encoding="utf-8"))


def exports(path: Path) -> set[str]:
    text = code(path)
    found = set(_EXPORT_DECLARED.findall(text))
    for names in _EXPORT_LIST.findall(text):
        found.update(part.split(" as ")[-1].strip() for part in names.split(",") if part.strip())
    return found


def imports(path: Path) -> Iterator[tuple[Path, str | None, list[str]]]:
    """(target, namespace, names) of each import of the module."""
    for match in _IMPORT.finditer(code(path)):
        target = (path.parent / match["path"]).resolve()
        names = [part.split(" as ")[0].strip() for part in (match["names"] or "").split(",")]
        yield target, match["ns"], [n for n in names if n]


def test_there_are_modules_and_an_entry() -> None:
    assert ENTRY in MODULES
    folders = {path.parent.name for path in MODULES}
    assert folders >= {"console", "lib", "desk", "admin", "workbench"}


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_every_module_is_small(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines < MAX_LINES, f"{name(path)}: {lines} lines (split it)"


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_every_import_resolves_to_what_the_module_exports(path: Path) -> None:
    text = code(path)
    assert not re.search(r"\bimport\s*\(|\brequire\s*\(", text), "static imports only"
    # Every import is of a form checked here: `import {a, b} from "…";` or `import * as x …`.
    assert len(re.findall(r"^import\b", text, re.M)) == len(list(imports(path)))
    for target, namespace, names in imports(path):
        assert target.is_file(), f"{name(path)} imports a missing file: {target}"
        assert target.is_relative_to(CONSOLE), f"{name(path)} imports from outside the console"
        provided = exports(target)
        for wanted in names:
            assert wanted in provided, f"{name(path)}: {name(target)} exports no {wanted!r}"
        if namespace:
            bare = _STRING.sub('""', text)
            used = set(re.findall(rf"(?<![\w$.]){re.escape(namespace)}\.([\w$]+)", bare))
            missing = used - provided
            assert not missing, f"{name(path)}: {name(target)} exports no {sorted(missing)}"


def test_every_module_is_reachable_from_the_entry() -> None:
    reached: set[Path] = set()
    todo = [ENTRY]
    while todo:
        path = todo.pop()
        if path in reached:
            continue
        reached.add(path)
        todo.extend(target for target, _, _ in imports(path))
    assert sorted(map(name, set(MODULES) - reached)) == []


def test_the_page_loads_the_entry_as_a_module() -> None:
    page = (CONSOLE / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts == ['<script type="module" src="/agent/static/console.js">']


@pytest.mark.parametrize("path", VIEWS, ids=name)
def test_every_view_module_exports_mount_and_reset(path: Path) -> None:
    assert {"mount", "reset"} <= exports(path)


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_no_module_exports_mutable_state(path: Path) -> None:
    assert not _MUTABLE_EXPORT.search(code(path)), "export functions, not let/var bindings"


def test_every_fragment_a_module_loads_exists_and_is_loaded() -> None:
    loaded = {
        (path.parent / url).resolve()
        for path in MODULES
        for url in _FRAGMENT_URL.findall(code(path))
    }
    assert loaded == {path.resolve() for path in FRAGMENTS}
    for fragment in FRAGMENTS:
        text = fragment.read_text(encoding="utf-8")
        assert "<script" not in text and "style=" not in text, name(fragment)


def test_every_element_a_module_looks_up_is_in_the_markup_once() -> None:
    markup = [CONSOLE / "index.html", *FRAGMENTS]
    ids = Counter(i for page in markup for i in _ID.findall(page.read_text(encoding="utf-8")))
    assert [i for i, count in ids.items() if count > 1] == []
    for path in MODULES:
        missing = set(_LOOKUP.findall(code(path))) - set(ids)
        assert not missing, f"{name(path)} looks up ids that no markup has: {sorted(missing)}"


@pytest.fixture()
def client(settings: Settings) -> TestClient:
    """The gateway's app, not started: static files need neither the database nor Rasa."""
    app = create_app(settings, transport=httpx.MockTransport(lambda _: httpx.Response(200)))
    return TestClient(app)


def test_the_gateway_serves_every_file_without_a_session(client: TestClient) -> None:
    for path in [*MODULES, *FRAGMENTS, CONSOLE / "console.css"]:
        response = client.get("/agent/static/" + name(path))
        assert response.status_code == 200, name(path)
        kind = response.headers["content-type"]
        if path.suffix == ".js":
            assert kind == "text/javascript; charset=utf-8", name(path)
        elif path.suffix == ".html":
            assert kind.startswith("text/html"), name(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "connect-src 'self'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    # Revalidated by its ETag like any static file, still a JavaScript file.
    first = client.get("/agent/static/console.js")
    again = client.get("/agent/static/console.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    # Nothing outside the folder.
    assert client.get("/agent/static/../api.py").status_code == 404
    assert client.get("/agent/static/lib/").status_code == 404


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("path", MODULES, ids=name)
def test_every_module_parses_as_a_module(path: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    checked = subprocess.run(
        [node, "--input-type=module", "--check"],
        input=path.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
