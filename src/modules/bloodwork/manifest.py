from __future__ import annotations

from src.core.modules import ModuleManifest
from src.core.routing import ModuleRouter

from .routes import router as bloodwork_router

router = ModuleRouter(prefix="/uploads", tags=["uploads"])
router.include_router(bloodwork_router)

MANIFEST = ModuleManifest(name="bloodwork", router=router)
