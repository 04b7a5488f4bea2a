from __future__ import annotations

from typing import Any
from uuid import UUID

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.uow import UnitOfWork

from .routes import router
from .seed import seed_recipes, seed_workouts
from .service import ContentService


async def _seed_workouts(uow: UnitOfWork) -> None:
    await seed_workouts(uow)


async def _seed_recipes(uow: UnitOfWork) -> None:
    await seed_recipes(uow)


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    return await ContentService(uow).export(identity_id)


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return await ContentService(uow).erase(identity_id)


async def _anonymize(uow: UnitOfWork, identity_id: UUID, replacement_id: UUID) -> int:
    return await ContentService(uow).anonymize(identity_id, replacement_id)


MANIFEST = ModuleManifest(
    name="content",
    router=router,
    personal_data=PersonalData(
        module="content",
        tables=("workout_sessions", "workout_ratings", "user_saved_recipes"),
        export=_export,
        erase=_erase,
        anonymize=_anonymize,
        order=300,
    ),
    seeders=(_seed_workouts, _seed_recipes),
    reference_tables=("workout_categories", "workouts", "exercises", "recipes", "recipe_diet_tags"),
)
