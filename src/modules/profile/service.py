from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from src.adapters.storage import DELETE_TOPIC as STORAGE_DELETE_TOPIC
from src.core.contracts import SocialProfileChanged
from src.core.lean import HotQuery
from src.core.persistence import insert_ignore, lock_or_create, rowcount
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal

from .errors import (
    FriendCodeNotFound,
    ProfileAlreadyExists,
    ProfileNotFound,
    StepSetByServer,
    UsernameTaken,
)
from .interface import ProfileInterface
from .models import (
    CAUTION_CONDITIONS,
    REQUIRED_STEPS,
    SENSITIVE_HEALTH_FIELDS,
    SERVER_STEPS,
    UNSAFE_CONDITIONS,
    CompleteProfile,
    DietaryProfile,
    DietaryUpdate,
    FastingSafety,
    FriendCodeProfile,
    Goals,
    GoalsUpdate,
    HealthCondition,
    HealthProfile,
    HealthUpdate,
    OnboardingStatus,
    OnboardingStep,
    Preferences,
    PreferencesUpdate,
    Profile,
    ProfileCreate,
    ProfileUpdate,
    PublicSocialProfile,
    SafeExercises,
    SocialProfile,
    SocialUpdate,
    UsernameAvailability,
    WorkoutRestrictions,
    WorkoutRestrictionsUpdate,
)
from .orm import (
    SECTION_ROWS,
    DietaryProfileRow,
    HealthProfileRow,
    OnboardingStatusRow,
    SocialProfileRow,
    UserGoalsRow,
    UserPreferencesRow,
    UserProfileRow,
    WorkoutRestrictionsRow,
)
from .safety import fasting_safety_for, safe_exercises_for

_STAMPS = {"identity_id", "created_at", "updated_at"}
_ZONE_MEMO = "profile.timezone"
_STEP_QUERIES: dict[str, HotQuery] = {}


def _step_done(step: OnboardingStep) -> HotQuery:
    query = _STEP_QUERIES.get(str(step))
    if query is None:
        column = getattr(OnboardingStatusRow, str(step))
        query = _STEP_QUERIES[str(step)] = HotQuery(
            lambda: select(column).where(OnboardingStatusRow.identity_id == bindparam("identity_id"))
        )
    return query


_TIMEZONE = HotQuery(
    lambda: select(UserPreferencesRow.timezone).where(UserPreferencesRow.identity_id == bindparam("identity_id"))
)
_FRIEND_CODE = re.compile(r"[0-9A-F]{8}")
_USERNAME_KEY = re.compile(r"[a-z0-9_.]{3,30}")
# How each condition reads in a sentence ("Fasting is not recommended during pregnancy").
_LABELS = {
    HealthCondition.DIABETES_TYPE1: "with type 1 diabetes",
    HealthCondition.DIABETES_TYPE2: "with type 2 diabetes",
    HealthCondition.HYPOGLYCEMIA: "with hypoglycaemia",
    HealthCondition.EATING_DISORDER_HISTORY: "with a history of eating disorders",
    HealthCondition.PREGNANT: "during pregnancy",
    HealthCondition.BREASTFEEDING: "while breastfeeding",
    HealthCondition.HEART_CONDITION: "with a heart condition",
    HealthCondition.KIDNEY_DISEASE: "with kidney disease",
    HealthCondition.ON_MEDICATION: "while taking medication",
    HealthCondition.OTHER: "with your health condition",
}


def _defaults(model: type[BaseModel], identity_id: uuid.UUID) -> dict[str, Any]:
    """Column values of a section that was never saved: the read model's defaults."""
    return model(identity_id=identity_id).model_dump(exclude=_STAMPS)


def _read[M: BaseModel](model: type[M], row: Any) -> M:
    return model.model_validate(row, from_attributes=True)


