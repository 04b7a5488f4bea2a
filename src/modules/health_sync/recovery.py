"""Recovery score and health insights from device data, computed in one place.

`recovery_score()` is the pure formula (start at 50; HRV 7-day trend up/down/stable +20/−15/0;
sleep ≥ 7.5 h +20, < 6 h −20; resting heart rate ≤ 60 bpm +10, > 75 bpm −10; clamped to 0–100).
`current_recovery()` reads the person's latest values through the metrics interface (an audited
read), ignores values older than `RECENT`, and stores the day's score as the `recovery_score`
metric at local midnight, so there is one score per local day and it can be trended.
`health_insights()` turns the same recent values into advice. The health-sync context and the
coach both use these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict

from src.core.uow import UnitOfWork
from src.modules.metrics import Measurement, Metric, MetricSource, MetricType, metrics
from src.modules.profile import profile_service

RESTING_HR = MetricType.RESTING_HR
HRV = MetricType.HRV
SLEEP = MetricType.SLEEP
RECOVERY = MetricType.RECOVERY_SCORE
RECOVERY_INPUTS = (RESTING_HR, HRV, SLEEP)

# A value older than this is history, not the person's current state: it is shown, but it does not
# feed insights or the recovery score (and a device that sent nothing newer is not "connected").
RECENT = timedelta(hours=72)
HRV_TREND_DAYS = 7

BASE_SCORE = 50
HRV_POINTS = {"up": 20, "down": -15, "stable": 0}
WELL_RESTED_HOURS = 7.5
SHORT_SLEEP_HOURS = 6.0
LOW_RESTING_HR = 60.0
HIGH_RESTING_HR = 75.0
LOW_HRV_MS = 30.0
HIGH_HRV_MS = 60.0

TrendDirection = Literal["up", "down", "stable"]


class RecoveryStatus(StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    MODERATE = "moderate"
    NEEDS_REST = "needs_rest"


RECOMMENDATIONS: dict[RecoveryStatus, str] = {
    RecoveryStatus.EXCELLENT: "You're fully recovered - a great day for high-intensity training.",
    RecoveryStatus.GOOD: "You're well recovered - moderate-intensity training suits you today.",
    RecoveryStatus.MODERATE: "Recovery is partial - choose lighter activity or a longer fast today.",
    RecoveryStatus.NEEDS_REST: "Your body needs rest - focus on sleep and gentle movement today.",
}


class RecoveryFactor(BaseModel):
    """One input of the score and what it contributed."""

    model_config = ConfigDict(frozen=True)

    input: Literal["hrv_trend", "sleep_hours", "resting_hr"]
    value: float | str
    points: int


class Recovery(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int
    status: RecoveryStatus
    recommendation: str
    factors: tuple[RecoveryFactor, ...] = ()


def status_for(score: int) -> RecoveryStatus:
    if score >= 80:
        return RecoveryStatus.EXCELLENT
    if score >= 60:
        return RecoveryStatus.GOOD
    if score >= 40:
        return RecoveryStatus.MODERATE
    return RecoveryStatus.NEEDS_REST


def recovery_score(
    hrv_trend_direction: TrendDirection | None, sleep_hours: float | None, resting_hr: float | None
) -> Recovery:
    """The recovery formula. Each input may be missing (None): it then contributes nothing."""
    factors: list[RecoveryFactor] = []
    if hrv_trend_direction is not None:
        factors.append(
            RecoveryFactor(input="hrv_trend", value=hrv_trend_direction, points=HRV_POINTS[hrv_trend_direction])
        )
    if sleep_hours is not None:
        points = 20 if sleep_hours >= WELL_RESTED_HOURS else (-20 if sleep_hours < SHORT_SLEEP_HOURS else 0)
        factors.append(RecoveryFactor(input="sleep_hours", value=sleep_hours, points=points))
    if resting_hr is not None:
        points = 10 if resting_hr <= LOW_RESTING_HR else (-10 if resting_hr > HIGH_RESTING_HR else 0)
        factors.append(RecoveryFactor(input="resting_hr", value=resting_hr, points=points))
    score = max(0, min(100, BASE_SCORE + sum(f.points for f in factors)))
    status = status_for(score)
    return Recovery(score=score, status=status, recommendation=RECOMMENDATIONS[status], factors=tuple(factors))


class HealthInsight(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["low_hrv", "high_hrv", "short_sleep", "well_rested", "elevated_resting_hr"]
    metric_type: str
    title: str
    message: str


def health_insights(*, hrv: float | None, sleep_hours: float | None, resting_hr: float | None) -> list[HealthInsight]:
    """Advice from the person's recent values (None = no recent value)."""
    out: list[HealthInsight] = []
    if hrv is not None and hrv < LOW_HRV_MS:
        out.append(
            HealthInsight(
                type="low_hrv",
                metric_type=HRV,
                title="Low heart rate variability",
                message=f"Your HRV is low ({hrv:.0f} ms). Consider a lighter workout or active recovery today.",
            )
        )
    elif hrv is not None and hrv > HIGH_HRV_MS:
        out.append(
            HealthInsight(
                type="high_hrv",
                metric_type=HRV,
                title="Excellent heart rate variability",
                message=f"Your HRV is excellent ({hrv:.0f} ms) - a good day for an intense HIIT session.",
            )
        )
    if sleep_hours is not None and sleep_hours < SHORT_SLEEP_HOURS:
        out.append(
            HealthInsight(
                type="short_sleep",
                metric_type=SLEEP,
                title="Short sleep",
                message=(
                    f"You slept {sleep_hours:.1f} hours. Consider extending your fasting window to give your body "
                    "time to recover."
                ),
            )
        )
    elif sleep_hours is not None and sleep_hours >= WELL_RESTED_HOURS:
        out.append(
            HealthInsight(
                type="well_rested",
                metric_type=SLEEP,
                title="Well rested",
                message=f"You slept {sleep_hours:.1f} hours - good conditions for fasting and exercise.",
            )
        )
    if resting_hr is not None and resting_hr > HIGH_RESTING_HR:
        out.append(
            HealthInsight(
                type="elevated_resting_hr",
                metric_type=RESTING_HR,
                title="Elevated resting heart rate",
                message=(
                    f"Your resting heart rate is elevated ({resting_hr:.0f} bpm), which can be a sign of stress or "
                    "incomplete recovery."
                ),
            )
        )
    return out


