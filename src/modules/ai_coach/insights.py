"""The person's context, today's insight and motivation lines, from their own data."""

from __future__ import annotations

import secrets
import uuid

from src.core.security import Principal
from src.core.uow import UnitOfWork

from .data import WEIGHT, PersonData
from .models import ActiveFastSummary, CoachingInsight, Motivation, Personality, UserContext
from .service import CoachService
from .tools import hours_minutes


async def user_context(uow: UnitOfWork, principal: Principal) -> UserContext:
    identity_id = principal.identity_id
    service = CoachService(uow)
    data = PersonData(uow, identity_id)
    level = await data.level()
    streaks = await data.streaks()
    fast = await data.active_fast()
    fasts = await data.recent_fasts(7)
    stats = await data.workout_stats()
    latest = (await data.latest_health()).get(WEIGHT)
    trend = await data.weight_trend(30)
    goals = await data.goals()
    local = await data.local_now()
    summary: ActiveFastSummary | None = None
    if fast is not None:
        summary = ActiveFastSummary(
            protocol=fast.protocol,
            elapsed_hours=round(fast.elapsed_seconds / 3600, 2),
            target_hours=round(fast.target_seconds / 3600, 2) if fast.target_seconds else None,
            remaining_hours=round(fast.remaining_seconds / 3600, 2) if fast.remaining_seconds is not None else None,
            progress_percent=fast.progress_percent,
            stage=fast.stage.name if fast.stage else None,
            next_stage=fast.next_stage.name if fast.next_stage else None,
            next_stage_in_hours=round(fast.next_stage.starts_in_seconds / 3600, 2) if fast.next_stage else None,
        )
    hours = [f.elapsed_seconds / 3600 for f in fasts]
    return UserContext(
        level=level.current_level,
        title=level.title,
        total_xp=level.total_xp_earned,
        xp_to_next_level=max(0, level.xp_for_next_level - level.current_xp),
        streaks={str(s.streak_type): s.current_count for s in streaks},
        longest_streaks={str(s.streak_type): s.longest_count for s in streaks},
        active_fast=summary,
        fasts_last_7_days=len(fasts),
        average_fast_hours_last_7_days=round(sum(hours) / len(hours), 1) if hours else None,
        total_workouts=stats.total_workouts,
        workouts_this_week=stats.current_week_workouts,
        weight_kg=round(latest.value, 1) if latest else None,
        weight_change_30_days_kg=(
            round(trend.last_value - trend.first_value, 1) if trend is not None and trend.data_points >= 2 else None
        ),
        target_weight_kg=goals.target_weight_kg,
        personality=(await service.settings(identity_id)).personality,
        local_date=local.date().isoformat(),
        local_time=local.strftime("%H:%M"),
        timezone=(await data.preferences()).timezone,
        messages_today=await service.messages_today(identity_id),
        daily_message_limit=service.daily_limit(principal),
    )


GENERAL_TIPS = (
    CoachingInsight(
        title="Hydration Tip",
        content="Water, black coffee and plain tea keep you going during a fast; add a pinch of salt if you feel "
        "light-headed.",
        category="fasting",
        priority=5,
    ),
    CoachingInsight(
        title="Consistency Wins",
        content="Short sessions done often beat long sessions done rarely: ten minutes today counts.",
        category="motivation",
        priority=5,
    ),
)


