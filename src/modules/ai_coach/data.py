"""What the coach knows about the person, read through the other modules' interfaces.

One `PersonData` per message: each read happens at most once (memoised), so a message costs a
bounded number of statements whatever tools the model calls. Reads of health data (weight,
sleep, recovery, lab results) go through the metrics module's audited reads (journalled with
`accessed_by="ai_coach"`). "Now" is the injected clock's, and every day is the person's local day.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from src.core.uow import UnitOfWork
from src.modules.content import Recommendation, WorkoutStats, content
from src.modules.metrics import Metric, MetricTrend, metrics
from src.modules.profile import DietaryProfile, FastingSafety, Goals, Preferences, WorkoutRestrictions, profile_service
from src.modules.progression import Streak, UserLevel, progression
from src.modules.time_keeper import TimeWindow, time_keeper

ACCESSED_BY = "ai_coach"
WEIGHT = "weight_kg"
RECOVERY_TYPES = ("recovery_score", "sleep_hours", "health_hrv", "health_resting_hr")
ADULT_AGE = 18

_T = TypeVar("_T")


class PersonData:
    def __init__(self, uow: UnitOfWork, identity_id: UUID) -> None:
        self.uow = uow
        self.identity_id = identity_id
        self.now = uow.now()
        self._cache: dict[str, Any] = {}

    async def _once(self, key: str, read: Callable[[], Awaitable[_T]]) -> _T:
        if key not in self._cache:
            self._cache[key] = await read()
        return self._cache[key]  # type: ignore[no-any-return]

    # Profile ----------------------------------------------------------------------------------

    async def preferences(self) -> Preferences:
        return await self._once("preferences", lambda: profile_service(self.uow).preferences_of(self.identity_id))

    async def zone(self) -> ZoneInfo:
        return ZoneInfo((await self.preferences()).timezone)

    async def local_now(self) -> datetime:
        return self.now.astimezone(await self.zone())

    async def goals(self) -> Goals:
        return await self._once("goals", lambda: profile_service(self.uow).goals_of(self.identity_id))

    async def restrictions(self) -> WorkoutRestrictions:
        return await self._once(
            "restrictions", lambda: profile_service(self.uow).workout_restrictions_of(self.identity_id)
        )

    async def dietary(self) -> DietaryProfile:
        return await self._once("dietary", lambda: profile_service(self.uow).dietary_of(self.identity_id))

    async def fasting_safety(self) -> FastingSafety:
        return await self._once("fasting_safety", lambda: profile_service(self.uow).fasting_safety(self.identity_id))

    async def birth_date(self) -> date | None:
        return await self._once("birth_date", lambda: profile_service(self.uow).birth_date_of(self.identity_id))

    async def fasting_off_reasons(self) -> list[str]:
        """Why fasting coaching is off for this person (empty: it is on): pregnancy,
        breastfeeding, type 1 diabetes, hypoglycaemia or an eating-disorder history without a
        doctor's approval, or being under 18."""
        reasons: list[str] = []
        safety = await self.fasting_safety()
        if safety.unsafe_conditions and not safety.doctor_approved:
            reasons += [str(c).replace("_", " ") for c in safety.unsafe_conditions]
        born = await self.birth_date()
        if born is not None:
            today = (await self.local_now()).date()
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            if age < ADULT_AGE:
                reasons.append("an age under 18")
        return reasons

    # Fasting ----------------------------------------------------------------------------------

    async def active_fast(self) -> TimeWindow | None:
        return await self._once("active_fast", lambda: time_keeper(self.uow).active_fast(self.identity_id))

    async def recent_fasts(self, days: int = 7) -> list[TimeWindow]:
        start = self.now - timedelta(days=days)
        return await self._once(
            f"fasts:{days}", lambda: time_keeper(self.uow).completed_fasts_between(self.identity_id, start, self.now)
        )

    # Progression ------------------------------------------------------------------------------

    async def level(self) -> UserLevel:
        return await self._once("level", lambda: progression(self.uow).level(self.identity_id))

    async def streaks(self) -> list[Streak]:
        zone = (await self.preferences()).timezone
        return await self._once("streaks", lambda: progression(self.uow).streaks(self.identity_id, zone=zone))

    # Workouts ---------------------------------------------------------------------------------

    async def workout_stats(self) -> WorkoutStats:
        return await self._once("workout_stats", lambda: content(self.uow).stats(self.identity_id))

    async def recommendations(self) -> list[Recommendation]:
        return await self._once("recommendations", lambda: content(self.uow).recommendations(self.identity_id, limit=3))

    # Health data (audited reads) ----------------------------------------------------------------

    async def latest_health(self) -> dict[str, Metric]:
        return await self._once(
            "latest_health",
            lambda: metrics(self.uow).latest_values(
                self.identity_id, (WEIGHT, *RECOVERY_TYPES), accessed_by=ACCESSED_BY
            ),
        )

    async def weight_trend(self, days: int = 30) -> MetricTrend | None:
        return await self._once(
            f"weight_trend:{days}",
            lambda: metrics(self.uow).trend_for(self.identity_id, WEIGHT, period_days=days, accessed_by=ACCESSED_BY),
        )

    async def biomarkers(self) -> list[Metric]:
        return await self._once(
            "biomarkers", lambda: metrics(self.uow).latest_biomarkers(self.identity_id, accessed_by=ACCESSED_BY)
        )
