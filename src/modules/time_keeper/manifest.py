from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, select, update

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.persistence import rowcount
from src.core.uow import UnitOfWork

from .orm import TimeWindowRow
from .routes import router
from .service import TimeKeeperService


async def _export(uow: UnitOfWork, identity_id: UUID) -> list[dict[str, object]]:
    service = TimeKeeperService(uow)
    rows = await uow.session.execute(
        select(TimeWindowRow).where(TimeWindowRow.identity_id == identity_id).order_by(TimeWindowRow.start_time)
    )
    return [service.view(row).model_dump(mode="json") for row in rows.scalars()]


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    result = await uow.session.execute(delete(TimeWindowRow).where(TimeWindowRow.identity_id == identity_id))
    return rowcount(result)


async def _anonymize(uow: UnitOfWork, identity_id: UUID, replacement_id: UUID) -> int:
    result = await uow.session.execute(
        update(TimeWindowRow)
        .where(TimeWindowRow.identity_id == identity_id)
        .values(identity_id=replacement_id, window_metadata={})
    )
    return rowcount(result)


MANIFEST = ModuleManifest(
    name="time_keeper",
    router=router,
    personal_data=PersonalData(
        module="time_keeper",
        tables=("time_windows",),
        export=_export,
        erase=_erase,
        anonymize=_anonymize,
        order=300,
    ),
)