class CurrentRecovery(BaseModel):
    """The person's recovery today (local date), from values of the last `RECENT` hours."""

    model_config = ConfigDict(frozen=True)

    has_data: bool
    day: date
    recovery: Recovery | None = None
    hrv_ms: float | None = None
    hrv_trend: TrendDirection | None = None
    sleep_hours: float | None = None
    resting_hr: float | None = None
    recorded_at: AwareDatetime | None = None  # the stored recovery_score row's instant


def is_recent(metric: Metric | None, now: datetime) -> bool:
    return metric is not None and now - RECENT <= metric.timestamp <= now + timedelta(minutes=5)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant a local day starts, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


async def current_recovery(
    uow: UnitOfWork,
    identity_id: UUID,
    *,
    accessed_by: str,
    latest: Mapping[str, Metric] | None = None,
    zone: ZoneInfo | None = None,
    store: bool = True,
) -> CurrentRecovery:
    """Compute today's recovery from recent values and (unless `store=False`) upsert it as the
    day's `recovery_score`. `latest` may hand over values the caller has already read (newest
    value per type, from `latest_values`) so they are not read twice."""
    store_api = metrics(uow)
    if latest is None:
        latest = await store_api.latest_values(identity_id, RECOVERY_INPUTS, accessed_by=accessed_by)
    zone = zone or await profile_service(uow).zone_of(identity_id)
    now = uow.now()
    today = now.astimezone(zone).date()

    def recent_value(metric_type: str) -> float | None:
        metric = latest.get(metric_type)
        return metric.value if metric is not None and is_recent(metric, now) else None

    hrv, sleep, resting = recent_value(HRV), recent_value(SLEEP), recent_value(RESTING_HR)
    if hrv is None and sleep is None and resting is None:
        return CurrentRecovery(has_data=False, day=today)
    direction: TrendDirection | None = None
    if hrv is not None:
        trend = await store_api.trend_for(identity_id, HRV, period_days=HRV_TREND_DAYS, accessed_by=accessed_by)
        direction = trend.direction if trend is not None else None
    recovery = recovery_score(direction, sleep, resting)
    recorded_at = local_midnight(today, zone)
    if store:
        await store_api.store(
            identity_id,
            [Measurement(metric_type=RECOVERY, value=recovery.score, timestamp=recorded_at, day=today)],
            source=MetricSource.CALCULATED,
            record_events=False,
        )
    return CurrentRecovery(
        has_data=True,
        day=today,
        recovery=recovery,
        hrv_ms=hrv,
        hrv_trend=direction,
        sleep_hours=sleep,
        resting_hr=resting,
        recorded_at=recorded_at if store else None,
    )
