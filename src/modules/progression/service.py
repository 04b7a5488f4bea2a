from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, select

from src.core.contracts import (
    AchievementUnlocked,
    FastCompleted,
    LevelReached,
    Reward,
    SocialProgress,
    StreakChanged,
    StreakSnapshot,
    UnlockedAchievement,
    WeightLogged,
    WorkoutCompleted,
    XPCredited,
)
from src.core.lean import HotQuery
from src.core.persistence import insert_ignore, lock_or_create
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal
from src.modules.identity import IdentityNotFound, identity_service
from src.modules.profile import profile_service

from .catalogue import CATALOGUE
from .errors import InvalidActivityDate
from .interface import ProgressionInterface
from .models import (
    Achievement,
    GrantXPRequest,
    Overview,
    RecordActivityRequest,
    Streak,
    StreakResponse,
    StreakType,
    UserAchievement,
    UserLevel,
    XPSummary,
    XPTransaction,
    XPTransactionType,
)
from .orm import (
    AchievementRow,
    ProgressionStatsRow,
    StreakDayRow,
    StreakRow,
    UserAchievementRow,
    UserLevelRow,
    XPTransactionRow,
)
from .rules import (
    DAILY_FAST_XP_CAP,
    DAY_START_HOUR,
    MIN_CREDITED_FAST_HOURS,
    STREAK_MILESTONES,
    WEIGHT_LOG_XP,
    advance_streak,
    day_start,
    effective_count,
    fast_streak_days,
    fast_xp,
    level_for_xp,
    level_progress,
    repair_streak,
    streak_day,
    workout_xp,
)

HOUR = 3600
NOTIFY_TOPIC = "notification.send"
STAT_FIELDS = (
    "activities",
    "fasts",
    "fasts_20h",
    "fasts_24h",
    "workouts",
    "early_workouts",
    "late_workouts",
    "weights",
    "friends",
    "challenges_joined",
    "challenges_won",
)


@dataclass
class _Credit:
    """Everything one credited activity changes, collected while it runs."""

    identity_id: uuid.UUID
    level: UserLevelRow
    start_level: int
    base_xp: int = 0
    bonus_xp: int = 0
    achievement_xp: int = 0
    streak: StreakSnapshot | None = None
    unlocked: list[UnlockedAchievement] = field(default_factory=list)
    ledgered: int = 0  # XP written to the ledger by this credit, of every kind
    activity_day: date | None = None  # the credited activity's day, when it has one


# The home screen's progression card reads these on every poll: built once, run below the ORM.
_TOTAL_XP = HotQuery(lambda: select(UserLevelRow.total_xp).where(UserLevelRow.identity_id == bindparam("identity_id")))
_STREAKS = HotQuery(
    lambda: select(
        StreakRow.id,
        StreakRow.streak_type,
        StreakRow.current_count,
        StreakRow.longest_count,
        StreakRow.last_activity_date,
        StreakRow.started_on,
    ).where(StreakRow.identity_id == bindparam("identity_id"))
)
_UNLOCKED_WITH_ACHIEVEMENT = HotQuery(
    lambda: (
        select(
            UserAchievementRow.id.label("unlock_id"),
            UserAchievementRow.unlocked_at,
            AchievementRow.id,
            AchievementRow.code,
            AchievementRow.name,
            AchievementRow.description,
            AchievementRow.achievement_type,
            AchievementRow.xp_reward,
            AchievementRow.icon,
            AchievementRow.requirement_value,
            AchievementRow.is_hidden,
        )
        .join(AchievementRow, AchievementRow.id == UserAchievementRow.achievement_id)
        .where(UserAchievementRow.identity_id == bindparam("identity_id"))
        .order_by(UserAchievementRow.unlocked_at.desc(), AchievementRow.sort_order.desc())
    )
)

# Read on every weigh-in (weight logs earn XP once a day).
_LAST_WEIGH_IN_CREDIT = HotQuery(
    lambda: (
        select(XPTransactionRow.activity_day, XPTransactionRow.time_zone)
        .where(
            XPTransactionRow.identity_id == bindparam("identity_id"),
            XPTransactionRow.transaction_type == str(XPTransactionType.WEIGHT_LOGGED),
            XPTransactionRow.activity_day.is_not(None),
            XPTransactionRow.time_zone.is_not(None),
        )
        .order_by(XPTransactionRow.created_at.desc(), XPTransactionRow.id)
        .limit(1)
    )
)
# Read by every credit, to learn which achievements it unlocks.
_UNLOCKED_IDS = HotQuery(
    lambda: select(UserAchievementRow.achievement_id).where(UserAchievementRow.identity_id == bindparam("identity_id"))
)
_FASTING_LONGEST = HotQuery(
    lambda: select(StreakRow.longest_count).where(
        StreakRow.identity_id == bindparam("identity_id"), StreakRow.streak_type == str(StreakType.FASTING)
    )
)


