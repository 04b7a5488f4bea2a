"""The one error tree of the application and its rendering as RFC 9457 problem details.

Services raise subclasses of `AppError`; a single set of exception handlers turns them (and
validation errors, unknown routes and unexpected exceptions) into `application/problem+json`
bodies carrying `type`, `title`, `status`, `detail`, `code` and `request_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from src.core.logging import request_id_var

logger = logging.getLogger("ugoki.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://ugoki.app/problems/"


class AppError(Exception):
    """Base of every error the API answers on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    title: ClassVar[str] = "Internal error"
    # Security-relevant writes made before the error (e.g. revoking a token family on refresh
    # token reuse) must survive the failed request: the unit of work commits instead of rolling back.
    commit_transaction: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class BadRequest(AppError):
    status, code, title = 400, "BAD_REQUEST", "Bad request"


class Unauthorized(AppError):
    status, code, title = 401, "UNAUTHORIZED", "Not authenticated"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status, code, title = 403, "FORBIDDEN", "Forbidden"


class NotFound(AppError):
    status, code, title = 404, "NOT_FOUND", "Not found"


class Conflict(AppError):
    status, code, title = 409, "CONFLICT", "Conflict"


class PayloadTooLarge(AppError):
    status, code, title = 413, "PAYLOAD_TOO_LARGE", "Payload too large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class UnprocessableEntity(AppError):
    status, code, title = 422, "UNPROCESSABLE_ENTITY", "Unprocessable entity"


class ConfirmationRequired(BadRequest):
    """A destructive request sent without `?confirm=true`: 400, as the reference answers (its client
    treats that answer as a refusal)."""

    code = "CONFIRMATION_REQUIRED"


class InvalidPeriod(UnprocessableEntity):
    """A period whose end is before its start."""

    code = "INVALID_PERIOD"


class TooManyRequests(AppError):
    status, code, title = 429, "RATE_LIMITED", "Too many requests"


class ServiceUnavailable(AppError):
    status, code, title = 503, "SERVICE_UNAVAILABLE", "Service unavailable"


STATUS_TITLES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Not authenticated"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "Not acceptable"),
    409: ("CONFLICT", "Conflict"),
    413: ("PAYLOAD_TOO_LARGE", "Payload too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    422: ("UNPROCESSABLE_ENTITY", "Unprocessable entity"),
    429: ("RATE_LIMITED", "Too many requests"),
    500: ("INTERNAL_ERROR", "Internal error"),
    503: ("SERVICE_UNAVAILABLE", "Service unavailable"),
}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    request_id = request_id_of(request)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    out_headers = dict(headers or {})
    if request_id:
        out_headers["X-Request-ID"] = request_id
    return JSONResponse(body, status_code=status, headers=out_headers, media_type=PROBLEM_MEDIA_TYPE)


def _jsonable_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for err in errors:
        loc = [part if isinstance(part, int | str) else str(part) for part in err.get("loc", ())]
        out.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    return out


async def _app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, AppError):  # pragma: no cover - registered for AppError only
        raise exc
    if exc.status >= 500:
        logger.error("request failed: %s", exc.code)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        extra=exc.extra,
        headers=exc.headers,
    )


async def _validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    errors = _jsonable_errors(exc.errors())
    first = errors[0] if errors else None
    detail = "Request validation failed"
    if first:
        where = ".".join(str(p) for p in first["loc"])
        detail = f"{where}: {first['msg']}" if where else first["msg"]
    return problem_response(
        request,
        status=422,
        code="VALIDATION_ERROR",
        title="Validation error",
        detail=detail,
        extra={"errors": errors},
    )


