from __future__ import annotations

from uuid import UUID

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.uow import UnitOfWork

from .routes import router
from .service import IdentityService


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, object]:
    return await IdentityService(uow).export(identity_id)


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return await IdentityService(uow).erase(identity_id)


MANIFEST = ModuleManifest(
    name="identity",
    router=router,
    personal_data=PersonalData(
        module="identity",
        tables=("identities", "identity_credentials", "capabilities", "auth_sessions", "refresh_tokens"),
        export=_export,
        erase=_erase,
        anonymize=None,  # anonymising an account ends it: the identity is erased
        order=1000,  # last: everything else points at it
    ),
)
