from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from src.core.contracts import StreakSnapshot, UnlockedAchievement
from src.core.types import ExactScalars
from src.core.validation import RequestBody


class WorkoutType(StrEnum):
    HIIT = "hiit"
    STRENGTH = "strength"
    CARDIO = "cardio"
    FLEXIBILITY = "flexibility"
    RECOVERY = "recovery"


class Difficulty(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


DIFFICULTY_RANK = {Difficulty.BEGINNER: 0, Difficulty.INTERMEDIATE: 1, Difficulty.ADVANCED: 2}


class BodyFocus(StrEnum):
    UPPER_BODY = "upper_body"
    LOWER_BODY = "lower_body"
    FULL_BODY = "full_body"
    CORE = "core"


# The documentation's short names are accepted too.
BODY_FOCUS_ALIASES = {"upper": "upper_body", "lower": "lower_body", "full": "full_body", "fullbody": "full_body"}


class SessionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    NOT_CREDITED = "not_credited"  # finished, but too short to count (see `credit_reason`)
    ABANDONED = "abandoned"


class MealType(StrEnum):
    BREAKFAST = "breakfast"
    LUNCH = "lunch"
    DINNER = "dinner"
    SNACK = "snack"


class DietTag(StrEnum):
    HIGH_PROTEIN = "high_protein"
    LOW_CARB = "low_carb"
    KETO = "keto"
    VEGAN = "vegan"
    VEGETARIAN = "vegetarian"
    GLUTEN_FREE = "gluten_free"
    DAIRY_FREE = "dairy_free"
    PALEO = "paleo"
    MEDITERRANEAN = "mediterranean"
    MEAL_PREP = "meal_prep"
    QUICK = "quick"
    POST_WORKOUT = "post_workout"


# Catalogue ----------------------------------------------------------------------------------


class WorkoutCategory(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    description: str | None = None
    icon: str | None = None
    color: str | None = None
    workout_count: int = 0


class Exercise(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    workout_id: UUID
    name: str
    description: str | None = Field(default=None, description="How to do it")
    duration_seconds: int = Field(description="Work time of this block (all sets)")
    rest_seconds: int
    sets: int = 1
    reps: int | None = None
    order: int
    body_focus: BodyFocus
    difficulty: Difficulty
    equipment_required: str | None = None
    calories_per_minute: float
    video_url: str | None = None
    thumbnail_url: str | None = None
    high_impact: bool = False
    jumping: bool = False
    floor: bool = False
    stress_areas: list[str] = Field(default_factory=list)


class Workout(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    description: str | None = None
    workout_type: WorkoutType
    difficulty: Difficulty
    duration_minutes: int = Field(description="Equals the sum of its exercises' work and rest time")
    calories_estimate: int
    thumbnail_url: str | None = None
    video_url: str | None = None
    category_id: UUID
    category: WorkoutCategory | None = None
    equipment_needed: list[str] = Field(default_factory=list)
    is_featured: bool
    is_premium: bool
    body_focus: BodyFocus
    high_impact: bool
    jumping: bool
    floor: bool
    stress_areas: list[str] = Field(default_factory=list)
    times_completed: int
    average_rating: float | None = None
    rating_count: int = 0
    exercises: list[Exercise] | None = None


class Recommendation(BaseModel):
    workout: Workout
    reason: str
    score: float


class WorkoutRatingRequest(ExactScalars):
    rating: int = Field(ge=1, le=5)


class WorkoutRating(BaseModel):
    workout_id: UUID
    rating: int
    average_rating: float
    rating_count: int


# Sessions ------------------------------------------------------------------------------------


class StartSessionRequest(RequestBody):
    workout_id: UUID


class CompleteSessionRequest(RequestBody):
    calories_burned: int | None = Field(default=None, ge=0, le=5000)


class WorkoutSession(BaseModel):
    id: UUID
    identity_id: UUID
    workout_id: UUID
    status: SessionStatus
    started_at: AwareDatetime
    completed_at: AwareDatetime | None = None
    duration_seconds: int | None = Field(
        default=None,
        description=(
            "Time spent: from start to completion (or abandonment) up to twice the workout's planned duration; "
            "a session left open longer counts as the planned duration and is flagged `left_open`"
        ),
    )
    left_open: bool = Field(
        default=False, description="Left open more than twice the plan: its time was counted as the plan"
    )
    calories_burned: int | None = None
    xp_earned: int = Field(default=0, description="XP this session put in the ledger (bonuses included)")
    credited: bool = False
    credit_reason: str | None = None
    workout: Workout | None = None


class CompletedSession(WorkoutSession):
    level_up: bool = False
    new_level: int | None = None
    achievements_unlocked: list[UnlockedAchievement] = Field(default_factory=list)
    streak: StreakSnapshot | None = None
    base_xp: int = Field(default=0, description="XP for the workout itself (by difficulty)")
    streak_bonus_xp: int = Field(default=0, description="XP of a workout-streak milestone this workout reached")
    achievement_xp: int = Field(default=0, description="XP of the achievements this workout unlocked")


class CompletedWorkout(BaseModel):
    """A completed workout session, as other modules see it (the calendar feed)."""

    model_config = ConfigDict(frozen=True)

    session_id: UUID
    workout_name: str
    started_at: AwareDatetime
    completed_at: AwareDatetime


class WorkoutStats(BaseModel):
    total_workouts: int
    total_duration_minutes: int = Field(
        description="Sum of the workouts' durations, each at most twice its planned duration"
    )
    total_calories_burned: int
    favorite_workout_type: WorkoutType | None = None
    current_week_workouts: int = Field(description="Completed this calendar week (Monday start) in your time zone")
    average_workout_duration: float = Field(description="Minutes")
    workouts_by_category: dict[str, int] = Field(
        default_factory=dict, description="Every category by name, with 0 when none of its workouts was done"
    )
    workouts_today: int = 0


# Recipes -------------------------------------------------------------------------------------


class Ingredient(BaseModel):
    name: str
    amount: str | None = None
    notes: str | None = None


class Nutrition(BaseModel):
    calories: int
    protein_g: float
    carbs_g: float
    fat_g: float
    fiber_g: float | None = None
    sugar_g: float | None = None


class RecipeSummary(BaseModel):
    id: UUID
    name: str
    meal_type: MealType
    prep_time_minutes: int
    cook_time_minutes: int = 0
    calories: int
    protein_g: float
    diet_tags: list[DietTag]
    image_url: str | None = None
    is_featured: bool
    is_saved: bool = False
    times_saved: int = 0


class Recipe(BaseModel):
    id: UUID
    name: str
    description: str | None = None
    meal_type: MealType
    prep_time_minutes: int
    cook_time_minutes: int
    total_time_minutes: int
    servings: int
    calories: int
    protein_g: float
    carbs_g: float
    fat_g: float
    fiber_g: float | None = None
    sugar_g: float | None = None
    nutrition: Nutrition
    ingredients: list[Ingredient]
    instructions: list[str]
    diet_tags: list[DietTag]
    image_url: str | None = None
    is_featured: bool
    times_saved: int
    is_saved: bool = False


class SaveRecipeRequest(RequestBody):
    recipe_id: UUID


class SavedRecipe(BaseModel):
    id: UUID
    identity_id: UUID
    recipe_id: UUID
    saved_at: AwareDatetime
    recipe: RecipeSummary | None = None


def nutrition_of(row: Any) -> Nutrition:
    return Nutrition(
        calories=row.calories,
        protein_g=row.protein_g,
        carbs_g=row.carbs_g,
        fat_g=row.fat_g,
        fiber_g=row.fiber_g,
        sugar_g=row.sugar_g,
    )
