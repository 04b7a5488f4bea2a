from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Query, Request, Response, status
from pydantic import AfterValidator, TypeAdapter

from src.core.errors import UnprocessableEntity, problem_schema
from src.core.routing import ModuleRouter
from src.core.validation import storable_text
from src.dependencies import CurrentIdentity, UoWDep, optional_principal

from .models import (
    CompletedSession,
    CompleteSessionRequest,
    DietTag,
    Difficulty,
    Exercise,
    MealType,
    Recipe,
    RecipeSummary,
    Recommendation,
    SavedRecipe,
    SaveRecipeRequest,
    StartSessionRequest,
    Workout,
    WorkoutCategory,
    WorkoutRating,
    WorkoutRatingRequest,
    WorkoutSession,
    WorkoutStats,
    WorkoutType,
)
from .service import ContentService, normalise_body_focus

router = ModuleRouter(prefix="/content", tags=["content"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 403, 404, 409, 422)}
BODY_FOCUS_HELP = "upper_body, lower_body, full_body or core (also upper, lower, full)"
WORKOUT_FOCUS_HELP = (
    f"{BODY_FOCUS_HELP}. Matches the workout's own `body_focus` (what most of its exercises train), "
    "not a focus that only some of its exercises have."
)


SearchText = Annotated[str | None, Query(max_length=100), AfterValidator(storable_text)]


def _focus(value: str | None) -> Any:
    try:
        return normalise_body_focus(value)
    except ValueError as exc:
        raise UnprocessableEntity(f"body_focus must be one of: {BODY_FOCUS_HELP}") from exc


_CATALOGUE_HEADERS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `ETag` sent in `If-None-Match` is still current (no body)"}
}
_CATALOGUE_HELP = (
    " Answered from an in-process copy of the catalogue with an `ETag`: send it back in `If-None-Match` "
    "to get `304 Not Modified` without a body."
)
_CATEGORIES = TypeAdapter(list[WorkoutCategory])
_WORKOUTS = TypeAdapter(list[Workout])


@router.get(
    "/categories",
    response_model=list[WorkoutCategory],
    summary="Workout categories with counts",
    description="Every category with how many workouts it holds." + _CATALOGUE_HELP,
    responses=_CATALOGUE_HEADERS,
)
async def categories(uow: UoWDep, request: Request) -> Response:
    return await uow.resources.catalogue.answer(
        request, ("categories",), lambda: ContentService(uow).categories(), _CATEGORIES
    )


@router.get(
    "/categories/{category_id}", response_model=WorkoutCategory, summary="One workout category", responses=_ERRORS
)
async def category(uow: UoWDep, category_id: UUID) -> WorkoutCategory:
    return await ContentService(uow).category(category_id)


