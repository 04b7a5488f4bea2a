from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, status

from src.core.errors import problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.core.scopes import TokenScope, by_method, token_scope
from src.dependencies import CurrentIdentity, UoWDep

from .models import (
    CompleteProfile,
    DietaryProfile,
    DietaryUpdate,
    FastingSafety,
    FriendCodeProfile,
    Goals,
    GoalsUpdate,
    HealthProfile,
    HealthUpdate,
    OnboardingStatus,
    OnboardingStep,
    Preferences,
    PreferencesUpdate,
    Profile,
    ProfileCreate,
    ProfileUpdate,
    SafeExercises,
    SocialProfile,
    SocialUpdate,
    Username,
    UsernameAvailability,
    WorkoutRestrictions,
    WorkoutRestrictionsUpdate,
)
from .service import ProfileService

router = ModuleRouter(prefix="/profile", tags=["profile"], token_scopes=by_method(read=TokenScope.PROFILE_READ))
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (400, 401, 404, 409, 422)}


@router.post(
    "",
    response_model=Profile,
    status_code=status.HTTP_201_CREATED,
    summary="Create the profile",
    description="A second call answers **400** `PROFILE_ALREADY_EXISTS` (the app continues onboarding on 400).",
    responses=_ERRORS,
)
async def create_profile(uow: UoWDep, me: CurrentIdentity, body: ProfileCreate) -> Profile:
    return await ProfileService(uow).create_profile(me.identity_id, body)


@router.get("", response_model=Profile, summary="The profile (404 until created)", responses=_ERRORS)
async def get_profile(uow: UoWDep, me: CurrentIdentity) -> Profile:
    return await ProfileService(uow).get_profile(me.identity_id)


@router.patch(
    "",
    response_model=Profile,
    summary="Update the fields sent (null clears); avatar_url is set by avatar upload only",
    responses=_ERRORS,
)
async def update_profile(uow: UoWDep, me: CurrentIdentity, body: ProfileUpdate) -> Profile:
    return await ProfileService(uow).update_profile(me.identity_id, body)


# The health sections (conditions, medication, restrictions) stay out of `profile:read`.
@router.get(
    "/complete",
    response_model=CompleteProfile,
    summary="Every section at once",
    responses=_ERRORS,
    openapi_extra=token_scope(None),
)
async def complete_profile(uow: UoWDep, me: CurrentIdentity) -> CompleteProfile:
    return await ProfileService(uow).complete(me.identity_id)


@router.get("/goals", response_model=Goals, summary="Goals (defaults until saved)")
async def get_goals(uow: UoWDep, me: CurrentIdentity) -> Goals:
    return await ProfileService(uow).get_goals(me.identity_id)


@router.patch("/goals", response_model=Goals, summary="Update goals", responses=_ERRORS)
async def update_goals(uow: UoWDep, me: CurrentIdentity, body: GoalsUpdate) -> Goals:
    return await ProfileService(uow).update_goals(me.identity_id, body)


@router.get(
    "/health/fasting-safety",
    response_model=FastingSafety,
    summary="May this person fast?",
    openapi_extra=token_scope(None),
)
async def fasting_safety(uow: UoWDep, me: CurrentIdentity) -> FastingSafety:
    return await ProfileService(uow).fasting_safety(me.identity_id)


@router.get(
    "/health",
    response_model=HealthProfile,
    summary="Health profile (encrypted at rest)",
    openapi_extra=token_scope(None),
)
async def get_health(uow: UoWDep, me: CurrentIdentity) -> HealthProfile:
    return await ProfileService(uow).get_health(me.identity_id)


@router.patch("/health", response_model=HealthProfile, summary="Update the health profile", responses=_ERRORS)
async def update_health(uow: UoWDep, me: CurrentIdentity, body: HealthUpdate) -> HealthProfile:
    return await ProfileService(uow).update_health(me.identity_id, body)


@router.get("/dietary", response_model=DietaryProfile, summary="Dietary profile")
async def get_dietary(uow: UoWDep, me: CurrentIdentity) -> DietaryProfile:
    return await ProfileService(uow).get_dietary(me.identity_id)


@router.patch("/dietary", response_model=DietaryProfile, summary="Update the dietary profile", responses=_ERRORS)
async def update_dietary(uow: UoWDep, me: CurrentIdentity, body: DietaryUpdate) -> DietaryProfile:
    return await ProfileService(uow).update_dietary(me.identity_id, body)


