from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update

from src.core.bus import Order, Subscription
from src.core.contracts import FastCompleted, Reward, SocialProgress, WeightLogged, WorkoutCompleted
from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.persistence import rowcount
from src.core.uow import UnitOfWork

from .orm import ProgressionStatsRow, StreakDayRow, StreakRow, UserAchievementRow, UserLevelRow, XPTransactionRow
from .routes import router
from .service import STAT_FIELDS, ProgressionService

_PERSONAL = (XPTransactionRow, UserLevelRow, StreakRow, StreakDayRow, ProgressionStatsRow, UserAchievementRow)


async def _on_fast(uow: UnitOfWork, event: FastCompleted) -> Reward:
    return await ProgressionService(uow).credit_fast(event)


async def _on_workout(uow: UnitOfWork, event: WorkoutCompleted) -> Reward:
    return await ProgressionService(uow).credit_workout(event)


async def _on_weight(uow: UnitOfWork, event: WeightLogged) -> Reward:
    return await ProgressionService(uow).credit_weight(event)


async def _on_social(uow: UnitOfWork, event: SocialProgress) -> Reward:
    return await ProgressionService(uow).record_social(event)


async def _seed(uow: UnitOfWork) -> None:
    await ProgressionService(uow).seed_catalogue()


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    service = ProgressionService(uow)
    ledger = await uow.session.execute(
        select(XPTransactionRow)
        .where(XPTransactionRow.identity_id == identity_id)
        .order_by(XPTransactionRow.created_at)
    )
    stats = await uow.session.get(ProgressionStatsRow, identity_id)
    return {
        "level": (await service.level(identity_id)).model_dump(mode="json"),
        # The counters achievements are measured on (activities, early/late workouts, friends…).
        "progression_stats": None
        if stats is None
        else {
            **{name: int(getattr(stats, name)) for name in STAT_FIELDS},
            "workout_categories": list(stats.workout_categories),
            "updated_at": stats.updated_at.isoformat(),
        },
        "streaks": [s.model_dump(mode="json") for s in await service.streaks(identity_id)],
        "streak_days": [
            {"streak_type": row.streak_type, "day": row.day.isoformat()}
            for row in (
                await uow.session.execute(
                    select(StreakDayRow)
                    .where(StreakDayRow.identity_id == identity_id)
                    .order_by(StreakDayRow.streak_type, StreakDayRow.day)
                )
            ).scalars()
        ],
        "achievements": [
            a.model_dump(mode="json") for a in await service.my_achievements(identity_id, unlocked_only=True)
        ],
        "xp_ledger": [
            {
                "amount": row.amount,
                "transaction_type": row.transaction_type,
                "description": row.description,
                "created_at": row.created_at.isoformat(),
            }
            for row in ledger.scalars()
        ],
    }


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    total = 0
    for row_type in _PERSONAL:
        result = await uow.session.execute(delete(row_type).where(row_type.identity_id == identity_id))
        total += rowcount(result)
    return total


async def _anonymize(uow: UnitOfWork, identity_id: UUID, replacement_id: UUID) -> int:
    total = 0
    for row_type in _PERSONAL:
        values: dict[str, Any] = {"identity_id": replacement_id}
        if row_type is XPTransactionRow:
            values["description"] = None
        result = await uow.session.execute(update(row_type).where(row_type.identity_id == identity_id).values(**values))
        total += rowcount(result)
    return total


MANIFEST = ModuleManifest(
    name="progression",
    router=router,
    subscriptions=(
        Subscription(FastCompleted, _on_fast, order=Order.PROGRESSION, name="progression.credit_fast"),
        Subscription(WorkoutCompleted, _on_workout, order=Order.PROGRESSION, name="progression.credit_workout"),
        Subscription(WeightLogged, _on_weight, order=Order.PROGRESSION, name="progression.credit_weight"),
        Subscription(SocialProgress, _on_social, order=Order.PROGRESSION, name="progression.social"),
    ),
    personal_data=PersonalData(
        module="progression",
        tables=("xp_transactions", "user_levels", "streaks", "streak_days", "progression_stats", "user_achievements"),
        export=_export,
        erase=_erase,
        anonymize=_anonymize,
        order=400,
    ),
    seeders=(_seed,),
    reference_tables=("achievements",),
)
