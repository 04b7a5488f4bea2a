"""The catalogue seed: workouts (with exercises) and recipes, read from `data/*.json`, validated,
and upserted by name. Re-running updates changed rows, adds new ones and never touches user data
(sessions, ratings, saved recipes, counters)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import delete, select

from src.core.uow import UnitOfWork

from .models import BodyFocus, DietTag, Difficulty, MealType, WorkoutType
from .orm import ExerciseRow, RecipeDietTagRow, RecipeRow, WorkoutCategoryRow, WorkoutRow

DATA = Path(__file__).parent / "data"
STRESS_AREAS = {"neck", "shoulder", "upper_back", "lower_back", "elbow", "wrist", "hip", "knee", "ankle"}


class ExerciseSeed(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    instructions: str = Field(min_length=1)
    duration_seconds: int = Field(gt=0)
    rest_seconds: int = Field(ge=0)
    sets: int = Field(default=1, ge=1)
    reps: int | None = Field(default=None, ge=1)
    body_focus: BodyFocus
    difficulty: Difficulty
    equipment_required: str | None = None
    calories_per_minute: float = Field(gt=0, le=25)
    high_impact: bool
    jumping: bool
    floor: bool
    stress_areas: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _areas(self) -> ExerciseSeed:
        unknown = set(self.stress_areas) - STRESS_AREAS
        if unknown:
            raise ValueError(f"{self.name}: unknown stress areas {sorted(unknown)}")
        return self


class WorkoutSeed(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    category: str
    workout_type: WorkoutType
    difficulty: Difficulty
    duration_minutes: int = Field(gt=0)
    calories_estimate: int = Field(ge=0)
    is_featured: bool = False
    is_premium: bool = False
    description: str
    equipment_needed: list[str] = Field(default_factory=list)
    exercises: list[ExerciseSeed] = Field(min_length=1)

    @model_validator(mode="after")
    def _duration_matches_exercises(self) -> WorkoutSeed:
        total = sum(e.duration_seconds + e.rest_seconds for e in self.exercises)
        if total != self.duration_minutes * 60:
            raise ValueError(
                f"{self.name}: exercises add up to {total} s but the workout declares {self.duration_minutes} min"
            )
        return self

    @property
    def body_focus(self) -> BodyFocus:
        counts = Counter(e.body_focus for e in self.exercises)
        best = max(counts.values())
        leaders = [focus for focus in BodyFocus if counts.get(focus) == best]
        return BodyFocus.FULL_BODY if len(leaders) > 1 else leaders[0]


class CategorySeed(BaseModel):
    name: str
    description: str
    icon: str
    color: str = Field(pattern=r"^#[0-9A-Fa-f]{6}$")


class WorkoutCatalogue(BaseModel):
    categories: list[CategorySeed]
    workouts: list[WorkoutSeed]

    @model_validator(mode="after")
    def _consistent(self) -> WorkoutCatalogue:
        names = {c.name for c in self.categories}
        for workout in self.workouts:
            if workout.category not in names:
                raise ValueError(f"{workout.name}: unknown category {workout.category}")
        if len({w.name for w in self.workouts}) != len(self.workouts):
            raise ValueError("workout names must be unique")
        flags: dict[str, tuple[Any, ...]] = {}
        for workout in self.workouts:
            for exercise in workout.exercises:
                key = (exercise.body_focus, exercise.high_impact, exercise.jumping, exercise.floor)
                if flags.setdefault(exercise.name, key) != key:
                    raise ValueError(f"exercise {exercise.name} has different focus/flags in different workouts")
        return self


class IngredientSeed(BaseModel):
    name: str
    amount: str | None = None
    notes: str | None = None


class RecipeSeed(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str
    meal_type: MealType
    prep_time_minutes: int = Field(ge=0)
    cook_time_minutes: int = Field(ge=0)
    servings: int = Field(ge=1)
    calories: int = Field(gt=0)
    protein_g: float = Field(ge=0)
    carbs_g: float = Field(ge=0)
    fat_g: float = Field(ge=0)
    fiber_g: float | None = Field(default=None, ge=0)
    sugar_g: float | None = Field(default=None, ge=0)
    ingredients: list[IngredientSeed] = Field(min_length=1)
    instructions: list[str] = Field(min_length=1)
    diet_tags: list[DietTag]
    is_featured: bool = False


class RecipeCatalogue(BaseModel):
    recipes: list[RecipeSeed]


@lru_cache(maxsize=1)
def workout_catalogue() -> WorkoutCatalogue:
    return WorkoutCatalogue.model_validate(json.loads((DATA / "workouts.json").read_text("utf-8")))


@lru_cache(maxsize=1)
def recipe_catalogue() -> RecipeCatalogue:
    return RecipeCatalogue.model_validate(json.loads((DATA / "recipes.json").read_text("utf-8")))


@dataclass
class SeedReport:
    categories: int = 0
    workouts: int = 0
    exercises: int = 0
    recipes: int = 0


def _assign(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


async def seed_workouts(uow: UnitOfWork) -> SeedReport:
    catalogue = workout_catalogue()
    session = uow.session
    now = uow.now()
    report = SeedReport()
    categories = {row.name: row for row in (await session.execute(select(WorkoutCategoryRow))).scalars()}
    for order, category in enumerate(catalogue.categories):
        category_values: dict[str, Any] = {
            "description": category.description,
            "icon": category.icon,
            "color": category.color,
            "sort_order": order,
        }
        category_row = categories.get(category.name)
        if category_row is None:
            category_row = WorkoutCategoryRow(id=uuid.uuid4(), name=category.name, **category_values)
            session.add(category_row)
            categories[category.name] = category_row
            report.categories += 1
        elif _assign(category_row, category_values):
            report.categories += 1
    await session.flush()

    workouts = {row.name: row for row in (await session.execute(select(WorkoutRow))).scalars()}
    exercises: dict[uuid.UUID, dict[int, ExerciseRow]] = {}
    for exercise_row in (await session.execute(select(ExerciseRow))).scalars():
        exercises.setdefault(exercise_row.workout_id, {})[exercise_row.position] = exercise_row
    for order, seed in enumerate(catalogue.workouts):
        values: dict[str, Any] = {
            "description": seed.description,
            "workout_type": str(seed.workout_type),
            "difficulty": str(seed.difficulty),
            "duration_minutes": seed.duration_minutes,
            "calories_estimate": seed.calories_estimate,
            "category_id": categories[seed.category].id,
            "equipment_needed": list(seed.equipment_needed),
            "is_featured": seed.is_featured,
            "is_premium": seed.is_premium,
            "body_focus": str(seed.body_focus),
            "high_impact": any(e.high_impact for e in seed.exercises),
            "jumping": any(e.jumping for e in seed.exercises),
            "floor": any(e.floor for e in seed.exercises),
            "stress_areas": sorted({a for e in seed.exercises for a in e.stress_areas}),
            "sort_order": order,
        }
        workout = workouts.get(seed.name)
        if workout is None:
            workout = WorkoutRow(
                id=uuid.uuid4(),
                name=seed.name,
                times_completed=0,
                total_rating=0,
                rating_count=0,
                created_at=now,
                updated_at=now,
                **values,
            )
            session.add(workout)
            report.workouts += 1
        elif _assign(workout, values):
            workout.updated_at = now
            report.workouts += 1
        await session.flush()
        existing = exercises.get(workout.id, {})
        for position, exercise in enumerate(seed.exercises):
            fields: dict[str, Any] = {
                "name": exercise.name,
                "description": exercise.instructions,
                "duration_seconds": exercise.duration_seconds,
                "rest_seconds": exercise.rest_seconds,
                "sets": exercise.sets,
                "reps": exercise.reps,
                "body_focus": str(exercise.body_focus),
                "difficulty": str(exercise.difficulty),
                "equipment_required": exercise.equipment_required,
                "calories_per_minute": exercise.calories_per_minute,
                "high_impact": exercise.high_impact,
                "jumping": exercise.jumping,
                "floor": exercise.floor,
                "stress_areas": sorted(exercise.stress_areas),
            }
            current = existing.get(position)
            if current is None:
                session.add(ExerciseRow(id=uuid.uuid4(), workout_id=workout.id, position=position, **fields))
                report.exercises += 1
            elif _assign(current, fields):
                report.exercises += 1
        surplus = [pos for pos in existing if pos >= len(seed.exercises)]
        if surplus:
            await session.execute(
                delete(ExerciseRow).where(ExerciseRow.workout_id == workout.id, ExerciseRow.position.in_(surplus))
            )
            report.exercises += len(surplus)
    await session.flush()
    return report


async def seed_recipes(uow: UnitOfWork) -> SeedReport:
    catalogue = recipe_catalogue()
    session = uow.session
    now = uow.now()
    report = SeedReport()
    recipes = {row.name: row for row in (await session.execute(select(RecipeRow))).scalars()}
    tags: dict[uuid.UUID, set[str]] = {}
    for recipe_id, tag in (await session.execute(select(RecipeDietTagRow.recipe_id, RecipeDietTagRow.tag))).all():
        tags.setdefault(recipe_id, set()).add(tag)
    for seed in catalogue.recipes:
        values: dict[str, Any] = {
            "description": seed.description,
            "meal_type": str(seed.meal_type),
            "prep_time_minutes": seed.prep_time_minutes,
            "cook_time_minutes": seed.cook_time_minutes,
            "servings": seed.servings,
            "calories": seed.calories,
            "protein_g": seed.protein_g,
            "carbs_g": seed.carbs_g,
            "fat_g": seed.fat_g,
            "fiber_g": seed.fiber_g,
            "sugar_g": seed.sugar_g,
            "ingredients": [i.model_dump() for i in seed.ingredients],
            "instructions": list(seed.instructions),
            "diet_tags": [str(t) for t in seed.diet_tags],
            "is_featured": seed.is_featured,
        }
        row = recipes.get(seed.name)
        if row is None:
            row = RecipeRow(
                id=uuid.uuid4(),
                name=seed.name,
                times_saved=0,
                total_rating=0,
                rating_count=0,
                created_at=now,
                updated_at=now,
                **values,
            )
            session.add(row)
            await session.flush()
            report.recipes += 1
        elif _assign(row, values):
            row.updated_at = now
            report.recipes += 1
        wanted = {str(t) for t in seed.diet_tags}
        have = tags.get(row.id, set())
        for tag in wanted - have:
            session.add(RecipeDietTagRow(recipe_id=row.id, tag=tag))
        if have - wanted:
            await session.execute(
                delete(RecipeDietTagRow).where(
                    RecipeDietTagRow.recipe_id == row.id, RecipeDietTagRow.tag.in_(sorted(have - wanted))
                )
            )
    await session.flush()
    return report
