"""The API document (OpenAPI 3.1) and the pages that show it, served without any CDN.

`install_openapi` completes the document FastAPI builds from the routes, so that a client
generator gets everything it needs from it:

- readable, stable operation ids: `<tag>_<function>` (`time_keeper_open_window`), set by
  `operation_id` as the app's `generate_unique_id_function`; they do not depend on the order in
  which routes are mounted;
- every error an operation can answer, per status, as an `application/problem+json` response
  referencing the shared `Problem` schema, with the possible `code`s listed in `x-error-codes`
  and one example body per code. The codes come from the source (`src/core/raised_errors.py`:
  the `AppError`s the endpoint and its dependencies can raise) plus those the framework answers
  on its own (validation, rate limit, body size, database, unexpected errors);
- an example for every JSON request body and JSON answer, synthesised from its schema
  (`src/core/openapi_examples.py`) unless the model brings its own;
- in every description, how to call the operation: sign-in, personal access token scope, admin
  capability, rate limit.

`install_docs` serves `/docs` (Swagger UI) and `/redoc` (ReDoc) with their scripts and styles from
the `fastapi-offline` package, mounted under `/docs/assets`: the pages work without internet access.
"""

from __future__ import annotations

import copy
import http
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles

from src.core.errors import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from src.core.openapi_examples import REF_PREFIX, example_for
from src.core.raised_errors import errors_raised_by
from src.core.rate_limit import OPENAPI_KEY as RATE_LIMIT_KEY
from src.core.scopes import OPENAPI_KEY as TOKEN_SCOPE_KEY
from src.core.scopes import TokenScopeMissing

PROBLEM_REF = REF_PREFIX + "Problem"
DOCS_ASSETS_URL = "/docs/assets"
READ_METHODS = frozenset({"get", "head", "options"})
JSON_MEDIA = re.compile(r"^application/(.+\+)?json$")


# Operation ids ----------------------------------------------------------------------------------


