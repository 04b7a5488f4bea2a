"""The API document is complete enough to generate a client from, and `/docs` works offline.

These tests read the document the app serves (no database needed): it is a valid OpenAPI 3.1
document; operation ids are readable, unique and independent of the order routes are mounted in;
every operation is described, lists the problem codes it may answer, and shows an example of
every JSON body, each valid against its schema.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate

from src.core.errors import PROBLEM_MEDIA_TYPE, AppError
from src.main import MODULES, create_app
from tests.conftest import client_for, make_settings
from tests.http import assert_problem

Operation = tuple[str, str, dict[str, Any]]  # path, method, operation object
JSON_MEDIA = re.compile(r"^application/(.+\+)?json$")


@pytest.fixture(scope="module")
def schema_app(database_url: str) -> FastAPI:
    """The app, not started: building and serving the document needs no database."""
    return create_app(make_settings(database_url))


@pytest.fixture(scope="module")
def document(schema_app: FastAPI) -> dict[str, Any]:
    return schema_app.openapi()


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def name(path: str, method: str) -> str:
    return f"{method.upper()} {path}"


# The document as a whole -----------------------------------------------------------------------


def test_document_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")

    validate(document)  # raises on the first violation


async def test_served_document_is_the_completed_one(schema_app: FastAPI) -> None:
    async with client_for(schema_app) as client:
        served = (await client.get("/openapi.json")).json()

    assert served["components"]["schemas"]["Problem"]["required"][:5] == ["type", "title", "status", "detail", "code"]
    assert served["paths"]["/api/v1/time-keeper/windows"]["post"]["operationId"] == "time_keeper_open_window"


# Operation ids ----------------------------------------------------------------------------------


def test_operation_ids_are_readable_and_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]

    unreadable = [op_id for op_id in ids if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", op_id) or len(op_id) > 60]
    duplicates = sorted({op_id for op_id in ids if ids.count(op_id) > 1})
    assert not unreadable, unreadable
    assert not duplicates, duplicates
    assert document["paths"]["/api/v1/identity/authenticate"]["post"]["operationId"] == "identity_authenticate"
    assert document["paths"]["/api/v1/metrics/{metric_id}"]["get"]["operationId"].startswith("metrics_")


def test_operation_ids_do_not_depend_on_the_order_routes_are_mounted_in(
    document: dict[str, Any], database_url: str
) -> None:
    reordered = create_app(make_settings(database_url), modules=tuple(reversed(MODULES))).openapi()

    def ids(doc: dict[str, Any]) -> dict[str, str]:
        return {name(path, method): operation["operationId"] for path, method, operation in operations(doc)}

    assert ids(reordered) == ids(document)


# Summaries and descriptions ---------------------------------------------------------------------


def test_every_operation_has_a_written_summary_and_a_description(schema_app: FastAPI, document: dict[str, Any]) -> None:
    # FastAPI makes up a summary from the function name ("Get Window") when a route has none.
    made_up = {
        (str(context.path_format), method.lower()): context.name.replace("_", " ").title()
        for context in iter_route_contexts(schema_app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    lacking = [
        name(path, method)
        for path, method, operation in operations(document)
        if not operation.get("summary", "").strip()
        or operation["summary"] == made_up.get((path, method))
        or not operation.get("description", "").strip()
    ]

    assert not lacking, f"operations without a written summary or a description: {lacking}"


def test_descriptions_tell_how_to_call_the_operation(document: dict[str, Any]) -> None:
    open_window = document["paths"]["/api/v1/time-keeper/windows"]["post"]["description"]
    authenticate = document["paths"]["/api/v1/identity/authenticate"]["post"]["description"]
    grant = document["paths"]["/api/v1/identity/{identity_id}/capabilities"]["post"]["description"]

    assert "Sign-in: required" in open_window
    assert "accepted with the `fasting:write` scope" in open_window
    assert "Sign-in: not needed" in authenticate
    assert "5/minute;20/hour per client IP address" in authenticate
    assert "Personal access tokens: refused" in authenticate
    assert "`admin` capability" in grant
    # The route's own description stays first.
    assert open_window.startswith("Fasts: the target end comes from `protocol`")


# Errors -----------------------------------------------------------------------------------------


def error_responses(operation: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {int(status): response for status, response in operation["responses"].items() if int(status) >= 400}


def test_every_error_response_is_a_problem_with_its_codes_and_an_example_of_each(document: dict[str, Any]) -> None:
    wrong: list[str] = []
    for path, method, operation in operations(document):
        for status, response in error_responses(operation).items():
            media = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {})
            codes = response.get("x-error-codes", [])
            examples = media.get("examples", {})
            if media.get("schema") != {"$ref": "#/components/schemas/Problem"} or not codes:
                wrong.append(f"{name(path, method)} {status}: no Problem schema or no codes")
            elif sorted(examples) != sorted(codes):
                wrong.append(f"{name(path, method)} {status}: examples {sorted(examples)} for codes {codes}")
            elif any(ex["value"]["code"] != code or ex["value"]["status"] != status for code, ex in examples.items()):
                wrong.append(f"{name(path, method)} {status}: an example does not match its code or status")
    assert not wrong, wrong


def test_every_operation_lists_the_errors_any_request_can_meet(document: dict[str, Any]) -> None:
    missing: list[str] = []
    for path, method, operation in operations(document):
        errors = error_responses(operation)
        needed = {429: "RATE_LIMITED", 500: "INTERNAL_ERROR"}
        if operation.get("security"):
            needed[401] = "UNAUTHORIZED"
        if "requestBody" in operation or operation.get("parameters"):
            needed[422] = "VALIDATION_ERROR"
        if re.search(r"\{\w*_id\}", path):
            needed[404] = ""  # a route with an object id in its path answers 404 for ids that are not yours
        for status, code in needed.items():
            if status not in errors or (code and code not in errors[status]["x-error-codes"]):
                missing.append(f"{name(path, method)}: {status} {code}")
    assert not missing, missing


def codes(document: dict[str, Any], path: str, method: str, status: int) -> list[str]:
    codes: list[str] = document["paths"][path][method]["responses"][str(status)]["x-error-codes"]
    return codes


def test_module_errors_are_listed_on_the_operations_that_raise_them(document: dict[str, Any]) -> None:
    pause = "/api/v1/time-keeper/windows/{window_id}/pause"
    join = "/api/v1/social/challenges/{challenge_id}/join"

    assert "WINDOW_NOT_FOUND" in codes(document, pause, "post", 404)
    assert "TOO_MANY_PAUSES" in codes(document, pause, "post", 409)
    assert {"CHALLENGE_FULL", "CHALLENGE_ENDED", "ALREADY_PARTICIPATING"} <= set(codes(document, join, "post", 409))
    assert "REFRESH_TOKEN_REUSED" in codes(document, "/api/v1/identity/refresh", "post", 401)
    assert "CONFIRMATION_REQUIRED" in codes(document, "/api/v1/profile/all-data", "delete", 400)
    assert "TOKEN_SCOPE_MISSING" in codes(document, "/api/v1/metrics/latest", "get", 403)
    # An error of another module is not listed where it cannot happen.
    assert "WINDOW_NOT_FOUND" not in codes(document, join, "post", 404)


def test_every_error_code_of_the_app_is_documented_on_some_operation(document: dict[str, Any]) -> None:
    def subclasses(klass: type[AppError]) -> Iterator[type[AppError]]:
        for sub in klass.__subclasses__():
            yield sub
            yield from subclasses(sub)

    documented = {
        code
        for _, _, operation in operations(document)
        for response in error_responses(operation).values()
        for code in response["x-error-codes"]
    }
    # Bases whose own code is never raised as such.
    abstract = {"SERVICE_UNAVAILABLE"}
    defined = {klass.code for klass in subclasses(AppError) if klass.__module__.startswith("src.")}

    assert defined - abstract - documented == set()


# Examples ---------------------------------------------------------------------------------------


def json_bodies(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON request body and 2xx JSON answer: (where, media type object)."""
    for path, method, operation in operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        for media_type, media in content.items():
            if JSON_MEDIA.match(media_type):
                yield f"{name(path, method)} request", media
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                for media_type, media in response.get("content", {}).items():
                    if JSON_MEDIA.match(media_type):
                        yield f"{name(path, method)} {status}", media