async def _http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    code, title = STATUS_TITLES.get(exc.status_code, ("HTTP_ERROR", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such route"
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=exc.headers,
    )


async def _unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log with the request id; the client gets only the id. This handler
    # runs outside the request-context middleware, so the id is put back in the log context here.
    token = request_id_var.set(request_id_of(request))
    try:
        logger.exception("unhandled error", exc_info=exc)
    finally:
        request_id_var.reset(token)
    return problem_response(
        request,
        status=500,
        code="INTERNAL_ERROR",
        title="Internal error",
        detail="An unexpected error occurred. Quote the request id when reporting it.",
    )


async def _database_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable: %s", type(exc).__name__)
    return problem_response(
        request,
        status=503,
        code="DATABASE_UNAVAILABLE",
        title="Service unavailable",
        detail="The database is busy or unreachable; try again shortly.",
        headers={"Retry-After": "5"},
    )


async def _integrity_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # A constraint caught a race the service did not expect: the change was rolled back.
    logger.warning("integrity error reached the edge: %s", type(getattr(exc, "orig", exc)).__name__)
    return problem_response(
        request,
        status=409,
        code="CONFLICT",
        title="Conflict",
        detail="The change conflicts with another change made at the same time; nothing was saved. Retry.",
    )


async def _invalid_value_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("value refused by the database: %s", type(exc).__name__)
    return problem_response(
        request,
        status=422,
        code="INVALID_VALUE",
        title="Unprocessable entity",
        detail="A value in the request cannot be stored (out of range or not valid text); nothing was saved.",
    )


def _sqlstate(exc: Exception) -> str:
    """The SQLSTATE of a driver error, when the driver reports one (PostgreSQL does)."""
    for candidate in (getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return ""


async def _dbapi_error_handler(request: Request, exc: Exception) -> JSONResponse:
    from sqlalchemy.exc import DataError, InternalError, NotSupportedError, ProgrammingError

    # A value the database cannot store (out-of-range number, text it cannot encode) came from the
    # request: 422, nothing saved. Errors in our own SQL are bugs (500). The rest of the driver's
    # errors mean the database is not usable right now (refused, missing, shutting down): 503.
    if isinstance(exc, DataError) or _sqlstate(exc).startswith("22"):  # class 22: data exception
        return await _invalid_value_handler(request, exc)
    if isinstance(exc, ProgrammingError | NotSupportedError | InternalError):
        return await _unhandled_error_handler(request, exc)
    return await _database_unavailable_handler(request, exc)


async def _statement_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # Raised before the statement reaches the database: a column type could not bind a value. A
    # value out of range for it (a date whose UTC form is past year 9999, a number too large)
    # came from the request: 422, nothing saved. Anything else is a bug (500).
    if isinstance(getattr(exc, "orig", None), OverflowError | ValueError):
        return await _invalid_value_handler(request, exc)
    return await _unhandled_error_handler(request, exc)


def install_error_handlers(
    app: FastAPI, *, before_validation_error: Callable[[Request], Awaitable[None]] | None = None
) -> None:
    """`before_validation_error` runs before a validation error is answered (e.g. the rate limit,
    which a body that is not even JSON reaches before any dependency runs); an `AppError` it
    raises is answered instead."""
    import socket

    from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, StatementError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    app.add_exception_handler(IntegrityError, _integrity_error_handler)
    app.add_exception_handler(OperationalError, _database_unavailable_handler)
    app.add_exception_handler(InterfaceError, _database_unavailable_handler)
    app.add_exception_handler(DBAPIError, _dbapi_error_handler)
    app.add_exception_handler(StatementError, _statement_error_handler)  # DBAPIError (a subclass): above
    app.add_exception_handler(UnicodeEncodeError, _invalid_value_handler)
    app.add_exception_handler(PoolTimeout, _database_unavailable_handler)
    # The PostgreSQL driver raises these directly when the server cannot be reached.
    app.add_exception_handler(ConnectionError, _database_unavailable_handler)
    app.add_exception_handler(socket.gaierror, _database_unavailable_handler)
    app.add_exception_handler(AppError, _app_error_handler)
    if before_validation_error is None:
        app.add_exception_handler(RequestValidationError, _validation_error_handler)
    else:
        hook = before_validation_error

        async def validation_error_after_hook(request: Request, exc: Exception) -> JSONResponse:
            try:
                await hook(request)
            except AppError as refused:
                return await _app_error_handler(request, refused)
            return await _validation_error_handler(request, exc)

        app.add_exception_handler(RequestValidationError, validation_error_after_hook)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(Exception, _unhandled_error_handler)


def problem_schema() -> dict[str, Any]:
    """OpenAPI schema of the problem body, used in `responses=` of routes."""
    return {
        "description": "Problem details (RFC 9457)",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"type": "string"},
                        "request_id": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object"}},
                    },
                    "required": ["type", "title", "status", "detail", "code"],
                }
            }
        },
    }
