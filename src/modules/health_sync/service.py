"""Health sync: consent, device syncs, Apple Health imports, the connection status and the
health context with today's recovery.

Readings are stored as ordinary metrics with source `device_sync`, through the metrics interface,
which checks each value against its type's plausible range and upserts by (person, type, source,
instant): syncing the same readings again changes nothing. Point readings (resting heart rate,
HRV, weight, body fat) keep the instant they were measured. Daily totals (steps, active calories,
sleep) are stored once per local day, at the local midnight (in the person's profile time zone)
of the day they belong to: steps and calories to the day they were counted, sleep to the day the
person woke up. A later sync of the same day's total replaces it instead of adding a second row,
so sums over days are never inflated.

Reads go through the audited metrics reads (`accessed_by="health_sync"`). The recovery score and
the insights come from `recovery.py`, which also stores the day's score.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import IO
from uuid import UUID
from zoneinfo import ZoneInfo

from src.core.errors import ConfirmationRequired, PayloadTooLarge
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventType, event_journal
from src.modules.metrics import InvalidMetric, Metric, MetricSource, MetricType, StoredMeasurement, metrics
from src.modules.profile import profile_service

from .apple_health import MAX_EXPANSION, ParsedExport, parse_apple_health_export
from .consent import ConsentService
from .interface import HealthSyncInterface
from .models import (
    AppleHealthImport,
    DeletedHealthData,
    HealthConsentRequest,
    HealthConsentView,
    HealthContext,
    HealthMetricValue,
    HealthPlatform,
    HealthSyncRequest,
    HealthSyncResult,
    HealthSyncStatus,
    ImportCounts,
)
from .recovery import CurrentRecovery, current_recovery, health_insights, is_recent
from .rules import ACCESSED_BY, HEALTH_TYPES, deduplicated, invalid, measurement, readings_of

CONTEXT_LABELS: dict[str, tuple[str, str]] = {
    MetricType.RESTING_HR: ("Resting Heart Rate", "bpm"),
    MetricType.HRV: ("Heart Rate Variability", "ms"),
    MetricType.SLEEP: ("Sleep Duration", "hours"),
    MetricType.STEPS: ("Steps Today", "steps"),
}
DEVICE_BACKFILL = timedelta(days=7)  # as metrics: device weigh-ins this recent count on their own day
IMPORT_BATCH = 2_000  # readings upserted (and committed) together by an Apple Health import
NO_DATA_MESSAGE = (
    "No health data yet. Connect Apple Health or Health Connect in the app to see insights and your recovery score."
)


def _day_range(values: Sequence[tuple[str, datetime, float]], zone: ZoneInfo) -> tuple[date | None, date | None]:
    days = [instant.astimezone(zone).date() for _, instant, _ in values]
    return (min(days), max(days)) if days else (None, None)


class HealthSyncService(HealthSyncInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def recovery_today(
        self,
        identity_id: UUID,
        *,
        accessed_by: str,
        latest: Mapping[str, Metric] | None = None,
        zone: ZoneInfo | None = None,
    ) -> CurrentRecovery:
        return await current_recovery(
            self.uow, identity_id, accessed_by=accessed_by, latest=latest, zone=zone, store=False
        )

    # Consent and deletion -------------------------------------------------------------------

    async def consent(self, identity_id: UUID) -> HealthConsentView:
        return HealthConsentView.of(await ConsentService(self.uow).health_consent(identity_id))

    async def set_consent(self, identity_id: UUID, request: HealthConsentRequest) -> HealthConsentView:
        consent = await ConsentService(self.uow).set_health_consent(
            identity_id, granted=request.granted, platform=request.platform, policy_version=request.policy_version
        )
        return HealthConsentView.of(consent)

    async def delete_device_data(self, identity_id: UUID, *, confirm: bool) -> DeletedHealthData:
        if not confirm:
            raise ConfirmationRequired("Add ?confirm=true to delete all health data synced from your devices")
        store = metrics(self.uow)
        deleted = await store.delete_by_source(identity_id, MetricSource.DEVICE_SYNC)
        deleted += await store.delete_by_source(
            identity_id, MetricSource.CALCULATED, metric_types=(MetricType.RECOVERY_SCORE,)
        )
        await event_journal(self.uow).record(identity_id, EventType.HEALTH_DATA_DELETED, metadata={"deleted": deleted})
        return DeletedHealthData(deleted=deleted)

    # Sync -----------------------------------------------------------------------------------

    async def sync(self, identity_id: UUID, body: HealthSyncRequest) -> HealthSyncResult:
        uow = self.uow
        readings = readings_of(body, uow.now())
        store = metrics(uow)
        await ConsentService(uow).require_health_consent(identity_id)
        zone = await profile_service(uow).zone_of(identity_id)
        rows = deduplicated(readings, zone)
        written = unchanged = 0
        for reading, instant in rows:
            try:
                stored = await store.store(
                    identity_id,
                    [measurement(reading.metric_type, reading.value, instant, zone)],
                    source=MetricSource.DEVICE_SYNC,
                )
            except InvalidMetric as exc:
                # The request's transaction is rolled back: rows written before this one are undone.
                raise invalid(reading.loc, exc.detail, "value_error.implausible") from None
            if stored[0].changed:
                written += 1
            else:
                unchanged += 1
        types = [t for t in HEALTH_TYPES if any(r.metric_type == t for r, _ in rows)]
        await event_journal(uow).record(
            identity_id,
            EventType.HEALTH_SYNCED,
            metadata={
                "via": "sync",
                "readings": len(rows),
                "written": written,
                "unchanged": unchanged,
                "metric_types": types,
            },
        )
        await current_recovery(uow, identity_id, accessed_by=ACCESSED_BY, zone=zone)
        return HealthSyncResult(
            synced=types,
            timestamp=body.synced_at.astimezone(UTC),
            readings=len(rows),
            written=written,
            unchanged=unchanged,
        )

    # Status and context ---------------------------------------------------------------------

    async def status(self, identity_id: UUID) -> HealthSyncStatus:
        uow = self.uow
        latest = await metrics(uow).latest_values(identity_id, HEALTH_TYPES, accessed_by=ACCESSED_BY)
        now = uow.now()
        device = [latest[t] for t in HEALTH_TYPES if t in latest and latest[t].source == MetricSource.DEVICE_SYNC]
        synced = [m.metric_type for m in device if is_recent(m, now)]
        last_synced = await event_journal(uow).last_occurred_at(identity_id, EventType.HEALTH_SYNCED)
        return HealthSyncStatus(
            is_connected=bool(synced),
            last_sync=max((t for t in (last_synced, *(m.updated_at for m in device)) if t is not None), default=None),
            last_reading_at=max((m.timestamp for m in device), default=None),
            synced_metrics=synced,
            stale_metrics=[m.metric_type for m in device if not is_recent(m, now)],
            consent=await self.consent(identity_id),
        )

    async def context(self, identity_id: UUID) -> HealthContext:
        uow = self.uow
        latest = await metrics(uow).latest_values(identity_id, tuple(CONTEXT_LABELS), accessed_by=ACCESSED_BY)
        zone = await profile_service(uow).zone_of(identity_id)
        now = uow.now()
        today = now.astimezone(zone).date()
        shown: dict[str, HealthMetricValue] = {}
        for metric_type, (label, unit) in CONTEXT_LABELS.items():
            metric = latest.get(metric_type)
            if metric is None:
                continue
            if metric_type == MetricType.STEPS and metric.timestamp.astimezone(zone).date() != today:
                continue  # "Steps Today" means today, in the person's time zone
            shown[metric_type] = HealthMetricValue(
                label=label,
                value=metric.value,
                unit=unit,
                recorded_at=metric.timestamp,
                source=metric.source,
                is_recent=is_recent(metric, now),
            )
        if not shown:
            return HealthContext(has_data=False, message=NO_DATA_MESSAGE)
        current = await current_recovery(uow, identity_id, accessed_by=ACCESSED_BY, latest=latest, zone=zone)
        insights = health_insights(hrv=current.hrv_ms, sleep_hours=current.sleep_hours, resting_hr=current.resting_hr)
        return HealthContext(has_data=True, metrics=shown, insights=insights, recovery=current.recovery)

    # Apple Health export --------------------------------------------------------------------

    async def import_apple_health(self, identity_id: UUID, upload: IO[bytes], size: int | None) -> AppleHealthImport:
        """Import an export the multipart parser has already spooled to a temporary file (the
        request body is bounded by the upload envelope); it is parsed in a worker thread while
        no transaction (nor SQLite's write lock) is held."""
        uow = self.uow
        limit = uow.settings.max_upload_bytes
        if size is not None and size > limit:
            raise PayloadTooLarge(f"The export is larger than {limit // 1_048_576} MB; export a shorter period.")
        consent = ConsentService(uow)
        await consent.require_health_consent(identity_id, record=False)  # refuse before the slow part
        zone = await profile_service(uow).zone_of(identity_id)
        now = uow.now()
        await uow.release()
        parsed = await asyncio.to_thread(
            parse_apple_health_export, upload, zone=zone, now=now, max_bytes=limit * MAX_EXPANSION
        )
        # The writes run in one transaction of their own, after the consent is checked again.
        await consent.require_health_consent(identity_id, platform=HealthPlatform.APPLE_HEALTH)
        counts = await self._store_export(identity_id, parsed, zone)
        present = {t: c for t, c in counts.items() if c.records or c.imported or c.unchanged or c.skipped}
        imported = sum(c.imported for c in counts.values())
        unchanged = sum(c.unchanged for c in counts.values())
        skipped = sum(c.skipped for c in counts.values())
        await event_journal(uow).record(
            identity_id,
            EventType.HEALTH_SYNCED,
            metadata={
                "via": "apple_health_export",
                "readings": len(parsed.values),
                "written": imported,
                "unchanged": unchanged,
                "skipped": skipped,
                "metric_types": list(present),
            },
        )
        await current_recovery(uow, identity_id, accessed_by=ACCESSED_BY, zone=zone)
        first_day, last_day = _day_range(parsed.values, zone)
        return AppleHealthImport(
            imported=imported,
            unchanged=unchanged,
            skipped=skipped,
            types=present,
            first_day=first_day,
            last_day=last_day,
        )

    async def _store_export(self, identity_id: UUID, parsed: ParsedExport, zone: ZoneInfo) -> dict[str, ImportCounts]:
        """Upsert the export in batches of `IMPORT_BATCH` readings, each committed on its own (an
        import stopped half-way is finished by importing the file again: nothing is doubled)."""
        counts = {t: ImportCounts(records=parsed.records[t], skipped=parsed.skipped[t]) for t in HEALTH_TYPES}
        store = metrics(self.uow)
        values = parsed.values
        # Changed weigh-ins to credit: the latest of each local day (progression credits a day once).
        weigh_ins: dict[date, tuple[datetime, StoredMeasurement]] = {}
        for start in range(0, len(values), IMPORT_BATCH):
            batch = values[start : start + IMPORT_BATCH]
            stored = await store.store_import(
                identity_id,
                [measurement(metric_type, value, instant, zone) for metric_type, instant, value in batch],
                source=MetricSource.DEVICE_SYNC,
            )
            for (metric_type, instant, _), outcome in zip(batch, stored, strict=True):
                counted = counts[metric_type]
                if outcome is None:
                    counted.skipped += 1
                elif outcome.changed:
                    counted.imported += 1
                    day = instant.astimezone(zone).date()
                    if metric_type == MetricType.WEIGHT and (day not in weigh_ins or instant > weigh_ins[day][0]):
                        weigh_ins[day] = (instant, outcome)
                else:
                    counted.unchanged += 1
            if start + IMPORT_BATCH < len(values):
                await self.uow.release()
        # Days within the back-fill window are credited on their own day, older ones all count as
        # one weigh-in now: at most 8 credits, however long the history.
        recent = self.uow.now() - DEVICE_BACKFILL
        older = [(instant, weigh_in) for instant, weigh_in in weigh_ins.values() if instant < recent]
        credits = [(instant, weigh_in) for instant, weigh_in in weigh_ins.values() if instant >= recent]
        if older:
            credits.append(max(older, key=lambda pair: pair[0]))
        for instant, weigh_in in sorted(credits, key=lambda pair: pair[0]):
            await store.credit_weight_log(identity_id, weigh_in, instant)
        return counts
