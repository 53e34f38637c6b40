"""Every operation of the gateway's OpenAPI document, fuzzed with schemathesis (valid and invalid
parameters and bodies) five times: anonymously, as a citizen holding a web chat session, and
signed in to the console as an agent, a supervisor and an administrator, destructive operations
included (the stack is thrown away: tests/bot/web/fuzz_stack.py), on a stack seeded with a row
behind each kind of id (handoffs waiting for an agent, tickets, events with a place taken,
comments, a model), so that the fuzzed ids reach the routes past "not found". Whatever a caller
sends:

- the answer is never a server error (5xx);
- a request the document says is valid is not refused as malformed (``positive_data_acceptance``:
  a 400, 413 or 422 is a mismatch between the document and the route; 401, 403, 404 and 409
  are answers about who asks and what exists), unless the refusal is one of
  :data:`BEYOND_THE_SCHEMA`, about what no schema can say;
- a request the document says is invalid is refused with a 4xx (``negative_data_rejection``, a
  413 of the body size limits included);
- the answer matches the document's response schema (``response_schema_conformance``).

A failure names the operation and the smallest example found (with a ``curl`` line to replay
it). The schemathesis pytest integration's ``from_fixture`` does not work with pytest 9
(``request.node._nodeid``), so the document is read at collection from an app that is never
started, and every call goes to the module's app (``app=``).

Reproducible (``derandomize``: the same examples on every run) and bounded (``MAX_EXAMPLES`` per
operation and mode, plus schemathesis's boundary-value cases), so it runs in ``make test``'s unit
stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import (
    CheckContext,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
)
from schemathesis.core.transport import Response

from bot.accounts.agents import Role
from tests.bot.web.fuzz_stack import (
    ZIPS,
    ConsoleSession,
    citizen_headers,
    disposable_gateway,
    document,
    seed,
)

MAX_EXAMPLES = 15
#: Without any session most operations stop at 401: fewer examples find what there is to find.
ANONYMOUS_EXAMPLES = 8

#: Refusals (``error`` codes) of requests the document says are valid that depend on what no
#: schema can say: what exists now (data files, the database), the clock, a relation between
#: fields, the content of a file. Any other refusal of a valid request — above all
#: ``invalid_request``, the routes' own validation — is a mismatch to fix in the document.
BEYOND_THE_SCHEMA = {
    "unknown_team": "teams are the desk's data (GET /api/desk)",
    "unknown_agent": "an account that exists and is active",
    "unknown_resolution": "resolution codes are data/handoff/'s",
    "unknown_kind": "ticket kinds are the catalogue's data",
    "weak_password": "5 different characters at least",
    "invalid_hours": "closing after opening",
    "invalid_period": "the period's start before its end",
    "period_too_long": "the period's start and end at most 366 days apart",
    "event_in_past": "a moment in the future",
    "ends_before_start": "an event's end after its start",
    "deadline_after_start": "the sign-ups closing at the event's start or before",
    "deadline_in_past": "the sign-ups closing in the future",
    "not_a_zip": "the bytes of a zip archive",
    "invalid_archive": "a zip of the project's files, each passing the project's checks",
    "message_too_long": "the deployment's WEBCHAT_MAX_MESSAGE_CHARS",
}


def _error_code(response: Response) -> object:
    try:
        answer = json.loads(response.content or b"")
    except ValueError:
        return None
    return answer.get("error") if isinstance(answer, dict) else None


def schema_valid_requests_accepted(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """``positive_data_acceptance``, but for the refusals of :data:`BEYOND_THE_SCHEMA`."""
    if _error_code(response) in BEYOND_THE_SCHEMA:
        return None
    positive_data_acceptance(ctx, response, case)
    return None


def schema_invalid_requests_refused(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """``negative_data_rejection``, a 413 (a body over the gateway's size limits) included."""
    if response.status_code == 413:
        return None
    negative_data_rejection(ctx, response, case)
    return None


CHECKS = [
    not_a_server_error,
    schema_valid_requests_accepted,
    schema_invalid_requests_refused,
    response_schema_conformance,
]

#: Not fuzzed in-process:
#: - ``GET /webchat/stream``: server-sent events stay open until the client leaves, so every
#:   in-process call would last until the read timeout (tests/connectors/test_webchat.py covers
#:   it); the console's WebSocket is not an OpenAPI operation at all.
EXCLUDED_PATHS = ("/webchat/stream",)

#: aiosqlite warns about connections of the lifespans schemathesis's clients start and never
#: close (see fuzz_stack.disposable_gateway); the gateway's own tests check its connections are
#: closed.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

#: The project upload's bodies: any bytes, and zips (an empty one; one of a training file).
schemathesis.openapi.media_type("application/zip", st.binary(max_size=512) | st.sampled_from(ZIPS))
schema = schemathesis.openapi.from_dict(document()).exclude(path=list(EXCLUDED_PATHS))
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
FUZZ_ANONYMOUS = settings(FUZZ, max_examples=ANONYMOUS_EXAMPLES)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    with disposable_gateway(tmp_path_factory.mktemp("fuzz")) as app:
        seed(app)
        yield app


@pytest.fixture(scope="module")
def citizen(gateway: FastAPI) -> Callable[[], dict[str, str]]:
    return citizen_headers(gateway)


@pytest.fixture(scope="module")
def agent(gateway: FastAPI) -> ConsoleSession:
    return ConsoleSession(gateway, Role.AGENT)


@pytest.fixture(scope="module")
def supervisor(gateway: FastAPI) -> ConsoleSession:
    return ConsoleSession(gateway, Role.SUPERVISOR)


@pytest.fixture(scope="module")
def admin(gateway: FastAPI) -> ConsoleSession:
    return ConsoleSession(gateway, Role.ADMIN)


@schema.parametrize()
@FUZZ_ANONYMOUS
def test_anonymous_callers(case: Case[Any], gateway: FastAPI) -> None:
    case.call_and_validate(app=gateway, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_a_citizen_in_the_web_chat(
    case: Case[Any], gateway: FastAPI, citizen: Callable[[], dict[str, str]]
) -> None:
    case.call_and_validate(app=gateway, headers=citizen(), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_an_agent(case: Case[Any], gateway: FastAPI, agent: ConsoleSession) -> None:
    case.call_and_validate(app=gateway, headers=agent.headers(), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_a_supervisor(case: Case[Any], gateway: FastAPI, supervisor: ConsoleSession) -> None:
    case.call_and_validate(app=gateway, headers=supervisor.headers(), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_an_administrator(case: Case[Any], gateway: FastAPI, admin: ConsoleSession) -> None:
    case.call_and_validate(app=gateway, headers=admin.headers(), checks=CHECKS)
