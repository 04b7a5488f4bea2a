from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Integer, and_, bindparam, case, cast, delete, func, or_, select, update

from src.core.contracts import DeviceDataReceived, MetricRecorded, Reward, WeightLogged
from src.core.errors import InvalidPeriod
from src.core.lean import HotWrite
from src.core.persistence import rowcount, session_upsert, upsert_insert
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal
from src.modules.profile import OnboardingStep, profile_service

from .errors import (
    FilterRequired,
    InvalidMetric,
    MeasurementConflict,
    MetricNotFound,
)
from .fhir import VITALS, diagnostic_report, lab_observation, vital_observation
from .fhir import bundle as fhir_bundle
from .interface import Measurement, MetricsInterface, StoredMeasurement
from .lab_units import normalise_lab_value
from .models import (
    OUT_OF_RANGE,
    BiomarkerFlag,
    BiomarkerTestGroup,
    Metric,
    MetricAggregate,
    MetricSource,
    MetricSummary,
    MetricTrend,
    RecordedMetric,
    RecordMetricRequest,
    UpdateMetricRequest,
)
from .orm import MetricRow
from .registry import (
    BIOMARKER_PREFIX,
    DERIVED,
    IMPERIAL,
    MetricTypeError,
    canonical,
    default_unit,
    display,
    is_weight,
    stored_type,
)

M = MetricRow
DAY = 86400.0
# Device weigh-ins measured up to this long ago count on the day they were measured.
EXPORT_PAGE = 1_000  # measurements read at once by the streamed export
DEVICE_BACKFILL = timedelta(days=7)
STABLE_PERCENT = 1.0
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def _insert_new(dialect: str) -> Any:
    table = M.__table__
    statement = upsert_insert(dialect, table).values({c.name: bindparam(c.name, type_=c.type) for c in table.c})
    return statement.on_conflict_do_nothing().returning(*table.c)


# A new measurement, unless one of the same person, type, source and instant is stored.
_INSERT_NEW = HotWrite(_insert_new)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def to_model(row: Any) -> Metric:
    return Metric.model_validate(row, from_attributes=True)


@dataclass(frozen=True)
class _Fit:
    n: int
    slope_per_day: float
    intercept: float
    first_x: float
    last_x: float
    first_value: float
    last_value: float