class ProfileService(ProfileInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self.keyring = uow.resources.keyring

    # Row plumbing ---------------------------------------------------------------------------

    async def _find(self, row_type: type[Any], identity_id: uuid.UUID) -> Any:
        return await self.session.get(row_type, identity_id)

    async def _lock(self, row_type: type[Any], identity_id: uuid.UUID) -> Any:
        return (
            await self.session.execute(
                select(row_type)
                .where(row_type.identity_id == identity_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def _ensure(self, row_type: type[Any], identity_id: uuid.UUID, values: dict[str, Any]) -> Any:
        """The section row, created with `values` if missing (race-free), locked for update."""
        now = self.uow.now()
        values = {"identity_id": identity_id, "created_at": now, "updated_at": now, **values}
        return await lock_or_create(self.session, row_type, values, key="identity_id")

    def _apply(self, row: Any, update: BaseModel, read_model: type[BaseModel], *, skip: Iterable[str] = ()) -> None:
        """Write the fields the client sent; `null` on a field that has a default resets it."""
        defaults = read_model.model_fields
        for name in update.model_fields_set - set(skip):
            value = getattr(update, name)
            if value is None and name in defaults and not defaults[name].is_required():
                default = defaults[name].get_default(call_default_factory=True)
                value = default
            setattr(row, name, value)
        row.updated_at = self.uow.now()

    async def _record(self, identity_id: uuid.UUID, event_type: EventType, section: str) -> None:
        # Never put the values in the journal: only which section changed.
        await event_journal(self.uow).record(
            identity_id, event_type, source=EventSource.API, metadata={"section": section}
        )

    # Core profile ---------------------------------------------------------------------------

    async def create_profile(self, identity_id: uuid.UUID, data: ProfileCreate) -> Profile:
        now = self.uow.now()
        values = {"identity_id": identity_id, "created_at": now, "updated_at": now, **data.model_dump()}
        if not await insert_ignore(self.session, UserProfileRow, values):
            raise ProfileAlreadyExists("Profile already exists: update it with PATCH /profile")
        await self._ensure_social(identity_id)
        await self._mark(identity_id, [OnboardingStep.BASIC_PROFILE_COMPLETED])
        await self._record(identity_id, EventType.PROFILE_CREATED, "profile")
        return await self.get_profile(identity_id)

    async def get_profile(self, identity_id: uuid.UUID) -> Profile:
        row = await self._find(UserProfileRow, identity_id)
        if row is None:
            raise ProfileNotFound("Profile not found: create it with POST /profile")
        return _read(Profile, row)

    async def update_profile(self, identity_id: uuid.UUID, data: ProfileUpdate) -> Profile:
        row = await self._ensure(UserProfileRow, identity_id, {})
        self._apply(row, data, Profile, skip={"avatar_url"})
        await self.session.flush()
        await self._ensure_social(identity_id)
        await self._mark(identity_id, [OnboardingStep.BASIC_PROFILE_COMPLETED])
        await self._record(identity_id, EventType.PROFILE_UPDATED, "profile")
        return _read(Profile, row)

    async def complete(self, identity_id: uuid.UUID) -> CompleteProfile:
        profile = await self.get_profile(identity_id)
        goals = await self._find(UserGoalsRow, identity_id)
        health = await self._find(HealthProfileRow, identity_id)
        dietary = await self._find(DietaryProfileRow, identity_id)
        restrictions = await self._find(WorkoutRestrictionsRow, identity_id)
        social = await self._find(SocialProfileRow, identity_id)
        return CompleteProfile(
            profile=profile,
            preferences=await self.preferences_of(identity_id),
            goals=_read(Goals, goals) if goals else None,
            health=self._health_model(health) if health else None,
            dietary=_read(DietaryProfile, dietary) if dietary else None,
            workout_restrictions=_read(WorkoutRestrictions, restrictions) if restrictions else None,
            social=_read(SocialProfile, social) if social else None,
            onboarding=await self.onboarding(identity_id),
        )

    # Simple sections ------------------------------------------------------------------------

    async def get_goals(self, identity_id: uuid.UUID) -> Goals:
        row = await self._find(UserGoalsRow, identity_id)
        return _read(Goals, row) if row else Goals(identity_id=identity_id)

    async def update_goals(self, identity_id: uuid.UUID, data: GoalsUpdate) -> Goals:
        row = await self._ensure(UserGoalsRow, identity_id, _defaults(Goals, identity_id))
        self._apply(row, data, Goals)
        await self.session.flush()
        await self._mark(identity_id, [OnboardingStep.GOALS_SET])
        await self._record(identity_id, EventType.GOALS_UPDATED, "goals")
        return _read(Goals, row)

    async def get_dietary(self, identity_id: uuid.UUID) -> DietaryProfile:
        row = await self._find(DietaryProfileRow, identity_id)
        return _read(DietaryProfile, row) if row else DietaryProfile(identity_id=identity_id)

    async def update_dietary(self, identity_id: uuid.UUID, data: DietaryUpdate) -> DietaryProfile:
        row = await self._ensure(DietaryProfileRow, identity_id, _defaults(DietaryProfile, identity_id))
        self._apply(row, data, DietaryProfile)
        await self.session.flush()
        await self._mark(identity_id, [OnboardingStep.DIETARY_PREFERENCES_SET])
        await self._record(identity_id, EventType.PROFILE_UPDATED, "dietary")
        return _read(DietaryProfile, row)

    async def get_workout_restrictions(self, identity_id: uuid.UUID) -> WorkoutRestrictions:
        row = await self._find(WorkoutRestrictionsRow, identity_id)
        return _read(WorkoutRestrictions, row) if row else WorkoutRestrictions(identity_id=identity_id)

    async def update_workout_restrictions(
        self, identity_id: uuid.UUID, data: WorkoutRestrictionsUpdate
    ) -> WorkoutRestrictions:
        row = await self._ensure(WorkoutRestrictionsRow, identity_id, _defaults(WorkoutRestrictions, identity_id))
        self._apply(row, data, WorkoutRestrictions)
        await self.session.flush()
        await self._mark(identity_id, [OnboardingStep.WORKOUT_RESTRICTIONS_SET])
        await self._record(identity_id, EventType.PROFILE_UPDATED, "workout_restrictions")
        return _read(WorkoutRestrictions, row)

    async def safe_exercises(self, identity_id: uuid.UUID) -> SafeExercises:
        return safe_exercises_for(await self.get_workout_restrictions(identity_id))

    async def get_preferences(self, identity_id: uuid.UUID) -> Preferences:
        return await self.preferences_of(identity_id)

    async def update_preferences(self, identity_id: uuid.UUID, data: PreferencesUpdate) -> Preferences:
        row = await self._ensure(UserPreferencesRow, identity_id, _defaults(Preferences, identity_id))
        self._apply(row, data, Preferences)
        await self.session.flush()
        self.uow.memo.pop((_ZONE_MEMO, identity_id), None)
        await self._record(identity_id, EventType.PREFERENCES_UPDATED, "preferences")
        return _read(Preferences, row)

    # Health (encrypted) ---------------------------------------------------------------------

    def _health_model(self, row: HealthProfileRow) -> HealthProfile:
        sensitive: dict[str, Any] = self.keyring.decrypt_json(row.sensitive) if row.sensitive else {}
        conditions = [HealthCondition(c) for c in sensitive.get("conditions") or [] if c in HealthCondition]
        return HealthProfile(
            identity_id=row.identity_id,
            conditions=conditions,
            condition_notes=sensitive.get("condition_notes"),
            takes_medication=row.takes_medication,
            medication_notes=sensitive.get("medication_notes"),
            medication_requires_food=row.medication_requires_food,
            doctor_approved_fasting=row.doctor_approved_fasting,
            doctor_consultation_date=row.doctor_consultation_date,
            emergency_contact_name=sensitive.get("emergency_contact_name"),
            emergency_contact_phone=sensitive.get("emergency_contact_phone"),
            fasting_safe=not (set(conditions) & UNSAFE_CONDITIONS),
            requires_medical_disclaimer=bool(set(conditions) & (CAUTION_CONDITIONS | UNSAFE_CONDITIONS)),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def get_health(self, identity_id: uuid.UUID) -> HealthProfile:
        row = await self._find(HealthProfileRow, identity_id)
        return self._health_model(row) if row else HealthProfile(identity_id=identity_id)

    async def update_health(self, identity_id: uuid.UUID, data: HealthUpdate) -> HealthProfile:
        row: HealthProfileRow = await self._ensure(
            HealthProfileRow,
            identity_id,
            {
                "sensitive": None,
                "takes_medication": False,
                "medication_requires_food": False,
                "doctor_approved_fasting": False,
                "doctor_consultation_date": None,
            },
        )
        sensitive: dict[str, Any] = self.keyring.decrypt_json(row.sensitive) if row.sensitive else {}
        for name in data.model_fields_set:
            value = getattr(data, name)
            if name in SENSITIVE_HEALTH_FIELDS:
                sensitive[name] = [str(c) for c in value] if name == "conditions" and value else value
            elif value is None:
                setattr(row, name, None if name == "doctor_consultation_date" else False)
            else:
                setattr(row, name, value)
        row.sensitive = self.keyring.encrypt_json(sensitive)
        row.updated_at = self.uow.now()
        await self.session.flush()
        await self._mark(identity_id, [OnboardingStep.HEALTH_PROFILE_COMPLETED])
        await self._record(identity_id, EventType.PROFILE_UPDATED, "health")
        return self._health_model(row)

    async def fasting_safety(self, identity_id: uuid.UUID) -> FastingSafety:
        health = await self.get_health(identity_id)
        return fasting_safety_for(health, _LABELS)

    async def is_fasting_safe(self, identity_id: uuid.UUID) -> bool:
        return (await self.fasting_safety(identity_id)).safe

    # Social profile -------------------------------------------------------------------------

    async def _ensure_social(self, identity_id: uuid.UUID) -> SocialProfileRow:
        """The social row with its friend code, created on the first write of the profile."""
        existing = await self._lock(SocialProfileRow, identity_id)
        if existing is not None:
            return existing  # type: ignore[no-any-return]
        values = _defaults(SocialProfile, identity_id)
        for _ in range(8):  # a friend-code collision makes the insert a no-op: draw again
            values["friend_code"] = secrets.token_hex(4).upper()
            now = self.uow.now()
            await insert_ignore(
                self.session,
                SocialProfileRow,
                {"identity_id": identity_id, "created_at": now, "updated_at": now, **values},
            )
            row = await self._lock(SocialProfileRow, identity_id)
            if row is not None:
                return row  # type: ignore[no-any-return]
        raise RuntimeError("could not allocate a friend code")  # pragma: no cover

    async def get_social(self, identity_id: uuid.UUID) -> SocialProfile:
        row = await self._find(SocialProfileRow, identity_id)
        return _read(SocialProfile, row) if row else SocialProfile(identity_id=identity_id)

    async def update_social(self, identity_id: uuid.UUID, data: SocialUpdate) -> SocialProfile:
        row = await self._ensure_social(identity_id)
        self._apply(row, data, SocialProfile)
        if "username" in data.model_fields_set:
            row.username_key = row.username.lower() if row.username else None
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            raise UsernameTaken("That username is already taken") from exc
        await self._record(identity_id, EventType.PROFILE_UPDATED, "social")
        await self.uow.publish(
            SocialProfileChanged(
                identity_id=identity_id,
                occurred_at=self.uow.now(),
                profile_public=row.profile_public,
                show_level=row.show_level,
                show_streaks=row.show_streaks,
            )
        )
        return _read(SocialProfile, row)

    async def check_username(self, identity_id: uuid.UUID, username: str) -> UsernameAvailability:
        owner = await self.find_by_username(username)
        return UsernameAvailability(username=username, available=owner is None or owner == identity_id)

    async def find_by_username(self, username: str) -> uuid.UUID | None:
        key = username.strip().lower()
        if not _USERNAME_KEY.fullmatch(key):  # no such username can be saved
            return None
        found = await self.session.execute(
            select(SocialProfileRow.identity_id).where(SocialProfileRow.username_key == key)
        )
        return found.scalar_one_or_none()

    async def find_by_friend_code(self, code: str) -> uuid.UUID | None:
        normalised = code.strip().upper()
        if not _FRIEND_CODE.fullmatch(normalised):  # cannot exist; keeps junk away from the database
            return None
        found = await self.session.execute(
            select(SocialProfileRow.identity_id).where(SocialProfileRow.friend_code == normalised)
        )
        return found.scalar_one_or_none()

    async def lookup_friend_code(self, viewer_id: uuid.UUID, code: str) -> FriendCodeProfile:
        """A private profile shows others its handle only: not even its identity id, which would
        let codes be traded for ids (a friend request by the code does not need it)."""
        target = await self.find_by_friend_code(code)
        if target is None:
            raise FriendCodeNotFound("No one has this friend code")
        seen = (await self.public_profiles(viewer_id, [target]))[target]
        shown = seen.profile_public or target == viewer_id
        return FriendCodeProfile(**{**seen.model_dump(), "identity_id": target if shown else None})

    async def public_profiles(
        self, viewer_id: uuid.UUID, identity_ids: Iterable[uuid.UUID], *, friends: Collection[uuid.UUID] = ()
    ) -> dict[uuid.UUID, PublicSocialProfile]:
        ids = list(dict.fromkeys(identity_ids))
        if not ids:
            return {}
        rows = (
            await self.session.execute(
                select(SocialProfileRow, UserProfileRow.display_name, UserProfileRow.avatar_url)
                .outerjoin(UserProfileRow, UserProfileRow.identity_id == SocialProfileRow.identity_id)
                .where(SocialProfileRow.identity_id.in_(ids))
            )
        ).all()
        return {
            social.identity_id: _public_view(social, display_name, avatar_url, viewer_id, friends)
            for social, display_name, avatar_url in rows
        }

    async def search_public_profiles(
        self, viewer_id: uuid.UUID, query: str, *, exclude: Collection[uuid.UUID] = (), limit: int = 20
    ) -> list[PublicSocialProfile]:
        needle = query.strip().lower()
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = (
            select(SocialProfileRow, UserProfileRow.display_name, UserProfileRow.avatar_url)
            .outerjoin(UserProfileRow, UserProfileRow.identity_id == SocialProfileRow.identity_id)
            .where(
                SocialProfileRow.profile_public.is_(True),
                SocialProfileRow.identity_id != viewer_id,
                or_(
                    SocialProfileRow.username_key.like(pattern, escape="\\"),
                    func.lower(UserProfileRow.display_name).like(pattern, escape="\\"),
                ),
            )
            .order_by(
                SocialProfileRow.username_key.is_(None), SocialProfileRow.username_key, SocialProfileRow.identity_id
            )
            .limit(limit)
        )
        if exclude:
            statement = statement.where(SocialProfileRow.identity_id.not_in(list(exclude)))
        rows = (await self.session.execute(statement)).all()
        return [_public_view(social, name, avatar, viewer_id, ()) for social, name, avatar in rows]

    async def set_social_counters(
        self, identity_id: uuid.UUID, *, friends: int, followers: int, following: int
    ) -> None:
        row = await self._ensure_social(identity_id)
        if (row.friends_count, row.followers_count, row.following_count) == (friends, followers, following):
            return
        row.friends_count, row.followers_count, row.following_count = friends, followers, following
        row.updated_at = self.uow.now()

    # Onboarding -----------------------------------------------------------------------------

    async def onboarding(self, identity_id: uuid.UUID) -> OnboardingStatus:
        row = await self._find(OnboardingStatusRow, identity_id)
        return _read(OnboardingStatus, row) if row else OnboardingStatus(identity_id=identity_id)

    async def _mark(
        self, identity_id: uuid.UUID, steps: Iterable[OnboardingStep], *, skip: bool = False
    ) -> OnboardingStatusRow:
        defaults = _defaults(OnboardingStatus, identity_id)
        row: OnboardingStatusRow = await self._ensure(OnboardingStatusRow, identity_id, defaults)
        for step in steps:
            if skip:
                if step not in row.skipped_steps:
                    row.skipped_steps = [*row.skipped_steps, str(step)]  # a new list: JSON columns
            else:
                setattr(row, str(step), True)
        satisfied = all(getattr(row, str(s)) or str(s) in row.skipped_steps for s in REQUIRED_STEPS)
        if satisfied and not row.onboarding_completed:
            row.onboarding_completed = True
            row.completed_at = self.uow.now()
        row.updated_at = self.uow.now()
        return row

    async def complete_step(self, identity_id: uuid.UUID, step: OnboardingStep) -> OnboardingStatus:
        if step in SERVER_STEPS:
            raise StepSetByServer(f"'{step}' is recorded by the server when it happens")
        return _read(OnboardingStatus, await self._mark(identity_id, [step]))

    async def skip_step(self, identity_id: uuid.UUID, step: OnboardingStep) -> OnboardingStatus:
        return _read(OnboardingStatus, await self._mark(identity_id, [step], skip=True))

    async def mark_onboarding(self, identity_id: uuid.UUID, step: OnboardingStep) -> None:
        # Called on every weigh-in, fast and workout: once the step is done, a plain read suffices
        # (a step is never unset, so no lock is needed to see that it is set).
        done = await _step_done(step).first(self.session, identity_id=identity_id)
        if done is not None and done[0]:
            return
        await self._mark(identity_id, [step])

    # Reads for other modules ----------------------------------------------------------------

    async def timezone_of(self, identity_id: uuid.UUID) -> str:
        # Read by nearly every module a request passes through: once per unit of work.
        key = (_ZONE_MEMO, identity_id)
        zone: str | None = self.uow.memo.get(key)
        if zone is None:
            row = await _TIMEZONE.first(self.session, identity_id=identity_id)
            zone = self.uow.memo[key] = (row.timezone if row is not None else None) or "UTC"
        return zone

    async def zone_of(self, identity_id: uuid.UUID) -> ZoneInfo:
        try:
            return ZoneInfo(await self.timezone_of(identity_id))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return ZoneInfo("UTC")

    async def timezones_of(self, identity_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        ids = list(dict.fromkeys(identity_ids))
        zones = dict.fromkeys(ids, "UTC")
        if ids:
            rows = await self.session.execute(
                select(UserPreferencesRow.identity_id, UserPreferencesRow.timezone).where(
                    UserPreferencesRow.identity_id.in_(ids)
                )
            )
            zones.update(dict(rows.all()))
        return zones

    async def preferences_of(self, identity_id: uuid.UUID) -> Preferences:
        row = await self._find(UserPreferencesRow, identity_id)
        return _read(Preferences, row) if row else Preferences(identity_id=identity_id)

    async def goals_of(self, identity_id: uuid.UUID) -> Goals:
        return await self.get_goals(identity_id)

    async def workout_restrictions_of(self, identity_id: uuid.UUID) -> WorkoutRestrictions:
        return await self.get_workout_restrictions(identity_id)

    async def dietary_of(self, identity_id: uuid.UUID) -> DietaryProfile:
        return await self.get_dietary(identity_id)

    async def birth_date_of(self, identity_id: uuid.UUID) -> date | None:
        row = await self._find(UserProfileRow, identity_id)
        return _read(Profile, row).date_of_birth if row else None

    async def set_avatar(self, identity_id: uuid.UUID, *, url: str | None, key: str | None) -> str | None:
        row: UserProfileRow = await self._ensure(UserProfileRow, identity_id, {})
        previous = row.avatar_key
        row.avatar_url = url
        row.avatar_key = key
        row.updated_at = self.uow.now()
        await self._mark(identity_id, [OnboardingStep.BASIC_PROFILE_COMPLETED])
        return previous

    # Personal data --------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> dict[str, Any]:
        profile = await self._find(UserProfileRow, identity_id)
        data: dict[str, Any] = {
            "profile": _read(Profile, profile).model_dump(mode="json") if profile else None,
            "preferences": (await self.preferences_of(identity_id)).model_dump(mode="json"),
            "goals": (await self.get_goals(identity_id)).model_dump(mode="json"),
            "health": (await self.get_health(identity_id)).model_dump(mode="json"),
            "dietary": (await self.get_dietary(identity_id)).model_dump(mode="json"),
            "workout_restrictions": (await self.get_workout_restrictions(identity_id)).model_dump(mode="json"),
            "social": (await self.get_social(identity_id)).model_dump(mode="json"),
            "onboarding": (await self.onboarding(identity_id)).model_dump(mode="json"),
        }
        if profile is not None and profile.avatar_key:
            data["avatar_storage_key"] = profile.avatar_key
        return data

    async def avatar_key_of(self, identity_id: uuid.UUID) -> str | None:
        row = await self._find(UserProfileRow, identity_id)
        return row.avatar_key if row else None

    async def erase(self, identity_id: uuid.UUID) -> int:
        avatar_key = await self.avatar_key_of(identity_id)
        if avatar_key:
            # The stored image goes once the erasure is committed (not tied to the identity, so the
            # erasure of queued messages does not drop it).
            self.uow.enqueue(STORAGE_DELETE_TOPIC, {"key": avatar_key})
        total = 0
        for row_type in SECTION_ROWS:
            result = await self.session.execute(delete(row_type).where(row_type.identity_id == identity_id))
            total += rowcount(result)
        return total

    async def reencrypt_all(self, *, batch: int = 500) -> int:
        """Key rotation: rewrite every encrypted health field with the primary key."""
        changed = 0
        rows = (
            await self.session.execute(select(HealthProfileRow).where(HealthProfileRow.sensitive.is_not(None)))
        ).scalars()
        for row in rows:
            if row.sensitive and not self.keyring.is_current(row.sensitive):
                row.sensitive = self.keyring.rotate(row.sensitive)
                changed += 1
                if changed % batch == 0:
                    await self.session.flush()
        return changed


def _public_view(
    social: SocialProfileRow,
    display_name: str | None,
    avatar_url: str | None,
    viewer_id: uuid.UUID,
    friends: Collection[uuid.UUID],
) -> PublicSocialProfile:
    """A private profile shows its owner and their friends everything, strangers only the handle."""
    visible = social.profile_public or social.identity_id == viewer_id or social.identity_id in friends
    return PublicSocialProfile(
        identity_id=social.identity_id,
        username=social.username,
        display_name=display_name if visible else None,
        friend_code=social.friend_code,
        profile_public=social.profile_public,
        bio=social.bio if visible else None,
        avatar_url=avatar_url if visible else None,
        show_streaks=visible and social.show_streaks,
        show_achievements=visible and social.show_achievements,
        show_level=visible and social.show_level,
        show_workouts=visible and social.show_workouts,
        show_weight=visible and social.show_weight,
    )
