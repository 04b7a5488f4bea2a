"""CSV import and export of weights and fasts: formats from other apps, idempotent imports through
the API's own rules, bounded hostile input."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user
from tests.http import assert_problem, ok
from tests.support import count_rows

API = "/api/v1"
WEIGHTS = f"{API}/integrations/csv/weights"
FASTS = f"{API}/integrations/csv/fasts"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_enabled": False}


async def post_csv(client: httpx.AsyncClient, user: User, url: str, data: bytes, **params: str) -> httpx.Response:
    headers = {**user.headers, "Content-Type": "text/csv"}
    return await client.post(url, headers=headers, content=data, params=params)


def year_of_weights(first: date, *, semicolon: bool = False, bom: bool = False) -> bytes:
    sep = ";" if semicolon else ","
    lines = [f"Date{sep}Weight (kg){sep}Fat mass (kg){sep}Comments"]
    for i in range(365):
        value = f"{80 + (i % 20) / 10:.1f}"
        lines.append(f"{first + timedelta(days=i)}{sep}{value.replace('.', ',') if semicolon else value}{sep}{sep}")
    text = "\r\n".join(lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


async def test_a_year_of_weigh_ins_imports_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    data = year_of_weights(date(2025, 3, 10), semicolon=True, bom=True)
    started = time.perf_counter()
    first = ok(await post_csv(client, user, WEIGHTS, data))
    elapsed = time.perf_counter() - started
    assert (first["rows"], first["created"], first["unchanged"], first["rejected"]) == (365, 365, 0, 0)
    assert elapsed < 60
    print(f"365 weigh-ins imported in {elapsed:.2f} s")  # noqa: T201 - the figure for the report

    before = await count_rows(app, "metrics", user.id)
    level = ok(await client.get(f"{API}/progression/level", headers=user.headers))
    second = ok(await post_csv(client, user, WEIGHTS, data))
    assert (second["created"], second["unchanged"]) == (0, 365)
    assert await count_rows(app, "metrics", user.id) == before == 365
    assert ok(await client.get(f"{API}/progression/level", headers=user.headers)) == level
    # Weight XP is the API's rule: once per day (the day of logging), not once per imported row.
    assert level["total_xp_earned"] < 365 * 10  # weight XP at most once per day of logging, not per row


async def test_pounds_comma_files_and_the_person_zone(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(f"{API}/profile/preferences", headers=user.headers, json={"timezone": "America/New_York"}))
    data = b"date,weight_lb\n2026-03-01,180\n2026-03-02 07:15,179.5\n"
    result = ok(await post_csv(client, user, WEIGHTS, data))
    assert result["created"] == 2
    history = ok(await client.get(f"{API}/metrics/history", params={"metric_type": "weight_kg"}, headers=user.headers))
    by_time = {h["timestamp"]: round(h["value"], 2) for h in history}
    assert by_time == {"2026-03-01T17:00:00Z": 81.65, "2026-03-02T12:15:00Z": 81.42}

    bare = b"Timestamp,Weight,Unit\n2026-03-03T08:00:00Z,80.5,kg\n2026-03-04T08:00:00Z,178,lbs\n"
    assert ok(await post_csv(client, user, WEIGHTS, bare))["created"] == 2


async def test_bad_rows_are_refused_by_the_apis_rules_and_reported(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    data = b"date,weight_kg\n2026-03-01,81\nyesterday,80\n2026-03-02,-5\n2026-03-03,NaN\n2026-03-04,9999\n"
    result = ok(await post_csv(client, user, WEIGHTS, data))
    assert (result["rows"], result["created"], result["rejected"]) == (5, 1, 4)
    assert [e["line"] for e in result["errors"]] == [3, 4, 5, 6]
    assert await count_rows(app, "metrics", user.id) == 1


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 422, "CSV_UNREADABLE"),
        (b"\xff\xfe\x00d\x00a", 422, "CSV_UNREADABLE"),
        (b"date,weight\n2026-03-01,8\x001\n", 422, "CSV_UNREADABLE"),
        (b"when,how much\n2026-03-01,81\n", 422, "CSV_COLUMNS_MISSING"),
        (b"date,weight_kg\n" + b"2026-03-01," + b"1" * 2000 + b"\n", 422, "CSV_UNREADABLE"),
        (b"date,weight_kg\n" + b"2026-03-01,81\n" * 5001, 413, "CSV_TOO_LARGE"),
        (b'date,weight_kg\n"2026-03-01,81\n', 422, None),
    ],
)
async def test_hostile_files_are_refused(
    app: FastAPI, client: httpx.AsyncClient, data: bytes, status: int, code: str | None
) -> None:
    user = await anonymous_user(app)
    response = await post_csv(client, user, WEIGHTS, data)
    if status == 422 and code is None:  # an unterminated quote: read as one bad row at most
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            assert response.json()["created"] == 0
        return
    assert_problem(response, status, code)


async def test_a_file_over_the_size_limit_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await post_csv(client, user, WEIGHTS, b"date,weight_kg\n" + b"2026-03-01,81\n" * 80_000)
    assert response.status_code == 413


async def test_fasts_import_once_with_the_apis_back_fill_rules(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    now = clock.now()  # 2026-03-10 12:00 UTC
    data = (
        b"Start;End;Protocol;Duration\n"
        b"2026-03-08 20:00;2026-03-09 12:00;16:8;16h\n"
        b"2026-03-07T19:00:00Z;2026-03-08T13:00:00Z;18:6;18h\n"
        b"2026-03-05 20:00;2026-03-06 10:00;Circadian;14h\n"
        b"2026-01-01 20:00;2026-01-02 12:00;16:8;old\n"  # more than 7 days back: the API refuses it
        b"2026-03-09 00:00;2026-03-09 06:00;16:8;overlaps the first\n"
    )
    first = ok(await post_csv(client, user, FASTS, data))
    assert (first["rows"], first["created"], first["rejected"]) == (5, 3, 2)
    assert [e["line"] for e in first["errors"]] == [5, 6]
    assert "INVALID_WINDOW_TIME" in first["errors"][0]["reason"] or "7 days" in first["errors"][0]["reason"]

    second = ok(await post_csv(client, user, FASTS, data))
    assert (second["created"], second["unchanged"], second["rejected"]) == (0, 3, 2)
    windows = ok(await client.get(f"{API}/time-keeper/windows", headers=user.headers, params={"limit": 50}))
    assert sorted(w["protocol"] for w in windows) == ["16:8", "18:6", "custom"]
    assert now == clock.now()


def rows_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_exports_read_back_unchanged(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(f"{API}/profile/preferences", headers=user.headers, json={"timezone": "Asia/Tokyo"}))
    ok(await post_csv(client, user, WEIGHTS, b"date,weight_kg\n2026-03-01,81.2\n2026-03-02,80.9\n"))
    exported = await client.get(WEIGHTS, headers=user.headers)
    rows = rows_of(exported)
    assert [(r["timestamp"], r["date"], r["weight_kg"]) for r in rows] == [
        ("2026-03-01T12:00:00+09:00", "2026-03-01", "81.2"),
        ("2026-03-02T12:00:00+09:00", "2026-03-02", "80.9"),
    ]
    again = ok(await post_csv(client, user, WEIGHTS, exported.content))
    assert (again["created"], again["unchanged"]) == (0, 2)

    ok(await post_csv(client, user, FASTS, b"start,end,protocol\n2026-03-08 20:00,2026-03-09 12:00,16:8\n"))
    fasts = rows_of(await client.get(FASTS, headers=user.headers))
    assert [(f["start"], f["end"], f["protocol"]) for f in fasts] == [
        ("2026-03-08T20:00:00+09:00", "2026-03-09T12:00:00+09:00", "16:8")
    ]


async def test_csv_routes_take_personal_access_tokens_with_their_scopes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    body = {"name": "sheet", "scopes": ["export:read"]}
    token = ok(await client.post(f"{API}/identity/tokens", headers=user.headers, json=body), 201)["token"]
    pat = {"Authorization": f"Bearer {token}"}
    assert (await client.get(WEIGHTS, headers=pat)).status_code == 200
    response = await client.post(WEIGHTS, headers={**pat, "Content-Type": "text/csv"}, content=b"date,kg\n")
    assert_problem(response, 403, "TOKEN_SCOPE_MISSING")
