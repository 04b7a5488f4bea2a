"""Size and rate limits of the Apple Health import (with a small upload limit for this module)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.health_sync.helpers import assert_problem, export_xml, record, total_rows, upload, zipped

UPLOAD_LIMIT = 4096


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_upload_bytes": UPLOAD_LIMIT}


def many_records(count: int) -> bytes:
    line = record("HeartRate", 72, "2026-03-09 12:00:00 +0000", unit="count/min")
    return export_xml(line * count)


async def test_an_upload_over_the_limit_is_refused_with_413(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    data = many_records(40)
    assert len(data) > UPLOAD_LIMIT
    assert_problem(await upload(client, user, data), 413, "PAYLOAD_TOO_LARGE")


async def test_an_archive_expanding_far_beyond_the_limit_is_refused_with_413(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    archive = zipped({"apple_health_export/export.xml": many_records(2000)})  # about 400 kB of XML
    assert len(archive) < UPLOAD_LIMIT - 500
    assert_problem(await upload(client, user, archive, "export.zip"), 413, "EXPORT_TOO_LARGE")
    assert await total_rows(client, user) == 0


async def test_a_small_archive_within_the_limits_is_imported(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    export = export_xml(record("StepCount", 1200, "2026-03-09 12:00:00 +0000", unit="count"))
    response = await upload(client, user, zipped({"apple_health_export/export.xml": export}), "export.zip")
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1


async def test_imports_are_rate_limited_per_caller(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    statuses: list[int] = []
    # 10 a minute; a minute boundary may pass during the loop, so allow for one reset.
    for _ in range(21):
        response = await upload(client, user, b"not xml")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
            break
    assert statuses[-1] == 429
    assert statuses.count(422) >= 10
    other = await anonymous_user(app)
    assert_problem(await upload(client, other, b"not xml"), 422, "INVALID_HEALTH_EXPORT")
