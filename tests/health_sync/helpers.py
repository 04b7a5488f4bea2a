"""Shared by the health-sync tests: routes, problem-body checks, and the reads a client makes to
see what a sync stored (metric history, journal, level)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.factories import User

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok
from tests.support import iso  # noqa: F401 - shared helpers, re-exported

API = "/api/v1"
SYNC = f"{API}/health-sync"
STATUS = f"{SYNC}/status"
CONTEXT = f"{SYNC}/context"
IMPORT = f"{SYNC}/import/apple-health"
HISTORY = f"{API}/metrics/history"
TREND = f"{API}/metrics/trend"
METRICS = f"{API}/metrics"
LEVEL = f"{API}/progression/level"
XP_HISTORY = f"{API}/progression/xp/history"
EVENTS = f"{API}/events"
PREFERENCES = f"{API}/profile/preferences"

HEALTH_TYPES = (
    "health_resting_hr",
    "health_hrv",
    "sleep_hours",
    "steps",
    "calories_burned",
    "weight_kg",
    "body_fat_pct",
)

# A full sync payload (values only; add synced_at).
FULL_VALUES: dict[str, Any] = {
    "resting_heart_rate": 58,
    "hrv": 45.5,
    "sleep_hours": 7.2,
    "steps": 8432,
    "active_calories": 512.5,
    "weight_kg": 80.4,
    "body_fat_pct": 21.5,
}


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant of 2026 in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def instant(text: str) -> datetime:
    """A timestamp from a response, as an aware datetime (responses always carry an offset)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, text
    return parsed


async def sync(client: httpx.AsyncClient, user: User, payload: dict[str, Any], status: int = 201) -> Any:
    return ok(await client.post(SYNC, headers=user.headers, json=payload), status)


async def history(client: httpx.AsyncClient, user: User, metric_type: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = ok(
        await client.get(HISTORY, headers=user.headers, params={"metric_type": metric_type, "limit": 1000})
    )
    return body


async def total_rows(client: httpx.AsyncClient, user: User, types: tuple[str, ...] = HEALTH_TYPES) -> int:
    return sum([len(await history(client, user, t)) for t in types])


async def events(client: httpx.AsyncClient, user: User, event_type: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = ok(
        await client.get(EVENTS, headers=user.headers, params={"event_type": event_type, "limit": 500})
    )
    return body


async def total_xp(client: httpx.AsyncClient, user: User) -> int:
    return int(ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"])


async def weight_xp(client: httpx.AsyncClient, user: User) -> int:
    """XP credited for weigh-ins, from the ledger."""
    ledger = ok(await client.get(XP_HISTORY, headers=user.headers, params={"limit": 100}))
    return sum(int(t["amount"]) for t in ledger if t["transaction_type"] == "weight_logged")


async def set_timezone(client: httpx.AsyncClient, user: User, zone: str) -> None:
    body = ok(await client.patch(PREFERENCES, headers=user.headers, json={"timezone": zone}))
    assert body["timezone"] == zone


async def context(client: httpx.AsyncClient, user: User) -> Any:
    return ok(await client.get(CONTEXT, headers=user.headers))


async def status_of(client: httpx.AsyncClient, user: User) -> Any:
    return ok(await client.get(STATUS, headers=user.headers))


# Apple Health exports ---------------------------------------------------------------------------

# Real exports start like this: a DOCTYPE with an internal subset of element and attribute
# declarations (no entities).
APPLE_PROLOG = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
]>
"""


def record(
    kind: str,
    value: str | float,
    start: str,
    end: str | None = None,
    *,
    unit: str | None = None,
    source: str = "Alex's iPhone",
    children: str = "",
) -> str:
    """One `<Record>` line of an export; dates as Apple writes them ("2026-03-08 07:15:00 +0100")."""
    prefix = "HKCategoryTypeIdentifier" if kind == "SleepAnalysis" else "HKQuantityTypeIdentifier"
    unit_attr = f' unit="{unit}"' if unit is not None else ""
    attrs = (
        f'type="{prefix}{kind}" sourceName="{source}" sourceVersion="17.2"{unit_attr} '
        f'creationDate="{end or start}" startDate="{start}" endDate="{end or start}" value="{value}"'
    )
    if children:
        return f"  <Record {attrs}>\n{children}  </Record>\n"
    return f"  <Record {attrs}/>\n"


def export_xml(*records: str, prolog: str = APPLE_PROLOG) -> bytes:
    body = "".join(records)
    return (
        f'{prolog}<HealthData locale="en_GB">\n <ExportDate value="2026-03-10 12:00:00 +0100"/>\n'
        f' <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01"/>\n{body}</HealthData>\n'
    ).encode()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient, user: User, data: bytes, filename: str = "export.xml", content_type: str = "text/xml"
) -> httpx.Response:
    return await client.post(IMPORT, headers=user.headers, files={"file": (filename, data, content_type)})
