from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from src.core.contracts import Reward, WorkoutCompleted
from src.core.persistence import insert_ignore, rowcount
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventType, event_journal
from src.modules.profile import OnboardingStep, profile_service

from .errors import (
    CategoryNotFound,
    PremiumRequired,
    RecipeNotFound,
    SessionAlreadyActive,
    SessionNotActive,
    SessionNotFound,
    WorkoutNotFound,
)
from .interface import ContentInterface
from .models import (
    BODY_FOCUS_ALIASES,
    BodyFocus,
    CompletedSession,
    CompletedWorkout,
    DietTag,
    Difficulty,
    Exercise,
    Ingredient,
    MealType,
    Recipe,
    RecipeSummary,
    Recommendation,
    SavedRecipe,
    SessionStatus,
    Workout,
    WorkoutCategory,
    WorkoutRating,
    WorkoutSession,
    WorkoutStats,
    WorkoutType,
    nutrition_of,
)
from .orm import (
    ExerciseRow,
    RecipeDietTagRow,
    RecipeRow,
    SavedRecipeRow,
    WorkoutCategoryRow,
    WorkoutRatingRow,
    WorkoutRow,
    WorkoutSessionRow,
)

W = WorkoutRow
S = WorkoutSessionRow
# A session earns credit once it has lasted at least this share of the workout's planned time.
MIN_SHARE_FOR_CREDIT = 0.5
# A session's stored duration is the time that can plausibly have been spent on it: at most this
# multiple of the planned duration (a workout left running for days did not last days).
MAX_SHARE_OF_PLAN = 2
# A credited session's calories are at least this share of the workout's estimate (spec rule 3).
MIN_CALORIE_SHARE = 0.5
EARLY_HOUR, LATE_HOUR = 7, 21


def normalise_body_focus(value: str | None) -> BodyFocus | None:
    if value is None:
        return None
    return BodyFocus(BODY_FOCUS_ALIASES.get(value.strip().lower(), value.strip().lower()))


def plausible_seconds(elapsed: int, planned_seconds: int) -> int:
    """The time that can plausibly have been spent: the elapsed time up to twice the plan; a
    session left open longer than that counts as the planned duration (and is flagged
    `left_open`)."""
    elapsed = max(0, elapsed)
    if planned_seconds > 0 and elapsed > planned_seconds * MAX_SHARE_OF_PLAN:
        return planned_seconds
    return elapsed


def _left_open(row: WorkoutSessionRow) -> bool:
    """The session ran more than twice its plan: its time was counted as the plan."""
    if row.completed_at is None or row.duration_seconds is None:
        return False
    return (row.completed_at - row.started_at).total_seconds() > MAX_SHARE_OF_PLAN * row.duration_seconds


def _category(row: WorkoutCategoryRow | None, count: int = 0) -> WorkoutCategory | None:
    if row is None:
        return None
    return WorkoutCategory(
        id=row.id, name=row.name, description=row.description, icon=row.icon, color=row.color, workout_count=count
    )


def _workout(
    row: WorkoutRow,
    category: WorkoutCategoryRow | None = None,
    exercises: list[Exercise] | None = None,
    counts: dict[uuid.UUID, int] | None = None,
) -> Workout:
    """A workout; `counts` (workouts per category) fills in its category's `workout_count`."""
    return Workout(
        id=row.id,
        name=row.name,
        description=row.description,
        workout_type=WorkoutType(row.workout_type),
        difficulty=Difficulty(row.difficulty),
        duration_minutes=row.duration_minutes,
        calories_estimate=row.calories_estimate,
        thumbnail_url=row.thumbnail_url,
        video_url=row.video_url,
        category_id=row.category_id,
        category=_category(category, (counts or {}).get(category.id, 0) if category else 0),
        equipment_needed=list(row.equipment_needed or []),
        is_featured=row.is_featured,
        is_premium=row.is_premium,
        body_focus=BodyFocus(row.body_focus),
        high_impact=row.high_impact,
        jumping=row.jumping,
        floor=row.floor,
        stress_areas=list(row.stress_areas or []),
        times_completed=row.times_completed,
        average_rating=round(row.total_rating / row.rating_count, 1) if row.rating_count else None,
        rating_count=row.rating_count,
        exercises=exercises,
    )


