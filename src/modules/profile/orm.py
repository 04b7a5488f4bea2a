"""Profile tables: one row per identity and section, keyed by identity id. Rows exist only once
the person has saved something: reads of a missing section answer the defaults without writing."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserProfileRow(_Timestamps, Base):
    __tablename__ = "user_profiles"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    avatar_key: Mapped[str | None] = mapped_column(String(200))  # storage key, owned by the server
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(20))
    height_cm: Mapped[float | None] = mapped_column(Float)


class UserGoalsRow(_Timestamps, Base):
    __tablename__ = "user_goals"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    primary_goal: Mapped[str] = mapped_column(String(30))
    secondary_goals: Mapped[list[str]] = mapped_column(JSONType)
    starting_weight_kg: Mapped[float | None] = mapped_column(Float)
    target_weight_kg: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None] = mapped_column(Date)
    target_body_fat_percent: Mapped[float | None] = mapped_column(Float)
    target_muscle_mass_kg: Mapped[float | None] = mapped_column(Float)
    weekly_workout_goal: Mapped[int] = mapped_column(Integer)
    daily_step_goal: Mapped[int] = mapped_column(Integer)
    weekly_fasting_goal: Mapped[int] = mapped_column(Integer)
    target_fasting_hours: Mapped[int] = mapped_column(Integer)


class HealthProfileRow(_Timestamps, Base):
    """Conditions, notes, medication details and the emergency contact are encrypted together in
    `sensitive` (a Fernet token of a JSON object); the flags needed for queries stay plain."""

    __tablename__ = "health_profiles"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sensitive: Mapped[str | None] = mapped_column(Text)
    takes_medication: Mapped[bool] = mapped_column(Boolean)
    medication_requires_food: Mapped[bool] = mapped_column(Boolean)
    doctor_approved_fasting: Mapped[bool] = mapped_column(Boolean)
    doctor_consultation_date: Mapped[date | None] = mapped_column(Date)


class DietaryProfileRow(_Timestamps, Base):
    __tablename__ = "dietary_profiles"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    dietary_preference: Mapped[str] = mapped_column(String(30))
    allergies: Mapped[list[str]] = mapped_column(JSONType)
    intolerances: Mapped[list[str]] = mapped_column(JSONType)
    avoid_foods: Mapped[list[str]] = mapped_column(JSONType)
    favorite_foods: Mapped[list[str]] = mapped_column(JSONType)
    daily_calorie_target: Mapped[int | None] = mapped_column(Integer)
    protein_target_g: Mapped[int | None] = mapped_column(Integer)
    carbs_target_g: Mapped[int | None] = mapped_column(Integer)
    fat_target_g: Mapped[int | None] = mapped_column(Integer)
    break_fast_preference: Mapped[str | None] = mapped_column(String(200))


class WorkoutRestrictionsRow(_Timestamps, Base):
    __tablename__ = "workout_restrictions"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    injury_areas: Mapped[list[str]] = mapped_column(JSONType)
    injury_notes: Mapped[str | None] = mapped_column(String(500))
    has_chronic_pain: Mapped[bool] = mapped_column(Boolean)
    chronic_pain_areas: Mapped[list[str]] = mapped_column(JSONType)
    avoid_high_impact: Mapped[bool] = mapped_column(Boolean)
    avoid_jumping: Mapped[bool] = mapped_column(Boolean)
    avoid_heavy_weights: Mapped[bool] = mapped_column(Boolean)
    avoid_floor_exercises: Mapped[bool] = mapped_column(Boolean)
    fitness_level: Mapped[str] = mapped_column(String(20))
    max_workout_duration_minutes: Mapped[int] = mapped_column(Integer)
    has_gym_access: Mapped[bool] = mapped_column(Boolean)
    home_equipment: Mapped[list[str]] = mapped_column(JSONType)


class SocialProfileRow(_Timestamps, Base):
    __tablename__ = "social_profiles"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(30))
    # Lower-cased username: uniqueness is case-insensitive on every database.
    username_key: Mapped[str | None] = mapped_column(String(30), unique=True)
    bio: Mapped[str | None] = mapped_column(String(500))
    friend_code: Mapped[str] = mapped_column(String(8), unique=True)
    profile_public: Mapped[bool] = mapped_column(Boolean)
    show_streaks: Mapped[bool] = mapped_column(Boolean)
    show_achievements: Mapped[bool] = mapped_column(Boolean)
    show_level: Mapped[bool] = mapped_column(Boolean)
    show_workouts: Mapped[bool] = mapped_column(Boolean)
    show_weight: Mapped[bool] = mapped_column(Boolean)
    friends_count: Mapped[int] = mapped_column(Integer)
    followers_count: Mapped[int] = mapped_column(Integer)
    following_count: Mapped[int] = mapped_column(Integer)


class UserPreferencesRow(_Timestamps, Base):
    __tablename__ = "user_preferences"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    unit_system: Mapped[str] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(10))
    default_fasting_protocol: Mapped[str] = mapped_column(String(10))
    custom_fast_hours: Mapped[int | None] = mapped_column(Integer)
    eating_window_start: Mapped[time | None] = mapped_column(Time)
    eating_window_end: Mapped[time | None] = mapped_column(Time)
    preferred_workout_time: Mapped[str | None] = mapped_column(String(20))
    workout_reminder_enabled: Mapped[bool] = mapped_column(Boolean)
    preferred_workout_types: Mapped[list[str]] = mapped_column(JSONType)
    dark_mode: Mapped[bool] = mapped_column(Boolean)
    haptic_feedback: Mapped[bool] = mapped_column(Boolean)
    sound_effects: Mapped[bool] = mapped_column(Boolean)


class OnboardingStatusRow(_Timestamps, Base):
    __tablename__ = "onboarding_status"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    basic_profile_completed: Mapped[bool] = mapped_column(Boolean)
    goals_set: Mapped[bool] = mapped_column(Boolean)
    health_profile_completed: Mapped[bool] = mapped_column(Boolean)
    dietary_preferences_set: Mapped[bool] = mapped_column(Boolean)
    workout_restrictions_set: Mapped[bool] = mapped_column(Boolean)
    bloodwork_uploaded: Mapped[bool] = mapped_column(Boolean)
    first_fast_completed: Mapped[bool] = mapped_column(Boolean)
    first_workout_completed: Mapped[bool] = mapped_column(Boolean)
    first_weight_logged: Mapped[bool] = mapped_column(Boolean)
    onboarding_completed: Mapped[bool] = mapped_column(Boolean)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    skipped_steps: Mapped[list[str]] = mapped_column(JSONType)


SECTION_ROWS: tuple[type[Any], ...] = (
    UserProfileRow,
    UserGoalsRow,
    HealthProfileRow,
    DietaryProfileRow,
    WorkoutRestrictionsRow,
    SocialProfileRow,
    UserPreferencesRow,
    OnboardingStatusRow,
)
