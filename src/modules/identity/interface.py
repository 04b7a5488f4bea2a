"""The door into the identity module for other modules and the app shell."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from .models import Capability, Identity


class IdentityInterface(ABC):
    @abstractmethod
    async def owns_email(self, identity_id: UUID, email: str) -> bool:
        """The address is the one this identity signs in with (only keyed hashes are stored)."""

    @abstractmethod
    async def session_started_at(self, session_id: UUID) -> datetime | None:
        """When the sign-in behind a session happened (refreshes keep it), or None if unknown."""

    @abstractmethod
    async def get_identity(self, identity_id: UUID) -> Identity:
        """Raises IdentityNotFound."""

    @abstractmethod
    async def find_identity(self, identity_id: UUID) -> Identity | None: ...

    @abstractmethod
    async def has_capability(self, identity_id: UUID, capability: str) -> bool: ...

    @abstractmethod
    async def grant_capability(
        self,
        identity_id: UUID,
        capability: str,
        *,
        expires_at: datetime | None = None,
        granted_by: UUID | None = None,
    ) -> Capability: ...

    @abstractmethod
    async def revoke_capability(self, identity_id: UUID, capability: str) -> bool: ...

    @abstractmethod
    async def export(self, identity_id: UUID) -> dict[str, object]:
        """What the identity module holds about the identity (no secrets)."""

    @abstractmethod
    async def erase(self, identity_id: UUID) -> int:
        """Delete the identity and everything hanging off it; its tokens stop working."""
