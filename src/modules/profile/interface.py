"""The door into the profile module for other modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from .models import (
    DietaryProfile,
    FastingSafety,
    Goals,
    OnboardingStep,
    Preferences,
    PublicSocialProfile,
    WorkoutRestrictions,
)


class ProfileInterface(ABC):
    @abstractmethod
    async def timezone_of(self, identity_id: UUID) -> str:
        """The person's IANA time zone (`UTC` until they set one): every "day" is computed in it."""

    @abstractmethod
    async def zone_of(self, identity_id: UUID) -> ZoneInfo:
        """The person's time zone as a `ZoneInfo` (UTC until they set one, or if it is unknown here)."""

    @abstractmethod
    async def timezones_of(self, identity_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Time zones of many people in one query (missing → `UTC`)."""

    @abstractmethod
    async def preferences_of(self, identity_id: UUID) -> Preferences:
        """Saved preferences or the defaults (never writes)."""

    @abstractmethod
    async def goals_of(self, identity_id: UUID) -> Goals: ...

    @abstractmethod
    async def workout_restrictions_of(self, identity_id: UUID) -> WorkoutRestrictions: ...

    @abstractmethod
    async def dietary_of(self, identity_id: UUID) -> DietaryProfile:
        """Saved dietary profile or the defaults (never writes)."""

    @abstractmethod
    async def birth_date_of(self, identity_id: UUID) -> date | None:
        """The person's date of birth, when they gave it."""

    @abstractmethod
    async def fasting_safety(self, identity_id: UUID) -> FastingSafety:
        """Whether the health profile allows fasting, with the reasons."""

    @abstractmethod
    async def is_fasting_safe(self, identity_id: UUID) -> bool: ...

    @abstractmethod
    async def mark_onboarding(self, identity_id: UUID, step: OnboardingStep) -> None:
        """Record that a step happened (e.g. `first_fast_completed`); idempotent, in the caller's
        transaction."""

    @abstractmethod
    async def public_profiles(
        self, viewer_id: UUID, identity_ids: Iterable[UUID], *, friends: Collection[UUID] = ()
    ) -> dict[UUID, PublicSocialProfile]:
        """What `viewer_id` may see of each person (privacy flags applied). People in `friends`
        (the viewer's accepted friends, known to the social module) see a private profile as if it
        were public."""

    @abstractmethod
    async def search_public_profiles(
        self, viewer_id: UUID, query: str, *, exclude: Collection[UUID] = (), limit: int = 20
    ) -> list[PublicSocialProfile]:
        """Public profiles whose username or display name contains `query` (case-insensitive,
        wildcards taken literally), never the viewer nor anyone in `exclude`; by username."""

    @abstractmethod
    async def find_by_username(self, username: str) -> UUID | None:
        """Case-insensitive username lookup."""

    @abstractmethod
    async def find_by_friend_code(self, code: str) -> UUID | None: ...

    @abstractmethod
    async def set_social_counters(self, identity_id: UUID, *, friends: int, followers: int, following: int) -> None:
        """Store the friend/follower counters the social module counted (in its transaction, under
        its lock), creating the social profile row when there is none."""
