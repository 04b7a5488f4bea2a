from __future__ import annotations

from src.core.modules import ModuleManifest

from .routes import router
from .service import ERASE_SWEEP_TOPIC, erase_sweep

MANIFEST = ModuleManifest(name="account", router=router, outbox_handlers={ERASE_SWEEP_TOPIC: erase_sweep})
