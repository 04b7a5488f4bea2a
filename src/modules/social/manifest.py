from __future__ import annotations

from typing import Any
from uuid import UUID

from src.core.bus import Order, Subscription
from src.core.contracts import (
    FastCompleted,
    SocialProfileChanged,
    StreakChanged,
    WeightLogged,
    WorkoutCompleted,
    XPCredited,
)
from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.outbox import Delivery
from src.core.uow import UnitOfWork

from .interface import CHALLENGE_CLOSE_TOPIC
from .personal_data import anonymize, erase, export
from .routes import router, share_pages
from .service import SocialService


async def _on_xp(uow: UnitOfWork, event: XPCredited) -> None:
    await SocialService(uow).on_xp_credited(event)


async def _on_fast(uow: UnitOfWork, event: FastCompleted) -> None:
    await SocialService(uow).on_fast_completed(event)


async def _on_workout(uow: UnitOfWork, event: WorkoutCompleted) -> None:
    await SocialService(uow).on_workout_completed(event)


async def _on_weight(uow: UnitOfWork, event: WeightLogged) -> None:
    await SocialService(uow).on_weight_logged(event)


async def _on_streak(uow: UnitOfWork, event: StreakChanged) -> None:
    await SocialService(uow).on_streak_changed(event)


async def _on_profile(uow: UnitOfWork, event: SocialProfileChanged) -> None:
    await SocialService(uow).on_profile_changed(event)


async def _close_challenge(uow: UnitOfWork, message: Delivery) -> None:
    payload: dict[str, Any] = message.payload
    await SocialService(uow).close_challenge(UUID(str(payload["challenge_id"])))


MANIFEST = ModuleManifest(
    name="social",
    router=router,
    site_routers=(share_pages,),
    subscriptions=(
        Subscription(XPCredited, _on_xp, order=Order.SOCIAL, name="social.xp_totals"),
        Subscription(FastCompleted, _on_fast, order=Order.SOCIAL, name="social.fast_progress"),
        Subscription(WorkoutCompleted, _on_workout, order=Order.SOCIAL, name="social.workout_progress"),
        Subscription(WeightLogged, _on_weight, order=Order.SOCIAL, name="social.weigh_in_progress"),
        Subscription(StreakChanged, _on_streak, order=Order.SOCIAL, name="social.streak_standing"),
        Subscription(SocialProfileChanged, _on_profile, order=Order.SOCIAL, name="social.privacy_flags"),
    ),
    outbox_handlers={CHALLENGE_CLOSE_TOPIC: _close_challenge},
    personal_data=PersonalData(
        module="social",
        tables=(
            "friendships",
            "social_blocks",
            "follows",
            "challenges",
            "challenge_participants",
            "social_activity_days",
            "social_xp_totals",
            "social_streak_standings",
            "social_members",
            "social_share_cards",
        ),
        export=export,
        erase=erase,
        anonymize=anonymize,
        order=450,
    ),
)
