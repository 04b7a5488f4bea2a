"""Measurements (metrics) and lab reports (bloodwork) in the account-wide export, erasure and
anonymisation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.uow import UnitOfWork
from src.modules.bloodwork import LabReport
from src.modules.bloodwork.reports import LabReports
from src.modules.metrics import Measurement, MetricSource, metrics
from tests.factories import User, anonymous_user
from tests.metrics.helpers import ALL_DATA, ANONYMIZE, EXPORT, in_unit_of_work, ok, record, stored_rows, utc


async def person_with_health_data(app: FastAPI, client: httpx.AsyncClient) -> tuple[User, LabReport]:
    """Weights with a note, and a lab report with the results imported from it."""
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 80.5, timestamp=utc(3, 8, 7), note="after holidays")
    await record(client, user, "steps", 9000, timestamp=utc(3, 8, 20))
    identity_id = uuid.UUID(user.id)

    async def upload(uow: UnitOfWork) -> LabReport:
        service = metrics(uow)
        reports = LabReports(uow)
        report, created = await reports.create_lab_report(
            identity_id,
            sha256="ab" * 32,
            storage_key=f"lab-reports/{identity_id}/report.pdf",
            content_type="application/pdf",
            size_bytes=2048,
            test_date=utc(3, 5, 8),
            parser="deterministic",
            lab_name="Example Labs",
            parsed=[{"name": "LDL", "value": 3.1}],
        )
        assert created
        results = [
            Measurement(metric_type="biomarker_ldl", value=3.1, timestamp=utc(3, 5, 8), note="from the pdf"),
            Measurement(metric_type="biomarker_hdl", value=1.4, timestamp=utc(3, 5, 8)),
        ]
        await service.store(identity_id, results, source=MetricSource.LAB_REPORT, lab_report_id=report.id)
        await reports.set_lab_report_count(report.id, len(results))
        return report

    return user, await in_unit_of_work(app, upload)


async def test_export_holds_every_measurement_and_lab_report(app: FastAPI, client: httpx.AsyncClient) -> None:
    user, report = await person_with_health_data(app, client)
    document = ok(await client.get(EXPORT, headers=user.headers))
    exported = document["modules"]["metrics"]
    lab_reports = document["modules"]["bloodwork"]["lab_reports"]
    assert sorted((m["metric_type"], m["value"]) for m in exported["metrics"]) == [
        ("biomarker_hdl", 1.4),
        ("biomarker_ldl", 3.1),
        ("steps", 9000.0),
        ("weight_kg", 80.5),
    ]
    assert {m["note"] for m in exported["metrics"]} == {"after holidays", "from the pdf", None}
    [lab] = lab_reports
    assert (lab["id"], lab["lab_name"], lab["biomarker_count"]) == (str(report.id), "Example Labs", 2)
    assert lab["test_date"] == "2026-03-05T08:00:00+00:00"


async def test_export_holds_nothing_of_another_person(app: FastAPI, client: httpx.AsyncClient) -> None:
    await person_with_health_data(app, client)
    stranger = await anonymous_user(app)
    modules = ok(await client.get(EXPORT, headers=stranger.headers))["modules"]
    assert modules["metrics"] == {"metrics": []}
    assert modules["bloodwork"] == {"lab_reports": []}
    assert modules["health_sync"] == {"consent": None}


async def test_erasing_the_account_removes_every_measurement_and_lab_report(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user, _ = await person_with_health_data(app, client)
    other, _ = await person_with_health_data(app, client)
    body = ok(await client.delete(ALL_DATA, headers=user.headers, params={"confirm": "true"}))
    assert (body["rows_deleted"]["metrics"], body["rows_deleted"]["bloodwork"]) == (4, 1)  # measurements, report
    assert await stored_rows(app, "metrics", user.id) == []
    assert await stored_rows(app, "lab_reports", user.id) == []
    assert len(await stored_rows(app, "metrics", other.id)) == 4
    assert len(await stored_rows(app, "lab_reports", other.id)) == 1


async def test_erasing_without_confirm_keeps_the_measurements(app: FastAPI, client: httpx.AsyncClient) -> None:
    user, _ = await person_with_health_data(app, client)
    response = await client.delete(ALL_DATA, headers=user.headers)
    assert response.status_code == 400, response.text  # as the reference
    assert len(await stored_rows(app, "metrics", user.id)) == 4


async def test_anonymizing_keeps_measurements_under_a_random_id_without_notes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user, _ = await person_with_health_data(app, client)
    ok(await client.post(ANONYMIZE, headers=user.headers))
    assert await stored_rows(app, "metrics", user.id) == []
    kept: list[dict[str, Any]] = await stored_rows(app, "metrics")
    assert sorted((r["metric_type"], r["value"]) for r in kept) == [
        ("biomarker_hdl", 1.4),
        ("biomarker_ldl", 3.1),
        ("steps", 9000.0),
        ("weight_kg", 80.5),
    ]
    owners = {r["identity_id"] for r in kept}
    assert len(owners) == 1
    assert owners != {uuid.UUID(user.id)}
    assert {r["note"] for r in kept} == {None}
    assert {r["lab_report_id"] for r in kept} == {None}  # the documents themselves are personal: gone
    assert await stored_rows(app, "lab_reports") == []
