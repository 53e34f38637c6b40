"""Ids and every other integer of the API, bounded in the OpenAPI document and refused with a
422 before any database sees them: one test drives every integer in a path, a query or a JSON
body of every operation with values beyond 64 bits, negative and just out of range, signed in
as an administrator (role checks come after validation), on the disposable stack of the fuzz
tests (tests/bot/web/fuzz_stack.py). And the requests of issue 16 that were server errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from fastapi import FastAPI
from schemathesis.python.asgi import ASGIClient, get_client

from bot.accounts.agents import Role
from bot.web.deps import ROW_ID_MAX
from tests.bot.web.fuzz_stack import ConsoleSession, disposable_gateway, document

#: What an integer column holds at most on either database (PostgreSQL's BIGINT, SQLite's).
INT64_MAX = 2**63 - 1

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


class Integer(NamedTuple):
    """An integer an operation takes: ``where`` is path, query or body; ``field`` as the
    gateway's 422 names it (``items.0`` for the first of a body's list)."""

    method: str
    path: str
    where: str
    field: str
    schema: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.field}"


def _integers(schema: dict[str, Any], components: dict[str, Any], field: str) -> Iterator[Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _integers(branch, components, field)
    if schema.get("type") == "integer":
        yield field, schema
    if schema.get("type") == "array" and "items" in schema:
        yield from _integers(schema["items"], components, f"{field}.0".lstrip("."))
    for name, value in schema.get("properties", {}).items():
        yield from _integers(value, components, f"{field}.{name}".lstrip("."))


def integers(openapi: dict[str, Any]) -> list[Integer]:
    """Every integer parameter and JSON body field of the document."""
    components = openapi.get("components", {}).get("schemas", {})
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                for field, schema in _integers(parameter["schema"], components, parameter["name"]):
                    found.append(Integer(method.upper(), path, parameter["in"], field, schema))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for field, schema in _integers((body or {}).get("schema", {}), components, ""):
                found.append(Integer(method.upper(), path, "body", field, schema))
    return found


INTEGERS = integers(document())


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    with disposable_gateway(tmp_path_factory.mktemp("ids")) as app:
        yield app


@pytest.fixture(scope="module")
def admin(gateway: FastAPI) -> ASGIClient:
    client = get_client(gateway)  # type: ignore[arg-type]
    client.headers.update(ConsoleSession(gateway, Role.ADMIN).headers())
    return client


def request(client: ASGIClient, integer: Integer, value: int) -> Any:
    """The operation with ``value`` for the integer and 1 for every other path parameter."""
    path = integer.path.replace(f"{{{integer.field}}}", str(value))
    path = re.sub(r"\{[^}]+\}", "1", path)
    params = {integer.field: value} if integer.where == "query" else None
    body: Any = None
    if integer.where == "body":
        name, _, index = integer.field.partition(".")
        body = {name: [value] if index else value}
    return client.request(integer.method, path, params=params, json=body)


def is_row_id(integer: Integer) -> bool:
    name = integer.field.removesuffix(".0")
    return name.endswith("_id") or name == "items"


def test_every_integer_is_bounded_in_the_document() -> None:
    assert len(INTEGERS) > 30  # the ids of the handoffs, tickets, models, events…
    unbounded = [
        str(i)
        for i in INTEGERS
        if not 0
        <= i.schema.get("minimum", -1)
        <= i.schema.get("maximum", INT64_MAX + 1)
        <= INT64_MAX
    ]
    assert unbounded == []
    ids = [i for i in INTEGERS if is_row_id(i)]
    assert len(ids) > 25
    assert [
        str(i) for i in ids if (i.schema["minimum"], i.schema["maximum"]) != (1, ROW_ID_MAX)
    ] == []


@pytest.mark.parametrize("integer", INTEGERS, ids=str)
def test_an_integer_out_of_range_is_a_422_naming_it(admin: ASGIClient, integer: Integer) -> None:
    low, high = int(integer.schema["minimum"]), int(integer.schema["maximum"])
    for value in (high + 1, high + 2**64, 39076426110753308672, low - 1, -300937657781399191552):
        response = request(admin, integer, value)
        assert response.status_code == 422, (value, response.text)
        answer = response.json()
        assert answer["error"] == "invalid_request" and answer["message"], answer
        assert integer.field in [d["field"] for d in answer["details"]], (value, answer)


#: The requests of issue 16 that were server errors (OverflowError from SQLite), and what they
#: get now; an id in range that names nothing is a 404 in the route's words.
ISSUE_16 = [
    ("GET", "/api/admin/models/39076426110753308672", None, 422),
    ("POST", "/api/admin/inbox/annotate",
     {"items": [-300937657781399191552], "action": "spam"}, 422),
    ("POST", "/api/admin/inbox/new-intent",
     {"items": [-300937657781399191552], "intent": "nueva", "title": "Nueva", "answer": "Sí.",
      "source_url": "https://www.sunat.gob.pe"}, 422),
    ("POST", "/api/handoffs/9467074670798577664/transfer", {"team": "general"}, 422),
    ("POST", "/api/handoffs/13246247985457772544/notes", {"text": "Una nota"}, 422),
    ("GET", f"/api/admin/models/{ROW_ID_MAX}", None, 404),
    ("POST", "/api/admin/inbox/annotate", {"items": [ROW_ID_MAX], "action": "spam"}, 404),
    ("POST", f"/api/handoffs/{ROW_ID_MAX}/transfer", {"team": "general"}, 404),
    ("POST", f"/api/handoffs/{ROW_ID_MAX}/notes", {"text": "Una nota"}, 404),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status"), ISSUE_16)
def test_the_requests_of_issue_16_get_the_usual_json_refusal(
    admin: ASGIClient, method: str, path: str, body: Any, status: int
) -> None:
    response = admin.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["error"] == ("invalid_request" if status == 422 else "not_found")
    assert answer["message"]