def _exercise(row: ExerciseRow) -> Exercise:
    return Exercise(
        id=row.id,
        workout_id=row.workout_id,
        name=row.name,
        description=row.description,
        duration_seconds=row.duration_seconds,
        rest_seconds=row.rest_seconds,
        sets=row.sets,
        reps=row.reps,
        order=row.position,
        body_focus=BodyFocus(row.body_focus),
        difficulty=Difficulty(row.difficulty),
        equipment_required=row.equipment_required,
        calories_per_minute=row.calories_per_minute,
        video_url=row.video_url,
        thumbnail_url=row.thumbnail_url,
        high_impact=row.high_impact,
        jumping=row.jumping,
        floor=row.floor,
        stress_areas=list(row.stress_areas or []),
    )


def _recipe_summary(row: RecipeRow, saved: bool) -> RecipeSummary:
    return RecipeSummary(
        id=row.id,
        name=row.name,
        meal_type=MealType(row.meal_type),
        prep_time_minutes=row.prep_time_minutes,
        cook_time_minutes=row.cook_time_minutes,
        calories=row.calories,
        protein_g=row.protein_g,
        diet_tags=[DietTag(t) for t in row.diet_tags or []],
        image_url=row.image_url,
        is_featured=row.is_featured,
        is_saved=saved,
        times_saved=row.times_saved,
    )


