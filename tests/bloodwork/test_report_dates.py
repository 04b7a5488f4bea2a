"""Report dates: American and long forms read, a report's test date corrected (its results move),
an undated import replaced by a re-upload with test_date, and the day kept through a change of
time zone."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from src.modules.bloodwork.parser import find_test_date
from tests.bloodwork.documents import line_report, table_report
from tests.bloodwork.helpers import UPLOAD, assert_problem, grouped, history, ok, set_timezone, uploaded
from tests.factories import anonymous_user


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Collected: 11/28/2025", date(2025, 11, 28)),  # can only be month first
        ("Collected: 28/11/2025", date(2025, 11, 28)),  # can only be day first
        ("Collected: 05/06/2025", date(2025, 6, 5)),  # ambiguous: day first (UK) by default
        ("Quest Diagnostics\nCollected: 05/06/2025", date(2025, 5, 6)),  # a US laboratory
        ("Collected: 05/06/2025\nGlucose 95 mg/dL 65-99", date(2025, 5, 6)),  # US units
        ("Reported: 11/28/2025\nCollected: 05/06/2025", date(2025, 5, 6)),  # another date shows the habit
        ("Date collected: November 28, 2025", date(2025, 11, 28)),
        ("Collected: Nov. 3rd, 2025", date(2025, 11, 3)),
        ("Collected 28 November 2025", date(2025, 11, 28)),
    ],
)
def test_american_and_long_form_dates_are_read(text: str, expected: date) -> None:
    assert find_test_date(text) == expected


def _undated() -> bytes:
    return line_report(["Requested by Dr Who", "Haemoglobin 140 g/L 130-170", "Ferritin 50 ug/L 30-400"])


async def test_a_us_report_with_a_long_form_date_is_filed_on_that_day(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    document = table_report(
        ["LabCorp", "Date collected: November 28, 2025"], [("Glucose", "95", "mg/dL", "65 - 99", "")]
    )
    body = await uploaded(client, user, document)
    assert body["test_date"] == "2025-11-28"


async def test_correcting_the_test_date_moves_the_reports_results(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    first = await uploaded(client, user, _undated())
    assert first["test_date"] == "2026-03-10"  # the upload day
    report_id = first["lab_report_id"]
    corrected = ok(await client.patch(f"{UPLOAD}/{report_id}", headers=user.headers, json={"test_date": "2026-02-14"}))
    assert (corrected["test_date"], corrected["date_source"]) == ("2026-02-14", "given")
    [group] = await grouped(client, user)
    assert group["test_date"] == "2026-02-14"
    assert group["biomarker_count"] == 2
    [hb] = await history(client, user, "biomarker_haemoglobin")
    assert hb["timestamp"].startswith("2026-02-14T12:00")
    assert (await client.get(f"{UPLOAD}/{report_id}", headers=user.headers)).json()["test_date"] == "2026-02-14"


async def test_a_correction_onto_a_day_with_the_same_tests_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    dated = line_report(["Collected: 14/02/2026", "Haemoglobin 150 g/L 130-170"])
    await uploaded(client, user, dated)
    report_id = (await uploaded(client, user, _undated()))["lab_report_id"]
    response = await client.patch(f"{UPLOAD}/{report_id}", headers=user.headers, json={"test_date": "2026-02-14"})
    assert_problem(response, 409, "MEASUREMENT_CONFLICT")
    assert (await client.get(f"{UPLOAD}/{report_id}", headers=user.headers)).json()["test_date"] == "2026-03-10"


async def test_a_correction_into_the_future_or_of_someone_elses_report_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice, bob = await anonymous_user(app), await anonymous_user(app)
    report_id = (await uploaded(client, alice, _undated()))["lab_report_id"]
    future = await client.patch(f"{UPLOAD}/{report_id}", headers=alice.headers, json={"test_date": "2026-04-01"})
    assert_problem(future, 422, "INVALID_TEST_DATE")
    other = await client.patch(f"{UPLOAD}/{report_id}", headers=bob.headers, json={"test_date": "2026-02-01"})
    assert_problem(other, 404, "LAB_REPORT_NOT_FOUND")
    missing = await client.get(f"{UPLOAD}/{uuid.uuid4()}", headers=alice.headers)
    assert_problem(missing, 404, "LAB_REPORT_NOT_FOUND")


async def test_re_uploading_with_test_date_replaces_the_undated_import(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    first = await uploaded(client, user, _undated())
    body = await uploaded(client, user, _undated(), params={"test_date": "2026-01-20"})
    assert (body["lab_report_id"], body["test_date"], body["redated"]) == (first["lab_report_id"], "2026-01-20", True)
    groups = await grouped(client, user)
    assert [(g["test_date"], g["biomarker_count"]) for g in groups] == [("2026-01-20", 2)]
    reports = (await client.get(UPLOAD, headers=user.headers)).json()
    assert [(r["test_date"], r["date_source"]) for r in reports] == [("2026-01-20", "given")]


async def test_the_test_day_stays_when_the_person_changes_time_zone(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/New_York")
    body = await uploaded(client, user, line_report(["Collected: 28/12/2025", "Haemoglobin 145 g/L"]))
    await set_timezone(client, user, "Pacific/Kiritimati")  # UTC+14: New York's noon is the next day there
    [group] = await grouped(client, user)
    assert group["test_date"] == "2025-12-28"
    report = (await client.get(f"{UPLOAD}/{body['lab_report_id']}", headers=user.headers)).json()
    assert report["test_date"] == "2025-12-28"
