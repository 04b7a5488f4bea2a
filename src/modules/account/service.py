"""Account-wide personal data: export, erasure and anonymisation across every module, driven by
the personal-data registry (each module registers how to export/erase/anonymise its rows)."""

from __future__ import annotations

import io
import json
import logging
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from src.core.outbox import Delivery
from src.core.uow import UnitOfWork
from src.database import SessionFactory
from src.modules.event_journal import EventSource, EventType, event_journal

from .models import AnonymizationResult, DeletionResult

logger = logging.getLogger("ugoki.account")

ERASE_SWEEP_TOPIC = "account.erase_sweep"
# Far longer than any request takes (uploads are parsed within a time limit of at most 5 minutes).
SWEEP_MARGIN = timedelta(minutes=10)
REFERENCE_SECTIONS = ("profile", "preferences", "goals", "health", "dietary", "workout_restrictions", "social")
# Top-level lists of the reference's export: key → (module entry, key inside it; None: the entry itself).
REFERENCE_LISTS: dict[str, tuple[str, str | None]] = {
    "metrics": ("metrics", "metrics"),
    "workouts": ("content", "workout_sessions"),
    "fasting_history": ("time_keeper", None),
    "achievements": ("progression", "achievements"),
}


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


class AccountData:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.registry = uow.resources.personal_data

    async def export(self, identity_id: uuid.UUID) -> dict[str, Any]:
        await event_journal(self.uow).record(
            identity_id, EventType.DATA_EXPORTED, source=EventSource.API, metadata={"scope": "account"}
        )
        await self.uow.session.flush()
        modules: dict[str, Any] = {}
        for entry in self.registry.entries():
            modules[entry.module] = await entry.export(self.uow, identity_id)
        document: dict[str, Any] = {
            "format_version": 1,
            "identity_id": str(identity_id),
            "exported_at": self.uow.now().isoformat(),
            "modules": modules,
        }
        # The reference client reads these sections at the top level.
        profile_data = modules.get("profile") or {}
        if isinstance(profile_data, dict):
            for section in REFERENCE_SECTIONS:
                document[section] = profile_data.get(section)
        # ...and these lists (the reference always sent them, empty): here with the real data.
        for key, (module, inner) in REFERENCE_LISTS.items():
            found = modules.get(module)
            value = found.get(inner) if isinstance(found, dict) and inner else found
            document[key] = value if isinstance(value, list) else []
        return document

    async def export_stream(self, identity_id: uuid.UUID, sessions: SessionFactory) -> AsyncIterator[bytes]:
        """The document of `export`, as JSON written module by module while it is read: a module
        with `export_rows` (rows that grow with the person's history) is streamed row by row, so
        memory stays bounded whatever the history. The export is recorded in this unit of work
        (committed before the first byte); the reading uses a session of its own, since the body
        is sent after the request's unit of work has ended."""
        await event_journal(self.uow).record(
            identity_id, EventType.DATA_EXPORTED, source=EventSource.API, metadata={"scope": "account"}
        )
        await self.uow.release()
        header = {"format_version": 1, "identity_id": str(identity_id), "exported_at": self.uow.now().isoformat()}
        resources, entries = self.uow.resources, self.registry.entries()

        async def body() -> AsyncIterator[bytes]:
            async with sessions.snapshot() as session:
                uow = UnitOfWork(session=session, resources=resources)
                yield _dumps(header)[:-1].encode() + b', "modules": {'
                profile_data: Any = None
                for position, entry in enumerate(entries):
                    yield (", " if position else "").encode() + _dumps(entry.module).encode() + b": "
                    if entry.export_rows is not None:
                        yield b"["
                        first = True
                        async for row in entry.export_rows(uow, identity_id):
                            yield (b"" if first else b", ") + _dumps(row).encode()
                            first = False
                        yield b"]"
                        continue
                    data = await entry.export(uow, identity_id)
                    if entry.module == "profile":
                        profile_data = data
                    yield _dumps(data).encode()
                yield b"}"
                # The reference client reads these sections at the top level.
                sections = profile_data if isinstance(profile_data, dict) else {}
                for section in REFERENCE_SECTIONS:
                    yield b", " + _dumps(section).encode() + b": " + _dumps(sections.get(section)).encode()
                yield b"}"

        return body()

    async def export_zip(self, identity_id: uuid.UUID) -> bytes:
        document = await self.export(identity_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            meta = {k: v for k, v in document.items() if k in ("format_version", "identity_id", "exported_at")}
            archive.writestr("export.json", json.dumps(meta, indent=2))
            for module, data in document["modules"].items():
                archive.writestr(f"{module}.json", json.dumps(data, indent=2, default=str))
        return buffer.getvalue()

    async def erase(self, identity_id: uuid.UUID) -> DeletionResult:
        deleted = await self.erase_rows(identity_id)
        self._sweep_later(identity_id)
        return DeletionResult(identity_id=identity_id, rows_deleted=deleted)

    async def erase_rows(self, identity_id: uuid.UUID) -> dict[str, int]:
        """Every registered module's rows of the person, and the identity; counts per module."""
        deleted: dict[str, int] = {}
        for entry in self.registry.entries():
            deleted[entry.module] = await entry.erase(self.uow, identity_id)
            await self.uow.session.flush()
        return deleted

    def _sweep_later(self, identity_id: uuid.UUID) -> None:
        """A request that was already past its sign-in check when the account went (or a worker
        whose sign-in cache still knew the token, for up to AUTH_CACHE_SECONDS) may write a row
        for the person after this transaction commits. Once no such request can be left, the
        erasure runs again. The message names the person only until it is delivered."""
        delay = timedelta(seconds=self.uow.settings.auth_cache_seconds) + SWEEP_MARGIN
        self.uow.enqueue(ERASE_SWEEP_TOPIC, {"identity_id": str(identity_id)}, available_at=self.uow.now() + delay)

    async def anonymize(self, identity_id: uuid.UUID) -> AnonymizationResult:
        """Detach retained activity from the person (a random id no one can link back), delete
        everything personal, and end the account."""
        replacement = uuid.uuid4()
        retained: dict[str, int] = {}
        deleted: dict[str, int] = {}
        for entry in self.registry.entries():
            if entry.anonymize is not None:
                retained[entry.module] = await entry.anonymize(self.uow, identity_id, replacement)
            else:
                deleted[entry.module] = await entry.erase(self.uow, identity_id)
            await self.uow.session.flush()
        self._sweep_later(identity_id)
        return AnonymizationResult(rows_retained=retained, rows_deleted=deleted)


async def erase_sweep(uow: UnitOfWork, delivery: Delivery) -> None:
    """Outbox handler: erase what in-flight requests wrote for an erased account."""
    identity_id = uuid.UUID(str(delivery.payload["identity_id"]))
    deleted = await AccountData(uow).erase_rows(identity_id)
    if any(deleted.values()):
        logger.info("late rows of an erased account removed", extra={"rows": sum(deleted.values())})
