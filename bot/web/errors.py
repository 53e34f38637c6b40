"""Every error a request can end in, as the gateway's JSON answer: the one place that maps error
classes to HTTP responses, installed by the app factory (``bot/web/app.py``).

Every answer is ``{"error": <code for programs>, "message": <Spanish>, ...extra}``:

===============================  =======================================================
error                            answer
===============================  =======================================================
invalid JSON / request           400 ``invalid_json`` / 422 ``invalid_request`` (``details``)
unknown path, wrong method       404 ``not_found``, 405 ``method_not_allowed``
anything unexpected              500 ``internal_error`` (logged)
the database out of reach        503 ``service_unavailable`` (``Retry-After``; a restart)
``LimitExceeded``                429 ``rate_limited`` (``retry_after``, ``Retry-After``)
``ChannelError``                 its status and code (a channel refused the request)
``ConsoleError``                 its status, code and extra fields (a route's own refusal)
``HandoffError``                 its status and code (the desk refused)
``AccountError``                 409 ``username_taken``, 404 ``not_found``, else 422
``TrainingDataError``            409 ``conflict`` / ``intent_exists``, else 422
``DeployRefused``                409 (the model is live already, worse, not evaluated…)
``ArchiveError``                 400 with ``problems`` (a refused project zip)
``VersionNotFound``              404 ``not_found`` (no such kept project version)
``EditRefused``                  404 ``not_found``, else 422, with ``problems``
``StaleVersion``                 409 ``stale_version``
===============================  =======================================================

Where the answer depends on the request, the route raises a :class:`ConsoleError` itself: an
edit of a stale article answers with the article now and the edit sent, a kept project version
that no longer passes the checks is a 409, a missing row is a 404 in the route's words.

This module imports every room's errors, so only the app factory imports it; routes raise
:class:`bot.web.deps.ConsoleError`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.accounts.agents import AccountError
from bot.conversation.channel import ChannelError
from bot.handoff.service import HandoffError
from bot.web.deps import ConsoleError
from bot.web.rate_limits import LimitExceeded
from bot.workbench.article_editor import EditRefused, StaleVersion
from bot.workbench.model_registry import DeployRefused
from bot.workbench.project_archive import ArchiveError
from bot.workbench.project_versions import VersionNotFound
from bot.workbench.training_data import TrainingDataError

logger = logging.getLogger(__name__)

#: Spanish messages of the gateway's own errors; ``error`` codes are for programs.
MESSAGES = {
    "invalid_json": "No pudimos leer tu mensaje: el cuerpo no es JSON válido.",
    "invalid_request": "Tu mensaje no tiene el formato esperado.",
    "not_found": "No encontramos lo que buscas.",
    "method_not_allowed": "Método no permitido.",
    "internal_error": "Estamos teniendo problemas, intenta en un momento.",
    "body_too_large": "Tu mensaje es demasiado grande.",
    "service_unavailable": "El servicio no está disponible en este momento. Intenta de nuevo en "
    "unos segundos.",
}
#: Seconds a caller is asked to wait while the database is out of reach (a restart takes a few).
UNAVAILABLE_RETRY_SECONDS = 5

E = TypeVar("E", bound=Exception)


def error_body(code: str, message: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON answer of an error (the message defaults to the gateway's own for ``code``)."""
    return {"error": code, "message": message or MESSAGES.get(code, code), **extra}


def refusal(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """A refusal's answer; ``retry_after`` (seconds) is also sent as ``Retry-After``."""
    response = JSONResponse({"error": code, "message": message, **extra}, status_code=status)
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    return response


def console_refusal(exc: ConsoleError) -> JSONResponse:
    return refusal(exc.status, exc.code, exc.message, **exc.extra)


def out_of_reach(exc: Exception) -> bool:
    """Whether ``exc`` says the database (or another service) cannot be reached now, rather
    than that a statement is wrong: a refused or dropped connection, a closed one, a server
    shutting down or starting up (PostgreSQL's class 57 errors)."""
    if isinstance(exc, ConnectionError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
        return True
    cause = exc.orig.__cause__ if exc.orig is not None else None
    return isinstance(cause, ConnectionError) or str(getattr(cause, "sqlstate", "")).startswith(
        "57"
    )


def _unavailable_or_unexpected(exc: Exception) -> JSONResponse:
    if out_of_reach(exc):
        logger.warning("service out of reach: %s", type(exc).__name__)
        return JSONResponse(
            error_body("service_unavailable"),
            status_code=503,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
        )
    logger.error("unexpected database error: %s", type(exc).__name__, exc_info=exc)
    return JSONResponse(error_body("internal_error"), status_code=500)


def _refusals() -> dict[type[Exception], Callable[[Any], JSONResponse]]:
    """Each error class of the rooms and its answer."""
    return {
        # Handled here (not by the catch-all below, which closes the client's connection): a
        # balancer would count the dropped connection against the gateway.
        DBAPIError: _unavailable_or_unexpected,
        ConnectionError: _unavailable_or_unexpected,
        ConsoleError: console_refusal,
        ChannelError: lambda e: JSONResponse(error_body(e.code, e.message), status_code=e.status),
        LimitExceeded: lambda e: JSONResponse(
            error_body("rate_limited", e.message, retry_after=e.retry_after),
            status_code=429,
            headers={"Retry-After": str(e.retry_after)},
        ),
        HandoffError: lambda e: refusal(e.status, e.code, e.message),
        AccountError: lambda e: refusal(
            {"username_taken": 409, "not_found": 404}.get(e.code, 422), e.code, e.message
        ),
        TrainingDataError: lambda e: refusal(
            409 if e.code in ("conflict", "intent_exists") else 422, e.code, e.message
        ),
        DeployRefused: lambda e: refusal(409, e.code, e.message),
        ArchiveError: lambda e: refusal(400, e.code, e.message, problems=e.problems),
        VersionNotFound: lambda _: refusal(404, "not_found", "No existe esa versión del proyecto."),
        EditRefused: lambda e: refusal(
            404 if e.code == "not_found" else 422, e.code, e.message, problems=e.problems
        ),
        StaleVersion: lambda e: refusal(409, e.code, e.message),
    }


def _handler(answer: Callable[[E], JSONResponse]) -> Callable[[Request, E], Awaitable[Any]]:
    async def handle(_: Request, exc: E) -> JSONResponse:
        return answer(exc)

    return handle


def install(app: FastAPI) -> None:
    """Answer every error as above."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(error_body("invalid_json"), status_code=400)
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "problem": e.get("msg")}
            for e in errors
        ]
        return JSONResponse(error_body("invalid_request", details=details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, None if code != "http_error" else str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error: %s", type(exc).__name__)
        return JSONResponse(error_body("internal_error"), status_code=500)

    for error, answer in _refusals().items():
        app.add_exception_handler(error, _handler(answer))
