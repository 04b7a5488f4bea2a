from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base


class WorkoutCategoryRow(Base):
    __tablename__ = "workout_categories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(String(50))
    color: Mapped[str | None] = mapped_column(String(7))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class WorkoutRow(Base):
    """A catalogue workout. The restriction flags (`high_impact`, `jumping`, `floor`,
    `stress_areas`) and `body_focus` summarise its exercises, for filtering and recommendations."""

    __tablename__ = "workouts"
    __table_args__ = (Index("ix_workouts_category", "category_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    workout_type: Mapped[str] = mapped_column(String(20))
    difficulty: Mapped[str] = mapped_column(String(20))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    calories_estimate: Mapped[int] = mapped_column(Integer)
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    video_url: Mapped[str | None] = mapped_column(String(500))
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workout_categories.id"))
    equipment_needed: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False)
    is_premium: Mapped[bool] = mapped_column(Boolean, default=False)
    body_focus: Mapped[str] = mapped_column(String(20))
    high_impact: Mapped[bool] = mapped_column(Boolean, default=False)
    jumping: Mapped[bool] = mapped_column(Boolean, default=False)
    floor: Mapped[bool] = mapped_column(Boolean, default=False)
    stress_areas: Mapped[list[str]] = mapped_column(JSONType, default=list)
    times_completed: Mapped[int] = mapped_column(Integer, default=0)
    total_rating: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExerciseRow(Base):
    __tablename__ = "exercises"
    __table_args__ = (
        UniqueConstraint("workout_id", "position"),
        Index("ix_exercises_name", "name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workout_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workouts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    rest_seconds: Mapped[int] = mapped_column(Integer)
    sets: Mapped[int] = mapped_column(Integer, default=1)
    reps: Mapped[int | None] = mapped_column(Integer)
    video_url: Mapped[str | None] = mapped_column(String(500))
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    calories_per_minute: Mapped[float] = mapped_column(Float, default=5.0)
    body_focus: Mapped[str] = mapped_column(String(20))
    difficulty: Mapped[str] = mapped_column(String(20))
    equipment_required: Mapped[str | None] = mapped_column(String(50))
    high_impact: Mapped[bool] = mapped_column(Boolean, default=False)
    jumping: Mapped[bool] = mapped_column(Boolean, default=False)
    floor: Mapped[bool] = mapped_column(Boolean, default=False)
    stress_areas: Mapped[list[str]] = mapped_column(JSONType, default=list)


_ACTIVE = text("status = 'active'")


class WorkoutSessionRow(Base):
    __tablename__ = "workout_sessions"
    __table_args__ = (
        # One active session per person, enforced by the database.
        Index(
            "uq_workout_sessions_one_active", "identity_id", unique=True, postgresql_where=_ACTIVE, sqlite_where=_ACTIVE
        ),
        Index("ix_workout_sessions_identity_status", "identity_id", "status"),
        Index("ix_workout_sessions_identity_started", "identity_id", "started_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    workout_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workouts.id"))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    calories_burned: Mapped[int | None] = mapped_column(Integer)
    xp_earned: Mapped[int] = mapped_column(Integer, default=0)
    credited: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_reason: Mapped[str | None] = mapped_column(String(200))


class WorkoutRatingRow(Base):
    __tablename__ = "workout_ratings"
    __table_args__ = (UniqueConstraint("identity_id", "workout_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    workout_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workouts.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecipeRow(Base):
    __tablename__ = "recipes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    meal_type: Mapped[str] = mapped_column(String(20))
    prep_time_minutes: Mapped[int] = mapped_column(Integer)
    cook_time_minutes: Mapped[int] = mapped_column(Integer)
    servings: Mapped[int] = mapped_column(Integer)
    calories: Mapped[int] = mapped_column(Integer)
    protein_g: Mapped[float] = mapped_column(Float)
    carbs_g: Mapped[float] = mapped_column(Float)
    fat_g: Mapped[float] = mapped_column(Float)
    fiber_g: Mapped[float | None] = mapped_column(Float)
    sugar_g: Mapped[float | None] = mapped_column(Float)
    ingredients: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    instructions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    diet_tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    image_url: Mapped[str | None] = mapped_column(String(500))
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False)
    times_saved: Mapped[int] = mapped_column(Integer, default=0)
    total_rating: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecipeDietTagRow(Base):
    """One row per recipe and diet tag, so that tag filters (AND-matched) run in SQL on every
    database."""

    __tablename__ = "recipe_diet_tags"
    __table_args__ = (Index("ix_recipe_diet_tags_tag", "tag", "recipe_id"),)

    recipe_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(30), primary_key=True)


class SavedRecipeRow(Base):
    __tablename__ = "user_saved_recipes"
    __table_args__ = (
        UniqueConstraint("identity_id", "recipe_id"),
        Index("ix_user_saved_recipes_identity_saved", "identity_id", "saved_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    recipe_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
