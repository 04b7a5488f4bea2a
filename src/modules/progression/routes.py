from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, status

from src.core.contracts import UnlockedAchievement
from src.core.errors import problem_schema
from src.core.routing import ModuleRouter
from src.dependencies import AdminIdentity, CurrentIdentity, UoWDep, optional_principal
from src.direct import direct

from .models import (
    Achievement,
    GrantXPRequest,
    Overview,
    RecordActivityRequest,
    Streak,
    StreakResponse,
    StreakType,
    UserAchievement,
    UserLevel,
    XPTransaction,
)
from .service import ProgressionService

router = ModuleRouter(prefix="/progression", tags=["progression"])


@router.get(
    "/overview",
    response_model=Overview,
    summary="Level, streaks, recent achievements and XP today / this week",
)
@direct
async def overview(uow: UoWDep, me: CurrentIdentity) -> Overview:
    return await ProgressionService(uow).overview(me.identity_id)


@router.get("/level", response_model=UserLevel, summary="Level and XP (total XP to reach level L is 50·L·(L−1))")
async def level(uow: UoWDep, me: CurrentIdentity) -> UserLevel:
    return await ProgressionService(uow).level(me.identity_id)


@router.get("/streaks", response_model=list[Streak], summary="Fasting, workout and logging streaks")
async def streaks(uow: UoWDep, me: CurrentIdentity) -> list[Streak]:
    return await ProgressionService(uow).streaks(me.identity_id)


@router.get("/streaks/{streak_type}", response_model=Streak, summary="One streak")
async def streak(uow: UoWDep, me: CurrentIdentity, streak_type: StreakType) -> Streak:
    return await ProgressionService(uow).streak(me.identity_id, streak_type)


@router.get("/xp/history", response_model=list[XPTransaction], summary="The XP ledger, newest first")
async def xp_history(
    uow: UoWDep,
    me: CurrentIdentity,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[XPTransaction]:
    return await ProgressionService(uow).xp_history(me.identity_id, limit=limit, offset=offset)


@router.post(
    "/xp",
    response_model=UserLevel,
    status_code=status.HTTP_201_CREATED,
    summary="Grant XP (admin only)",
    responses={403: problem_schema(), 404: problem_schema()},
)
async def grant_xp(uow: UoWDep, admin: AdminIdentity, body: GrantXPRequest) -> UserLevel:
    return await ProgressionService(uow).grant_xp(admin.identity_id, body)


@router.post(
    "/activity",
    response_model=StreakResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Record a streak day (admin only; activities are otherwise credited by the server)",
    responses={403: problem_schema(), 404: problem_schema(), 422: problem_schema()},
)
async def record_activity(uow: UoWDep, admin: AdminIdentity, body: RecordActivityRequest) -> StreakResponse:
    return await ProgressionService(uow).record_activity(admin.identity_id, body)


@router.get(
    "/achievements",
    response_model=list[Achievement],
    summary="The achievement catalogue (hidden ones only once you have unlocked them)",
)
async def achievements(uow: UoWDep, request: Request, include_hidden: bool = False) -> list[Achievement]:
    viewer = await optional_principal(request, uow)
    return await ProgressionService(uow).catalogue(
        viewer.identity_id if viewer else None, include_hidden=include_hidden
    )


@router.get("/achievements/mine", response_model=list[UserAchievement], summary="Your achievements with progress")
async def my_achievements(uow: UoWDep, me: CurrentIdentity, unlocked_only: bool = False) -> list[UserAchievement]:
    return await ProgressionService(uow).my_achievements(me.identity_id, unlocked_only=unlocked_only)


@router.post(
    "/achievements/check",
    response_model=list[UnlockedAchievement],
    summary="Re-evaluate achievements; returns the newly unlocked ones",
)
async def check_achievements(uow: UoWDep, me: CurrentIdentity) -> list[UnlockedAchievement]:
    return await ProgressionService(uow).check_achievements(me.identity_id)
