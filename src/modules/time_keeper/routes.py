from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Query, status

from src.core.errors import problem_schema
from src.core.routing import ModuleRouter
from src.core.scopes import TokenScope, by_method
from src.core.types import UTCInstant
from src.dependencies import CurrentIdentity, UoWDep
from src.direct import direct

from .models import (
    ClosedWindow,
    CloseWindowRequest,
    CorrectWindowRequest,
    Elapsed,
    ExtendWindowRequest,
    OpenWindowRequest,
    Remaining,
    TimeWindow,
    WindowState,
    WindowType,
)
from .service import TimeKeeperService

router = ModuleRouter(
    prefix="/time-keeper",
    tags=["time-keeper"],
    token_scopes=by_method(read=TokenScope.FASTING_READ, write=TokenScope.FASTING_WRITE),
)
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 404, 409, 422)}


@router.post(
    "/windows",
    response_model=TimeWindow | ClosedWindow,
    status_code=status.HTTP_201_CREATED,
    summary="Start a fast (or eating/workout/recovery window), or log a finished past fast",
    description=(
        "Fasts: the target end comes from `protocol` (or `metadata.protocol`): 16:8, 18:6, 20:4, OMAD, 24h, 36h, "
        "custom with `custom_hours` 1–72 (or `metadata.target_hours`); without one, the person's "
        "`default_fasting_protocol` (else 16:8). An explicit `scheduled_end` is taken as the plan. A plan under "
        "12 h answers with a `warnings` entry: such a fast earns no XP or streak credit. `start_time` may be up to "
        "7 days back; with `end_time` too, the finished fast is logged and credited (the answer then includes "
        "what it earned) and appears once in the journal (`fast_logged`, at its end time). A logged or back-dated "
        "fast less than `FAST_MIN_GAP_MINUTES` (default 60) from another fast is refused with 409 "
        "`FASTS_TOO_CLOSE`: they are one fast. Refused with 409 `FASTING_NOT_SAFE` when the health "
        "profile rules fasting out, 409 `WINDOW_ALREADY_ACTIVE` when one is running, 409 `OVERLAPPING_FAST`. "
        "A new fast ends the open eating window at the fast's start; a fast back-dated before that eating window "
        "began, or a logged fast sharing time with any eating window, is refused with 409 "
        "`OVERLAPPING_EATING_WINDOW`."
    ),
    responses=_ERRORS,
)
async def open_window(uow: UoWDep, me: CurrentIdentity, body: OpenWindowRequest) -> TimeWindow | ClosedWindow:
    return await TimeKeeperService(uow).open(me.identity_id, body)


@router.get(
    "/windows/active",
    response_model=TimeWindow | None,
    summary="The running window (of a type), or null",
    description="Without `window_type`, a running fast wins over eating, workout and recovery windows.",
)
@direct
async def active_window(uow: UoWDep, me: CurrentIdentity, window_type: WindowType | None = None) -> TimeWindow | None:
    return await TimeKeeperService(uow).active(me.identity_id, window_type)