def _snake(text: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()


def operation_id(route: APIRoute) -> str:
    """`<first tag>_<endpoint function>` in snake case, e.g. `time_keeper_open_window`."""
    tags = [tag.value if isinstance(tag, Enum) else str(tag) for tag in route.tags]
    name = _snake(route.name)
    return f"{_snake(tags[0])}_{name}" if tags else name


# Problems ---------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ProblemDoc:
    """One kind of problem an operation may answer with."""

    status: int
    code: str
    title: str
    detail: str

    @classmethod
    def of(cls, error: type[AppError], message: str | None = None) -> ProblemDoc:
        """The problem of an error class; `detail` is the message it is raised with, else the first
        paragraph of its docstring, else its code in words."""
        doc = error.__dict__.get("__doc__")
        if message:
            detail = message
        elif isinstance(doc, str) and doc.strip():
            detail = " ".join(doc.split("\n\n")[0].split())
        else:
            detail = error.code.replace("_", " ").capitalize()
        return cls(error.status, error.code, error.title, detail)

    @property
    def summary(self) -> str:
        return self.code.replace("_", " ").capitalize()

    def body(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_TYPE_BASE + self.code.lower().replace("_", "-"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "request_id": "9b2f6c1e0d3a4f57",
        }


# Answered by the exception handlers and middleware rather than raised by a route.
VALIDATION_ERROR = ProblemDoc(422, "VALIDATION_ERROR", "Validation error", "body.email: value is not a valid email")
INVALID_VALUE = ProblemDoc(
    422,
    "INVALID_VALUE",
    "Unprocessable entity",
    "A value in the request cannot be stored (out of range or not valid text); nothing was saved.",
)
WRITE_CONFLICT = ProblemDoc(
    409,
    "CONFLICT",
    "Conflict",
    "The change conflicts with another change made at the same time; nothing was saved. Retry.",
)
BODY_TOO_LARGE = ProblemDoc(413, "PAYLOAD_TOO_LARGE", "Payload too large", "Request body exceeds 1048576 bytes")
RATE_LIMITED = ProblemDoc(
    429, TooManyRequests.code, TooManyRequests.title, "Rate limit exceeded: 200 requests per minute"
)
INTERNAL_ERROR = ProblemDoc(
    500, "INTERNAL_ERROR", "Internal error", "An unexpected error occurred. Quote the request id when reporting it."
)
DATABASE_UNAVAILABLE = ProblemDoc(
    503, "DATABASE_UNAVAILABLE", "Service unavailable", "The database is busy or unreachable; try again shortly."
)
SERVER_BUSY = ProblemDoc(
    503, "SERVER_BUSY", "Service unavailable", "Too many requests at once; try again shortly"
)  # AdmissionMiddleware (src/core/middleware.py); the health checks never wait for a turn
# The generic problem of a status a route declares (`responses={404: ...}`) when no more precise
# code of that status was found.
GENERIC_BY_STATUS: dict[int, type[AppError]] = {
    error.status: error
    for error in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        UnprocessableEntity,
        TooManyRequests,
        ServiceUnavailable,
    )
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": (
        "An error answer: RFC 9457 problem details, media type `application/problem+json`. Branch on `code` "
        "(stable, upper snake case; each operation lists the codes it may answer in `x-error-codes`); `detail` "
        "is for people. New codes may be added: treat an unknown code by its HTTP status. Some problems carry "
        "more members (e.g. `errors` for validation errors)."
    ),
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "A URI naming the kind of problem."},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status."},
        "detail": {"type": "string", "description": "What went wrong with this request, for people."},
        "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$", "description": "Machine-readable kind."},
        "request_id": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "The request's id (also in the `X-Request-ID` header): quote it when reporting a problem.",
        },
        "errors": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ProblemValidationIssue"},
            "description": "Validation errors only: every field refused.",
        },
    },
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "additionalProperties": True,
    "examples": [VALIDATION_ERROR.body()],
}
VALIDATION_ISSUE_SCHEMA: dict[str, Any] = {
    "title": "ProblemValidationIssue",
    "description": "One refused field of a request.",
    "type": "object",
    "properties": {
        "loc": {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "description": "Where: `body`, `query`, `path` or `header`, then the field's path.",
        },
        "msg": {"type": "string", "description": "Why, for people."},
        "type": {"type": "string", "description": "Machine-readable kind of refusal (pydantic's error type)."},
    },
    "required": ["loc", "msg", "type"],
}
VALIDATION_ERROR_EXAMPLE = {
    **VALIDATION_ERROR.body(),
    "errors": [{"loc": ["body", "email"], "msg": "value is not a valid email", "type": "value_error"}],
}


# The document -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRules:
    """What the descriptions say about calling an operation."""

    rate_limit_default: str
    sign_in: Callable[..., Any] | None = None  # the dependency that requires a signed-in caller
    admin: Callable[..., Any] | None = None  # the dependency that requires the admin capability