@router.get(
    "/workouts",
    response_model=list[Workout],
    summary="Browse workouts (featured first)",
    description="A page of the workout catalogue, filtered; featured workouts first, then the catalogue's order."
    + _CATALOGUE_HELP,
    responses=_CATALOGUE_HEADERS,
)
async def workouts(
    uow: UoWDep,
    request: Request,
    workout_type: WorkoutType | None = None,
    difficulty: Difficulty | None = None,
    category_id: UUID | None = None,
    body_focus: Annotated[str | None, Query(description=WORKOUT_FOCUS_HELP, max_length=20)] = None,
    min_duration: Annotated[int | None, Query(ge=0, le=600)] = None,
    max_duration: Annotated[int | None, Query(ge=0, le=600)] = None,
    is_featured: bool | None = None,
    search: SearchText = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    filters: dict[str, Any] = {
        "workout_type": workout_type,
        "difficulty": difficulty,
        "category_id": category_id,
        "body_focus": _focus(body_focus),
        "min_duration": min_duration,
        "max_duration": max_duration,
        "is_featured": is_featured,
        "search": search,
        "limit": limit,
        "offset": offset,
    }
    key = ("workouts", *filters.values())
    return await uow.resources.catalogue.answer(
        request, key, lambda: ContentService(uow).workouts(**filters), _WORKOUTS
    )


@router.get("/workouts/{workout_id}", response_model=Workout, summary="One workout", responses=_ERRORS)
async def workout(uow: UoWDep, workout_id: UUID, include_exercises: bool = False) -> Workout:
    return await ContentService(uow).workout(workout_id, include_exercises=include_exercises)


@router.post(
    "/workouts/{workout_id}/rating",
    response_model=WorkoutRating,
    summary="Rate a workout 1–5 (one rating per person; rating again updates it)",
    responses=_ERRORS,
)
async def rate_workout(uow: UoWDep, me: CurrentIdentity, workout_id: UUID, body: WorkoutRatingRequest) -> WorkoutRating:
    return await ContentService(uow).rate_workout(me.identity_id, workout_id, body.rating)


@router.get("/exercises", response_model=list[Exercise], summary="Exercises, one per name")
async def exercises(
    uow: UoWDep,
    body_focus: Annotated[str | None, Query(description=BODY_FOCUS_HELP, max_length=20)] = None,
    difficulty: Difficulty | None = None,
    equipment_required: Annotated[str | None, Query(max_length=50), AfterValidator(storable_text)] = None,
    search: SearchText = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[Exercise]:
    return await ContentService(uow).exercises(
        body_focus=_focus(body_focus),
        difficulty=difficulty,
        equipment_required=equipment_required,
        search=search,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/sessions",
    response_model=WorkoutSession,
    status_code=status.HTTP_201_CREATED,
    summary="Start a workout (an unfinished one is abandoned)",
    responses=_ERRORS,
)
async def start_session(uow: UoWDep, me: CurrentIdentity, body: StartSessionRequest) -> WorkoutSession:
    return await ContentService(uow).start_session(me.identity_id, body.workout_id, premium=me.has("premium"))


@router.get("/sessions/active", response_model=WorkoutSession | None, summary="The running workout, or null")
async def active_session(uow: UoWDep, me: CurrentIdentity) -> WorkoutSession | None:
    return await ContentService(uow).active_session(me.identity_id)


@router.get("/sessions/history", response_model=list[WorkoutSession], summary="Past workouts, newest first")
async def session_history(
    uow: UoWDep,
    me: CurrentIdentity,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[WorkoutSession]:
    return await ContentService(uow).session_history(me.identity_id, limit=limit, offset=offset)


@router.post(
    "/sessions/{session_id}/complete",
    response_model=CompletedSession,
    summary="Finish a workout; the answer says what it earned",
    description=(
        "Credit (XP by difficulty: beginner 30, intermediate 45, advanced 60; workout streak; achievements) "
        "needs at least half of the planned duration; a shorter session ends with status `not_credited` "
        "(so it is listed in history) and `credit_reason` says why. `xp_earned` is all XP of this workout: "
        "the sum of `base_xp`, `streak_bonus_xp` and `achievement_xp`. Early Bird and Night Owl go by the local "
        "clock time the session started (04:00–07:00 early, 21:00–04:00 late).\n\n"
        "`duration_seconds` is the time that can plausibly have been spent: the time since the start up to "
        "twice the planned duration; a session left open longer counts as its planned duration and is "
        "flagged `left_open`.\n\n"
        "`calories_burned` is the client's value when plausible: at most 3× our estimate for the time "
        "spent, and, for a session long enough to earn credit, at least half the workout's "
        "`calories_estimate`. Otherwise (or when no value is sent) it is our estimate: the workout's "
        "`calories_estimate` in proportion to the time spent, up to the full estimate."
    ),
    responses=_ERRORS,
)
async def complete_session(
    uow: UoWDep,
    me: CurrentIdentity,
    session_id: UUID,
    body: Annotated[CompleteSessionRequest | None, Body()] = None,
) -> CompletedSession:
    return await ContentService(uow).complete_session(
        me.identity_id, session_id, calories_burned=body.calories_burned if body else None
    )


@router.post(
    "/sessions/{session_id}/abandon", response_model=WorkoutSession, summary="Stop a workout early", responses=_ERRORS
)
async def abandon_session(uow: UoWDep, me: CurrentIdentity, session_id: UUID) -> WorkoutSession:
    return await ContentService(uow).abandon_session(me.identity_id, session_id)


@router.get(
    "/recommendations",
    response_model=list[Recommendation],
    summary="Workouts for you, respecting your restrictions, each with a reason",
    description=(
        "Never a workout your restrictions rule out; your preferred types first, then featured workouts you "
        "have not done, more of your favourite type, types you have not tried, popular ones. Avoids repeating "
        "yesterday (your local day): a workout of a type you trained yesterday, or with the body focus you "
        "trained yesterday, ranks lower (score −0.3) and its reason says so. Full body counts as its own "
        "focus (it repeats a full-body day, not an upper- or lower-body one). Flexibility and recovery "
        "workouts are restorative: they are not ranked lower for yesterday's type or focus, and doing one "
        "yesterday does not count as training a type or focus. A workout you did in the last 3 days ranks "
        "lower (−0.2, the reason says when). Your fitness level follows what you complete: the hardest level "
        "you completed is offered, and 5 credited workouts at a level unlock the next. At most 2 featured "
        'picks (untried, nearest your level). "Popular with other users" only when other people completed '
        "it. The same data always gives the same list."
    ),
)
async def recommendations(
    uow: UoWDep, me: CurrentIdentity, limit: Annotated[int, Query(ge=1, le=10)] = 5
) -> list[Recommendation]:
    return await ContentService(uow).recommendations(me.identity_id, limit=limit)


@router.get("/stats", response_model=WorkoutStats, summary="Your workout statistics (your time zone)")
async def stats(uow: UoWDep, me: CurrentIdentity) -> WorkoutStats:
    return await ContentService(uow).stats(me.identity_id)


@router.get("/recipes", response_model=list[RecipeSummary], summary="Browse recipes (diet tags all must match)")
async def recipes(
    uow: UoWDep,
    request: Request,
    meal_type: MealType | None = None,
    diet_tags: Annotated[list[DietTag] | None, Query()] = None,
    diet_tags_brackets: Annotated[list[DietTag] | None, Query(alias="diet_tags[]", include_in_schema=False)] = None,
    max_prep_time: Annotated[int | None, Query(ge=0, le=1000)] = None,
    max_calories: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    min_protein: Annotated[float | None, Query(ge=0, le=1000)] = None,
    is_featured: bool | None = None,
    search: SearchText = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[RecipeSummary]:
    viewer = await optional_principal(request, uow)
    return await ContentService(uow).recipes(
        viewer.identity_id if viewer else None,
        meal_type=meal_type,
        diet_tags=[*(diet_tags or []), *(diet_tags_brackets or [])],
        max_prep_time=max_prep_time,
        max_calories=max_calories,
        min_protein=min_protein,
        is_featured=is_featured,
        search=search,
        limit=limit,
        offset=offset,
    )


@router.get("/recipes/saved/list", response_model=list[RecipeSummary], summary="Your saved recipes, newest first")
async def saved_recipes(
    uow: UoWDep,
    me: CurrentIdentity,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[RecipeSummary]:
    return await ContentService(uow).saved_recipes(me.identity_id, limit=limit, offset=offset)


@router.post(
    "/recipes/saved",
    response_model=SavedRecipe,
    status_code=status.HTTP_201_CREATED,
    summary="Save a recipe (saving it again is harmless: 200)",
    responses=_ERRORS,
)
async def save_recipe(uow: UoWDep, me: CurrentIdentity, body: SaveRecipeRequest, response: Response) -> SavedRecipe:
    saved, created = await ContentService(uow).save_recipe(me.identity_id, body.recipe_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return saved


@router.delete(
    "/recipes/saved/{recipe_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a saved recipe (idempotent)",
    responses=_ERRORS,
)
async def unsave_recipe(uow: UoWDep, me: CurrentIdentity, recipe_id: UUID) -> Response:
    await ContentService(uow).unsave_recipe(me.identity_id, recipe_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/recipes/{recipe_id}", response_model=Recipe, summary="One recipe with nutrition", responses=_ERRORS)
async def recipe(uow: UoWDep, request: Request, recipe_id: UUID) -> Recipe:
    viewer = await optional_principal(request, uow)
    return await ContentService(uow).recipe(recipe_id, viewer.identity_id if viewer else None)