class ContentService(ContentInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def completed_workouts_between(
        self, identity_id: uuid.UUID, start: datetime, end: datetime, *, limit: int = 500
    ) -> list[CompletedWorkout]:
        rows = await self.session.execute(
            select(WorkoutSessionRow.id, WorkoutRow.name, WorkoutSessionRow.started_at, WorkoutSessionRow.completed_at)
            .join(WorkoutRow, WorkoutRow.id == WorkoutSessionRow.workout_id)
            .where(
                WorkoutSessionRow.identity_id == identity_id,
                WorkoutSessionRow.status == SessionStatus.COMPLETED,
                WorkoutSessionRow.completed_at >= start,
                WorkoutSessionRow.completed_at < end,
            )
            .order_by(WorkoutSessionRow.completed_at)
            .limit(limit)
        )
        return [
            CompletedWorkout(session_id=r.id, workout_name=r.name, started_at=r.started_at, completed_at=r.completed_at)
            for r in rows
        ]

    # Categories and workouts ----------------------------------------------------------------

    async def categories(self) -> list[WorkoutCategory]:
        counts = select(W.category_id, func.count().label("n")).group_by(W.category_id).subquery()
        rows = await self.session.execute(
            select(WorkoutCategoryRow, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.category_id == WorkoutCategoryRow.id)
            .order_by(WorkoutCategoryRow.name)
        )
        return [c for row, n in rows.all() if (c := _category(row, int(n))) is not None]

    async def category(self, category_id: uuid.UUID) -> WorkoutCategory:
        for category in await self.categories():
            if category.id == category_id:
                return category
        raise CategoryNotFound("Category not found")

    async def workouts(
        self,
        *,
        workout_type: WorkoutType | None = None,
        difficulty: Difficulty | None = None,
        category_id: uuid.UUID | None = None,
        body_focus: BodyFocus | None = None,
        min_duration: int | None = None,
        max_duration: int | None = None,
        is_featured: bool | None = None,
        search: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[Workout]:
        query = select(W, WorkoutCategoryRow).join(WorkoutCategoryRow, WorkoutCategoryRow.id == W.category_id)
        if workout_type is not None:
            query = query.where(W.workout_type == str(workout_type))
        if difficulty is not None:
            query = query.where(W.difficulty == str(difficulty))
        if category_id is not None:
            query = query.where(W.category_id == category_id)
        if body_focus is not None:
            # The workout's own (main) focus, not that of any one of its exercises.
            query = query.where(W.body_focus == str(body_focus))
        if min_duration is not None:
            query = query.where(W.duration_minutes >= min_duration)
        if max_duration is not None:
            query = query.where(W.duration_minutes <= max_duration)
        if is_featured is not None:
            query = query.where(W.is_featured.is_(is_featured))
        if search:
            pattern = f"%{_escape_like(search.strip().lower())}%"
            query = query.where(
                or_(func.lower(W.name).like(pattern, escape="\\"), func.lower(W.description).like(pattern, escape="\\"))
            )
        query = query.order_by(W.is_featured.desc(), W.sort_order, W.name).limit(limit).offset(offset)
        rows = (await self.session.execute(query)).all()
        counts = await self._category_counts() if rows else {}
        return [_workout(w, c, counts=counts) for w, c in rows]

    async def _category_counts(self) -> dict[uuid.UUID, int]:
        """How many workouts each category has (one grouped read of the catalogue)."""
        rows = await self.session.execute(select(W.category_id, func.count()).group_by(W.category_id))
        return {category_id: int(n) for category_id, n in rows.all()}

    async def workout(self, workout_id: uuid.UUID, *, include_exercises: bool = False) -> Workout:
        found = (
            await self.session.execute(
                select(W, WorkoutCategoryRow)
                .join(WorkoutCategoryRow, WorkoutCategoryRow.id == W.category_id)
                .where(W.id == workout_id)
            )
        ).first()
        if found is None:
            raise WorkoutNotFound("Workout not found")
        exercises = None
        if include_exercises:
            rows = await self.session.execute(
                select(ExerciseRow).where(ExerciseRow.workout_id == workout_id).order_by(ExerciseRow.position)
            )
            exercises = [_exercise(r) for r in rows.scalars()]
        return _workout(found[0], found[1], exercises, counts=await self._category_counts())

    async def exercises(
        self,
        *,
        body_focus: BodyFocus | None = None,
        difficulty: Difficulty | None = None,
        equipment_required: str | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Exercise]:
        """One row per exercise name (its first appearance in catalogue order), on every database."""
        ranked = select(
            ExerciseRow.id.label("exercise_id"),
            func.row_number()
            .over(partition_by=ExerciseRow.name, order_by=(W.sort_order, ExerciseRow.position))
            .label("rank"),
        ).join(W, W.id == ExerciseRow.workout_id)
        if body_focus is not None:
            ranked = ranked.where(ExerciseRow.body_focus == str(body_focus))
        if difficulty is not None:
            ranked = ranked.where(ExerciseRow.difficulty == str(difficulty))
        if equipment_required is not None:
            if equipment_required.lower() in ("none", "bodyweight"):
                ranked = ranked.where(ExerciseRow.equipment_required.is_(None))
            else:
                ranked = ranked.where(func.lower(ExerciseRow.equipment_required) == equipment_required.lower())
        if search:
            pattern = f"%{_escape_like(search.strip().lower())}%"
            ranked = ranked.where(func.lower(ExerciseRow.name).like(pattern, escape="\\"))
        firsts = ranked.subquery()
        query = (
            select(ExerciseRow)
            .join(firsts, and_(firsts.c.exercise_id == ExerciseRow.id, firsts.c.rank == 1))
            .order_by(ExerciseRow.name)
            .limit(limit)
            .offset(offset)
        )
        return [_exercise(r) for r in (await self.session.execute(query)).scalars()]

    async def rate_workout(self, identity_id: uuid.UUID, workout_id: uuid.UUID, rating: int) -> WorkoutRating:
        if await self.session.get(W, workout_id) is None:
            raise WorkoutNotFound("Workout not found")
        now = self.uow.now()
        inserted = await insert_ignore(
            self.session,
            WorkoutRatingRow,
            {
                "id": uuid.uuid4(),
                "identity_id": identity_id,
                "workout_id": workout_id,
                "rating": rating,
                "created_at": now,
                "updated_at": now,
            },
        )
        if inserted:
            delta_total, delta_count = rating, 1
        else:
            mine = (
                await self.session.execute(
                    select(WorkoutRatingRow)
                    .where(WorkoutRatingRow.identity_id == identity_id, WorkoutRatingRow.workout_id == workout_id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).scalar_one()
            delta_total, delta_count = rating - mine.rating, 0
            mine.rating = rating
            mine.updated_at = now
        self.uow.resources.catalogue.forget(self.session)
        await self.session.execute(
            update(W)
            .where(W.id == workout_id)
            .values(total_rating=W.total_rating + delta_total, rating_count=W.rating_count + delta_count)
        )
        total, count = (
            await self.session.execute(select(W.total_rating, W.rating_count).where(W.id == workout_id))
        ).one()
        return WorkoutRating(
            workout_id=workout_id, rating=rating, average_rating=round(total / count, 1), rating_count=count
        )

    # Sessions -------------------------------------------------------------------------------

    async def _session_view(self, row: WorkoutSessionRow, *, with_workout: bool = True) -> WorkoutSession:
        workout = await self.workout(row.workout_id) if with_workout else None
        return WorkoutSession(
            id=row.id,
            identity_id=row.identity_id,
            workout_id=row.workout_id,
            status=SessionStatus(row.status),
            started_at=row.started_at,
            completed_at=row.completed_at,
            duration_seconds=row.duration_seconds,
            left_open=_left_open(row),
            calories_burned=row.calories_burned,
            xp_earned=row.xp_earned,
            credited=row.credited,
            credit_reason=row.credit_reason,
            workout=workout,
        )

    async def start_session(self, identity_id: uuid.UUID, workout_id: uuid.UUID, *, premium: bool) -> WorkoutSession:
        workout = await self.session.get(W, workout_id)
        if workout is None:
            raise WorkoutNotFound("Workout not found")
        if workout.is_premium and not premium:
            raise PremiumRequired("This workout is part of UGOKI Premium")
        now = self.uow.now()
        current = (
            await self.session.execute(
                select(S).where(S.identity_id == identity_id, S.status == str(SessionStatus.ACTIVE)).with_for_update()
            )
        ).scalar_one_or_none()
        if current is not None:  # starting another workout ends the unfinished one
            await self._abandon(current, now)
        row = WorkoutSessionRow(
            id=uuid.uuid4(),
            identity_id=identity_id,
            workout_id=workout_id,
            status=str(SessionStatus.ACTIVE),
            started_at=now,
            xp_earned=0,
            credited=False,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError as exc:  # one active session per person: a concurrent start won
            raise SessionAlreadyActive("Another workout was started at the same moment") from exc
        await event_journal(self.uow).record(
            identity_id,
            EventType.WORKOUT_STARTED,
            related_id=row.id,
            related_type="workout_session",
            metadata={"workout_id": str(workout_id), "workout_name": workout.name},
        )
        return await self._session_view(row)

    async def active_session(self, identity_id: uuid.UUID) -> WorkoutSession | None:
        row = (
            await self.session.execute(
                select(S).where(S.identity_id == identity_id, S.status == str(SessionStatus.ACTIVE))
            )
        ).scalar_one_or_none()
        return await self._session_view(row) if row else None

    async def completed_session(self, identity_id: uuid.UUID, session_id: uuid.UUID) -> WorkoutSession | None:
        row = (
            await self.session.execute(
                select(S).where(
                    S.id == session_id, S.identity_id == identity_id, S.status == str(SessionStatus.COMPLETED)
                )
            )
        ).scalar_one_or_none()
        return None if row is None else await self._session_view(row)

    async def _lock_session(self, identity_id: uuid.UUID, session_id: uuid.UUID) -> WorkoutSessionRow:
        row = (
            await self.session.execute(
                select(S)
                .where(S.id == session_id, S.identity_id == identity_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None:
            raise SessionNotFound("Workout session not found")
        return row

    async def complete_session(
        self, identity_id: uuid.UUID, session_id: uuid.UUID, *, calories_burned: int | None
    ) -> CompletedSession:
        row = await self._lock_session(identity_id, session_id)
        if row.status != SessionStatus.ACTIVE:
            raise SessionNotActive(
                f"Session is not active (current status: {row.status})", extra={"status": row.status}
            )
        workout = await self.session.get(W, row.workout_id)
        if workout is None:  # pragma: no cover - catalogue rows are never deleted
            raise WorkoutNotFound("Workout not found")
        now = self.uow.now()
        elapsed = max(0, int((now - row.started_at).total_seconds()))
        planned = workout.duration_minutes * 60
        eligible = elapsed >= planned * MIN_SHARE_FOR_CREDIT
        duration = plausible_seconds(elapsed, planned)
        share = min(1.0, elapsed / planned) if planned else 1.0
        estimate = round(workout.calories_estimate * share)
        # The client's figure is used when plausible for the time spent (at most 3x our estimate),
        # and, for a session long enough to earn credit, when at least half the workout's estimate;
        # otherwise our estimate for the time spent (for a credited session, at least that half).
        plausible = calories_burned is not None and calories_burned <= max(estimate, 1) * 3
        if eligible and calories_burned is not None and calories_burned < workout.calories_estimate * MIN_CALORIE_SHARE:
            plausible = False
        row.status = str(SessionStatus.COMPLETED if eligible else SessionStatus.NOT_CREDITED)
        row.completed_at = now
        row.duration_seconds = duration
        row.calories_burned = calories_burned if plausible else estimate
        await self.session.flush()
        category = await self.session.get(WorkoutCategoryRow, workout.category_id)
        outcome = await self.uow.publish(
            WorkoutCompleted(
                identity_id=identity_id,
                occurred_at=now,
                session_id=row.id,
                workout_id=workout.id,
                workout_name=workout.name,
                category=category.name if category else None,
                difficulty=workout.difficulty,
                duration_seconds=duration,
                eligible=eligible,
                started_at=row.started_at,
            )
        )
        reward = outcome.first(Reward)
        if eligible:
            self.uow.resources.catalogue.forget(self.session)
            await self.session.execute(
                update(W).where(W.id == workout.id).values(times_completed=W.times_completed + 1)
            )
            await profile_service(self.uow).mark_onboarding(identity_id, OnboardingStep.FIRST_WORKOUT_COMPLETED)
        row.xp_earned = reward.xp_earned if reward else 0
        row.credited = bool(reward and reward.credited)
        row.credit_reason = None if row.credited else (reward.reason if reward else "Nothing to credit")
        if not eligible:
            row.credit_reason = (
                f"Too short to count: {elapsed // 60} of {workout.duration_minutes} planned minutes "
                f"(at least half is needed)"
            )
        await self.session.flush()
        await event_journal(self.uow).record(
            identity_id,
            EventType.WORKOUT_COMPLETED,
            related_id=row.id,
            related_type="workout_session",
            metadata={
                "workout_id": str(workout.id),
                "workout_name": workout.name,
                "duration_minutes": round(duration / 60),
                "calories_burned": row.calories_burned,
                "xp_earned": row.xp_earned,
                "base_xp": reward.base_xp if reward and row.credited else 0,
                "streak_bonus_xp": reward.streak_bonus_xp if reward and row.credited else 0,
                "achievement_xp": reward.achievement_xp if reward and row.credited else 0,
                "achievements": [{"name": a.name, "xp": a.xp_reward} for a in reward.achievements_unlocked]
                if reward
                else [],
                "credited": row.credited,
                "credit_reason": row.credit_reason,
            },
        )
        view = await self._session_view(row)
        return CompletedSession(
            **view.model_dump(exclude={"workout"}),
            workout=view.workout,
            level_up=bool(reward and reward.level_up),
            new_level=reward.new_level if reward and reward.level_up else None,
            achievements_unlocked=reward.achievements_unlocked if reward else [],
            streak=reward.streak if reward else None,
            base_xp=reward.base_xp if reward else 0,
            streak_bonus_xp=reward.streak_bonus_xp if reward else 0,
            achievement_xp=reward.achievement_xp if reward else 0,
        )

    async def _abandon(self, row: WorkoutSessionRow, now: datetime) -> None:
        row.status = str(SessionStatus.ABANDONED)
        row.completed_at = now
        workout = await self.session.get(W, row.workout_id)
        planned = workout.duration_minutes * 60 if workout is not None else 0
        row.duration_seconds = plausible_seconds(int((now - row.started_at).total_seconds()), planned)
        row.credit_reason = "Abandoned workouts earn nothing"
        await self.session.flush()
        await event_journal(self.uow).record(
            row.identity_id,
            EventType.WORKOUT_ABANDONED,
            related_id=row.id,
            related_type="workout_session",
            metadata={"workout_id": str(row.workout_id), "duration_seconds": row.duration_seconds},
        )

    async def abandon_session(self, identity_id: uuid.UUID, session_id: uuid.UUID) -> WorkoutSession:
        row = await self._lock_session(identity_id, session_id)
        if row.status != SessionStatus.ACTIVE:
            raise SessionNotActive(
                f"Session is not active (current status: {row.status})", extra={"status": row.status}
            )
        await self._abandon(row, self.uow.now())
        return await self._session_view(row)

    async def session_history(self, identity_id: uuid.UUID, *, limit: int, offset: int) -> list[WorkoutSession]:
        rows = (
            await self.session.execute(
                select(S, W, WorkoutCategoryRow)
                .join(W, W.id == S.workout_id)
                .join(WorkoutCategoryRow, WorkoutCategoryRow.id == W.category_id)
                .where(S.identity_id == identity_id)
                .order_by(S.started_at.desc(), S.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        out: list[WorkoutSession] = []
        counts = await self._category_counts() if rows else {}
        for session_row, workout_row, category_row in rows:
            view = await self._session_view(session_row, with_workout=False)
            out.append(view.model_copy(update={"workout": _workout(workout_row, category_row, counts=counts)}))
        return out

    # Stats ----------------------------------------------------------------------------------

    async def stats(self, identity_id: uuid.UUID) -> WorkoutStats:
        zone = await profile_service(self.uow).zone_of(identity_id)
        local_now = self.uow.now().astimezone(zone)
        today_start = datetime.combine(local_now.date(), time.min, zone)
        week_start = today_start - timedelta(days=local_now.weekday())
        done = and_(S.identity_id == identity_id, S.status == str(SessionStatus.COMPLETED), S.credited.is_(True))
        totals = (
            await self.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(S.duration_seconds), 0),  # stored capped at twice the plan
                    func.coalesce(func.sum(S.calories_burned), 0),
                    func.coalesce(func.sum(case((S.completed_at >= week_start, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((S.completed_at >= today_start, 1), else_=0)), 0),
                ).where(done)
            )
        ).one()
        count, seconds, calories, this_week, today = (int(v) for v in totals)
        by_type = (
            await self.session.execute(
                select(W.workout_type, WorkoutCategoryRow.name, func.count())
                .select_from(S)
                .join(W, W.id == S.workout_id)
                .join(WorkoutCategoryRow, WorkoutCategoryRow.id == W.category_id)
                .where(done)
                .group_by(W.workout_type, WorkoutCategoryRow.name)
            )
        ).all()
        type_counts: Counter[str] = Counter()
        # Every category is listed, with 0 when none of its workouts was done.
        by_category = dict.fromkeys(
            (await self.session.execute(select(WorkoutCategoryRow.name).order_by(WorkoutCategoryRow.name))).scalars(),
            0,
        )
        for workout_type, category_name, n in by_type:
            type_counts[workout_type] += n
            by_category[category_name] = by_category.get(category_name, 0) + n
        favourite = min(type_counts, key=lambda t: (-type_counts[t], t)) if type_counts else None
        return WorkoutStats(
            total_workouts=count,
            total_duration_minutes=seconds // 60,
            total_calories_burned=calories,
            favorite_workout_type=WorkoutType(favourite) if favourite else None,
            current_week_workouts=this_week,
            average_workout_duration=round(seconds / 60 / count, 1) if count else 0.0,
            workouts_by_category=by_category,
            workouts_today=today,
        )

    # Recipes --------------------------------------------------------------------------------

    async def _saved_ids(self, identity_id: uuid.UUID | None, recipe_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        if identity_id is None or not recipe_ids:
            return set()
        rows = await self.session.execute(
            select(SavedRecipeRow.recipe_id).where(
                SavedRecipeRow.identity_id == identity_id, SavedRecipeRow.recipe_id.in_(recipe_ids)
            )
        )
        return set(rows.scalars())

    async def recipes(
        self,
        viewer_id: uuid.UUID | None,
        *,
        meal_type: MealType | None = None,
        diet_tags: list[DietTag] | None = None,
        max_prep_time: int | None = None,
        max_calories: int | None = None,
        min_protein: float | None = None,
        is_featured: bool | None = None,
        search: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[RecipeSummary]:
        query = select(RecipeRow)
        if meal_type is not None:
            query = query.where(RecipeRow.meal_type == str(meal_type))
        tags = sorted({str(t) for t in diet_tags or []})
        if tags:  # every requested tag must be present (AND), in SQL, before paging
            tagged = (
                select(RecipeDietTagRow.recipe_id)
                .where(RecipeDietTagRow.tag.in_(tags))
                .group_by(RecipeDietTagRow.recipe_id)
                .having(func.count() == len(tags))
            )
            query = query.where(RecipeRow.id.in_(tagged))
        if max_prep_time is not None:
            query = query.where(RecipeRow.prep_time_minutes <= max_prep_time)
        if max_calories is not None:
            query = query.where(RecipeRow.calories <= max_calories)
        if min_protein is not None:
            query = query.where(RecipeRow.protein_g >= min_protein)
        if is_featured is not None:
            query = query.where(RecipeRow.is_featured.is_(is_featured))
        if search:
            pattern = f"%{_escape_like(search.strip().lower())}%"
            query = query.where(
                or_(
                    func.lower(RecipeRow.name).like(pattern, escape="\\"),
                    func.lower(RecipeRow.description).like(pattern, escape="\\"),
                )
            )
        query = query.order_by(RecipeRow.is_featured.desc(), RecipeRow.name).limit(limit).offset(offset)
        rows = list((await self.session.execute(query)).scalars())
        saved = await self._saved_ids(viewer_id, [r.id for r in rows])
        return [_recipe_summary(r, r.id in saved) for r in rows]

    async def recipe(self, recipe_id: uuid.UUID, viewer_id: uuid.UUID | None) -> Recipe:
        row = await self.session.get(RecipeRow, recipe_id)
        if row is None:
            raise RecipeNotFound("Recipe not found")
        saved = await self._saved_ids(viewer_id, [row.id])
        return Recipe(
            id=row.id,
            name=row.name,
            description=row.description,
            meal_type=MealType(row.meal_type),
            prep_time_minutes=row.prep_time_minutes,
            cook_time_minutes=row.cook_time_minutes,
            total_time_minutes=row.prep_time_minutes + row.cook_time_minutes,
            servings=row.servings,
            calories=row.calories,
            protein_g=row.protein_g,
            carbs_g=row.carbs_g,
            fat_g=row.fat_g,
            fiber_g=row.fiber_g,
            sugar_g=row.sugar_g,
            nutrition=nutrition_of(row),
            ingredients=[Ingredient.model_validate(i) for i in row.ingredients or []],
            instructions=list(row.instructions or []),
            diet_tags=[DietTag(t) for t in row.diet_tags or []],
            image_url=row.image_url,
            is_featured=row.is_featured,
            times_saved=row.times_saved,
            is_saved=row.id in saved,
        )

    async def save_recipe(self, identity_id: uuid.UUID, recipe_id: uuid.UUID) -> tuple[SavedRecipe, bool]:
        """Idempotent: returns the saved entry and whether this call saved it."""
        recipe = await self.session.get(RecipeRow, recipe_id)
        if recipe is None:
            raise RecipeNotFound("Recipe not found")
        inserted = await insert_ignore(
            self.session,
            SavedRecipeRow,
            {"id": uuid.uuid4(), "identity_id": identity_id, "recipe_id": recipe_id, "saved_at": self.uow.now()},
        )
        if inserted:
            await self.session.execute(
                update(RecipeRow).where(RecipeRow.id == recipe_id).values(times_saved=RecipeRow.times_saved + 1)
            )
            await event_journal(self.uow).record(
                identity_id,
                EventType.RECIPE_SAVED,
                related_id=recipe_id,
                related_type="recipe",
                metadata={"recipe_name": recipe.name},
            )
        saved = (
            await self.session.execute(
                select(SavedRecipeRow).where(
                    SavedRecipeRow.identity_id == identity_id, SavedRecipeRow.recipe_id == recipe_id
                )
            )
        ).scalar_one()
        await self.session.refresh(recipe)
        return (
            SavedRecipe(
                id=saved.id,
                identity_id=identity_id,
                recipe_id=recipe_id,
                saved_at=saved.saved_at,
                recipe=_recipe_summary(recipe, True),
            ),
            inserted,
        )

    async def unsave_recipe(self, identity_id: uuid.UUID, recipe_id: uuid.UUID) -> bool:
        """Idempotent: True when this call removed it."""
        if await self.session.get(RecipeRow, recipe_id) is None:
            raise RecipeNotFound("Recipe not found")
        result = await self.session.execute(
            delete(SavedRecipeRow).where(
                SavedRecipeRow.identity_id == identity_id, SavedRecipeRow.recipe_id == recipe_id
            )
        )
        removed = bool(rowcount(result))
        if removed:
            await self.session.execute(
                update(RecipeRow)
                .where(RecipeRow.id == recipe_id, RecipeRow.times_saved > 0)
                .values(times_saved=RecipeRow.times_saved - 1)
            )
            await event_journal(self.uow).record(
                identity_id, EventType.RECIPE_UNSAVED, related_id=recipe_id, related_type="recipe"
            )
        return removed

    async def saved_recipes(self, identity_id: uuid.UUID, *, limit: int, offset: int) -> list[RecipeSummary]:
        rows = await self.session.execute(
            select(RecipeRow)
            .join(SavedRecipeRow, SavedRecipeRow.recipe_id == RecipeRow.id)
            .where(SavedRecipeRow.identity_id == identity_id)
            .order_by(SavedRecipeRow.saved_at.desc(), RecipeRow.name)
            .limit(limit)
            .offset(offset)
        )
        return [_recipe_summary(r, True) for r in rows.scalars()]

    # Recommendations ------------------------------------------------------------------------

    async def recommendations(self, identity_id: uuid.UUID, *, limit: int) -> list[Recommendation]:
        from .recommend import recommend

        profiles = profile_service(self.uow)
        restrictions = await profiles.workout_restrictions_of(identity_id)
        preferences = await profiles.preferences_of(identity_id)
        zone = ZoneInfo(preferences.timezone)
        catalogue = (
            await self.session.execute(
                select(W, WorkoutCategoryRow).join(WorkoutCategoryRow, WorkoutCategoryRow.id == W.category_id)
            )
        ).all()
        history = (
            await self.session.execute(
                select(S.workout_id, S.completed_at)
                .where(S.identity_id == identity_id, S.status == str(SessionStatus.COMPLETED), S.credited.is_(True))
                .order_by(S.completed_at.desc())
                .limit(50)
            )
        ).all()
        counts = dict(Counter(w.category_id for w, _ in catalogue))  # the whole catalogue is at hand
        today = self.uow.now().astimezone(zone).date()
        yesterday = today - timedelta(days=1)
        completed = [workout_id for workout_id, _ in history]
        yesterday_ids = {w for w, at in history if at is not None and at.astimezone(zone).date() == yesterday}
        days_since: dict[uuid.UUID, int] = {}
        for workout_id, at in history:  # newest first: the first sighting is the latest
            if at is not None and workout_id not in days_since:
                days_since[workout_id] = (today - at.astimezone(zone).date()).days
        return recommend(
            [_workout(w, c, counts=counts) for w, c in catalogue],
            restrictions=restrictions,
            preferred_types=[t.lower() for t in preferences.preferred_workout_types],
            completed=completed,
            yesterday=yesterday_ids,
            limit=limit,
            days_since=days_since,
        )

    # Personal data --------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> dict[str, Any]:
        sessions = await self.session_history(identity_id, limit=100_000, offset=0)
        ratings = await self.session.execute(
            select(WorkoutRatingRow.workout_id, WorkoutRatingRow.rating).where(
                WorkoutRatingRow.identity_id == identity_id
            )
        )
        saved = await self.saved_recipes(identity_id, limit=100_000, offset=0)
        return {
            "workout_sessions": [s.model_dump(mode="json", exclude={"workout"}) for s in sessions],
            "workout_ratings": [{"workout_id": str(w), "rating": r} for w, r in ratings.all()],
            "saved_recipes": [{"recipe_id": str(r.id), "name": r.name} for r in saved],
        }

    async def erase(self, identity_id: uuid.UUID) -> int:
        total = 0
        ratings = (
            await self.session.execute(
                select(WorkoutRatingRow.workout_id, WorkoutRatingRow.rating).where(
                    WorkoutRatingRow.identity_id == identity_id
                )
            )
        ).all()
        if ratings:
            self.uow.resources.catalogue.forget(self.session)
        for workout_id, rating in ratings:  # keep the averages true
            await self.session.execute(
                update(W)
                .where(W.id == workout_id)
                .values(total_rating=W.total_rating - rating, rating_count=W.rating_count - 1)
            )
        saved = list(
            (
                await self.session.execute(
                    select(SavedRecipeRow.recipe_id).where(SavedRecipeRow.identity_id == identity_id)
                )
            ).scalars()
        )
        if saved:
            await self.session.execute(
                update(RecipeRow)
                .where(RecipeRow.id.in_(saved), RecipeRow.times_saved > 0)
                .values(times_saved=RecipeRow.times_saved - 1)
            )
        for row_type in (WorkoutRatingRow, SavedRecipeRow, WorkoutSessionRow):
            result = await self.session.execute(delete(row_type).where(row_type.identity_id == identity_id))
            total += rowcount(result)
        return total

    async def anonymize(self, identity_id: uuid.UUID, replacement_id: uuid.UUID) -> int:
        total = 0
        for row_type in (WorkoutRatingRow, SavedRecipeRow, WorkoutSessionRow):
            result = await self.session.execute(
                update(row_type).where(row_type.identity_id == identity_id).values(identity_id=replacement_id)
            )
            total += rowcount(result)
        return total


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