@router.get(
    "/workout-restrictions/safe-exercises",
    response_model=SafeExercises,
    summary="Exercises to avoid, adaptations and recommendations",
)
async def safe_exercises(uow: UoWDep, me: CurrentIdentity) -> SafeExercises:
    return await ProfileService(uow).safe_exercises(me.identity_id)


@router.get(
    "/workout-restrictions",
    response_model=WorkoutRestrictions,
    summary="Workout restrictions",
    openapi_extra=token_scope(None),
)
async def get_workout_restrictions(uow: UoWDep, me: CurrentIdentity) -> WorkoutRestrictions:
    return await ProfileService(uow).get_workout_restrictions(me.identity_id)


@router.patch(
    "/workout-restrictions",
    response_model=WorkoutRestrictions,
    summary="Update workout restrictions",
    responses=_ERRORS,
)
async def update_workout_restrictions(
    uow: UoWDep, me: CurrentIdentity, body: WorkoutRestrictionsUpdate
) -> WorkoutRestrictions:
    return await ProfileService(uow).update_workout_restrictions(me.identity_id, body)


@router.get("/preferences", response_model=Preferences, summary="App preferences (time zone, protocol, …)")
async def get_preferences(uow: UoWDep, me: CurrentIdentity) -> Preferences:
    return await ProfileService(uow).get_preferences(me.identity_id)


@router.patch("/preferences", response_model=Preferences, summary="Update preferences", responses=_ERRORS)
async def update_preferences(uow: UoWDep, me: CurrentIdentity, body: PreferencesUpdate) -> Preferences:
    return await ProfileService(uow).update_preferences(me.identity_id, body)


@router.get(
    "/social/check-username",
    response_model=UsernameAvailability,
    summary="Is a username free? (case-insensitive; your own counts as free)",
    openapi_extra=limits("LOOKUP"),
)
async def check_username(
    uow: UoWDep, me: CurrentIdentity, username: Annotated[Username, Query()]
) -> UsernameAvailability:
    return await ProfileService(uow).check_username(me.identity_id, username)


@router.get(
    "/social/friend-code/{code}",
    response_model=FriendCodeProfile,
    summary="Find someone by friend code (privacy flags apply)",
    description=(
        "A public profile shows what its flags allow. A private profile shows others only its username and "
        "friend code: `identity_id` is null (send the friend request with the code)."
    ),
    responses={404: problem_schema()},
    openapi_extra=limits("LOOKUP"),
)
async def friend_code(
    uow: UoWDep, me: CurrentIdentity, code: Annotated[str, Path(min_length=1, max_length=16)]
) -> FriendCodeProfile:
    return await ProfileService(uow).lookup_friend_code(me.identity_id, code)


@router.get("/social", response_model=SocialProfile, summary="Social profile")
async def get_social(uow: UoWDep, me: CurrentIdentity) -> SocialProfile:
    return await ProfileService(uow).get_social(me.identity_id)


@router.patch(
    "/social",
    response_model=SocialProfile,
    summary="Update the social profile (409 when the username is taken)",
    responses=_ERRORS,
)
async def update_social(uow: UoWDep, me: CurrentIdentity, body: SocialUpdate) -> SocialProfile:
    return await ProfileService(uow).update_social(me.identity_id, body)


@router.get("/onboarding", response_model=OnboardingStatus, summary="Onboarding progress")
async def onboarding(uow: UoWDep, me: CurrentIdentity) -> OnboardingStatus:
    return await ProfileService(uow).onboarding(me.identity_id)


@router.post(
    "/onboarding/{step}/complete",
    response_model=OnboardingStatus,
    summary="Mark an onboarding step done (steps like first_fast_completed are set by the server)",
    responses=_ERRORS,
)
async def complete_step(uow: UoWDep, me: CurrentIdentity, step: OnboardingStep) -> OnboardingStatus:
    return await ProfileService(uow).complete_step(me.identity_id, step)


@router.post("/onboarding/{step}/skip", response_model=OnboardingStatus, summary="Skip an onboarding step")
async def skip_step(uow: UoWDep, me: CurrentIdentity, step: OnboardingStep) -> OnboardingStatus:
    return await ProfileService(uow).skip_step(me.identity_id, step)