@router.get("/windows", response_model=list[TimeWindow], summary="History, newest first")
async def list_windows(
    uow: UoWDep,
    me: CurrentIdentity,
    window_type: WindowType | None = None,
    state: WindowState | None = None,
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[TimeWindow]:
    return await TimeKeeperService(uow).history(
        me.identity_id,
        window_type=window_type,
        state=state,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        offset=offset,
    )


@router.get("/windows/{window_id}", response_model=TimeWindow, summary="One window", responses=_ERRORS)
async def get_window(uow: UoWDep, me: CurrentIdentity, window_id: UUID) -> TimeWindow:
    return await TimeKeeperService(uow).get(me.identity_id, window_id)


@router.patch(
    "/windows/{window_id}",
    response_model=TimeWindow,
    summary="Correct the start of a running fast (up to 7 days back, no overlap)",
    description=(
        "The new start must be before the fast's first pause began (422 `INVALID_WINDOW_TIME` otherwise) and may "
        "not reach into another fast (409 `OVERLAPPING_FAST`) or an eating window (409 `OVERLAPPING_EATING_WINDOW`)."
    ),
    responses=_ERRORS,
)
async def correct_window(uow: UoWDep, me: CurrentIdentity, window_id: UUID, body: CorrectWindowRequest) -> TimeWindow:
    return await TimeKeeperService(uow).correct_start(me.identity_id, window_id, body)


@router.post(
    "/windows/{window_id}/close",
    response_model=ClosedWindow,
    summary="End a window as completed or abandoned; the answer says what it earned",
    description=(
        "XP for a completed fast follows the actual fasted hours (pauses excluded): under 12 h nothing (the "
        "answer says `credited: false` and why), 12–16 h 25, 16–18 h 50, 18–20 h 75, 20–24 h 100, 24 h+ 150; "
        "fasts ending on one streak day earn at most 150 together. The answer breaks `xp_earned` down into "
        "`base_xp`, `streak_bonus_xp` and `achievement_xp`. A credited fast counts for the streak day it ended "
        "in (04:00–04:00 local) and every other streak day it ran at least 12 h of. A fast closed with under a "
        "minute fasted ends as `abandoned`. Closing twice answers 409 and never credits twice."
    ),
    responses=_ERRORS,
)
async def close_window(
    uow: UoWDep,
    me: CurrentIdentity,
    window_id: UUID,
    body: Annotated[CloseWindowRequest | None, Body()] = None,
) -> ClosedWindow:
    return await TimeKeeperService(uow).close(me.identity_id, window_id, body or CloseWindowRequest())


@router.post(
    "/windows/{window_id}/extend", response_model=TimeWindow, summary="Move the planned end", responses=_ERRORS
)
async def extend_window(uow: UoWDep, me: CurrentIdentity, window_id: UUID, body: ExtendWindowRequest) -> TimeWindow:
    return await TimeKeeperService(uow).extend(me.identity_id, window_id, body)


@router.post(
    "/windows/{window_id}/pause",
    response_model=TimeWindow,
    summary="Pause a fast",
    description=(
        "At most `FAST_MAX_PAUSES` (default 3) pauses per fast (409 `TOO_MANY_PAUSES`). A pause ends by itself "
        "after `FAST_MAX_PAUSE_MINUTES` (default 120): the fast runs again from then. While paused, "
        "`scheduled_end` shows the projected end (it moves with the pause)."
    ),
    responses=_ERRORS,
)
async def pause_window(uow: UoWDep, me: CurrentIdentity, window_id: UUID) -> TimeWindow:
    return await TimeKeeperService(uow).pause(me.identity_id, window_id)


@router.post(
    "/windows/{window_id}/resume",
    response_model=TimeWindow,
    summary="Resume a paused fast",
    description="A pause that already ended by itself (past the pause limit) answers 409 `WINDOW_NOT_PAUSED`.",
    responses=_ERRORS,
)
async def resume_window(uow: UoWDep, me: CurrentIdentity, window_id: UUID) -> TimeWindow:
    return await TimeKeeperService(uow).resume(me.identity_id, window_id)


@router.get("/windows/{window_id}/elapsed", response_model=Elapsed, summary="Elapsed seconds (pauses excluded)")
async def elapsed(uow: UoWDep, me: CurrentIdentity, window_id: UUID) -> Elapsed:
    window = await TimeKeeperService(uow).get(me.identity_id, window_id)
    return Elapsed(elapsed_seconds=window.elapsed_seconds)


@router.get("/windows/{window_id}/remaining", response_model=Remaining, summary="Seconds left to the target, or null")
async def remaining(uow: UoWDep, me: CurrentIdentity, window_id: UUID) -> Remaining:
    window = await TimeKeeperService(uow).get(me.identity_id, window_id)
    return Remaining(remaining_seconds=window.remaining_seconds)