class _Unlock(NamedTuple):
    id: uuid.UUID
    unlocked_at: datetime


# The achievement catalogue: the same for everyone, changed by the seeders only (which clear it).
ACHIEVEMENT_CATALOGUE = ("progression", "achievement_catalogue")
_CATALOGUE = HotQuery(lambda: select(*AchievementRow.__table__.c).order_by(AchievementRow.sort_order))
_XP_SINCE = HotQuery(
    lambda: select(
        func.coalesce(
            func.sum(
                case(
                    (
                        XPTransactionRow.created_at >= bindparam("today_start", type_=XPTransactionRow.created_at.type),
                        XPTransactionRow.amount,
                    ),
                    else_=0,
                )
            ),
            0,
        ),
        func.coalesce(func.sum(XPTransactionRow.amount), 0),
    ).where(
        XPTransactionRow.identity_id == bindparam("identity_id"),
        XPTransactionRow.created_at >= bindparam("week_start"),
    )
)


class ProgressionService(ProgressionInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # Locks and rows -------------------------------------------------------------------------

    async def _locked(self, row_type: type[Any], identity_id: uuid.UUID, values: dict[str, Any]) -> Any:
        # Locked once per transaction: a cascade credits a fast, then its achievements, then the level.
        memo = ("progression.locked", row_type.__tablename__, identity_id)
        transaction = self.session.get_transaction()
        held = self.uow.memo.get(memo)
        if held is not None and held[0] is transaction:
            return held[1]
        row = await lock_or_create(self.session, row_type, {"identity_id": identity_id, **values}, key="identity_id")
        self.uow.memo[memo] = (transaction, row)
        return row

    async def _begin(self, identity_id: uuid.UUID) -> _Credit:
        """Lock the person's level row: progression work of one person runs one at a time."""
        now = self.uow.now()
        level: UserLevelRow = await self._locked(
            UserLevelRow, identity_id, {"total_xp": 0, "current_level": 1, "created_at": now, "updated_at": now}
        )
        return _Credit(identity_id=identity_id, level=level, start_level=level_for_xp(level.total_xp))

    async def _stats(self, identity_id: uuid.UUID) -> ProgressionStatsRow:
        values: dict[str, Any] = dict.fromkeys(STAT_FIELDS, 0)
        values.update(workout_categories=[], updated_at=self.uow.now())
        row: ProgressionStatsRow = await self._locked(ProgressionStatsRow, identity_id, values)
        return row

    async def _streak_row(self, identity_id: uuid.UUID, streak_type: StreakType) -> StreakRow:
        now = self.uow.now()
        row: StreakRow = await lock_or_create(
            self.session,
            StreakRow,
            {
                "id": uuid.uuid4(),
                "identity_id": identity_id,
                "streak_type": str(streak_type),
                "current_count": 0,
                "longest_count": 0,
                "last_activity_date": None,
                "started_on": None,
                "created_at": now,
                "updated_at": now,
            },
            key=("identity_id", "streak_type"),
        )
        return row

    async def _ledger(
        self,
        credit: _Credit,
        amount: int,
        kind: XPTransactionType,
        source_key: str,
        *,
        related_id: str | None = None,
        description: str | None = None,
        activity_day: date | None = None,
        time_zone: str | None = None,
    ) -> bool:
        """Append XP once per `source_key`; False when it was already credited."""
        row = XPTransactionRow(
            id=uuid.uuid4(),
            identity_id=credit.identity_id,
            amount=amount,
            transaction_type=str(kind),
            description=description,
            related_id=related_id,
            source_key=source_key,
            activity_day=activity_day,
            time_zone=time_zone,
            created_at=self.uow.now(),
        )
        if not await insert_ignore(self.session, XPTransactionRow, _values(row)):
            return False
        credit.level.total_xp += amount
        credit.ledgered += amount
        credit.activity_day = credit.activity_day or activity_day
        return True

    # Crediting ------------------------------------------------------------------------------

    async def credit_fast(self, event: FastCompleted) -> Reward:
        xp = fast_xp(event.fasted_seconds)
        if xp == 0:
            return await self._nothing(
                event.identity_id, f"Fasts under {MIN_CREDITED_FAST_HOURS} hours earn no XP or streak credit"
            )
        hours = event.fasted_seconds / HOUR
        zone = await profile_service(self.uow).timezone_of(event.identity_id)
        await self._begin(event.identity_id)  # the person's lock, before reading the day's fasting XP
        earned_that_day = await self._fasting_xp_on(event.identity_id, streak_day(event.ended_at, zone))
        capped = min(xp, max(0, DAILY_FAST_XP_CAP - earned_that_day))

        def count(stats: ProgressionStatsRow) -> None:
            stats.fasts += 1
            stats.fasts_20h += int(hours >= 20)
            stats.fasts_24h += int(hours >= 24)

        reward = await self._credit(
            event.identity_id,
            zone=zone,
            xp=capped,
            kind=XPTransactionType.FAST_COMPLETED,
            source_key=f"fast:{event.window_id}",
            related_id=str(event.window_id),
            description=f"{hours:.1f} hour fast",
            streak_type=StreakType.FASTING,
            at=event.ended_at,
            count=count,
            days=fast_streak_days(event.started_at, event.ended_at, zone),
        )
        if reward.credited and capped < xp:
            return reward.model_copy(
                update={
                    "reason": f"Fasts ending on one day earn at most {DAILY_FAST_XP_CAP} XP together "
                    f"(this one: {capped} of {xp} XP)"
                }
            )
        return reward

    async def _fasting_xp_on(self, identity_id: uuid.UUID, day: date) -> int:
        """Fasting XP already credited for fasts that ended on this streak day."""
        found = await self.session.execute(
            select(func.coalesce(func.sum(XPTransactionRow.amount), 0)).where(
                XPTransactionRow.identity_id == identity_id,
                XPTransactionRow.transaction_type == str(XPTransactionType.FAST_COMPLETED),
                XPTransactionRow.activity_day == day,
            )
        )
        return int(found.scalar_one())

    async def credit_workout(self, event: WorkoutCompleted) -> Reward:
        if not event.eligible:
            return await self._nothing(
                event.identity_id, "Workouts count once you have done at least half of the planned time"
            )
        zone = await profile_service(self.uow).timezone_of(event.identity_id)
        # The session's own local clock time: early from 04:00 (when a streak day begins) to 07:00,
        # late from 21:00 to 04:00; 01:30 is late, not early.
        local_hour = (event.started_at or event.occurred_at).astimezone(ZoneInfo(zone)).hour

        def count(stats: ProgressionStatsRow) -> None:
            stats.workouts += 1
            stats.early_workouts += int(DAY_START_HOUR <= local_hour < 7)
            stats.late_workouts += int(local_hour >= 21 or local_hour < DAY_START_HOUR)
            if event.category and event.category not in stats.workout_categories:
                stats.workout_categories = sorted({*stats.workout_categories, event.category})

        return await self._credit(
            event.identity_id,
            zone=zone,
            xp=workout_xp(event.difficulty),
            kind=XPTransactionType.WORKOUT_COMPLETED,
            source_key=f"workout:{event.session_id}",
            related_id=str(event.session_id),
            description=event.workout_name[:200],
            streak_type=StreakType.WORKOUT,
            at=event.occurred_at,
            count=count,
        )

    async def credit_weight(self, event: WeightLogged) -> Reward:
        zone = await profile_service(self.uow).timezone_of(event.identity_id)
        day = streak_day(event.occurred_at, zone)
        credit = await self._begin(event.identity_id)  # the person's lock, before reading the last credit
        if await self._same_day_as_last_weigh_in(event.identity_id, event.occurred_at):
            return await self._nothing(event.identity_id, "Weight logs earn XP once a day", level=credit.level)

        def count(stats: ProgressionStatsRow) -> None:
            stats.weights += 1

        reward = await self._credit(
            event.identity_id,
            zone=zone,
            xp=WEIGHT_LOG_XP,
            kind=XPTransactionType.WEIGHT_LOGGED,
            source_key=f"weight:{day.isoformat()}",  # once a day
            related_id=str(event.metric_id),
            description="Weight logged",
            streak_type=StreakType.LOGGING,
            at=event.occurred_at,
            count=count,
        )
        if not reward.credited:
            return reward.model_copy(update={"reason": "Weight logs earn XP once a day"})
        return reward

    async def _same_day_as_last_weigh_in(self, identity_id: uuid.UUID, at: datetime) -> bool:
        """Whether `at` falls in the streak day of the last credited weigh-in, measured in the
        time zone that credit was keyed in: moving to another zone cannot open a second "day"."""
        last = await _LAST_WEIGH_IN_CREDIT.first(self.session, identity_id=identity_id)
        return last is not None and streak_day(at, last.time_zone) == last.activity_day

    async def record_social(self, event: SocialProgress) -> Reward:
        credit = await self._begin(event.identity_id)
        stats = await self._stats(event.identity_id)
        if event.friends_count is not None:
            stats.friends = max(0, event.friends_count)
        stats.challenges_joined += int(event.challenge_joined)
        stats.challenges_won += int(event.challenge_won)
        stats.updated_at = self.uow.now()
        return await self._finish(credit, stats)

    async def _nothing(self, identity_id: uuid.UUID, reason: str, *, level: UserLevelRow | None = None) -> Reward:
        row = level or await self.session.get(UserLevelRow, identity_id)
        total = row.total_xp if row else 0
        return Reward(xp_earned=0, total_xp=total, credited=False, reason=reason, new_level=level_for_xp(total))

    async def _credit(
        self,
        identity_id: uuid.UUID,
        *,
        zone: str,
        xp: int,
        kind: XPTransactionType,
        source_key: str,
        related_id: str,
        description: str,
        streak_type: StreakType,
        at: datetime,
        count: Callable[[ProgressionStatsRow], None],
        days: list[date] | None = None,
    ) -> Reward:
        """Credit one activity: ledger row (dated by the streak day `at` falls in), counters, the
        streak for `days` (default: that one day) and achievements."""
        credit = await self._begin(identity_id)
        day = streak_day(at, zone)  # in the person's time zone, as the caller read it
        if not await self._ledger(
            credit,
            xp,
            kind,
            source_key,
            related_id=related_id,
            description=description,
            activity_day=day,
            time_zone=zone,
        ):
            total = credit.level.total_xp
            return Reward(
                xp_earned=0, total_xp=total, credited=False, reason="Already credited", new_level=level_for_xp(total)
            )
        credit.base_xp = xp
        stats = await self._stats(identity_id)
        stats.activities += 1
        count(stats)
        stats.updated_at = self.uow.now()
        extended = False
        for covered in sorted(set(days or [day])):
            await self._advance(credit, streak_type, covered)
            extended = extended or bool(credit.streak and credit.streak.extended)
        if credit.streak is not None and extended != credit.streak.extended:
            credit.streak = credit.streak.model_copy(update={"extended": extended})
        return await self._finish(credit, stats)

    async def _credited_days(self, identity_id: uuid.UUID, streak_type: StreakType) -> set[date]:
        """Streak days credited activity of a streak type counted for, in one query."""
        query = select(StreakDayRow.day).where(
            StreakDayRow.identity_id == identity_id, StreakDayRow.streak_type == str(streak_type)
        )
        return set((await self.session.execute(query)).scalars())

    async def _advance(self, credit: _Credit, streak_type: StreakType, day: date) -> StreakRow:
        """Credit `day` to a streak. A day before the current run (a fast logged after the fact)
        rebuilds the run from the streak days credited before."""
        row = await self._streak_row(credit.identity_id, streak_type)
        last_day, started_on = row.last_activity_date, row.started_on
        repair = False
        if last_day is not None and started_on is not None and day < started_on:
            repair = True
            credited = await self._credited_days(credit.identity_id, streak_type)
            step = repair_streak(row.current_count, row.longest_count, last_day, started_on, day, credited)
        else:
            step = advance_streak(row.current_count, row.longest_count, row.last_activity_date, row.started_on, day)
        await insert_ignore(
            self.session, StreakDayRow, {"identity_id": credit.identity_id, "streak_type": str(streak_type), "day": day}
        )
        journal = event_journal(self.uow)
        if step.reset_from:
            await journal.record(
                credit.identity_id,
                EventType.STREAK_RESET,
                source=EventSource.SYSTEM,
                metadata={"streak_type": str(streak_type), "previous_count": step.reset_from},
            )
        row.current_count, row.longest_count = step.count, step.longest
        row.last_activity_date, row.started_on = step.last_day, step.started_on
        row.updated_at = self.uow.now()
        if step.extended:
            metadata: dict[str, Any] = {"streak_type": str(streak_type), "count": step.count}
            if repair:
                metadata["back_filled_day"] = day.isoformat()
            await journal.record(
                credit.identity_id, EventType.STREAK_INCREMENTED, source=EventSource.SYSTEM, metadata=metadata
            )
        for days in step.milestones:
            bonus = STREAK_MILESTONES[days]
            if await self._ledger(
                credit,
                bonus,
                XPTransactionType.STREAK_BONUS,
                f"streak:{streak_type}:{step.milestone_run}:{days}",  # once per run (by its first day)
                description=f"{days}-day {streak_type} streak",
            ):
                credit.bonus_xp += bonus
                self._notify(
                    credit.identity_id,
                    "streak",
                    f"{days}-day streak!",
                    f"You kept your {streak_type} streak for {days} days: +{bonus} XP",
                    {"streak_type": str(streak_type), "days": days},
                )
        credit.streak = StreakSnapshot(
            streak_type=str(streak_type),
            current_count=step.count,
            longest_count=step.longest,
            extended=step.extended,
        )
        await self.uow.publish(
            StreakChanged(
                identity_id=credit.identity_id,
                occurred_at=self.uow.now(),
                streak_type=str(streak_type),
                current_count=step.count,
                longest_count=step.longest,
                last_activity_date=step.last_day,
            )
        )
        return row

    async def _finish(self, credit: _Credit, stats: ProgressionStatsRow) -> Reward:
        credit.unlocked = await self._evaluate(credit, stats)
        level = level_for_xp(credit.level.total_xp)
        credit.level.current_level = level
        credit.level.updated_at = self.uow.now()
        level_up = level > credit.start_level
        if level_up:
            title = level_progress(credit.level.total_xp).title
            await event_journal(self.uow).record(
                credit.identity_id,
                EventType.LEVEL_UP,
                source=EventSource.SYSTEM,
                metadata={"new_level": level, "total_xp": credit.level.total_xp, "title": title},
            )
            self._notify(
                credit.identity_id, "level_up", f"Level {level}: {title}", "You reached a new level!", {"level": level}
            )
        await self.session.flush()
        now = self.uow.now()
        for unlocked in credit.unlocked:
            await self.uow.publish(
                AchievementUnlocked(
                    identity_id=credit.identity_id,
                    occurred_at=now,
                    achievement_id=unlocked.id,
                    name=unlocked.name,
                    achievement_type=unlocked.achievement_type,
                    xp_reward=unlocked.xp_reward,
                )
            )
        if level_up:
            await self.uow.publish(
                LevelReached(
                    identity_id=credit.identity_id,
                    occurred_at=now,
                    level=level,
                    title=level_progress(credit.level.total_xp).title,
                )
            )
        if credit.ledgered:
            # Per-period totals elsewhere (leaderboards, challenges) follow the ledger in this
            # transaction: one event for everything this activity wrote.
            await self.uow.publish(
                XPCredited(
                    identity_id=credit.identity_id,
                    occurred_at=self.uow.now(),
                    amount=credit.ledgered,
                    activity_day=credit.activity_day,
                )
            )
        earned = credit.base_xp + credit.bonus_xp + credit.achievement_xp
        return Reward(
            xp_earned=earned,
            base_xp=credit.base_xp,
            streak_bonus_xp=credit.bonus_xp,
            achievement_xp=credit.achievement_xp,
            level_up=level_up,
            new_level=level,
            total_xp=credit.level.total_xp,
            achievements_unlocked=credit.unlocked,
            streak=credit.streak,
            credited=True,
        )

    # Achievements ---------------------------------------------------------------------------

    async def _catalogue(self) -> tuple[Any, ...]:
        """The achievement catalogue in display order, as immutable rows (attribute per column):
        kept in the catalogue cache, which the seeders clear."""
        return await self.uow.resources.catalogue.figure(ACHIEVEMENT_CATALOGUE, self._load_catalogue)

    async def _load_catalogue(self) -> tuple[Any, ...]:
        return tuple(await _CATALOGUE.all(self.session))

    async def _fasting_longest(self, identity_id: uuid.UUID) -> int:
        found = await _FASTING_LONGEST.first(self.session, identity_id=identity_id)
        return int(found.longest_count if found else 0)

    @staticmethod
    def _metrics(stats: ProgressionStatsRow | None, fasting_longest: int, total_xp: int) -> dict[str, int]:
        metrics = {name: int(getattr(stats, name)) if stats else 0 for name in STAT_FIELDS}
        metrics["workout_categories"] = len(stats.workout_categories) if stats else 0
        metrics["fasting_streak"] = fasting_longest
        metrics["level"] = level_for_xp(total_xp)
        return metrics

    async def _evaluate(self, credit: _Credit, stats: ProgressionStatsRow) -> list[UnlockedAchievement]:
        """Unlock whatever the statistics now reach: the catalogue, the person's unlocks and the
        fasting streak are read once each, whatever the catalogue's size."""
        catalogue = await self._catalogue()
        unlocked_ids = {
            row.achievement_id for row in await _UNLOCKED_IDS.all(self.session, identity_id=credit.identity_id)
        }
        fasting_longest = await self._fasting_longest(credit.identity_id)
        if credit.streak and credit.streak.streak_type == StreakType.FASTING:
            fasting_longest = max(fasting_longest, credit.streak.longest_count)
        new: list[UnlockedAchievement] = []
        journal = event_journal(self.uow)
        while True:  # achievement XP can reach a level achievement: repeat until nothing changes
            metrics = self._metrics(stats, fasting_longest, credit.level.total_xp)
            reached = [
                a for a in catalogue if a.id not in unlocked_ids and metrics.get(a.metric, 0) >= a.requirement_value
            ]
            if not reached:
                return new
            for achievement in reached:
                unlocked_ids.add(achievement.id)
                row = UserAchievementRow(
                    id=uuid.uuid4(),
                    identity_id=credit.identity_id,
                    achievement_id=achievement.id,
                    unlocked_at=self.uow.now(),
                )
                if not await insert_ignore(self.session, UserAchievementRow, _values(row)):
                    continue
                if await self._ledger(
                    credit,
                    achievement.xp_reward,
                    XPTransactionType.ACHIEVEMENT_UNLOCKED,
                    f"achievement:{achievement.id}",
                    related_id=str(achievement.id),
                    description=achievement.name,
                ):
                    credit.achievement_xp += achievement.xp_reward
                new.append(_unlocked(achievement))
                await journal.record(
                    credit.identity_id,
                    EventType.ACHIEVEMENT_UNLOCKED,
                    related_id=achievement.id,
                    related_type="achievement",
                    source=EventSource.SYSTEM,
                    metadata={
                        "name": achievement.name,
                        "type": achievement.achievement_type,
                        "xp_reward": achievement.xp_reward,
                    },
                )
                self._notify(
                    credit.identity_id,
                    "achievement",
                    f"Achievement unlocked: {achievement.name}",
                    f"{achievement.description} (+{achievement.xp_reward} XP)",
                    {"achievement": achievement.code, "xp": achievement.xp_reward},
                )

    def _notify(self, identity_id: uuid.UUID, category: str, title: str, body: str, data: dict[str, Any]) -> None:
        self.uow.enqueue(
            NOTIFY_TOPIC,
            {"identity_id": str(identity_id), "category": category, "title": title, "body": body, "data": data},
            identity_id=identity_id,
        )

    async def check_achievements(self, identity_id: uuid.UUID) -> list[UnlockedAchievement]:
        credit = await self._begin(identity_id)
        stats = await self._stats(identity_id)
        reward = await self._finish(credit, stats)
        return reward.achievements_unlocked

    # Admin ----------------------------------------------------------------------------------

    async def _require_identity(self, identity_id: uuid.UUID) -> None:
        if await identity_service(self.uow).find_identity(identity_id) is None:
            raise IdentityNotFound("Identity not found")

    async def grant_xp(self, admin_id: uuid.UUID, request: GrantXPRequest) -> UserLevel:
        target = request.identity_id or admin_id
        await self._require_identity(target)
        credit = await self._begin(target)
        await self._ledger(
            credit,
            request.amount,
            request.transaction_type,
            f"manual:{uuid.uuid4()}",
            related_id=request.related_id,
            description=request.description,
        )
        credit.base_xp = request.amount
        await event_journal(self.uow).record(
            target,
            EventType.XP_EARNED,
            source=EventSource.SYSTEM,
            metadata={"amount": request.amount, "reason": request.description, "granted_by": str(admin_id)},
        )
        await self._finish(credit, await self._stats(target))
        return await self.level(target)

    async def record_activity(self, admin_id: uuid.UUID, request: RecordActivityRequest) -> StreakResponse:
        target = request.identity_id or admin_id
        await self._require_identity(target)
        zone = await profile_service(self.uow).timezone_of(target)
        today = streak_day(self.uow.now(), zone)
        day = request.activity_date or today
        if day > today or day < today - timedelta(days=365):
            raise InvalidActivityDate("activity_date must be within the last year and not in the future")
        credit = await self._begin(target)
        await self._advance(credit, request.streak_type, day)
        reward = await self._finish(credit, await self._stats(target))
        return StreakResponse(
            streak=await self.streak(target, request.streak_type),
            xp_earned=reward.xp_earned,
            level_up=reward.level_up,
            new_level=reward.new_level if reward.level_up else None,
            achievements_unlocked=reward.achievements_unlocked,
        )

    # Reading --------------------------------------------------------------------------------

    async def level(self, identity_id: uuid.UUID) -> UserLevel:
        found = await _TOTAL_XP.first(self.session, identity_id=identity_id)
        return _level_model(identity_id, int(found.total_xp if found is not None else 0))

    async def levels_of(self, identity_ids: list[uuid.UUID]) -> dict[uuid.UUID, UserLevel]:
        ids = list(dict.fromkeys(identity_ids))
        totals = dict.fromkeys(ids, 0)
        if ids:
            rows = await self.session.execute(
                select(UserLevelRow.identity_id, UserLevelRow.total_xp).where(UserLevelRow.identity_id.in_(ids))
            )
            totals.update({identity_id: int(total) for identity_id, total in rows.all()})
        return {identity_id: _level_model(identity_id, total) for identity_id, total in totals.items()}

    async def streaks(self, identity_id: uuid.UUID, *, zone: str | None = None) -> list[Streak]:
        zone = zone or await profile_service(self.uow).timezone_of(identity_id)
        today = streak_day(self.uow.now(), zone)
        rows = {row.streak_type: row for row in await _STREAKS.all(self.session, identity_id=identity_id)}
        return [_streak_model(identity_id, kind, rows.get(str(kind)), today) for kind in StreakType]

    async def streak(self, identity_id: uuid.UUID, streak_type: StreakType) -> Streak:
        for streak in await self.streaks(identity_id):
            if streak.streak_type == streak_type:
                return streak
        raise AssertionError("every streak type is listed")  # pragma: no cover

    async def xp_history(self, identity_id: uuid.UUID, *, limit: int, offset: int) -> list[XPTransaction]:
        rows = await self.session.execute(
            select(XPTransactionRow)
            .where(XPTransactionRow.identity_id == identity_id)
            .order_by(XPTransactionRow.created_at.desc(), XPTransactionRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [
            XPTransaction(
                id=row.id,
                identity_id=row.identity_id,
                amount=row.amount,
                transaction_type=row.transaction_type,
                description=row.description,
                related_id=row.related_id,
                created_at=row.created_at,
            )
            for row in rows.scalars()
        ]

    async def catalogue(self, viewer_id: uuid.UUID | None, *, include_hidden: bool) -> list[Achievement]:
        unlocked: set[uuid.UUID] = set()
        if viewer_id is not None:
            unlocked = set(
                (
                    await self.session.execute(
                        select(UserAchievementRow.achievement_id).where(UserAchievementRow.identity_id == viewer_id)
                    )
                ).scalars()
            )
        # Hidden achievements are shown only to someone who has unlocked them (`include_hidden` is
        # accepted for compatibility: it never reveals locked hidden ones).
        return [_achievement(row) for row in await self._catalogue() if not row.is_hidden or row.id in unlocked]

    async def my_achievements(self, identity_id: uuid.UUID, *, unlocked_only: bool) -> list[UserAchievement]:
        catalogue = await self._catalogue()
        unlocked = {
            row.achievement_id: row
            for row in (
                await self.session.execute(
                    select(UserAchievementRow).where(UserAchievementRow.identity_id == identity_id)
                )
            ).scalars()
        }
        stats = await self.session.get(ProgressionStatsRow, identity_id)
        metrics = self._metrics(
            stats, await self._fasting_longest(identity_id), (await self.level(identity_id)).total_xp_earned
        )
        out: list[UserAchievement] = []
        for achievement in catalogue:
            mine = unlocked.get(achievement.id)
            if mine is None and (unlocked_only or achievement.is_hidden):
                continue
            out.append(_user_achievement(identity_id, achievement, mine, metrics.get(achievement.metric, 0)))
        return out

    async def overview(self, identity_id: uuid.UUID) -> Overview:
        zone_name = await profile_service(self.uow).timezone_of(identity_id)
        level = await self.level(identity_id)
        streaks = await self.streaks(identity_id, zone=zone_name)
        recent_rows = await _UNLOCKED_WITH_ACHIEVEMENT.all(self.session, identity_id=identity_id)
        visible = sum(1 for achievement in await self._catalogue() if not achievement.is_hidden)
        recent = [
            _user_achievement(identity_id, row, _Unlock(row.unlock_id, row.unlocked_at), row.requirement_value)
            for row in recent_rows[:5]
        ]
        unlocked_count = len(recent_rows)
        # Progress is measured against what the person can see: the visible catalogue plus the
        # hidden achievements they have found.
        reachable = int(visible) + sum(1 for row in recent_rows if row.is_hidden)
        return Overview(
            identity_id=identity_id,
            level=level,
            streaks=streaks,
            recent_achievements=recent,
            total_achievements=int(visible),
            achievements_unlocked=unlocked_count,
            achievement_progress_percent=round(unlocked_count * 100 / reachable, 1) if reachable else 0.0,
            xp=await self._xp_summary(identity_id, zone_name, level.total_xp_earned),
        )

    async def _xp_summary(self, identity_id: uuid.UUID, zone_name: str, total: int) -> XPSummary:
        # "Today" and "this week" are streak days (from 04:00 local time), as streaks count them.
        today = streak_day(self.uow.now(), zone_name)
        today_start = day_start(today, zone_name)
        week_start = day_start(today - timedelta(days=today.weekday()), zone_name)
        today_xp, week = (
            await _XP_SINCE.all(self.session, identity_id=identity_id, today_start=today_start, week_start=week_start)
        )[0]
        return XPSummary(total=total, today=int(today_xp), this_week=int(week))

    async def unlocked_achievements(self, identity_id: uuid.UUID) -> list[UnlockedAchievement]:
        rows = await self.session.execute(
            select(AchievementRow)
            .join(UserAchievementRow, UserAchievementRow.achievement_id == AchievementRow.id)
            .where(UserAchievementRow.identity_id == identity_id)
            .order_by(UserAchievementRow.unlocked_at.desc(), AchievementRow.sort_order)
        )
        return [_unlocked(row) for row in rows.scalars()]

    async def total_xp_since(self, identity_ids: list[uuid.UUID], since: datetime | None) -> dict[uuid.UUID, int]:
        ids = list(dict.fromkeys(identity_ids))
        totals = dict.fromkeys(ids, 0)
        if not ids:
            return totals
        query = select(XPTransactionRow.identity_id, func.sum(XPTransactionRow.amount)).where(
            XPTransactionRow.identity_id.in_(ids)
        )
        if since is not None:
            query = query.where(XPTransactionRow.created_at >= since)
        rows = await self.session.execute(query.group_by(XPTransactionRow.identity_id))
        totals.update({identity_id: int(total or 0) for identity_id, total in rows.all()})
        return totals

    # Catalogue seeding ----------------------------------------------------------------------

    async def seed_catalogue(self) -> int:
        """Insert or update the catalogue by code; never touches anyone's unlocks."""
        found = await self.session.execute(select(AchievementRow))
        existing = {row.code: row for row in found.scalars()}
        changed = 0
        for order, definition in enumerate(CATALOGUE):
            values = {
                "name": definition.name,
                "description": definition.description,
                "achievement_type": definition.achievement_type,
                "metric": definition.metric,
                "requirement_value": definition.requirement,
                "xp_reward": definition.xp_reward,
                "icon": definition.icon,
                "is_hidden": definition.hidden,
                "sort_order": order,
            }
            row = existing.get(definition.code)
            if row is None:
                inserted = await insert_ignore(
                    self.session, AchievementRow, {"id": uuid.uuid4(), "code": definition.code, **values}
                )
                changed += int(inserted)
            elif any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                changed += 1
        await self.session.flush()
        return changed


def _level_model(identity_id: uuid.UUID, total: int) -> UserLevel:
    progress = level_progress(total)
    return UserLevel(
        identity_id=identity_id,
        current_level=progress.level,
        current_xp=progress.xp_into_level,
        xp_for_next_level=progress.xp_for_next_level,
        xp_progress_percent=progress.percent,
        total_xp_earned=max(0, total),
        title=progress.title,
    )


def _values(row: Any) -> dict[str, Any]:
    """The column values of a new (not yet added) row, for a Core insert."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns if column.key in row.__dict__}


def _streak_model(identity_id: uuid.UUID, kind: StreakType, row: StreakRow | None, today: date) -> Streak:
    if row is None:
        return Streak(identity_id=identity_id, streak_type=kind, current_count=0, longest_count=0)
    current = effective_count(row.current_count, row.last_activity_date, today)
    return Streak(
        id=row.id,
        identity_id=identity_id,
        streak_type=kind,
        current_count=current,
        longest_count=row.longest_count,
        last_activity_date=row.last_activity_date,
        started_at=row.started_on if current else None,
        active_today=row.last_activity_date == today,
    )


def _achievement(row: Any) -> Achievement:  # an AchievementRow or a row with its columns
    return Achievement(
        id=row.id,
        code=row.code,
        name=row.name,
        description=row.description,
        achievement_type=row.achievement_type,
        xp_reward=row.xp_reward,
        icon=row.icon,
        requirement_value=row.requirement_value,
        is_hidden=row.is_hidden,
    )


def _unlocked(row: Any) -> UnlockedAchievement:  # an AchievementRow or a row with its columns
    return UnlockedAchievement(
        id=row.id,
        name=row.name,
        description=row.description,
        icon=row.icon,
        xp_reward=row.xp_reward,
        achievement_type=row.achievement_type,
    )


def _user_achievement(
    identity_id: uuid.UUID, achievement: Any, mine: UserAchievementRow | _Unlock | None, progress: int
) -> UserAchievement:
    unlocked = mine is not None
    value = max(progress, achievement.requirement_value) if unlocked else progress
    percent = 100.0 if unlocked else round(min(100.0, progress * 100 / max(1, achievement.requirement_value)), 1)
    return UserAchievement(
        id=str(mine.id) if mine else f"pending_{achievement.id}",
        identity_id=identity_id,
        achievement_id=achievement.id,
        achievement=_achievement(achievement),
        progress=value,
        progress_percent=percent,
        is_unlocked=unlocked,
        unlocked_at=mine.unlocked_at if mine else None,
    )
