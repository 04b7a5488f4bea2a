from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from src.core.types import ExactScalars
from src.core.validation import storable_text

# Enums --------------------------------------------------------------------------------------


class GoalType(StrEnum):
    WEIGHT_LOSS = "weight_loss"
    WEIGHT_GAIN = "weight_gain"
    MUSCLE_GAIN = "muscle_gain"
    MAINTAIN_WEIGHT = "maintain_weight"
    IMPROVE_FITNESS = "improve_fitness"
    INCREASE_ENERGY = "increase_energy"
    BETTER_SLEEP = "better_sleep"
    REDUCE_STRESS = "reduce_stress"


class FastingProtocol(StrEnum):
    P16_8 = "16:8"
    P18_6 = "18:6"
    P20_4 = "20:4"
    OMAD = "OMAD"
    H24 = "24h"
    H36 = "36h"
    CUSTOM = "custom"


# Older clients wrote these spellings.
PROTOCOL_ALIASES = {"24:0": "24h", "23:1": "OMAD", "omad": "OMAD", "24": "24h", "36": "36h"}


class FitnessLevel(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class DietaryPreference(StrEnum):
    NONE = "none"
    KETO = "keto"
    LOW_CARB = "low_carb"
    VEGAN = "vegan"
    VEGETARIAN = "vegetarian"
    PALEO = "paleo"
    MEDITERRANEAN = "mediterranean"
    WHOLE30 = "whole30"
    PESCATARIAN = "pescatarian"


class HealthCondition(StrEnum):
    DIABETES_TYPE1 = "diabetes_type1"
    DIABETES_TYPE2 = "diabetes_type2"
    HYPOGLYCEMIA = "hypoglycemia"
    EATING_DISORDER_HISTORY = "eating_disorder_history"
    PREGNANT = "pregnant"
    BREASTFEEDING = "breastfeeding"
    HEART_CONDITION = "heart_condition"
    KIDNEY_DISEASE = "kidney_disease"
    ON_MEDICATION = "on_medication"
    OTHER = "other"


UNSAFE_CONDITIONS = frozenset(
    {
        HealthCondition.DIABETES_TYPE1,
        HealthCondition.HYPOGLYCEMIA,
        HealthCondition.EATING_DISORDER_HISTORY,
        HealthCondition.PREGNANT,
        HealthCondition.BREASTFEEDING,
    }
)
CAUTION_CONDITIONS = frozenset(
    {
        HealthCondition.DIABETES_TYPE2,
        HealthCondition.HEART_CONDITION,
        HealthCondition.KIDNEY_DISEASE,
        HealthCondition.ON_MEDICATION,
    }
)


class InjuryArea(StrEnum):
    NECK = "neck"
    SHOULDER = "shoulder"
    UPPER_BACK = "upper_back"
    LOWER_BACK = "lower_back"
    ELBOW = "elbow"
    WRIST = "wrist"
    HIP = "hip"
    KNEE = "knee"
    ANKLE = "ankle"
    OTHER = "other"


class UnitSystem(StrEnum):
    METRIC = "metric"
    IMPERIAL = "imperial"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    PREFER_NOT_TO_SAY = "prefer_not_to_say"


class OnboardingStep(StrEnum):
    BASIC_PROFILE_COMPLETED = "basic_profile_completed"
    GOALS_SET = "goals_set"
    HEALTH_PROFILE_COMPLETED = "health_profile_completed"
    DIETARY_PREFERENCES_SET = "dietary_preferences_set"
    WORKOUT_RESTRICTIONS_SET = "workout_restrictions_set"
    BLOODWORK_UPLOADED = "bloodwork_uploaded"
    FIRST_FAST_COMPLETED = "first_fast_completed"
    FIRST_WORKOUT_COMPLETED = "first_workout_completed"
    FIRST_WEIGHT_LOGGED = "first_weight_logged"


# Steps only the server marks, when the thing actually happens.
SERVER_STEPS = frozenset(
    {
        OnboardingStep.BLOODWORK_UPLOADED,
        OnboardingStep.FIRST_FAST_COMPLETED,
        OnboardingStep.FIRST_WORKOUT_COMPLETED,
        OnboardingStep.FIRST_WEIGHT_LOGGED,
    }
)
# Completing both of these completes onboarding.
REQUIRED_STEPS = (OnboardingStep.BASIC_PROFILE_COMPLETED, OnboardingStep.GOALS_SET)


# Field types -------------------------------------------------------------------------------

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^\+?[0-9 ()\-.]{3,20}$")]
ListItem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
ShortList = Annotated[list[ListItem], Field(max_length=50)]
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_.]+$")
]

