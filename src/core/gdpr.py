"""Account-wide personal-data registry.

Every module that stores rows about an identity registers one `PersonalData` entry naming the
tables it covers and how to export, erase and anonymise its rows. The account endpoints (profile
module) walk the registry, so export and erasure stay complete as modules are added; a test fails
when a table with an `identity_id` column (or a foreign key to `identities`) is not covered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from src.core.work import Work

type Exporter[W: Work] = Callable[[W, UUID], Awaitable[dict[str, Any] | list[Any]]]
type RowStream[W: Work] = Callable[[W, UUID], AsyncIterator[Any]]
type Eraser[W: Work] = Callable[[W, UUID], Awaitable[int]]
type Anonymizer[W: Work] = Callable[[W, UUID, UUID], Awaitable[int]]


@dataclass(frozen=True)
class PersonalData[W: Work]:
    """How one module exports, erases and anonymises what it holds about an identity.

    `tables`: every table of the module that references an identity (directly or via a cascade).
    `order`: erasure order, ascending; the identity itself is erased last.
    `anonymize`: rewrite retained rows to the replacement id and drop personal fields; when None,
    anonymisation erases the module's rows (nothing in them is worth keeping without the person).
    `export_rows`: for a module whose rows grow with a person's history, the same export as a list
    yielded one JSON-ready row at a time; the account export then streams it instead of calling
    `export`, so its memory does not grow with the history.
    `export_rows_key`: when the module's export is not the list itself but an object holding it
    under this one key (`{"metrics": [...]}`), that key.
    """

    module: str
    tables: tuple[str, ...]
    export: Exporter[W]
    erase: Eraser[W]
    anonymize: Anonymizer[W] | None = None
    order: int = 100
    export_rows: RowStream[W] | None = None
    export_rows_key: str | None = None


class PersonalDataRegistry[W: Work]:
    def __init__(self) -> None:
        self._entries: dict[str, PersonalData[W]] = {}

    def register(self, entry: PersonalData[W]) -> None:
        if entry.module in self._entries:
            raise ValueError(f"module {entry.module!r} already registered personal data")
        self._entries[entry.module] = entry

    def entries(self) -> list[PersonalData[W]]:
        return sorted(self._entries.values(), key=lambda e: (e.order, e.module))

    def covered_tables(self) -> set[str]:
        return {table for entry in self._entries.values() for table in entry.tables}
