"""Catalogue answers and figures (the same for everyone, changed only by the seeders) kept in
process.

A list of workouts or categories is read on every visit of the browse screens and changes only
when the catalogue is seeded. `CatalogueCache` keeps the serialised answer per route and query,
with a strong `ETag` (a hash of the body): a client that sends `If-None-Match` with it gets
`304 Not Modified` and no body.

The cache belongs to one app (`Resources.catalogue`). The seeders clear it when they run in the
process, and so do the writes that change the figures the lists carry (a workout's rating and
completion counts) when they commit. A change made by another process (`scripts/seed_workouts.py`,
another worker) is picked up when the entry ages out (`CATALOGUE_CACHE_SECONDS`, 60 by default;
0 turns the cache off). It holds at most `max_entries` answers (searches vary), dropping the oldest first.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

CACHE_CONTROL = "public, max-age=0, must-revalidate"


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    etag: str
    body: bytes
    expires: float


class CatalogueCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 512) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, CachedAnswer] = {}
        self._figures: dict[Hashable, tuple[Any, float]] = {}

    def clear(self) -> None:
        self._entries.clear()
        self._figures.clear()

    def forget(self, session: AsyncSession) -> None:
        """A write changes what the lists show (a rating, a completion count): drop the copies now
        and again once `session` commits, so no request caches what it read before the change."""

        def drop(*_: object) -> None:
            self.clear()

        drop()
        event.listen(session.sync_session, "after_commit", drop, once=True)

    async def figure[T](self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """A figure of the catalogue (e.g. how many achievements everyone can see), kept like the
        answers: loaded when missing or older than the time to live."""
        found = self._figures.get(key)
        if found is not None and found[1] >= time.monotonic():
            return found[0]  # type: ignore[no-any-return]
        value = await load()
        if self.ttl > 0:
            if len(self._figures) >= self.max_entries:
                self._figures.clear()
            self._figures[key] = (value, time.monotonic() + self.ttl)
        return value

    async def answer(
        self,
        request: Request,
        key: Hashable,
        load: Callable[[], Awaitable[Any]],
        adapter: TypeAdapter[Any],
    ) -> Response:
        """The answer for `key` (loaded and serialised with `adapter` when missing or stale), or a
        304 when the client already holds it."""
        entry = self._entries.get(key)
        if entry is None or entry.expires < time.monotonic():
            body = adapter.dump_json(await load())
            entry = CachedAnswer('"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"', body, 0.0)
            if self.ttl > 0:
                if len(self._entries) >= self.max_entries:
                    self._entries.pop(next(iter(self._entries)))
                entry = CachedAnswer(entry.etag, body, time.monotonic() + self.ttl)
                self._entries[key] = entry
        headers = {"ETag": entry.etag, "Cache-Control": CACHE_CONTROL}
        if _matches(request.headers.get("if-none-match"), entry.etag):
            return Response(status_code=304, headers=headers)
        return Response(entry.body, media_type="application/json", headers=headers)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags
