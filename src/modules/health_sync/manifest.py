from __future__ import annotations

from src.core.modules import ModuleManifest

from .routes import router

MANIFEST = ModuleManifest(name="health_sync", router=router)
