from __future__ import annotations

from typing import Any
from uuid import UUID

from src.core.bus import Order, Subscription
from src.core.contracts import (
    AchievementUnlocked,
    FastCompleted,
    LevelReached,
    MetricRecorded,
    SocialProgress,
    WorkoutCompleted,
)
from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.outbox import Delivery
from src.core.uow import UnitOfWork

from .calendar import CalendarFeeds
from .models import WebhookEventType
from .routes import router
from .webhooks import DELIVER_TOPIC, Webhooks

# After everything else the event causes (journal, XP, streaks, notifications): a webhook is
# queued only with the rest of the transaction.
WEBHOOK_ORDER = Order.NOTIFICATION + 5


async def _on_fast(uow: UnitOfWork, event: FastCompleted) -> None:
    await Webhooks(uow).emit(
        event.identity_id,
        WebhookEventType.FAST_COMPLETED,
        event.occurred_at,
        {
            "window_id": str(event.window_id),
            "protocol": event.protocol,
            "started_at": event.started_at.isoformat(),
            "ended_at": event.ended_at.isoformat(),
            "fasted_seconds": event.fasted_seconds,
        },
    )


async def _on_workout(uow: UnitOfWork, event: WorkoutCompleted) -> None:
    await Webhooks(uow).emit(
        event.identity_id,
        WebhookEventType.WORKOUT_COMPLETED,
        event.occurred_at,
        {
            "session_id": str(event.session_id),
            "workout_id": str(event.workout_id),
            "workout_name": event.workout_name,
            "category": event.category,
            "difficulty": event.difficulty,
            "duration_seconds": event.duration_seconds,
        },
    )


async def _on_metric(uow: UnitOfWork, event: MetricRecorded) -> None:
    # The value stays out of the message: a script that wants it reads it with a token holding
    # `metrics:read` (or `labs:read` for lab results).
    await Webhooks(uow).emit(
        event.identity_id,
        WebhookEventType.METRIC_RECORDED,
        event.occurred_at,
        {"metric_id": str(event.metric_id), "metric_type": event.metric_type},
    )


async def _on_social(uow: UnitOfWork, event: SocialProgress) -> None:
    if event.challenge_won:
        await Webhooks(uow).emit(
            event.identity_id,
            WebhookEventType.CHALLENGE_WON,
            event.occurred_at,
            {
                "challenge_id": str(event.challenge_id) if event.challenge_id else None,
                "name": event.challenge_name,
            },
        )


async def _on_achievement(uow: UnitOfWork, event: AchievementUnlocked) -> None:
    await Webhooks(uow).emit(
        event.identity_id,
        WebhookEventType.ACHIEVEMENT_UNLOCKED,
        event.occurred_at,
        {
            "achievement_id": str(event.achievement_id),
            "name": event.name,
            "achievement_type": event.achievement_type,
            "xp_reward": event.xp_reward,
        },
    )


async def _on_level(uow: UnitOfWork, event: LevelReached) -> None:
    await Webhooks(uow).emit(
        event.identity_id, WebhookEventType.LEVEL_UP, event.occurred_at, {"level": event.level, "title": event.title}
    )


async def _deliver(uow: UnitOfWork, delivery: Delivery) -> None:
    await Webhooks(uow).deliver(delivery)


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    return {**await Webhooks(uow).export(identity_id), **await CalendarFeeds(uow).export(identity_id)}


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return await Webhooks(uow).erase(identity_id) + await CalendarFeeds(uow).erase(identity_id)


MANIFEST = ModuleManifest(
    name="integrations",
    router=router,
    subscriptions=(
        Subscription(FastCompleted, _on_fast, order=WEBHOOK_ORDER, name="integrations.webhook_fast"),
        Subscription(WorkoutCompleted, _on_workout, order=WEBHOOK_ORDER, name="integrations.webhook_workout"),
        Subscription(MetricRecorded, _on_metric, order=WEBHOOK_ORDER, name="integrations.webhook_metric"),
        Subscription(
            AchievementUnlocked, _on_achievement, order=WEBHOOK_ORDER, name="integrations.webhook_achievement"
        ),
        Subscription(LevelReached, _on_level, order=WEBHOOK_ORDER, name="integrations.webhook_level"),
        Subscription(SocialProgress, _on_social, order=WEBHOOK_ORDER, name="integrations.webhook_challenge"),
    ),
    outbox_handlers={DELIVER_TOPIC: _deliver},
    personal_data=PersonalData(
        module="integrations",
        tables=("webhook_endpoints", "webhook_deliveries", "calendar_feeds"),
        export=_export,
        erase=_erase,
        anonymize=None,  # nothing in them is worth keeping without the person
        order=50,
    ),
)