_ALL_ZONES: frozenset[str] | None = None
# Files some systems keep beside the zone database that are not zones of the IANA list: the
# server's own local time, and alternative copies of the database.
_SYSTEM_ZONE_FILES = frozenset({"localtime", "posixrules", "Factory"})
_SYSTEM_ZONE_DIRS = ("posix/", "right/")


def validate_timezone(value: str) -> str:
    global _ALL_ZONES
    if _ALL_ZONES is None:
        _ALL_ZONES = frozenset(available_timezones())
    if value in _SYSTEM_ZONE_FILES or value.startswith(_SYSTEM_ZONE_DIRS):
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/London)")
    if value not in _ALL_ZONES:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory of the zone database
            raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/London)") from exc
    return value


def normalise_protocol(value: Any) -> Any:
    if isinstance(value, str):
        return PROTOCOL_ALIASES.get(value.strip(), value.strip())
    return value


def _past_date(value: date | None) -> date | None:
    if value is not None and (value.year < 1900 or value > date.today()):
        raise ValueError("must be a date between 1900 and today")
    return value


def _storable_text(value: Any) -> Any:
    """Strings, and strings in lists, the databases can store (see `storable_text`)."""
    if isinstance(value, str):
        storable_text(value)
    elif isinstance(value, list):
        for item in value:
            _storable_text(item)
    return value


# Dates a person can mean (a goal's target, a consultation): anything else is a typo or garbage.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


class _Input(ExactScalars):
    """Base of every request body of the module."""

    @field_validator("*", mode="after")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        return _storable_text(value)


# Core profile ------------------------------------------------------------------------------


class ProfileCreate(_Input):
    email: EmailStr | None = Field(default=None, max_length=254)
    display_name: ShortText | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None


class ProfileUpdate(_Input):
    """Fields sent are saved; `null` clears a field. `avatar_url` is set only by avatar upload and is
    ignored here."""

    email: EmailStr | None = Field(default=None, max_length=254)
    display_name: ShortText | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    phone: Phone | None = None
    avatar_url: str | None = Field(default=None, description="Read-only: set by POST /uploads/avatar")
    date_of_birth: date | None = None
    gender: Gender | None = None
    height_cm: float | None = Field(default=None, ge=50, le=300)

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, value: date | None) -> date | None:
        return _past_date(value)


class Profile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identity_id: UUID
    email: str | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    avatar_url: str | None = None
    date_of_birth: date | None = None
    gender: Gender | None = None
    height_cm: float | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


# Goals -------------------------------------------------------------------------------------


class GoalsUpdate(_Input):
    primary_goal: GoalType | None = None
    secondary_goals: list[GoalType] | None = Field(default=None, max_length=8)
    starting_weight_kg: float | None = Field(default=None, ge=20, le=400)
    target_weight_kg: float | None = Field(default=None, ge=20, le=400)
    target_date: date | None = Field(default=None, ge=EARLIEST_DATE, le=LATEST_DATE)
    target_body_fat_percent: float | None = Field(default=None, ge=2, le=75)
    target_muscle_mass_kg: float | None = Field(default=None, ge=10, le=200)
    weekly_workout_goal: int | None = Field(default=None, ge=1, le=7)
    daily_step_goal: int | None = Field(default=None, ge=1000, le=50000)
    weekly_fasting_goal: int | None = Field(default=None, ge=1, le=7)
    target_fasting_hours: int | None = Field(default=None, ge=12, le=72)


