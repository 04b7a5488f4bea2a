"""The shapes of the process-wide collaborators that adapters and modules build and the app shell
hands to every unit of work (`Resources`). Core names only what it needs to type them; the
implementations live in `src/adapters/` and in the modules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx


class ObjectStorage(Protocol):
    """Object storage for uploaded files (see `src/adapters/storage.py`)."""

    async def put(self, key: str, data: bytes, *, content_type: str, cache_control: str | None = None) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    def public_url(self, key: str) -> str: ...


class VerifiedSubject(Protocol):
    @property
    def subject(self) -> str: ...


class IdTokenVerifying(Protocol):
    """Checks a sign-in provider's ID token (signature from its published keys, audience, issuer)."""

    async def verify(self, token: str, *, http: httpx.AsyncClient | None, now: datetime) -> VerifiedSubject: ...