class MetricsService(MetricsInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        # Rows this service inserted, as the insert returned them (answered without reading back).
        self._inserted: dict[uuid.UUID, Any] = {}

    # Writing --------------------------------------------------------------------------------

    async def record(self, identity_id: uuid.UUID, request: RecordMetricRequest) -> RecordedMetric:
        if request.source not in (MetricSource.USER_INPUT, MetricSource.DEVICE_SYNC):
            raise InvalidMetric("source must be user_input or device_sync")
        if stored_type(request.metric_type) in DERIVED:
            raise InvalidMetric(
                f"{request.metric_type} is computed by the server and cannot be recorded",
                extra={"metric_type": request.metric_type},
            )
        if (
            request.reference_low is not None
            and request.reference_high is not None
            and request.reference_low > request.reference_high
        ):
            raise InvalidMetric("reference_low must not be above reference_high")
        now = self.uow.now()
        timestamp = request.timestamp or now
        if timestamp > now + timedelta(minutes=5):
            raise InvalidMetric("timestamp cannot be in the future")
        if request.source == MetricSource.DEVICE_SYNC:
            # A client that says these are device values is held to the person's device-sync
            # consent (health sync's subscriber refuses it after a withdrawal), though what it sends
            # is stored as its own input.
            await self.uow.publish(DeviceDataReceived(identity_id=identity_id, occurred_at=now))
        stored = await self.store(
            identity_id,
            [
                Measurement(
                    metric_type=request.metric_type,
                    value=request.value,
                    timestamp=timestamp,
                    unit=request.unit,
                    note=request.note,
                    reference_low=request.reference_low,
                    reference_high=request.reference_high,
                    flag=request.flag,
                )
            ],
            # The server says where data came from: what a person sends here is their own input
            # (device data arrives through /health-sync, where consent and days are checked).
            source=MetricSource.USER_INPUT,
        )
        result = stored[0]
        row = self._inserted.get(result.id) or await self.session.get(M, result.id)
        assert row is not None  # noqa: S101 - just written
        model = to_model(row)
        reward = result.reward
        return RecordedMetric(
            **model.model_dump(),
            xp_earned=reward.xp_earned if reward else 0,
            base_xp=reward.base_xp if reward else 0,
            streak_bonus_xp=reward.streak_bonus_xp if reward else 0,
            achievement_xp=reward.achievement_xp if reward else 0,
            credited=bool(reward and reward.credited),
            credit_reason=reward.reason if reward else None,
        )

    async def store(
        self,
        identity_id: uuid.UUID,
        measurements: Sequence[Measurement],
        *,
        source: MetricSource,
        lab_report_id: uuid.UUID | None = None,
        record_events: bool = True,
    ) -> list[StoredMeasurement]:
        """Validate and upsert measurements (same person, type, source and instant = same row).
        Weight logs are credited through progression; events go to the journal."""
        prepared: list[tuple[str, float, Measurement]] = []
        for measurement in measurements:
            try:
                metric_type, value, _info = canonical(*_lab_series(measurement))
            except MetricTypeError as exc:
                raise InvalidMetric(str(exc), extra={"metric_type": measurement.metric_type}) from exc
            prepared.append((metric_type, value, _checked(_in_lab_unit(metric_type, measurement))))
        out: list[StoredMeasurement] = []
        journal = event_journal(self.uow)
        for metric_type, value, measurement in prepared:
            row_id, changed = await self._upsert(identity_id, metric_type, value, measurement, source, lab_report_id)
            reward: Reward | None = None
            if is_weight(metric_type) and changed:
                # Credited on the day it is logged (server time), never on a timestamp the person
                # typed: back-dated logs must not build a streak. Device readings (a sync or an
                # Apple Health import) count on the day they were measured, within the back-fill window.
                credited_at = self.uow.now()
                if source == MetricSource.DEVICE_SYNC and credited_at - DEVICE_BACKFILL <= measurement.timestamp:
                    credited_at = min(measurement.timestamp, credited_at)
                outcome = await self.uow.publish(
                    WeightLogged(identity_id=identity_id, occurred_at=credited_at, metric_id=row_id, value_kg=value)
                )
                reward = outcome.first(Reward)
                await profile_service(self.uow).mark_onboarding(identity_id, OnboardingStep.FIRST_WEIGHT_LOGGED)
                if record_events:
                    await journal.record(
                        identity_id,
                        EventType.WEIGHT_LOGGED,
                        related_id=row_id,
                        related_type="metric",
                        occurred_at=min(measurement.timestamp, self.uow.now()),
                        metadata={"value": value, "unit": "kg", "xp_earned": reward.xp_earned if reward else 0},
                    )
            elif changed and record_events and source == MetricSource.USER_INPUT:
                event = (
                    EventType.BIOMARKER_UPLOADED
                    if metric_type.startswith(BIOMARKER_PREFIX)
                    else EventType.METRIC_RECORDED
                )
                await journal.record(
                    identity_id,
                    event,
                    related_id=row_id,
                    related_type="metric",
                    metadata={"metric_type": metric_type},
                )
            if changed:
                await self.uow.publish(
                    MetricRecorded(
                        identity_id=identity_id,
                        occurred_at=min(measurement.timestamp, self.uow.now()),
                        metric_id=row_id,
                        metric_type=metric_type,
                    )
                )
            out.append(
                StoredMeasurement(id=row_id, metric_type=metric_type, value=value, changed=changed, reward=reward)
            )
        return out

    async def credit_weight_log(
        self, identity_id: uuid.UUID, stored: StoredMeasurement, measured_at: datetime
    ) -> Reward | None:
        """Credit one device weigh-in of an import, like `store` does: on the day it was measured
        within the back-fill window, else now; and mark the onboarding step."""
        credited_at = self.uow.now()
        if credited_at - DEVICE_BACKFILL <= measured_at:
            credited_at = min(measured_at, credited_at)
        outcome = await self.uow.publish(
            WeightLogged(identity_id=identity_id, occurred_at=credited_at, metric_id=stored.id, value_kg=stored.value)
        )
        await profile_service(self.uow).mark_onboarding(identity_id, OnboardingStep.FIRST_WEIGHT_LOGGED)
        return outcome.first(Reward)

    async def store_import(
        self, identity_id: uuid.UUID, measurements: Sequence[Measurement], *, source: MetricSource
    ) -> list[StoredMeasurement | None]:
        """`store` for a batch of an import: the same upsert by (person, type, source, instant or
        day) in a few statements for the whole batch (one select, one insert, one update), no
        journal event per row, and a measurement that fails validation answers None instead of
        refusing the batch. Nothing is credited: the importer credits the import once
        (`credit_weight_log`)."""
        out: list[StoredMeasurement | None] = [None] * len(measurements)
        prepared: list[tuple[int, str, float, Measurement]] = []
        for index, measurement in enumerate(measurements):
            try:
                metric_type, value, _info = canonical(measurement.metric_type, measurement.value)
                prepared.append((index, metric_type, value, _checked(measurement)))
            except (MetricTypeError, InvalidMetric):
                continue
        if not prepared:
            return out
        now = self.uow.now()
        columns = [M.id, M.metric_type, M.timestamp, M.day, M.value, M.value_text, M.unit, M.note, M.reference_low]
        columns += [M.reference_high, M.flag]
        # Lookups by range, each along a unique index: point readings by instant, daily totals by
        # day (or by instant, for rows stored before rows had days). A range costs the same
        # whatever plan the database picks (a list of instants compared row by row against every
        # row of the person does not); the rows in between are matched exactly below. Cheapest
        # for a batch in time order, as imports are.
        points = {m.timestamp for _, _, _, m in prepared if m.day is None}
        days = {m.day for _, _, _, m in prepared if m.day is not None}
        daily_instants = {m.timestamp for _, _, _, m in prepared if m.day is not None}
        owned = (
            M.identity_id == identity_id,
            M.source == str(source),
            M.metric_type.in_({metric_type for _, metric_type, _, _ in prepared}),
        )
        found_rows: list[Any] = []
        for condition in (
            M.timestamp.between(min(points), max(points)) if points else None,
            M.day.between(min(days), max(days)) if days else None,
            M.timestamp.between(min(daily_instants), max(daily_instants)) if daily_instants else None,
        ):
            if condition is not None:
                found_rows.extend((await self.session.execute(select(*columns).where(*owned, condition))).all())
        by_day: dict[tuple[str, Any], Any] = {}
        by_instant: dict[tuple[str, datetime], Any] = {}
        for row in found_rows:
            if row.day is not None:
                by_day[(row.metric_type, row.day)] = row
            by_instant[(row.metric_type, row.timestamp)] = row
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        pending: dict[uuid.UUID, tuple[int, str, float, Measurement]] = {}
        for item in prepared:
            index, metric_type, value, measurement = item
            fields: dict[str, Any] = {
                "value": value,
                "value_text": measurement.value_text,
                "unit": default_unit(metric_type) or measurement.unit,
                "note": measurement.note,
                "reference_low": measurement.reference_low,
                "reference_high": measurement.reference_high,
                "flag": str(measurement.flag) if measurement.flag else None,
            }
            if measurement.day is None:
                found = by_instant.get((metric_type, measurement.timestamp))
            else:
                found = by_day.get((metric_type, measurement.day))
                if found is None:
                    candidate = by_instant.get((metric_type, measurement.timestamp))
                    found = candidate if candidate is not None and candidate.day is None else None
                fields["timestamp"], fields["day"] = measurement.timestamp, measurement.day
            if found is not None:
                changed = any(getattr(found, k) != v for k, v in fields.items())
                if changed:
                    updates.append({"id": found.id, **fields, "updated_at": now})
                out[index] = StoredMeasurement(id=found.id, metric_type=metric_type, value=value, changed=changed)
                continue
            row_id = uuid.uuid4()
            inserts.append(
                {
                    "id": row_id,
                    "identity_id": identity_id,
                    "metric_type": metric_type,
                    "source": str(source),
                    "timestamp": measurement.timestamp,
                    "day": measurement.day,
                    "lab_report_id": None,
                    "created_at": now,
                    "updated_at": now,
                    **fields,
                }
            )
            pending[row_id] = item
        if updates:
            await self.session.execute(update(M), updates)
        if inserts:
            insert = session_upsert(self.session, M)
            result = await self.session.execute(insert.on_conflict_do_nothing().returning(M.id), inserts)
            for inserted in result.scalars():
                index, metric_type, value, _ = pending.pop(inserted)
                out[index] = StoredMeasurement(id=inserted, metric_type=metric_type, value=value, changed=True)
            # Rows another request stored meanwhile: upserted one by one, like `store` does.
            for index, metric_type, value, measurement in pending.values():
                try:
                    row_id, changed = await self._upsert(identity_id, metric_type, value, measurement, source, None)
                except MeasurementConflict:
                    continue
                out[index] = StoredMeasurement(id=row_id, metric_type=metric_type, value=value, changed=changed)
        return out

    async def _upsert(
        self,
        identity_id: uuid.UUID,
        metric_type: str,
        value: float,
        measurement: Measurement,
        source: MetricSource,
        lab_report_id: uuid.UUID | None,
        *,
        retry: bool = True,
    ) -> tuple[uuid.UUID, bool]:
        now = self.uow.now()
        if measurement.day is None and retry:
            # Most measurements are new: inserted in one statement, which also answers whether one
            # was stored at that instant already (then it is updated like any re-sync, below).
            row_id = uuid.uuid4()
            inserted = await _INSERT_NEW.returning(
                self.session,
                **{
                    "id": row_id,
                    "identity_id": identity_id,
                    "metric_type": metric_type,
                    "value": value,
                    "value_text": measurement.value_text,
                    "timestamp": measurement.timestamp,
                    "day": None,
                    "source": str(source),
                    "note": measurement.note,
                    "unit": default_unit(metric_type) or measurement.unit,
                    "reference_low": measurement.reference_low,
                    "reference_high": measurement.reference_high,
                    "flag": str(measurement.flag) if measurement.flag else None,
                    "original_value": measurement.original_value,
                    "original_unit": measurement.original_unit,
                    "lab_report_id": lab_report_id,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if inserted:
                self._inserted[row_id] = inserted[0]
                return row_id, True
        key = and_(
            M.identity_id == identity_id,
            M.metric_type == metric_type,
            M.source == str(source),
            M.timestamp == measurement.timestamp
            if measurement.day is None
            # A daily total: that day's row, or one stored at this instant before rows had days.
            else or_(M.day == measurement.day, and_(M.day.is_(None), M.timestamp == measurement.timestamp)),
        )
        existing = (await self.session.execute(select(M).where(key).with_for_update())).scalar_one_or_none()
        fields: dict[str, Any] = {
            "value": value,
            "value_text": measurement.value_text,
            # A known type is always stored in its own unit (imperial input was converted to it).
            "unit": default_unit(metric_type) or measurement.unit,
            "note": measurement.note,
            "reference_low": measurement.reference_low,
            "reference_high": measurement.reference_high,
            "flag": str(measurement.flag) if measurement.flag else None,
            "original_value": measurement.original_value,
            "original_unit": measurement.original_unit,
        }
        if measurement.day is not None:
            fields["timestamp"] = measurement.timestamp  # the day's midnight in the current time zone
            fields["day"] = measurement.day
        if lab_report_id is not None:
            fields["lab_report_id"] = lab_report_id
        if existing is not None:
            changed = any(getattr(existing, k) != v for k, v in fields.items())
            if changed:
                for k, v in fields.items():
                    setattr(existing, k, v)
                existing.updated_at = now
                await self.session.flush()
            return existing.id, changed
        row_id = uuid.uuid4()
        values = {
            "id": row_id,
            "identity_id": identity_id,
            "metric_type": metric_type,
            "source": str(source),
            "timestamp": measurement.timestamp,
            "day": measurement.day,
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        insert = session_upsert(self.session, M)
        result = await self.session.execute(insert.values(**values).on_conflict_do_nothing())
        if rowcount(result) == 1:
            return row_id, True
        if not retry:
            # The clash is with another row than the one looked for (a daily total whose midnight
            # is another day's midnight in an earlier time zone): refused rather than overwritten.
            raise MeasurementConflict(
                "This reading clashes with another stored value of the same type", extra={"metric_type": metric_type}
            )
        # A concurrent request stored the same measurement first: update it like any re-sync.
        return await self._upsert(identity_id, metric_type, value, measurement, source, lab_report_id, retry=False)

    async def update(self, identity_id: uuid.UUID, metric_id: uuid.UUID, request: UpdateMetricRequest) -> Metric:
        row = await self._owned(identity_id, metric_id, lock=True)
        sent = set(request.model_fields_set)
        known_unit = default_unit(row.metric_type)
        if "value" in sent:
            if request.value is None:
                raise InvalidMetric("value cannot be cleared")
            try:
                _, row.value, _ = canonical(
                    row.metric_type, request.value, request.unit if "unit" in sent and known_unit else None
                )
            except MetricTypeError as exc:
                raise InvalidMetric(str(exc)) from exc
            row.value_text = None
            if known_unit is not None:
                sent = sent - {"unit"}  # the value was converted from it; the stored unit stays
        if "unit" in sent and known_unit is not None and request.unit != known_unit:
            # A known type is always stored in its own unit; relabelling would misstate the value.
            raise InvalidMetric(f"{row.metric_type} is stored in {known_unit}; its unit cannot be changed")
        for name in ("unit", "reference_low", "reference_high", "note"):
            if name in sent:
                setattr(row, name, getattr(request, name))
        if "flag" in sent:
            row.flag = str(request.flag) if request.flag else None
        if row.reference_low is not None and row.reference_high is not None and row.reference_low > row.reference_high:
            raise InvalidMetric("reference_low must not be above reference_high")
        row.updated_at = self.uow.now()
        await self.session.flush()
        return to_model(row)

    async def delete(self, identity_id: uuid.UUID, metric_id: uuid.UUID) -> None:
        row = await self._owned(identity_id, metric_id, lock=True)
        await self.session.delete(row)
        await self.session.flush()

    async def bulk_delete(
        self, identity_id: uuid.UUID, *, metric_type: str | None, before: datetime | None, confirm: bool
    ) -> int:
        if metric_type is None and before is None and not confirm:
            raise FilterRequired("Give metric_type and/or before, or confirm=true to delete all your metrics")
        query = delete(M).where(M.identity_id == identity_id)
        if metric_type is not None:
            query = query.where(M.metric_type == stored_type(metric_type))
        if before is not None:
            query = query.where(M.timestamp < before)
        result = await self.session.execute(query)
        return rowcount(result)

    async def move_lab_report(
        self, identity_id: uuid.UUID, lab_report_id: uuid.UUID, *, timestamp: datetime, day: date
    ) -> int:
        rows = list(
            (
                await self.session.execute(
                    select(M)
                    .where(M.identity_id == identity_id, M.lab_report_id == lab_report_id)
                    .order_by(M.metric_type)
                    .with_for_update()
                )
            ).scalars()
        )
        if not rows:
            return 0
        types = [row.metric_type for row in rows]
        clash = (
            await self.session.execute(
                select(M.metric_type)
                .where(
                    M.identity_id == identity_id,
                    M.metric_type.in_(types),
                    M.source.in_({row.source for row in rows}),
                    or_(M.lab_report_id.is_(None), M.lab_report_id != lab_report_id),
                    or_(M.timestamp == timestamp, M.day == day),
                )
                .limit(1)
            )
        ).scalar_one_or_none()
        if clash is not None:
            raise MeasurementConflict("You already have results of this test on that day", extra={"metric_type": clash})
        now = self.uow.now()
        for row in rows:
            row.timestamp, row.day, row.updated_at = timestamp, day, now
        await self.session.flush()
        return len(rows)

    async def lab_report_results(self, identity_id: uuid.UUID, lab_report_id: uuid.UUID) -> list[Metric]:
        rows = await self.session.execute(
            select(M).where(M.identity_id == identity_id, M.lab_report_id == lab_report_id).order_by(M.metric_type)
        )
        return [to_model(row) for row in rows.scalars()]

    async def delete_by_source(
        self, identity_id: uuid.UUID, source: MetricSource, *, metric_types: Sequence[str] | None = None
    ) -> int:
        query = delete(M).where(M.identity_id == identity_id, M.source == source.value)
        if metric_types is not None:
            query = query.where(M.metric_type.in_(metric_types))
        result = await self.session.execute(query)
        return rowcount(result)

    # Reading --------------------------------------------------------------------------------

    @staticmethod
    def shown_unit(metric_type: str, *, unit: str | None, unit_system: str | None) -> str | None:
        """The unit a read asked for (`unit=lbs`, or `unit_system=imperial`), or None for the
        stored unit; 422 when the type cannot be shown in that unit."""
        stored = stored_type(metric_type)
        if unit is not None and unit.strip():
            try:
                return display(stored, 0.0, unit)[1]
            except MetricTypeError as exc:
                raise InvalidMetric(str(exc), extra={"metric_type": metric_type, "unit": unit}) from exc
        if unit_system == "imperial":
            return IMPERIAL.get(default_unit(stored) or "")
        return None

    @staticmethod
    def in_unit(metric: Metric, unit: str | None) -> Metric:
        """A metric shown in another unit of its type (values rounded for reading)."""
        if unit is None or metric.unit == unit or default_unit(metric.metric_type) is None:
            return metric
        value, shown = display(metric.metric_type, metric.value, unit)
        low = display(metric.metric_type, metric.reference_low, unit)[0] if metric.reference_low is not None else None
        high = (
            display(metric.metric_type, metric.reference_high, unit)[0] if metric.reference_high is not None else None
        )
        return metric.model_copy(update={"value": value, "unit": shown, "reference_low": low, "reference_high": high})

    @staticmethod
    def summary_in_unit(summary: MetricSummary, unit: str | None) -> MetricSummary:
        if unit is None or default_unit(summary.metric_type) is None:
            return summary

        def shown(value: float | None) -> float | None:
            return None if value is None else display(summary.metric_type, value, unit)[0]

        return summary.model_copy(
            update={
                "latest_value": shown(summary.latest_value),
                "min_value": shown(summary.min_value),
                "max_value": shown(summary.max_value),
                "avg_value": shown(summary.avg_value),
                "unit": display(summary.metric_type, 0.0, unit)[1],
            }
        )

    @staticmethod
    def trend_in_unit(metric_type: str, trend: MetricTrend | None, unit: str | None) -> MetricTrend | None:
        stored = stored_type(metric_type)
        if trend is None or unit is None or default_unit(stored) is None:
            return trend

        def shown(value: float) -> float:
            return display(stored, value, unit)[0]

        # Differences scale without the offset (°C → °F): the change between two shown values.
        def change(value: float) -> float:
            return round(display(stored, value, unit)[0] - display(stored, 0.0, unit)[0], 4)

        return trend.model_copy(
            update={
                "change_absolute": round(change(trend.change_absolute), 2),
                "slope_per_day": round(change(trend.slope_per_day), 4),
                "start_value": shown(trend.start_value),
                "end_value": shown(trend.end_value),
                "fitted_start_value": shown(trend.fitted_start_value),
                "fitted_end_value": shown(trend.fitted_end_value),
                "first_value": shown(trend.first_value),
                "last_value": shown(trend.last_value),
            }
        )

    async def _owned(self, identity_id: uuid.UUID, metric_id: uuid.UUID, *, lock: bool = False) -> MetricRow:
        query = select(M).where(M.id == metric_id, M.identity_id == identity_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            raise MetricNotFound("Metric not found")
        return row

    async def get(self, identity_id: uuid.UUID, metric_id: uuid.UUID) -> Metric:
        return to_model(await self._owned(identity_id, metric_id))

    async def latest(self, identity_id: uuid.UUID, metric_type: str) -> Metric | None:
        row = (
            await self.session.execute(
                select(M)
                .where(M.identity_id == identity_id, M.metric_type == stored_type(metric_type))
                .order_by(M.timestamp.desc(), M.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        return to_model(row) if row else None

    async def history(
        self,
        identity_id: uuid.UUID,
        *,
        metric_type: str,
        start_time: datetime | None,
        end_time: datetime | None,
        limit: int,
        offset: int,
    ) -> list[Metric]:
        _check_period(start_time, end_time)
        query = select(M).where(M.identity_id == identity_id, M.metric_type == stored_type(metric_type))
        if start_time is not None:
            query = query.where(M.timestamp >= start_time)
        if end_time is not None:
            query = query.where(M.timestamp <= end_time)
        query = query.order_by(M.timestamp.desc(), M.id).limit(limit).offset(offset)
        return [to_model(r) for r in (await self.session.execute(query)).scalars()]

    async def by_prefix(
        self,
        identity_id: uuid.UUID,
        *,
        prefix: str,
        start_time: datetime | None,
        end_time: datetime | None,
        limit: int,
    ) -> list[Metric]:
        prefix = prefix.strip().lower()
        if not prefix:
            raise InvalidMetric("prefix must not be empty")
        _check_period(start_time, end_time)
        query = select(M).where(
            M.identity_id == identity_id, M.metric_type.like(_escape_like(prefix) + "%", escape="\\")
        )
        if start_time is not None:
            query = query.where(M.timestamp >= start_time)
        if end_time is not None:
            query = query.where(M.timestamp <= end_time)
        query = query.order_by(M.timestamp.desc(), M.id).limit(limit)
        return [to_model(r) for r in (await self.session.execute(query)).scalars()]

    async def _fit(self, identity_id: uuid.UUID, metric_type: str, start: datetime, end: datetime) -> _Fit | None:
        """Least squares over the period's days, computed by the database: each day with readings
        is one point (its mean time and mean value), so many readings on one day weigh as much
        as one reading on another. x is in days from the period start, so the sums stay precise.
        None unless readings fall on at least two days."""
        x = (func.extract("epoch", M.timestamp) - start.timestamp()) / DAY
        where = (
            M.identity_id == identity_id,
            M.metric_type == metric_type,
            M.timestamp >= start,
            M.timestamp <= end,
        )
        # Days counted from the period start (x ≥ 0 there): the integer part of x is the day.
        day = func.floor(x) if self.session.get_bind().dialect.name == "postgresql" else cast(x, Integer)
        days = (
            select(func.avg(x).label("x"), func.avg(M.value).label("y"), func.count().label("n"))
            .where(*where)
            .group_by(day)
            .subquery()
        )
        dx, dy = days.c.x, days.c.y
        sums = select(
            func.count(),
            func.sum(dx),
            func.sum(dy),
            func.sum(dx * dx),
            func.sum(dx * dy),
            func.min(dx),
            func.max(dx),
            func.sum(days.c.n),
        )
        count, sx, sy, sxx, sxy, min_x, max_x, readings = (await self.session.execute(sums)).one()
        if not count or count < 2:
            return None
        first_value, last_value = (
            await self.session.execute(
                select(
                    select(M.value).where(*where).order_by(M.timestamp, M.id).limit(1).scalar_subquery(),
                    select(M.value).where(*where).order_by(M.timestamp.desc(), M.id).limit(1).scalar_subquery(),
                )
            )
        ).one()
        n = int(count)
        sx, sy, sxx, sxy = float(sx), float(sy), float(sxx), float(sxy)
        denominator = n * sxx - sx * sx
        slope = (n * sxy - sx * sy) / denominator if denominator > 1e-12 else 0.0
        intercept = (sy - slope * sx) / n
        return _Fit(int(readings), slope, intercept, float(min_x), float(max_x), float(first_value), float(last_value))

    async def trend(self, identity_id: uuid.UUID, *, metric_type: str, period_days: int) -> MetricTrend | None:
        end = self.uow.now()
        start = end - timedelta(days=period_days)
        fit = await self._fit(identity_id, stored_type(metric_type), start, end)
        if fit is None:
            return None
        start_value = fit.intercept + fit.slope_per_day * fit.first_x
        end_value = fit.intercept + fit.slope_per_day * fit.last_x
        change = end_value - start_value
        percent = change / start_value * 100 if abs(start_value) > 1e-9 else 0.0
        direction: Literal["up", "down", "stable"] = (
            "stable" if abs(percent) < STABLE_PERCENT else ("up" if change > 0 else "down")
        )
        return MetricTrend(
            direction=direction,
            change_absolute=round(change, 2),
            change_percent=round(percent, 2),
            slope_per_day=round(fit.slope_per_day, 4),
            period_days=period_days,
            start_value=round(fit.first_value, 2),
            end_value=round(fit.last_value, 2),
            fitted_start_value=round(start_value, 2),
            fitted_end_value=round(end_value, 2),
            first_value=round(fit.first_value, 2),
            last_value=round(fit.last_value, 2),
            data_points=fit.n,
        )

    async def aggregate(
        self,
        identity_id: uuid.UUID,
        *,
        metric_type: str,
        operation: str,
        start_time: datetime | None,
        end_time: datetime | None,
    ) -> MetricAggregate | None:
        _check_period(start_time, end_time)
        value_expr: Any = {
            "sum": func.sum(M.value),
            "avg": func.avg(M.value),
            "min": func.min(M.value),
            "max": func.max(M.value),
            "count": func.count(),
        }[operation]
        query = select(value_expr, func.count()).where(
            M.identity_id == identity_id, M.metric_type == stored_type(metric_type)
        )
        if start_time is not None:
            query = query.where(M.timestamp >= start_time)
        if end_time is not None:
            query = query.where(M.timestamp <= end_time)
        value, points = (await self.session.execute(query)).one()
        if not points:
            return None
        return MetricAggregate(
            metric_type=stored_type(metric_type),
            operation=operation,  # type: ignore[arg-type]
            value=round(float(value), 2),
            period_start=start_time,
            period_end=end_time,
            data_points=int(points),
        )

    async def summary(self, identity_id: uuid.UUID, *, metric_type: str) -> MetricSummary:
        metric_type = stored_type(metric_type)
        count, low, high, mean = (
            await self.session.execute(
                select(func.count(), func.min(M.value), func.max(M.value), func.avg(M.value)).where(
                    M.identity_id == identity_id, M.metric_type == metric_type
                )
            )
        ).one()
        latest = await self.latest(identity_id, metric_type) if count else None
        return MetricSummary(
            metric_type=metric_type,
            unit=default_unit(metric_type),
            latest_value=latest.value if latest else None,
            latest_timestamp=latest.timestamp if latest else None,
            min_value=round(float(low), 2) if low is not None else None,
            max_value=round(float(high), 2) if high is not None else None,
            avg_value=round(float(mean), 2) if mean is not None else None,
            total_entries=int(count),
        )

    async def biomarkers_grouped(self, identity_id: uuid.UUID, *, limit: int) -> list[BiomarkerTestGroup]:
        """Results grouped by test date in the person's time zone, newest first. The grouping and
        counts run in the database; only the rows of the dates on the page are read."""
        zone = await profile_service(self.uow).zone_of(identity_id)
        biomarker = and_(
            M.identity_id == identity_id, M.metric_type.like(_escape_like(BIOMARKER_PREFIX) + "%", escape="\\")
        )
        instants = (
            await self.session.execute(
                select(
                    M.timestamp,
                    M.day,
                    func.count(),
                    func.sum(case((M.flag == str(BiomarkerFlag.NORMAL), 1), else_=0)),
                    func.sum(case((M.flag.in_([str(f) for f in OUT_OF_RANGE]), 1), else_=0)),
                )
                .where(biomarker)
                .group_by(M.timestamp, M.day)
                .order_by(M.timestamp.desc())
            )
        ).all()
        groups: dict[Any, list[int]] = {}
        bounds: dict[Any, list[datetime]] = {}
        # A report's local test day is stored with its results: a later change of time zone
        # does not move them to another day.
        for instant, stored_day, count, normal, abnormal in instants:
            day = stored_day or instant.astimezone(zone).date()
            if day not in groups and len(groups) >= limit:
                break
            totals = groups.setdefault(day, [0, 0, 0])
            totals[0] += int(count)
            totals[1] += int(normal or 0)
            totals[2] += int(abnormal or 0)
            bounds.setdefault(day, []).append(instant)
        if not groups:
            return []
        oldest = min(min(v) for v in bounds.values())
        rows = (
            await self.session.execute(
                select(M).where(biomarker, M.timestamp >= oldest).order_by(M.timestamp.desc(), M.metric_type)
            )
        ).scalars()
        members: dict[Any, list[Metric]] = {day: [] for day in groups}
        for row in rows:
            day = row.day or row.timestamp.astimezone(zone).date()
            if day in members:
                members[day].append(to_model(row))
        return [
            BiomarkerTestGroup(
                test_date=day,
                biomarker_count=total,
                normal_count=normal,
                abnormal_count=abnormal,
                unflagged_count=total - normal - abnormal,
                biomarkers=members[day],
            )
            for day, (total, normal, abnormal) in groups.items()
        ]

    # For other modules (reads of health data are audited) ------------------------------------

    async def _audit(self, identity_id: uuid.UUID, accessed_by: str, metric_types: Iterable[str]) -> None:
        await event_journal(self.uow).record(
            identity_id,
            EventType.HEALTH_DATA_ACCESSED,
            source=EventSource.SYSTEM,
            metadata={"accessed_by": accessed_by, "metric_types": sorted(set(metric_types))},
        )

    async def latest_values(
        self, identity_id: uuid.UUID, metric_types: Sequence[str], *, accessed_by: str
    ) -> dict[str, Metric]:
        ranked = (
            select(
                M.id,
                func.row_number().over(partition_by=M.metric_type, order_by=(M.timestamp.desc(), M.id)).label("rank"),
            )
            .where(M.identity_id == identity_id, M.metric_type.in_(list(metric_types)))
            .subquery()
        )
        rows = (
            await self.session.execute(select(M).join(ranked, and_(ranked.c.id == M.id, ranked.c.rank == 1)))
        ).scalars()
        found = {row.metric_type: to_model(row) for row in rows}
        await self._audit(identity_id, accessed_by, metric_types)
        return found

    async def series_for(
        self, identity_id: uuid.UUID, metric_type: str, *, limit: int, accessed_by: str
    ) -> list[Metric]:
        values = await self.history(
            identity_id, metric_type=metric_type, start_time=None, end_time=None, limit=limit, offset=0
        )
        await self._audit(identity_id, accessed_by, [stored_type(metric_type)])
        return values[::-1]

    async def latest_biomarkers(self, identity_id: uuid.UUID, *, accessed_by: str, limit: int = 40) -> list[Metric]:
        ranked = (
            select(
                M.id,
                func.row_number().over(partition_by=M.metric_type, order_by=(M.timestamp.desc(), M.id)).label("rank"),
            )
            .where(
                M.identity_id == identity_id,
                M.metric_type.like(_escape_like(BIOMARKER_PREFIX) + "%", escape="\\"),
            )
            .subquery()
        )
        rows = (
            await self.session.execute(
                select(M)
                .join(ranked, and_(ranked.c.id == M.id, ranked.c.rank == 1))
                .order_by(M.timestamp.desc(), M.metric_type)
                .limit(limit)
            )
        ).scalars()
        found = [to_model(row) for row in rows]
        await self._audit(identity_id, accessed_by, [m.metric_type for m in found] or [BIOMARKER_PREFIX + "*"])
        return found

    async def trend_for(
        self, identity_id: uuid.UUID, metric_type: str, *, period_days: int, accessed_by: str
    ) -> MetricTrend | None:
        trend = await self.trend(identity_id, metric_type=metric_type, period_days=period_days)
        await self._audit(identity_id, accessed_by, [metric_type])
        return trend

    async def fhir_bundle(self, identity_id: uuid.UUID, *, limit: int) -> dict[str, Any]:
        """Lab results and vital signs (newest `limit` values) as a FHIR R4 Bundle of type
        collection: an Observation each, a DiagnosticReport per lab report."""
        zone = await profile_service(self.uow).zone_of(identity_id)
        biomarker = M.metric_type.like(_escape_like(BIOMARKER_PREFIX) + "%", escape="\\")
        rows = list(
            (
                await self.session.execute(
                    select(M)
                    .where(M.identity_id == identity_id, or_(biomarker, M.metric_type.in_(list(VITALS))))
                    .order_by(M.timestamp.desc(), M.id)
                    .limit(limit)
                )
            ).scalars()
        )
        resources: list[dict[str, Any]] = []
        reports: dict[uuid.UUID, list[MetricRow]] = {}
        for row in reversed(rows):
            metric = to_model(row)
            local = metric.timestamp.astimezone(zone)
            resource = lab_observation(metric, local_time=local) or vital_observation(metric, local_time=local)
            if resource is None:
                continue
            resources.append(resource)
            if row.lab_report_id is not None:
                reports.setdefault(row.lab_report_id, []).append(row)
        for report_id, members in reports.items():
            resources.append(
                diagnostic_report(
                    report_id,
                    effective=members[0].timestamp.astimezone(zone),
                    issued=min(m.created_at for m in members),
                    result_ids=[str(m.id) for m in members],
                )
            )
        return fhir_bundle(resources, bundle_id=uuid.uuid4(), timestamp=self.uow.now())

    # Personal data --------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = (
            await self.session.execute(select(M).where(M.identity_id == identity_id).order_by(M.timestamp, M.id))
        ).scalars()
        return [to_model(r).model_dump(mode="json") for r in rows]

    async def export_rows(self, identity_id: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
        """`export`, one JSON-ready measurement at a time, read from the database in pages."""
        query = select(M).where(M.identity_id == identity_id).order_by(M.timestamp, M.id)
        result = await self.session.stream_scalars(query.execution_options(yield_per=EXPORT_PAGE))
        async for row in result:
            yield to_model(row).model_dump(mode="json")


def _lab_series(measurement: Measurement) -> tuple[str, float, str | None]:
    """(type, value, unit) for `canonical`: a lab result after its conversion to its series'
    unit (see `lab_units`); other types as given."""
    metric_type = measurement.metric_type.strip().lower()
    if not metric_type.startswith(BIOMARKER_PREFIX) or not math.isfinite(measurement.value):
        return measurement.metric_type, measurement.value, measurement.unit
    lab = normalise_lab_value(
        metric_type[len(BIOMARKER_PREFIX) :],
        measurement.value,
        measurement.unit,
        measurement.reference_low,
        measurement.reference_high,
    )
    return BIOMARKER_PREFIX + lab.key, lab.value, None


def _in_lab_unit(metric_type: str, measurement: Measurement) -> Measurement:
    """A lab result in its series' canonical unit (see `lab_units`), keeping the value and unit
    as given in `original_value` / `original_unit`."""
    if not metric_type.startswith(BIOMARKER_PREFIX) or measurement.original_value is not None:
        return measurement
    lab = normalise_lab_value(
        measurement.metric_type.strip().lower()[len(BIOMARKER_PREFIX) :],
        measurement.value,
        measurement.unit,
        measurement.reference_low,
        measurement.reference_high,
    )
    return measurement.model_copy(
        update={
            "unit": lab.unit[:50] if lab.unit else None,
            "reference_low": lab.reference_low,
            "reference_high": lab.reference_high,
            "original_value": measurement.value,
            "original_unit": measurement.unit,
        }
    )


def _checked(measurement: Measurement) -> Measurement:
    """A measurement both databases can store: an instant that has a UTC value (and a local date
    in every time zone: not before 1900), finite reference bounds and text without NUL characters."""
    extra = {"metric_type": measurement.metric_type}
    try:
        timestamp = measurement.timestamp.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise InvalidMetric("timestamp is out of range", extra=extra) from exc
    if timestamp < EARLIEST:
        raise InvalidMetric("timestamp must not be before 1900-01-01", extra=extra)
    for name in ("reference_low", "reference_high"):
        bound = getattr(measurement, name)
        if bound is not None and not math.isfinite(bound):
            raise InvalidMetric(f"{name} must be a finite number", extra=extra)
    for name in ("unit", "note", "value_text"):
        text = getattr(measurement, name)
        if text is not None and "\x00" in text:
            raise InvalidMetric(f"{name} must not contain NUL characters", extra=extra)
    return measurement.model_copy(update={"timestamp": timestamp})


def _check_period(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidPeriod("end_time must not be before start_time")
