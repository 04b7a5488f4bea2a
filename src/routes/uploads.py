"""`/uploads`: bloodwork documents and avatars (file uploads handled outside the modules; they
reach modules only through their interfaces)."""

from __future__ import annotations

from src.core.routing import ModuleRouter
from src.routes.avatar import router as avatar_router
from src.routes.bloodwork import router as bloodwork_router

router = ModuleRouter(prefix="/uploads", tags=["uploads"])
router.include_router(bloodwork_router)
router.include_router(avatar_router)