async def insight(uow: UnitOfWork, identity_id: uuid.UUID) -> CoachingInsight:
    """The most relevant observation about the person today (their numbers), else a general tip."""
    data = PersonData(uow, identity_id)
    fast = await data.active_fast()
    if fast is not None and fast.next_stage is not None and fast.next_stage.starts_in_seconds <= 3 * 3600:
        return CoachingInsight(
            title=f"{fast.next_stage.label} is close",
            content=(
                f"You're {hours_minutes(fast.elapsed_seconds)} into your fast; {fast.next_stage.label.lower()} "
                f"starts at {fast.next_stage.starts_at_hours} h, in {hours_minutes(fast.next_stage.starts_in_seconds)}."
            ),
            category="fasting",
            priority=1,
        )
    streaks = await data.streaks()
    at_risk = [s for s in streaks if s.current_count >= 2 and not s.active_today]
    if at_risk:
        streak = max(at_risk, key=lambda s: s.current_count)
        return CoachingInsight(
            title="Keep your streak alive",
            content=(
                f"Your {streak.streak_type} streak is at {streak.current_count} days - one activity today "
                "keeps it going."
            ),
            category="streak",
            priority=1,
        )
    fasts = await data.recent_fasts(7)
    if fasts:
        hours = [f.elapsed_seconds / 3600 for f in fasts]
        return CoachingInsight(
            title="Your fasting week",
            content=(
                f"Your fasts of the last 7 days averaged {sum(hours) / len(hours):.1f} h across {len(fasts)} "
                f"{'fast' if len(fasts) == 1 else 'fasts'} (longest {max(hours):.1f} h)."
            ),
            category="fasting",
            priority=2,
        )
    stats = await data.workout_stats()
    goals = await data.goals()
    if stats.total_workouts:
        left = goals.weekly_workout_goal - stats.current_week_workouts
        content = f"{stats.current_week_workouts} of your {goals.weekly_workout_goal} workouts done this week" + (
            f" - {left} to go." if left > 0 else " - goal reached!"
        )
        return CoachingInsight(title="Workout week", content=content, category="workout", priority=2)
    trend = await data.weight_trend(30)
    if trend is not None and trend.data_points >= 2:
        change = trend.last_value - trend.first_value
        return CoachingInsight(
            title="Weight trend",
            content=f"Your weight changed by {change:+.1f} kg over the last 30 days ({trend.data_points} entries).",
            category="weight",
            priority=3,
        )
    return GENERAL_TIPS[secrets.randbelow(len(GENERAL_TIPS))]


MOTIVATION_LINES: dict[Personality, tuple[str, ...]] = {
    Personality.MOTIVATIONAL: (
        "Every hour of your fast is a win - keep stacking them!",
        "You're stronger than your excuses. Let's go!",
        "Small steps every day add up to big change.",
        "Your future self will thank you for today.",
    ),
    Personality.CALM: (
        "Breathe. Progress is steady, even when it's quiet.",
        "Be patient with yourself; consistency matters more than intensity.",
        "Listen to your body and take the next small step.",
        "Rest is part of the process too.",
    ),
    Personality.TOUGH: (
        "No one is coming to do it for you. Move.",
        "Discipline beats motivation. Show up.",
        "Comfort is the enemy of progress.",
        "You said you wanted it. Prove it today.",
    ),
    Personality.FRIENDLY: (
        "You're doing great - I'm proud of you!",
        "Hey, every bit counts. Let's do this together!",
        "Remember why you started - you've got this!",
        "One more day of good choices, friend!",
    ),
}

CONTEXT_LINES = {
    "completed fast": "Fast complete - that's discipline paying off. Refuel well!",
    "completed workout": "Workout done! Every session makes you stronger.",
    "new streak": "A new streak is born - keep the chain going!",
}


async def motivation(
    uow: UnitOfWork, identity_id: uuid.UUID, context: str | None, personality: Personality
) -> Motivation:
    lowered = (context or "").lower()
    for key, line in CONTEXT_LINES.items():
        if key in lowered:
            return Motivation(message=line, personality=personality)
    lines = MOTIVATION_LINES[personality]
    line = lines[secrets.randbelow(len(lines))]
    streaks = await PersonData(uow, identity_id).streaks()
    best = max(streaks, key=lambda s: s.current_count, default=None)
    if best is not None and best.current_count >= 2:
        line += f" Your {best.streak_type} streak is at {best.current_count} days."
    return Motivation(message=line, personality=personality)
