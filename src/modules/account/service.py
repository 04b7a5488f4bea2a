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

from src.core.gdpr import PersonalData
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


EXPORT_CHUNK_BYTES = 64 * 1024  # the streamed exports are sent in pieces of about this size


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _indented(value: Any, *, depth: int = 0) -> bytes:
    """`value` as `json.dumps(value, indent=2)` writes it at `depth` levels inside a document."""
    text = json.dumps(value, indent=2, default=str)
    return (text.replace("\n", "\n" + "  " * depth) if depth else text).encode()


async def _json_list(rows: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """A JSON list of `rows`, a piece per row."""
    yield b"["
    first = True
    async for row in rows:
        yield (b"" if first else b", ") + _dumps(row).encode()
        first = False
    yield b"]"


async def _chunked(parts: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The same bytes in pieces of at least `EXPORT_CHUNK_BYTES` (the last may be smaller): one
    send per piece instead of one per row."""
    pending: list[bytes] = []
    size = 0
    async for part in parts:
        pending.append(part)
        size += len(part)
        if size >= EXPORT_CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that keeps what was written until it is taken: `zipfile`
    writes an archive to it as a stream (sizes after each member's data)."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self.size += len(chunk)
        return len(chunk)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts, self.size = [], 0
        return out


def _reference_lists(modules: dict[str, Any]) -> dict[str, list[Any]]:
    """The reference export's top-level lists, taken from the modules' sections."""
    lists: dict[str, list[Any]] = {}
    for key, (module, inner) in REFERENCE_LISTS.items():
        found = modules.get(module)
        value = found.get(inner) if isinstance(found, dict) and inner else found
        lists[key] = value if isinstance(value, list) else []
    return lists


class AccountData:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.registry = uow.resources.personal_data

    async def _record_export(self, identity_id: uuid.UUID) -> None:
        """Journal the export and commit it (before the first byte is sent, and so that the export
        lists it), and give the request's connection back: the document is read afterwards, in a
        session of its own, since the body is sent after the request's unit of work has ended."""
        await event_journal(self.uow).record(
            identity_id, EventType.DATA_EXPORTED, source=EventSource.API, metadata={"scope": "account"}
        )
        await self.uow.release()

    async def export_stream(self, identity_id: uuid.UUID, sessions: SessionFactory) -> AsyncIterator[bytes]:
        """The whole account as one JSON document, written module by module while it is read: a
        module with `export_rows` (rows that grow with the person's history) is streamed row by
        row, so memory stays bounded whatever the history. Sent in chunks of about
        `EXPORT_CHUNK_BYTES`."""
        await self._record_export(identity_id)
        header = {"format_version": 1, "identity_id": str(identity_id), "exported_at": self.uow.now().isoformat()}
        resources, entries = self.uow.resources, self.registry.entries()

        async def document() -> AsyncIterator[bytes]:
            async with sessions.snapshot() as session:
                uow = UnitOfWork(session=session, resources=resources)
                yield _dumps(header)[:-1].encode() + b', "modules": {'
                profile_data: Any = None
                # Data of the modules the reference's top-level lists are copied from.
                sources = {module for module, _ in REFERENCE_LISTS.values()}
                kept: dict[str, Any] = {}
                streamed: dict[str, PersonalData[UnitOfWork]] = {}
                for position, entry in enumerate(entries):
                    yield (", " if position else "").encode() + _dumps(entry.module).encode() + b": "
                    if entry.export_rows is not None:
                        streamed[entry.module] = entry
                        holder = entry.export_rows_key  # the list is inside {holder: [...]}
                        yield b"{" + _dumps(holder).encode() + b": " if holder else b""
                        async for part in _json_list(entry.export_rows(uow, identity_id)):
                            yield part
                        yield b"}" if holder else b""
                        continue
                    data = await entry.export(uow, identity_id)
                    if entry.module == "profile":
                        profile_data = data
                    if entry.module in sources:
                        kept[entry.module] = data
                    yield _dumps(data).encode()
                yield b"}"
                # The reference client reads these sections at the top level.
                sections = profile_data if isinstance(profile_data, dict) else {}
                for section in REFERENCE_SECTIONS:
                    yield b", " + _dumps(section).encode() + b": " + _dumps(sections.get(section)).encode()
                # ...and these lists (the reference always sent them, empty): here with the real data,
                # read again from a streamed module.
                lists = _reference_lists(kept)
                for key, (module, inner) in REFERENCE_LISTS.items():
                    yield b", " + _dumps(key).encode() + b": "
                    source = streamed.get(module)
                    if source is not None and source.export_rows is not None and inner == source.export_rows_key:
                        async for part in _json_list(source.export_rows(uow, identity_id)):
                            yield part
                    else:
                        yield _dumps(lists[key]).encode()
                yield b"}"

        return _chunked(document())

    async def export_zip_stream(self, identity_id: uuid.UUID, sessions: SessionFactory) -> AsyncIterator[bytes]:
        """The same data as a ZIP archive: `export.json` (format, identity, time) and one
        `<module>.json` per module, indented, compressed and sent while it is read (a module with
        `export_rows` row by row), so memory stays bounded whatever the history."""
        await self._record_export(identity_id)
        meta = {"format_version": 1, "identity_id": str(identity_id), "exported_at": self.uow.now().isoformat()}
        resources, entries = self.uow.resources, self.registry.entries()

        async def archive() -> AsyncIterator[bytes]:
            sink = _Sink()
            with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
                zipped.writestr("export.json", json.dumps(meta, indent=2))
                async with sessions.snapshot() as session:
                    uow = UnitOfWork(session=session, resources=resources)
                    for entry in entries:
                        with zipped.open(f"{entry.module}.json", "w") as member:
                            if entry.export_rows is None:
                                member.write(_indented(await entry.export(uow, identity_id)))
                            else:
                                # As `json.dumps(..., indent=2)` writes the list (or the object
                                # holding it), one row at a time.
                                key = entry.export_rows_key
                                depth = 2 if key else 1
                                member.write(b'{\n  "' + key.encode() + b'": [' if key else b"[")
                                first = True
                                async for row in entry.export_rows(uow, identity_id):
                                    lead = b"\n" + b"  " * depth
                                    member.write((lead if first else b"," + lead) + _indented(row, depth=depth))
                                    first = False
                                    if sink.size >= EXPORT_CHUNK_BYTES:
                                        yield sink.take()
                                member.write((b"" if first else b"\n" + b"  " * (depth - 1)) + b"]")
                                member.write(b"\n}" if key else b"")
                        if sink.size >= EXPORT_CHUNK_BYTES:
                            yield sink.take()
            yield sink.take()  # the rest and the archive's central directory

        return archive()

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
