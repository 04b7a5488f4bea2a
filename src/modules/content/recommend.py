"""Workout recommendations (a pure function of the catalogue and the person's data, so the same
data always gives the same answer)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from uuid import UUID

from src.modules.profile import WorkoutRestrictions

from .models import DIFFICULTY_RANK, BodyFocus, Difficulty, Recommendation, Workout, WorkoutType

# Workouts that help the body recover: fine on consecutive days, so never ranked lower for repeating
# yesterday, and doing one yesterday trains no type or body focus to rest.
RESTORATIVE = frozenset({WorkoutType.FLEXIBILITY, WorkoutType.RECOVERY})
# How much lower a workout ranks when it repeats yesterday's type or body focus.
YESTERDAY_PENALTY = 0.3
# A workout done in the last RECENT_DAYS days ranks this much lower (the same session again soon).
RECENT_DAYS = 3
RECENT_PENALTY = 0.2
# At most this many "featured" picks in one list.
MAX_FEATURED = 2
# Credited completions at the person's level that unlock the next level.
COMPLETIONS_TO_LEVEL_UP = 5
FOCUS_WORDS = {
    BodyFocus.UPPER_BODY: "your upper body",
    BodyFocus.LOWER_BODY: "your lower body",
    BodyFocus.FULL_BODY: "your full body",
    BodyFocus.CORE: "your core",
}


def effective_level(declared: Difficulty, completed: Iterable[Difficulty]) -> Difficulty:
    """The fitness level recommendations use: the declared one, raised to the hardest level the
    person has completed, and one step further once they completed `COMPLETIONS_TO_LEVEL_UP`
    workouts at that level."""
    done = list(completed)
    rank = max([DIFFICULTY_RANK[declared], *(DIFFICULTY_RANK[d] for d in done)])
    if sum(1 for d in done if DIFFICULTY_RANK[d] == rank) >= COMPLETIONS_TO_LEVEL_UP:
        rank = min(rank + 1, max(DIFFICULTY_RANK.values()))
    return next(d for d, r in DIFFICULTY_RANK.items() if r == rank)


def allowed(workout: Workout, restrictions: WorkoutRestrictions, level: Difficulty | None = None) -> bool:
    """Whether a workout respects the person's restrictions (and fitness `level`, default the
    declared one)."""
    if restrictions.avoid_high_impact and workout.high_impact:
        return False
    if restrictions.avoid_jumping and workout.jumping:
        return False
    if restrictions.avoid_floor_exercises and workout.floor:
        return False
    if set(workout.stress_areas) & {str(area) for area in restrictions.injury_areas}:
        return False
    if workout.duration_minutes > restrictions.max_workout_duration_minutes:
        return False
    ceiling = DIFFICULTY_RANK[level or Difficulty(str(restrictions.fitness_level))]
    return DIFFICULTY_RANK[workout.difficulty] <= ceiling


def recommend(
    catalogue: Iterable[Workout],
    *,
    restrictions: WorkoutRestrictions,
    preferred_types: list[str],
    completed: list[UUID],
    yesterday: set[UUID],
    limit: int,
    days_since: dict[UUID, int] | None = None,
) -> list[Recommendation]:
    """`completed`: the person's credited workouts, newest first (repeats included);
    `days_since`: for workouts done lately, how many days ago (0 = today)."""
    workouts = sorted(catalogue, key=lambda w: w.name)
    by_id = {w.id: w for w in workouts}
    done = set(completed)
    mine = Counter(completed)
    level = effective_level(
        Difficulty(str(restrictions.fitness_level)), (by_id[w].difficulty for w in completed if w in by_id)
    )
    recent = {w: days for w, days in (days_since or {}).items() if days < RECENT_DAYS}
    # The featured picks: untried featured workouts, the ones nearest the person's level first.
    featured = {
        w.id
        for w in sorted(
            (w for w in workouts if w.is_featured and w.id not in done and allowed(w, restrictions, level)),
            key=lambda w: (-DIFFICULTY_RANK[w.difficulty], w.name),
        )[:MAX_FEATURED]
    }
    # What yesterday trained: restorative sessions (flexibility, recovery) train no type or focus.
    trained = [by_id[w] for w in sorted(yesterday) if w in by_id and by_id[w].workout_type not in RESTORATIVE]
    yesterday_types = {w.workout_type for w in trained}
    yesterday_focus = {w.body_focus for w in trained}
    favourite_counts = Counter(by_id[w].workout_type for w in completed if w in by_id)
    favourite = min(favourite_counts, key=lambda t: (-favourite_counts[t], t)) if favourite_counts else None
    tried_types = {by_id[w].workout_type for w in done if w in by_id}

    scored: list[Recommendation] = []
    for workout in workouts:
        if not allowed(workout, restrictions, level):
            continue
        others = max(0, workout.times_completed - mine[workout.id])  # completions by other people
        if workout.workout_type in preferred_types:  # the person's own choice ranks first
            score, reason = 0.95, f"Matches your preferred workout type: {workout.workout_type}"
        elif workout.id in featured:
            score, reason = 0.9, "Featured workout you haven't tried yet"
        elif favourite is not None and workout.workout_type == favourite and workout.id not in done:
            score, reason = 0.8, f"More of your favourite: {workout.workout_type}"
        elif workout.workout_type not in tried_types:
            score, reason = 0.7, f"Try something new: {workout.workout_type}"
        elif others > 0:
            score = 0.5 + min(0.1, others / 10_000)
            reason = "Popular with other users"
        else:
            score, reason = 0.5, f"Fits your level: {level}"
        if DIFFICULTY_RANK[workout.difficulty] > DIFFICULTY_RANK[Difficulty(str(restrictions.fitness_level))]:
            reason += f" (unlocked by the {level} workouts you completed)"
        lower: list[str] = []
        repeated = _repeats(workout, yesterday_types, yesterday_focus)
        if repeated:
            score -= YESTERDAY_PENALTY
            lower.append(f"you trained {' and '.join(repeated)} yesterday")
        if workout.id in recent:
            score -= RECENT_PENALTY
            days = recent[workout.id]
            lower.append("you did it " + ("today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"))
        if lower:
            reason += f" (ranked lower: {'; '.join(lower)})"
        scored.append(Recommendation(workout=workout, reason=reason, score=round(score, 2)))
    scored.sort(key=lambda r: (-r.score, r.workout.difficulty != Difficulty.BEGINNER, r.workout.name))
    return scored[:limit]


def _repeats(workout: Workout, types: set[WorkoutType], focuses: set[BodyFocus]) -> list[str]:
    """What of yesterday's training this workout would repeat, in words (empty: nothing)."""
    if workout.workout_type in RESTORATIVE:
        return []
    repeated = []
    if workout.workout_type in types:
        repeated.append(str(workout.workout_type))
    if workout.body_focus in focuses:
        repeated.append(FOCUS_WORDS[workout.body_focus])
    return repeated