def install_openapi(app: FastAPI, rules: AccessRules) -> None:
    """Replace `app.openapi` by the completed document (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            complete_document(app, document, rules)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _dependency_calls(dependant: Dependant | None) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies if dependant is not None else ():
        if sub.call is not None:
            yield sub.call
        yield from _dependency_calls(sub)


@dataclass(frozen=True)
class _Operation:
    endpoint: Callable[..., Any]
    dependencies: tuple[Callable[..., Any], ...]
    declared: tuple[int, ...]  # error statuses the route declares in `responses=`


def _operations(app: FastAPI) -> dict[tuple[str, str], _Operation]:
    found: dict[tuple[str, str], _Operation] = {}
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        declared = tuple(
            int(status) for status in (context.responses or {}) if str(status).isdigit() and int(status) >= 400
        )
        endpoint = context.endpoint
        if endpoint is None:  # pragma: no cover - every API route has one
            continue
        operation = _Operation(endpoint, tuple(_dependency_calls(context.dependant)), declared)
        for method in context.methods or ():
            found[(str(context.path_format), method.lower())] = operation
    return found


def complete_document(app: FastAPI, document: dict[str, Any], rules: AccessRules) -> None:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = copy.deepcopy(PROBLEM_SCHEMA)
    schemas["ProblemValidationIssue"] = copy.deepcopy(VALIDATION_ISSUE_SCHEMA)
    operations = _operations(app)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            route = operations.get((path, method))
            if route is None:
                continue
            problems = _problems(method, operation, route)
            if not path.startswith("/health"):
                problems = sorted({*problems, SERVER_BUSY})
            _set_error_responses(operation, problems)
            _add_examples(operation, components)
            _describe_access(operation, route, rules)
    _drop_unreferenced(document, ("HTTPValidationError", "ValidationError"))
    _rename_qualified_schemas(document)


def _drop_unreferenced(document: dict[str, Any], names: tuple[str, ...]) -> None:
    """Remove schemas (here: FastAPI's validation error, replaced by `Problem`) nothing refers to."""
    schemas = document["components"]["schemas"]
    others = {key: value for key, value in schemas.items() if key not in names}
    text = json.dumps([document.get("paths", {}), others, document.get("webhooks", {})])
    for name in names:
        if name in schemas and f'"{REF_PREFIX}{name}"' not in text:
            del schemas[name]


def _readable_name(key: str, taken: set[str]) -> str | None:
    """`src__modules__profile__models__Preferences` -> `ProfilePreferences`: FastAPI names a schema
    by its module path when two models share a name, and generators refuse two models of one title."""
    parts = key.split("__")
    if len(parts) < 2:
        return None
    owner = parts[parts.index("modules") + 1] if "modules" in parts[:-2] else parts[-2]
    name = "".join(word.capitalize() for word in owner.split("_")) + parts[-1]
    return name if name not in taken else None


def _rename_qualified_schemas(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document["components"]["schemas"]
    renames: dict[str, str] = {}
    for key in list(schemas):
        new = _readable_name(key, set(schemas) | set(renames.values()))
        if new is not None:
            renames[REF_PREFIX + key] = REF_PREFIX + new
            schemas[new] = {**schemas.pop(key), "title": new}
    if renames:
        _replace_refs(document, renames)


def _replace_refs(node: Any, renames: Mapping[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in renames:
            node["$ref"] = renames[ref]
        for value in node.values():
            _replace_refs(value, renames)
    elif isinstance(node, list):
        for value in node:
            _replace_refs(value, renames)


def _problems(method: str, operation: Mapping[str, Any], route: _Operation) -> list[ProblemDoc]:
    raised = errors_raised_by([route.endpoint, *route.dependencies])
    found: dict[str, ProblemDoc] = {}

    def add(problem: ProblemDoc) -> None:
        found.setdefault(problem.code, problem)  # the first wins: what the source says, then the rest

    for error, message in sorted(raised.items(), key=lambda item: (item[0].code, item[1] or "")):
        add(ProblemDoc.of(error, message))
    if operation.get("parameters") or "requestBody" in operation:
        add(VALIDATION_ERROR)
        add(INVALID_VALUE)
    if method not in READ_METHODS:
        add(WRITE_CONFLICT)
    if "requestBody" in operation:
        add(BODY_TOO_LARGE)
    for problem in (RATE_LIMITED, INTERNAL_ERROR, DATABASE_UNAVAILABLE):
        add(problem)
    statuses = {problem.status for problem in found.values()}
    for status in route.declared:
        generic = GENERIC_BY_STATUS.get(status)
        if status not in statuses and generic is not None:
            add(ProblemDoc.of(generic))
    return sorted(found.values())


def _set_error_responses(operation: dict[str, Any], problems: Iterable[ProblemDoc]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for key in [key for key in responses if key.isdigit() and int(key) >= 400]:
        del responses[key]  # FastAPI's validation answer, coarse `responses=` declarations
    by_status: dict[int, list[ProblemDoc]] = {}
    for problem in problems:
        by_status.setdefault(problem.status, []).append(problem)
    for status, group in sorted(by_status.items()):
        codes = [problem.code for problem in group]
        examples = {
            problem.code: {
                "summary": problem.summary,
                "value": copy.deepcopy(VALIDATION_ERROR_EXAMPLE) if problem == VALIDATION_ERROR else problem.body(),
            }
            for problem in group
        }
        response: dict[str, Any] = {
            "description": f"{http.HTTPStatus(status).phrase}: " + ", ".join(f"`{code}`" for code in codes),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}, "examples": examples}},
            "x-error-codes": codes,
        }
        if status in (429, 503):
            response["headers"] = copy.deepcopy(RETRY_AFTER)
        responses[str(status)] = response


def _add_examples(operation: dict[str, Any], components: Mapping[str, Any]) -> None:
    contents: list[dict[str, Any]] = []
    body = operation.get("requestBody")
    if isinstance(body, dict):
        contents.append(body.get("content", {}))
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2") and isinstance(response, dict):
            contents.append(response.get("content", {}))
    for content in contents:
        for media_type, media in content.items():
            if not JSON_MEDIA.match(media_type) or not isinstance(media, dict):
                continue
            schema = media.get("schema")
            if "example" in media or "examples" in media or not isinstance(schema, Mapping) or not schema:
                continue
            media["example"] = example_for(schema, components)


def _describe_access(operation: dict[str, Any], route: _Operation, rules: AccessRules) -> None:
    notes: list[str] = []
    if rules.sign_in is not None and rules.sign_in in route.dependencies:
        notes.append("Sign-in: required (`Authorization: Bearer <access token>`); without it 401.")
    else:
        notes.append("Sign-in: not needed.")
    if rules.admin is not None and rules.admin in route.dependencies:
        notes.append("Admin only: needs the `admin` capability, else 403 `FORBIDDEN`.")
    scope = operation.get(TOKEN_SCOPE_KEY)
    if isinstance(scope, str):
        notes.append(f"Personal access tokens: accepted with the `{scope}` scope.")
    else:
        notes.append(f"Personal access tokens: refused (403 `{TokenScopeMissing.code}`).")
    limit = operation.get(RATE_LIMIT_KEY)
    if isinstance(limit, Mapping) and limit.get("limits"):
        per = "client IP address" if limit.get("key") == "ip" else "caller"
        notes.append(f"Rate limit: {limit['limits']} per {per} (`{limit.get('preset')}`), then 429 `RATE_LIMITED`.")
    else:
        notes.append(f"Rate limit: {rules.rate_limit_default} per caller (the default), then 429 `RATE_LIMITED`.")
    access = "\n".join(f"- {note}" for note in notes)
    description = str(operation.get("description") or "").strip()
    operation["description"] = f"{description}\n\n{access}" if description else access


# The pages --------------------------------------------------------------------------------------


def docs_assets() -> Path:
    """The Swagger UI and ReDoc files shipped by the `fastapi-offline` package."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def install_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve Swagger UI at `docs_url` and ReDoc at `redoc_url`, every asset from this app."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=docs_assets()), name="docs-assets")

    def assets(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{DOCS_ASSETS_URL}"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets(request)}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets(request)}/swagger-ui.css",
            swagger_favicon_url=f"{assets(request)}/favicon.png",
            # No validator badge: it would send the document to an outside service.
            swagger_ui_parameters={"validatorUrl": None, "displayOperationId": True},
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets(request)}/redoc.standalone.js",
            redoc_favicon_url=f"{assets(request)}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route(docs_url, swagger_ui, include_in_schema=False)
    app.add_route(redoc_url, redoc, include_in_schema=False)