class Goals(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identity_id: UUID
    primary_goal: GoalType = GoalType.IMPROVE_FITNESS
    secondary_goals: list[GoalType] = Field(default_factory=list)
    starting_weight_kg: float | None = None
    target_weight_kg: float | None = None
    target_date: date | None = None
    target_body_fat_percent: float | None = None
    target_muscle_mass_kg: float | None = None
    weekly_workout_goal: int = 3
    daily_step_goal: int = 10000
    weekly_fasting_goal: int = 5
    target_fasting_hours: int = 16
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


# Health ------------------------------------------------------------------------------------

SENSITIVE_HEALTH_FIELDS = (
    "conditions",
    "condition_notes",
    "medication_notes",
    "emergency_contact_name",
    "emergency_contact_phone",
)


class HealthUpdate(_Input):
    conditions: list[HealthCondition] | None = Field(default=None, max_length=20)
    condition_notes: str | None = Field(default=None, max_length=1000)
    takes_medication: bool | None = None
    medication_notes: str | None = Field(default=None, max_length=1000)
    medication_requires_food: bool | None = None
    doctor_approved_fasting: bool | None = None
    doctor_consultation_date: date | None = Field(default=None, ge=EARLIEST_DATE, le=LATEST_DATE)
    emergency_contact_name: ShortText | None = None
    emergency_contact_phone: Phone | None = None


class HealthProfile(BaseModel):
    identity_id: UUID
    conditions: list[HealthCondition] = Field(default_factory=list)
    condition_notes: str | None = None
    takes_medication: bool = False
    medication_notes: str | None = None
    medication_requires_food: bool = False
    doctor_approved_fasting: bool = False
    doctor_consultation_date: date | None = None
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None
    fasting_safe: bool = Field(
        default=True,
        description="False when a condition makes fasting unsafe, whatever a doctor approved; whether fasts may "
        "start (doctor approval counts there) is GET /profile/health/fasting-safety",
    )
    requires_medical_disclaimer: bool = False
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class FastingSafety(BaseModel):
    model_config = ConfigDict(frozen=True)

    safe: bool = Field(description="Whether the person may start a fast (doctor approval overrides conditions)")
    warnings: list[str] = Field(default_factory=list)
    unsafe_conditions: list[HealthCondition] = Field(default_factory=list)
    caution_conditions: list[HealthCondition] = Field(default_factory=list)
    requires_medical_disclaimer: bool = False
    doctor_approved: bool = False


# Dietary -----------------------------------------------------------------------------------


class DietaryUpdate(_Input):
    dietary_preference: DietaryPreference | None = None
    allergies: ShortList | None = None
    intolerances: ShortList | None = None
    avoid_foods: ShortList | None = None
    favorite_foods: ShortList | None = None
    daily_calorie_target: int | None = Field(default=None, ge=800, le=8000)
    protein_target_g: int | None = Field(default=None, ge=0, le=600)
    carbs_target_g: int | None = Field(default=None, ge=0, le=1200)
    fat_target_g: int | None = Field(default=None, ge=0, le=600)
    break_fast_preference: str | None = Field(default=None, max_length=200)


class DietaryProfile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identity_id: UUID
    dietary_preference: DietaryPreference = DietaryPreference.NONE
    allergies: list[str] = Field(default_factory=list)
    intolerances: list[str] = Field(default_factory=list)
    avoid_foods: list[str] = Field(default_factory=list)
    favorite_foods: list[str] = Field(default_factory=list)
    daily_calorie_target: int | None = None
    protein_target_g: int | None = None
    carbs_target_g: int | None = None
    fat_target_g: int | None = None
    break_fast_preference: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


# Workout restrictions ----------------------------------------------------------------------


class WorkoutRestrictionsUpdate(_Input):
    injury_areas: list[InjuryArea] | None = Field(default=None, max_length=10)
    injury_notes: str | None = Field(default=None, max_length=500)
    has_chronic_pain: bool | None = None
    chronic_pain_areas: ShortList | None = None
    avoid_high_impact: bool | None = None
    avoid_jumping: bool | None = None
    avoid_heavy_weights: bool | None = None
    avoid_floor_exercises: bool | None = None
    fitness_level: FitnessLevel | None = None
    max_workout_duration_minutes: int | None = Field(default=None, ge=5, le=120)
    has_gym_access: bool | None = None
    home_equipment: ShortList | None = None


class WorkoutRestrictions(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    identity_id: UUID
    injury_areas: list[InjuryArea] = Field(default_factory=list)
    injury_notes: str | None = None
    has_chronic_pain: bool = False
    chronic_pain_areas: list[str] = Field(default_factory=list)
    avoid_high_impact: bool = False
    avoid_jumping: bool = False
    avoid_heavy_weights: bool = False
    avoid_floor_exercises: bool = False
    fitness_level: FitnessLevel = FitnessLevel.BEGINNER
    max_workout_duration_minutes: int = 30
    has_gym_access: bool = False
    home_equipment: list[str] = Field(default_factory=list)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class SafeExercises(BaseModel):
    avoid: list[str]
    modify: list[str]
    recommended: list[str]
    max_duration: int
    fitness_level: FitnessLevel
    injury_areas: list[InjuryArea] = Field(default_factory=list)


# Social profile ----------------------------------------------------------------------------


class SocialUpdate(_Input):
    username: Username | None = None
    bio: str | None = Field(default=None, max_length=500)
    profile_public: bool | None = None
    show_streaks: bool | None = None
    show_achievements: bool | None = None
    show_level: bool | None = None
    show_workouts: bool | None = None
    show_weight: bool | None = None


class SocialProfile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identity_id: UUID
    username: str | None = None
    bio: str | None = None
    friend_code: str | None = Field(default=None, description="Assigned when the profile is created")
    profile_public: bool = False
    show_streaks: bool = True
    show_achievements: bool = True
    show_level: bool = True
    show_workouts: bool = False
    show_weight: bool = False
    friends_count: int = 0
    followers_count: int = 0
    following_count: int = 0
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class _SocialProfileView(BaseModel):
    model_config = ConfigDict(frozen=True)

    identity_id: UUID | None = None
    username: str | None = None
    display_name: str | None = None
    friend_code: str
    profile_public: bool
    bio: str | None = None
    avatar_url: str | None = None
    show_streaks: bool = False
    show_achievements: bool = False
    show_level: bool = False
    show_workouts: bool = False
    show_weight: bool = False


class PublicSocialProfile(_SocialProfileView):
    """What another signed-in person may see of a profile: the privacy flags decide."""

    identity_id: UUID


class FriendCodeProfile(_SocialProfileView):
    """A friend-code lookup: a public profile as anyone may see it; a private one shows others only
    its handle, and no `identity_id` (null). A friend request by the code still works."""

    identity_id: UUID | None = Field(
        default=None, description="Null for someone else's private profile: ask by friend code instead"
    )


class UsernameAvailability(BaseModel):
    username: str
    available: bool


# Preferences -------------------------------------------------------------------------------


class PreferencesUpdate(_Input):
    unit_system: UnitSystem | None = None
    timezone: str | None = Field(default=None, max_length=64, description="IANA time zone, e.g. Europe/London")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    default_fasting_protocol: FastingProtocol | None = None
    custom_fast_hours: int | None = Field(default=None, ge=1, le=72)
    eating_window_start: time | None = None
    eating_window_end: time | None = None
    preferred_workout_time: str | None = Field(default=None, max_length=20)
    workout_reminder_enabled: bool | None = None
    preferred_workout_types: ShortList | None = None
    dark_mode: bool | None = None
    haptic_feedback: bool | None = None
    sound_effects: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else validate_timezone(value)

    @field_validator("default_fasting_protocol", mode="before")
    @classmethod
    def _protocol(cls, value: Any) -> Any:
        return normalise_protocol(value)

    @field_validator("eating_window_start", "eating_window_end")
    @classmethod
    def _wall_clock(cls, value: time | None) -> time | None:
        # A time of day in the person's own zone: an offset sent with it has no meaning.
        return None if value is None else value.replace(tzinfo=None)


class Preferences(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    identity_id: UUID
    unit_system: UnitSystem = UnitSystem.METRIC
    timezone: str = "UTC"
    language: str = "en"
    default_fasting_protocol: FastingProtocol = FastingProtocol.P16_8
    custom_fast_hours: int | None = None
    eating_window_start: time | None = None
    eating_window_end: time | None = None
    preferred_workout_time: str | None = None
    workout_reminder_enabled: bool = True
    preferred_workout_types: list[str] = Field(default_factory=list)
    dark_mode: bool = False
    haptic_feedback: bool = True
    sound_effects: bool = True
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


# Onboarding --------------------------------------------------------------------------------


class OnboardingStatus(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identity_id: UUID
    basic_profile_completed: bool = False
    goals_set: bool = False
    health_profile_completed: bool = False
    dietary_preferences_set: bool = False
    workout_restrictions_set: bool = False
    bloodwork_uploaded: bool = False
    first_fast_completed: bool = False
    first_workout_completed: bool = False
    first_weight_logged: bool = False
    onboarding_completed: bool = False
    completed_at: AwareDatetime | None = None
    skipped_steps: list[OnboardingStep] = Field(default_factory=list)


# Aggregates --------------------------------------------------------------------------------


class CompleteProfile(BaseModel):
    profile: Profile
    preferences: Preferences
    goals: Goals | None = None
    health: HealthProfile | None = None
    dietary: DietaryProfile | None = None
    workout_restrictions: WorkoutRestrictions | None = None
    social: SocialProfile | None = None
    onboarding: OnboardingStatus