def has_example(media: dict[str, Any], document: dict[str, Any]) -> bool:
    if "example" in media or media.get("examples"):
        return True
    schema = media.get("schema", {})
    ref = schema.get("$ref", "")
    if ref:
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return bool(schema.get("examples"))


def test_every_json_body_and_answer_has_an_example(document: dict[str, Any]) -> None:
    bodies = list(json_bodies(document))
    lacking = [where for where, media in bodies if not has_example(media, document)]

    assert len(bodies) > 150
    assert not lacking, lacking


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    def check(where: str, schema: dict[str, Any], value: Any) -> Iterator[str]:
        validator = Draft202012Validator(
            {**schema, "components": document["components"]}, format_checker=FormatChecker()
        )
        for error in validator.iter_errors(value):
            yield f"{where}: {error.message} at {list(error.absolute_path)}"

    invalid: list[str] = []
    for path, method, operation in operations(document):
        media_objects = [
            (f"{name(path, method)} {status}", media)
            for status, response in operation["responses"].items()
            for media in response.get("content", {}).values()
        ]
        media_objects += [
            (f"{name(path, method)} request", media)
            for media in operation.get("requestBody", {}).get("content", {}).values()
        ]
        for where, media in media_objects:
            schema = media.get("schema", {})
            if "example" in media:
                invalid.extend(check(where, schema, media["example"]))
            for key, example in media.get("examples", {}).items():
                invalid.extend(check(f"{where} ({key})", schema, example["value"]))
    for key, schema in document["components"]["schemas"].items():
        for value in schema.get("examples", []):
            invalid.extend(check(f"schema {key}", {"$ref": f"#/components/schemas/{key}"}, value))

    assert not invalid, invalid


