"""POST /health-sync/import/apple-health with exports written here, as the Health app writes them."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import User, anonymous_user
from tests.health_sync.helpers import (
    API,
    HEALTH_TYPES,
    assert_problem,
    events,
    export_xml,
    history,
    instant,
    ok,
    record,
    set_timezone,
    total_rows,
    total_xp,
    upload,
    utc,
    weight_xp,
    zipped,
)

LB = 0.45359237

HRV_BEATS = (
    "    <HeartRateVariabilityMetadataList>\n"
    '      <InstantaneousBeatsPerMinute bpm="62" time="3:00:01.12 AM"/>\n'
    "    </HeartRateVariabilityMetadataList>\n"
)

# Two days and two time zones (a trip to New York, UTC-5): the person's profile says Berlin
# (UTC+1 in early March), so days are Berlin days.
TWO_DAYS = export_xml(
    # Steps, phone: 8 March 500 + 300; 23:30 in New York on 8 March is 05:30 on 9 March in Berlin.
    record("StepCount", 500, "2026-03-08 09:00:00 +0100", "2026-03-08 09:10:00 +0100", unit="count"),
    record("StepCount", 300, "2026-03-08 18:00:00 +0100", "2026-03-08 18:05:00 +0100", unit="count"),
    record("StepCount", 700, "2026-03-08 23:30:00 -0500", "2026-03-08 23:40:00 -0500", unit="count"),
    record("StepCount", 450, "2026-03-09 10:00:00 +0100", "2026-03-09 10:20:00 +0100", unit="count"),
    # Active energy: kcal and kJ (418.4 kJ = 100 kcal); 20:00 in New York on 9 March is 10 March in Berlin.
    record("ActiveEnergyBurned", 200, "2026-03-08 09:00:00 +0100", "2026-03-08 10:00:00 +0100", unit="kcal"),
    record("ActiveEnergyBurned", 418.4, "2026-03-08 12:00:00 +0100", "2026-03-08 13:00:00 +0100", unit="kJ"),
    record("ActiveEnergyBurned", 150, "2026-03-09 20:00:00 -0500", "2026-03-09 21:00:00 -0500", unit="kcal"),
    # Body mass in pounds and in kilograms; body fat as a fraction.
    record("BodyMass", 176, "2026-03-08 07:00:00 +0100", unit="lb", source="Smart Scale"),
    record("BodyMass", 80.5, "2026-03-09 07:05:00 -0500", unit="kg", source="Smart Scale"),
    record("BodyFatPercentage", 0.215, "2026-03-08 07:00:00 +0100", unit="%", source="Smart Scale"),
    # Resting heart rate and HRV (SDNN, with the beat list Apple nests in the record).
    record("RestingHeartRate", 58, "2026-03-09 08:00:00 +0100", unit="count/min", source="Alex's Watch"),
    record("RestingHeartRate", 61, "2026-03-09 22:00:00 -0500", unit="count/min", source="Alex's Watch"),
    record(
        "HeartRateVariabilitySDNN",
        45,
        "2026-03-08 03:00:00 +0100",
        "2026-03-08 03:01:00 +0100",
        unit="ms",
        source="Alex's Watch",
        children=HRV_BEATS,
    ),
    record(
        "HeartRateVariabilitySDNN",
        52,
        "2026-03-09 23:30:00 -0500",
        "2026-03-09 23:31:00 -0500",
        unit="ms",
        source="Alex's Watch",
    ),
    # Night to 9 March (watch, sleep stages): in bed and awake do not count; 3.5 + 2 + 2 h asleep.
    record(
        "SleepAnalysis",
        "HKCategoryValueSleepAnalysisInBed",
        "2026-03-08 23:00:00 +0100",
        "2026-03-09 07:30:00 +0100",
        source="Alex's Watch",
    ),
    record(
        "SleepAnalysis",
        "HKCategoryValueSleepAnalysisAsleepCore",
        "2026-03-08 23:30:00 +0100",
        "2026-03-09 03:00:00 +0100",
        source="Alex's Watch",
    ),
    record(
        "SleepAnalysis",
        "HKCategoryValueSleepAnalysisAsleepDeep",
        "2026-03-09 03:00:00 +0100",
        "2026-03-09 05:00:00 +0100",
        source="Alex's Watch",
    ),
    record(
        "SleepAnalysis",
        "HKCategoryValueSleepAnalysisAsleepREM",
        "2026-03-09 05:00:00 +0100",
        "2026-03-09 07:00:00 +0100",
        source="Alex's Watch",
    ),
    record(
        "SleepAnalysis",
        "HKCategoryValueSleepAnalysisAwake",
        "2026-03-09 07:00:00 +0100",
        "2026-03-09 07:30:00 +0100",
        source="Alex's Watch",
    ),
    # Night in New York (legacy "asleep" value), ending 01:00 -0500 = 07:00 on 10 March in Berlin: 6 h.
    record(
        "SleepAnalysis",
        "HKCategoryValueSleepAnalysisAsleep",
        "2026-03-09 19:00:00 -0500",
        "2026-03-10 01:00:00 -0500",
    ),
    # Unmapped types are ignored.
    record("HeartRate", 72, "2026-03-09 12:00:00 +0100", unit="count/min"),
    '  <Correlation type="HKCorrelationTypeIdentifierBloodPressure" startDate="2026-03-09 12:00:00 +0100" '
    'endDate="2026-03-09 12:00:00 +0100">\n'
    + record("BodyMass", 99, "2026-03-09 12:00:00 +0100", unit="kg")
    + "  </Correlation>\n",
)

EXPECTED = {
    "steps": [(utc(3, 8, 23), 1150), (utc(3, 7, 23), 800)],
    "calories_burned": [(utc(3, 9, 23), 150), (utc(3, 7, 23), 300)],
    "weight_kg": [(utc(3, 9, 12, 5), 80.5), (utc(3, 8, 6), pytest.approx(176 * LB, abs=1e-3))],
    "body_fat_pct": [(utc(3, 8, 6), pytest.approx(21.5))],
    "health_resting_hr": [(utc(3, 10, 3), 61), (utc(3, 9, 7), 58)],
    "health_hrv": [(utc(3, 10, 4, 30), 52), (utc(3, 8, 2), 45)],
    "sleep_hours": [(utc(3, 9, 23), 6), (utc(3, 8, 23), 7.5)],
}


async def berlin_user(app: FastAPI, client: httpx.AsyncClient) -> User:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Europe/Berlin")
    return user


async def stored(client: httpx.AsyncClient, user: User) -> dict[str, list[tuple[object, float]]]:
    return {
        t: [
            (instant(r["timestamp"]), r["value"])
            for r in await history(client, user, t)
            if r["source"] == "device_sync"
        ]
        for t in HEALTH_TYPES
    }


async def test_an_export_is_imported_per_type_with_daily_totals_on_local_days(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await berlin_user(app, client)
    body = ok(await upload(client, user, TWO_DAYS))
    assert (body["imported"], body["unchanged"], body["skipped"]) == (13, 0, 0)
    assert {t: c["imported"] for t, c in body["types"].items()} == {t: len(v) for t, v in EXPECTED.items()}
    assert body["types"]["sleep_hours"]["records"] == 6
    assert body["types"]["steps"]["records"] == 4
    assert (body["first_day"], body["last_day"]) == ("2026-03-08", "2026-03-10")
    assert await stored(client, user) == EXPECTED
    sources = {r["source"] for t in HEALTH_TYPES for r in await history(client, user, t)}
    assert sources == {"device_sync"}


async def test_importing_the_same_export_again_changes_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await berlin_user(app, client)
    ok(await upload(client, user, TWO_DAYS))
    rows = {t: await history(client, user, t) for t in HEALTH_TYPES}
    xp = await total_xp(client, user)
    body = ok(await upload(client, user, TWO_DAYS))
    assert (body["imported"], body["unchanged"], body["skipped"]) == (0, 13, 0)
    assert {t: await history(client, user, t) for t in HEALTH_TYPES} == rows
    assert await total_xp(client, user) == xp


async def test_a_sync_of_the_same_day_updates_the_imported_daily_total(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await berlin_user(app, client)
    ok(await upload(client, user, TWO_DAYS))
    sync_body = {
        "steps": {"value": 1300, "measured_at": "2026-03-09T21:00:00+01:00"},
        "synced_at": "2026-03-10T12:00:00Z",
    }
    ok(await client.post("/api/v1/health-sync", headers=user.headers, json=sync_body), 201)
    assert (await stored(client, user))["steps"] == [(utc(3, 8, 23), 1300), (utc(3, 7, 23), 800)]


async def test_steps_counted_by_both_phone_and_watch_are_not_added_up(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    export = export_xml(
        record("StepCount", 3000, "2026-03-09 08:00:00 +0000", "2026-03-09 09:00:00 +0000", unit="count"),
        record("StepCount", 2000, "2026-03-09 17:00:00 +0000", "2026-03-09 18:00:00 +0000", unit="count"),
        record(
            "StepCount", 4800, "2026-03-09 08:00:00 +0000", "2026-03-09 18:00:00 +0000", unit="count", source="Watch"
        ),
    )
    ok(await upload(client, user, export))
    assert [r["value"] for r in await history(client, user, "steps")] == [5000]


async def test_implausible_and_unreadable_records_are_skipped_and_counted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    export = export_xml(
        record("RestingHeartRate", 400, "2026-03-09 08:00:00 +0000", unit="count/min"),
        record("RestingHeartRate", 55, "2026-03-09 09:00:00 +0000", unit="count/min"),
        record("BodyMass", 80, "2026-03-09 07:00:00 +0000", unit="furlong"),
        record("BodyMass", 80, "yesterday morning", unit="kg"),
        record("BodyFatPercentage", 0.95, "2026-03-09 07:00:00 +0000", unit="%"),
        record("HeartRateVariabilitySDNN", "abc", "2026-03-09 07:00:00 +0000", unit="ms"),
        record("HeartRateVariabilitySDNN", 50, "2026-03-11 07:00:00 +0000", unit="ms"),  # in the future
        record("HeartRateVariabilitySDNN", 50, "1999-03-11 07:00:00 +0000", unit="ms"),
        record("StepCount", -20, "2026-03-09 07:00:00 +0000", unit="count"),
        record("StepCount", 120, "2026-03-09 07:00:00 +0000", unit="count"),
        record("StepCount", 80, "2026-03-09 09:00:00 +0000", "2026-03-09 08:00:00 +0000", unit="count"),
        # 24.5 hours asleep in one day is not plausible.
        record(
            "SleepAnalysis",
            "HKCategoryValueSleepAnalysisAsleepCore",
            "2026-03-07 22:00:00 +0000",
            "2026-03-08 10:00:00 +0000",
        ),
        record(
            "SleepAnalysis",
            "HKCategoryValueSleepAnalysisAsleepCore",
            "2026-03-08 10:00:00 +0000",
            "2026-03-08 22:30:00 +0000",
        ),
        '  <Record type="HKQuantityTypeIdentifierStepCount" unit="count" value="5"/>\n',
    )
    body = ok(await upload(client, user, export))
    counts = {t: (c["imported"], c["skipped"]) for t, c in body["types"].items()}
    assert counts == {
        "health_resting_hr": (1, 1),
        "health_hrv": (0, 3),
        "sleep_hours": (0, 1),
        "steps": (1, 3),
        "weight_kg": (0, 2),
        "body_fat_pct": (0, 1),
    }
    assert (body["imported"], body["skipped"]) == (2, 11)
    assert [r["value"] for r in await history(client, user, "steps")] == [120]
    assert await history(client, user, "weight_kg") == []


async def test_a_zipped_export_is_imported(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await berlin_user(app, client)
    archive = zipped(
        {
            "apple_health_export/export_cda.xml": b"<ClinicalDocument>not this one</ClinicalDocument>",
            "apple_health_export/export.xml": TWO_DAYS,
            "apple_health_export/workout-routes/route_1.gpx": b"<gpx/>",
        }
    )
    body = ok(await upload(client, user, archive, "export.zip", "application/zip"))
    assert body["imported"] == 13
    assert await stored(client, user) == EXPECTED


async def test_an_archive_without_export_xml_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    archive = zipped({"apple_health_export/export_cda.xml": b"<ClinicalDocument/>"})
    body = assert_problem(await upload(client, user, archive, "export.zip"), 422, "INVALID_HEALTH_EXPORT")
    assert "export.xml" in body["detail"]


def billion_laughs() -> bytes:
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE HealthData [", '  <!ENTITY lol0 "lol">']
    lines += [f'  <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    lines += ["]>", '<HealthData locale="en"><ExportDate value="&lol9;"/></HealthData>']
    return "\n".join(lines).encode()


EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<HealthData><Record type="HKQuantityTypeIdentifierStepCount" unit="count" value="&xxe;" '
    b'startDate="2026-03-09 07:00:00 +0000" endDate="2026-03-09 07:00:00 +0000"/></HealthData>'
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>\n'
    b"<HealthData/>"
)
BENIGN_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [<!ENTITY n "120">]>\n'
    b'<HealthData><Record type="HKQuantityTypeIdentifierStepCount" unit="count" value="&n;" '
    b'startDate="2026-03-09 07:00:00 +0000" endDate="2026-03-09 07:00:00 +0000"/></HealthData>'
)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (billion_laughs(), "export.xml"),
        (EXTERNAL_ENTITY, "export.xml"),
        (PARAMETER_ENTITY, "export.xml"),
        (BENIGN_ENTITY, "export.xml"),
        (zipped({"apple_health_export/export.xml": billion_laughs()}), "export.zip"),
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity", "any-entity", "bomb-in-zip"],
)
async def test_files_declaring_xml_entities_are_refused(
    app: FastAPI, client: httpx.AsyncClient, data: bytes, filename: str
) -> None:
    user = await anonymous_user(app)
    assert_problem(await upload(client, user, data, filename), 422, "XML_ENTITIES_NOT_ALLOWED")
    assert await total_rows(client, user) == 0
    assert await events(client, user, "health_synced") == []


def corrupted_zip() -> bytes:
    data = bytearray(zipped({"apple_health_export/export.xml": TWO_DAYS}))
    data[60:260] = bytes(200)  # the compressed stream of the member
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\xff\xfe garbage \x13\x37",
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
        b'{"records": []}',
        b"<html><body>hello</body></html>",
        TWO_DAYS[: len(TWO_DAYS) // 2],
        b'<HealthData locale="en"><Record type="HKQuantityTypeIdentifierStepCount" value="1"></HealthData>',
        b"PK\x03\x04 not really a zip",
        corrupted_zip(),
    ],
    ids=["empty", "binary", "pdf", "json", "html", "truncated", "mismatched-tags", "fake-zip", "corrupted-zip"],
)
async def test_garbage_is_refused_with_422(app: FastAPI, client: httpx.AsyncClient, data: bytes) -> None:
    user = await anonymous_user(app)
    assert_problem(await upload(client, user, data), 422, "INVALID_HEALTH_EXPORT")
    assert await total_rows(client, user) == 0


async def test_an_upload_without_a_file_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        "/api/v1/health-sync/import/apple-health", headers=user.headers, data={"note": "no file"}
    )
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_an_import_is_journaled_once_and_feeds_the_context(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await berlin_user(app, client)
    ok(await upload(client, user, TWO_DAYS))
    found = await events(client, user, "health_synced")
    assert len(found) == 1
    metadata = found[0]["metadata"]
    assert metadata["via"] == "apple_health_export"
    assert metadata["written"] == 13
    assert set(metadata["metric_types"]) == set(HEALTH_TYPES)
    context = ok(await client.get("/api/v1/health-sync/context", headers=user.headers))
    # Latest (recent) values: HRV 52 after 45 (up), sleep 6 h (0), resting HR 61 (0).
    assert context["recovery"]["score"] == 70
    assert [r["value"] for r in await history(client, user, "recovery_score")] == [70]


async def test_a_nights_sleep_stages_before_and_after_midnight_count_on_the_day_of_waking(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await berlin_user(app, client)
    asleep = "HKCategoryValueSleepAnalysisAsleep"
    export = export_xml(
        # Night to 9 March: stages on both sides of midnight, 1.25 + 1.25 + 5.5 h asleep.
        record("SleepAnalysis", f"{asleep}Core", "2026-03-08 22:30:00 +0100", "2026-03-08 23:45:00 +0100"),
        record("SleepAnalysis", f"{asleep}Deep", "2026-03-08 23:45:00 +0100", "2026-03-09 01:00:00 +0100"),
        record("SleepAnalysis", f"{asleep}Core", "2026-03-09 01:00:00 +0100", "2026-03-09 06:30:00 +0100"),
        # The same source also wrote one plain "asleep" record over most of that night: counted once.
        record("SleepAnalysis", asleep, "2026-03-08 23:00:00 +0100", "2026-03-09 06:00:00 +0100"),
        # An hour awake at night does not split the night: 22:00-02:00 and 03:00-07:00, 8 h on 10 March.
        record("SleepAnalysis", f"{asleep}Core", "2026-03-09 22:00:00 +0100", "2026-03-10 02:00:00 +0100"),
        record("SleepAnalysis", f"{asleep}REM", "2026-03-10 03:00:00 +0100", "2026-03-10 07:00:00 +0100"),
        # A nap in the late morning is sleep of that day too: 10 March gets 8.5 h.
        record("SleepAnalysis", f"{asleep}Core", "2026-03-10 11:00:00 +0100", "2026-03-10 11:30:00 +0100"),
    )
    body = ok(await upload(client, user, export))
    assert body["types"]["sleep_hours"]["imported"] == 2
    stored = [(instant(r["timestamp"]), r["value"]) for r in await history(client, user, "sleep_hours")]
    assert stored == [(utc(3, 9, 23), 8.5), (utc(3, 8, 23), 8.0)]


async def test_imported_weigh_ins_earn_xp_and_streak_on_the_days_they_were_measured(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await berlin_user(app, client)
    data = export_xml(
        record("BodyMass", 80.6, "2026-03-08 07:00:00 +0100", unit="kg"),
        record("BodyMass", 80.4, "2026-03-09 07:00:00 +0100", unit="kg"),
        record("BodyMass", 80.2, "2026-03-10 07:00:00 +0100", unit="kg"),
        record("BodyMass", 81.0, "2026-02-20 07:00:00 +0100", unit="kg"),  # before the back-fill window
    )
    ok(await upload(client, user, data))
    assert await weight_xp(client, user) == 30  # 8, 9 and 10 March; February is stored, not credited
    logging = ok(await client.get(f"{API}/progression/streaks/logging", headers=user.headers))
    assert (logging["current_count"], logging["last_activity_date"]) == (3, "2026-03-10")
