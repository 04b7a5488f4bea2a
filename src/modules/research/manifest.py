from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.uow import UnitOfWork

from .digests import deliver_digest, deliver_topic_refresh
from .library import seed_library
from .routes import router
from .service import DIGEST_TOPIC, REFRESH_TOPIC, ResearchService


async def purge_expired_searches(uow: UnitOfWork, before: datetime) -> int:
    """Forget cached PubMed answers that expired before `before` (maintenance script)."""
    return await ResearchService(uow).purge_expired_searches(before)


async def _seed(uow: UnitOfWork) -> None:
    await seed_library(uow)


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    return await ResearchService(uow).export(identity_id)


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return await ResearchService(uow).erase(identity_id)


MANIFEST = ModuleManifest(
    name="research",
    router=router,
    outbox_handlers={DIGEST_TOPIC: deliver_digest, REFRESH_TOPIC: deliver_topic_refresh},
    # Saved papers carry the person's notes and the quota row their activity: nothing worth keeping
    # without them, so anonymisation erases both.
    personal_data=PersonalData(
        module="research",
        tables=("user_saved_research", "user_search_quotas"),
        export=_export,
        erase=_erase,
        order=300,
    ),
    # Not reference tables: papers fetched from PubMed join the seeded library at run time.
    seeders=(_seed,),
)