def test_request_examples_are_accepted_by_the_routes_themselves(schema_app: FastAPI, document: dict[str, Any]) -> None:
    refused: list[str] = []
    checked = 0
    for context in iter_route_contexts(schema_app.routes):
        if not isinstance(context.original_route, APIRoute) or context.body_field is None:
            continue
        for method in context.methods or ():
            operation = document["paths"][str(context.path_format)][method.lower()]
            media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" not in media:
                continue
            checked += 1
            _, errors = context.body_field.validate(media["example"], {}, loc=("body",))
            if errors:
                refused.append(f"{method} {context.path_format}: {errors}")

    assert checked > 30
    assert not refused, refused


# The documentation pages ------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for attribute, value in attrs:
            if attribute in ("src", "href") and value:
                self.urls.append(value)


@pytest.mark.parametrize(("page", "expected"), [("/docs", {".js", ".css"}), ("/redoc", {".js"})])
async def test_docs_pages_load_every_asset_from_the_app_itself(
    schema_app: FastAPI, page: str, expected: set[str]
) -> None:
    async with client_for(schema_app) as client:
        response = await client.get(page)
        parser = _Assets()
        parser.feed(response.text)
        assets = {url: await client.get(url) for url in parser.urls}

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "cdn." not in response.text
    assert parser.urls
    assert all(url.startswith("/") and not url.startswith("//") for url in parser.urls), parser.urls
    assert {url[url.rfind(".") :] for url in parser.urls} >= expected
    for url, asset in assets.items():
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"]
        assert ("javascript" in kind) if url.endswith(".js") else True, (url, kind)
        assert ("text/css" in kind) if url.endswith(".css") else True, (url, kind)
        assert len(asset.content) > 1000, url


async def test_docs_point_at_the_served_document(schema_app: FastAPI) -> None:
    async with client_for(schema_app) as client:
        page = (await client.get("/docs")).text
        document = await client.get("/openapi.json")

    assert "'/openapi.json'" in page or '"/openapi.json"' in page
    assert document.status_code == 200


async def test_hidden_docs_serve_neither_pages_nor_assets(database_url: str) -> None:
    hidden = create_app(make_settings(database_url, expose_docs=False))
    async with client_for(hidden) as client:
        statuses = {
            path: (await client.get(path)).status_code
            for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui-bundle.js")
        }

    assert set(statuses.values()) == {404}, statuses


def test_docs_assets_come_from_an_installed_package() -> None:
    from src.core.openapi import docs_assets

    files = {path.name for path in docs_assets().iterdir()}

    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"} <= files


async def test_a_real_problem_answer_matches_the_documented_problem(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    answer = await client.post("/api/v1/identity/authenticate", json={"provider": "nope"})
    documented = document["paths"]["/api/v1/identity/authenticate"]["post"]["responses"]["422"]
    problem = {"$ref": "#/components/schemas/Problem", "components": document["components"]}

    body = assert_problem(answer, 422, "VALIDATION_ERROR")
    Draft202012Validator(problem).validate(body)
    assert "VALIDATION_ERROR" in documented["x-error-codes"]
    assert set(documented["content"][PROBLEM_MEDIA_TYPE]["examples"]["VALIDATION_ERROR"]["value"]) == set(body)


# A generated client -----------------------------------------------------------------------------

# Warnings of the generator that are about its own limits, not about the document.
TOLERATED_GENERATOR_WARNINGS = (
    "Unsupported content type",  # text/csv uploads and image answers: the generator only speaks JSON and forms
    "Unsupported content_type",
    # The FHIR import takes one body under two media types (application/fhir+json and application/json).
    'duplicate models with name "UploadsImportFhirJsonBody"',
)


def test_a_python_client_generates_from_the_document_and_reads_its_examples(
    document: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    generator = Path(sys.executable).parent / "openapi-python-client"

    result = subprocess.run(  # noqa: S603 - the generator installed with the dev dependencies
        [str(generator), "generate", "--path", str(spec), "--meta", "none", "--output-path", "ugoki_client"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    warnings = [
        block for block in output.split("WARNING")[1:] if not any(t in block for t in TOLERATED_GENERATOR_WARNINGS)
    ]
    unparsed = [line for line in output.splitlines() if line.startswith("Unable to")]

    assert result.returncode == 0, output
    assert not warnings, warnings
    assert not unparsed, unparsed
    monkeypatch.syspath_prepend(str(tmp_path))
    api = importlib.import_module("ugoki_client.api.time_keeper.time_keeper_open_window")
    models = importlib.import_module("ugoki_client.models")
    window = document["paths"]["/api/v1/time-keeper/windows/{window_id}"]["get"]["responses"]
    problem = window["404"]["content"][PROBLEM_MEDIA_TYPE]["examples"]["WINDOW_NOT_FOUND"]["value"]

    assert callable(api.asyncio_detailed)
    assert models.Problem.from_dict(problem).code == "WINDOW_NOT_FOUND"
    assert str(models.TimeWindow.from_dict(window["200"]["content"]["application/json"]["example"]).id)
    assert hasattr(models, "ProfilePreferences")
    assert hasattr(models, "NotificationPreferences")
