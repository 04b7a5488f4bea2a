"""Uploading lab reports through the API, as the app does, and what the rest of the API then shows."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from src.adapters.storage import storage_of
from tests.bloodwork.helpers import (
    BY_RELATED,
    EVENT_COUNT,
    FORMATS,
    ONBOARDING,
    TREND,
    assert_problem,
    biomarkers_of,
    grouped,
    history,
    ok,
    row_counts,
    set_timezone,
    stored_files,
    stored_report,
    upload,
    uploaded,
)
from tests.bloodwork.reports import (
    FBC_TABLE_RESULTS,
    LINE_RESULTS,
    TWO_COLUMN_RESULTS,
    fbc_table_report,
    line_by_line_report,
    two_column_text_report,
)
from tests.conftest import client_for
from tests.factories import anonymous_user, fresh_ip


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_table_report_yields_every_value_unit_range_and_flag(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await uploaded(client, user, fbc_table_report())
    assert biomarkers_of(body) == FBC_TABLE_RESULTS
    assert body["success"] is True
    assert body["duplicate"] is False
    assert body["test_date"] == "2025-12-28"  # the collection date, not the date of birth
    assert body["biomarker_count"] == 10
    assert body["message"] == "Successfully parsed 10 biomarkers."
    assert re.fullmatch(r"[0-9a-f-]{36}", body["lab_report_id"])


async def test_two_column_text_report_with_iso_date_and_abbreviations(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await uploaded(client, user, two_column_text_report())
    assert biomarkers_of(body) == TWO_COLUMN_RESULTS
    assert (body["test_date"], body["biomarker_count"]) == ("2025-06-03", 6)


async def test_line_by_line_report_with_written_month_date(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await uploaded(client, user, line_by_line_report())
    assert biomarkers_of(body) == LINE_RESULTS
    assert (body["test_date"], body["biomarker_count"]) == ("2026-01-05", 5)


async def test_results_are_stored_as_lab_report_metrics_at_noon_of_the_test_day(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await uploaded(client, user, fbc_table_report())
    [crp] = await history(client, user, "biomarker_crp")
    assert crp["source"] == "lab_report"
    assert (crp["value"], crp["value_text"], crp["unit"]) == (0.5, "<0.5", "mg/L")
    assert (crp["reference_low"], crp["reference_high"], crp["flag"]) == (None, 5.0, "normal")
    assert _instant(crp["timestamp"]) == datetime(2025, 12, 28, 12, 0, tzinfo=UTC)


async def test_grouped_biomarkers_show_each_report_under_its_test_date(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await uploaded(client, user, two_column_text_report())
    await uploaded(client, user, fbc_table_report())
    groups = await grouped(client, user)
    assert [g["test_date"] for g in groups] == ["2025-12-28", "2025-06-03"]
    december, june = groups
    assert (december["biomarker_count"], december["normal_count"], december["abnormal_count"]) == (10, 3, 7)
    assert december["unflagged_count"] == 0
    assert (june["biomarker_count"], june["normal_count"], june["abnormal_count"]) == (6, 5, 1)
    assert {m["metric_type"]: m["value"] for m in december["biomarkers"]} == {
        r["metric_type"]: r["value"] for r in FBC_TABLE_RESULTS
    }
    assert {m["metric_type"]: m["flag"] for m in june["biomarkers"]} == {
        r["metric_type"]: r["flag"] for r in TWO_COLUMN_RESULTS
    }


async def test_two_reports_on_different_dates_make_a_haemoglobin_trend(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await uploaded(client, user, two_column_text_report())  # Hb 150 on 2025-06-03
    await uploaded(client, user, fbc_table_report())  # Hb 145 on 2025-12-28
    trend = ok(
        await client.get(
            TREND, headers=user.headers, params={"metric_type": "biomarker_haemoglobin", "period_days": 365}
        )
    )
    assert (trend["data_points"], trend["first_value"], trend["last_value"]) == (2, 150.0, 145.0)
    assert trend["direction"] == "down"
    assert trend["change_absolute"] == -5.0


async def test_results_are_grouped_by_the_local_test_date_in_the_users_time_zone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Pacific/Auckland")
    await uploaded(client, user, fbc_table_report())
    [group] = await grouped(client, user)
    assert group["test_date"] == "2025-12-28"
    # 12:00 in Auckland (UTC+13 in December) is 23:00 UTC the day before.
    assert {_instant(m["timestamp"]) for m in group["biomarkers"]} == {datetime(2025, 12, 27, 23, 0, tzinfo=UTC)}


async def test_report_without_a_date_is_filed_under_the_users_local_today(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Pacific/Auckland")  # the clock's 2026-03-10 12:00 UTC is 11 March there
    body = await uploaded(client, user, line_by_line_report(collected="Requested by Dr Who"))
    assert body["test_date"] == "2026-03-11"
    [group] = await grouped(client, user)
    assert group["test_date"] == "2026-03-11"


async def test_test_date_parameter_wins_over_the_printed_date(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await uploaded(client, user, fbc_table_report(), params={"test_date": "2026-02-01"})
    assert body["test_date"] == "2026-02-01"
    [group] = await grouped(client, user)
    assert group["test_date"] == "2026-02-01"


async def test_printed_date_in_the_future_is_ignored(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await uploaded(client, user, line_by_line_report(collected="Collected: 01/01/2027"))
    assert body["test_date"] == "2026-03-10"


async def test_test_date_parameter_in_the_future_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, fbc_table_report(), params={"test_date": "2026-03-11"})
    assert_problem(response, 422, "INVALID_TEST_DATE")
    malformed = await upload(client, user, fbc_table_report(), params={"test_date": "28/12/2025"})
    assert_problem(malformed, 422, "VALIDATION_ERROR")
    assert (await row_counts(app))["lab_reports"] == 0


async def test_same_file_again_answers_the_first_result_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    document = fbc_table_report()
    first = await uploaded(client, user, document)
    counts = await row_counts(app)
    body = await uploaded(client, user, document, filename="copy.pdf", params={"test_date": "2026-01-01"})
    assert body["duplicate"] is True
    assert body["lab_report_id"] == first["lab_report_id"]
    assert body["biomarkers"] == first["biomarkers"]
    assert (body["test_date"], body["biomarker_count"]) == ("2025-12-28", 10)
    assert await row_counts(app) == counts
    assert len(stored_files(app, "*.pdf")) == 1


async def test_same_file_from_another_person_is_imported_for_them(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, bob = await anonymous_user(app), await anonymous_user(app)
    document = fbc_table_report()
    await uploaded(client, alice, document)
    body = await uploaded(client, bob, document)
    assert body["duplicate"] is False
    [group] = await grouped(client, bob)
    assert group["biomarker_count"] == 10


async def test_identity_id_query_parameter_is_ignored(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await uploaded(client, me, fbc_table_report(), params={"identity_id": other.id})
    assert await grouped(client, other) == []
    assert len(await grouped(client, me)) == 1


async def test_original_document_is_kept_in_storage_under_a_server_made_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    document = fbc_table_report()
    body = await uploaded(client, user, document, filename="../../etc/passwd.pdf")
    report = await stored_report(app, body["lab_report_id"])
    assert re.fullmatch(rf"lab-reports/{user.id}/[0-9a-f]{{32}}\.pdf", report["storage_key"])
    assert (report["content_type"], report["size_bytes"]) == ("application/pdf", len(document))
    assert report["sha256"] == hashlib.sha256(document).hexdigest()
    assert (report["parser"], report["biomarker_count"]) == ("pdf-text:rules", 10)
    assert report["lab_name"] == "Northfield Pathology Laboratory"
    assert await storage_of(app.state.resources).get(report["storage_key"]) == document


async def test_type_is_read_from_the_file_not_from_the_clients_claim(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await uploaded(client, user, fbc_table_report(), filename="photo.png", content_type="image/png")
    report = await stored_report(app, body["lab_report_id"])
    assert report["content_type"] == "application/pdf"
    assert report["storage_key"].endswith(".pdf")


async def test_upload_marks_the_bloodwork_onboarding_step(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    before = ok(await client.get(ONBOARDING, headers=user.headers))
    assert before["bloodwork_uploaded"] is False
    await uploaded(client, user, fbc_table_report())
    after = await client.get(ONBOARDING, headers=user.headers)
    assert after.json()["bloodwork_uploaded"] is True


async def test_upload_records_one_journal_event_without_values(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    report_id = (await uploaded(client, user, fbc_table_report()))["lab_report_id"]
    [event] = ok(
        await client.get(
            BY_RELATED, headers=user.headers, params={"related_id": report_id, "related_type": "lab_report"}
        )
    )
    assert event["event_type"] == "biomarker_uploaded"
    assert event["metadata"] == {"count": 10, "lab_report_id": report_id}
    count = await client.get(EVENT_COUNT, headers=user.headers, params={"event_type": "biomarker_uploaded"})
    assert count.json()["count"] == 1


async def test_upload_needs_a_signed_in_caller(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await upload(client, None, fbc_table_report())
    assert_problem(response, 401, "UNAUTHORIZED")
    bad_token = await client.post(
        "/api/v1/uploads/bloodwork",
        headers={"Authorization": "Bearer not-a-token"},
        files={"file": ("report.pdf", fbc_table_report(), "application/pdf")},
    )
    assert_problem(bad_token, 401, "UNAUTHORIZED")
    assert (await row_counts(app))["lab_reports"] == 0


async def test_uploads_are_rate_limited_per_person(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    statuses = [(await upload(client, user, b"not a report")).status_code for _ in range(10)]
    assert statuses == [415] * 10
    limited = await upload(client, user, fbc_table_report())
    assert_problem(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["Retry-After"]) >= 1


async def test_supported_formats_are_listed_without_sign_in(client: httpx.AsyncClient) -> None:
    body = ok(await client.get(FORMATS))
    assert [(f["extension"], f["mime_type"]) for f in body["formats"]] == [
        (".pdf", "application/pdf"),
        (".jpg", "image/jpeg"),
        (".png", "image/png"),
    ]
    assert all(f["description"] for f in body["formats"])
    assert body["max_file_size_mb"] == 10
    assert len(body["notes"]) == 3


async def test_concurrent_uploads_of_the_same_file_import_it_once(app: FastAPI) -> None:
    user = await anonymous_user(app)
    document = fbc_table_report()

    async def send() -> httpx.Response:
        async with client_for(app, fresh_ip()) as own_client:
            return await upload(own_client, user, document)

    first, second = await asyncio.gather(send(), send())
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert sorted([first.json()["duplicate"], second.json()["duplicate"]]) == [False, True]
    assert first.json()["lab_report_id"] == second.json()["lab_report_id"]
    counts = await row_counts(app)
    assert (counts["lab_reports"], counts["metrics"]) == (1, 10)
    assert len(stored_files(app, "*.pdf")) == 1
