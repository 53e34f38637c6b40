"""The gateway's error answers when a service is out of reach: the database restarting (its
connection refused, dropped or closed, the server shutting down or starting up) is a 503 with
``Retry-After`` and the Spanish message; a statement that is wrong is still a 500
``internal_error``."""

from __future__ import annotations

import asyncpg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bot.web import errors


def _with_cause(cause: BaseException) -> DBAPIError:
    orig = Exception("adaptor's error")
    orig.__cause__ = cause
    return DBAPIError("SELECT 1", None, orig)


def _client(raised: Exception) -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise raised

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    "raised",
    [
        ConnectionRefusedError(111, "Connection refused"),
        OperationalError("SELECT 1", None, Exception("server closed the connection")),
        DBAPIError("SELECT 1", None, Exception("closed"), connection_invalidated=True),
        _with_cause(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")),
        _with_cause(asyncpg.exceptions.AdminShutdownError("terminating connection")),
    ],
    ids=["refused", "operational", "invalidated", "starting-up", "shutting-down"],
)
def test_a_database_out_of_reach_is_a_503_to_try_again(raised: Exception) -> None:
    response = _client(raised).get("/boom")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(errors.UNAVAILABLE_RETRY_SECONDS)
    assert response.json() == {
        "error": "service_unavailable",
        "message": errors.MESSAGES["service_unavailable"],
    }


@pytest.mark.parametrize(
    "raised",
    [
        IntegrityError("INSERT", None, Exception("duplicate key")),
        _with_cause(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        ValueError("a bug"),
    ],
    ids=["integrity", "unique", "bug"],
)
def test_anything_else_is_still_an_internal_error(raised: Exception) -> None:
    response = _client(raised).get("/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
