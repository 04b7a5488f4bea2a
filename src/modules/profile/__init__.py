"""Profile: personal details, goals, health (encrypted), diet, workout restrictions, social
profile, preferences (time zone), onboarding, and the account-wide GDPR endpoints."""

from src.core.uow import UnitOfWork

from .interface import ProfileInterface
from .models import (
    DietaryProfile,
    FastingProtocol,
    FastingSafety,
    FitnessLevel,
    Goals,
    InjuryArea,
    OnboardingStep,
    Preferences,
    PublicSocialProfile,
    WorkoutRestrictions,
)


def profile_service(uow: UnitOfWork) -> ProfileInterface:
    from .service import ProfileService

    return ProfileService(uow)


__all__ = [
    "DietaryProfile",
    "FastingProtocol",
    "FastingSafety",
    "FitnessLevel",
    "Goals",
    "InjuryArea",
    "OnboardingStep",
    "Preferences",
    "ProfileInterface",
    "PublicSocialProfile",
    "WorkoutRestrictions",
    "profile_service",
]
