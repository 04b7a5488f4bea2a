from __future__ import annotations

from typing import Any
from uuid import UUID

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.routing import ModuleRouter
from src.core.uow import UnitOfWork

from .avatar import router as avatar_router
from .routes import router
from .service import ProfileService

# Avatars live under `/uploads` (with the lab reports of bloodwork).
uploads = ModuleRouter(prefix="/uploads", tags=["uploads"])
uploads.include_router(avatar_router)


async def reencrypt_all(uow: UnitOfWork) -> int:
    """Operations (scripts/rotate_encryption_key.py): rewrite every encrypted field with the
    primary key; how many were rewritten."""
    return await ProfileService(uow).reencrypt_all()


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    return await ProfileService(uow).export(identity_id)


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return await ProfileService(uow).erase(identity_id)


MANIFEST = ModuleManifest(
    name="profile",
    router=router,
    extra_routers=(uploads,),
    personal_data=PersonalData(
        module="profile",
        tables=(
            "user_profiles",
            "user_goals",
            "health_profiles",
            "dietary_profiles",
            "workout_restrictions",
            "social_profiles",
            "user_preferences",
            "onboarding_status",
        ),
        export=_export,
        erase=_erase,
        anonymize=None,  # every profile field is personal: anonymisation deletes them
        order=800,
    ),
)
