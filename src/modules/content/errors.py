from __future__ import annotations

from src.core.errors import Conflict, Forbidden, NotFound


class CategoryNotFound(NotFound):
    code = "CATEGORY_NOT_FOUND"


class WorkoutNotFound(NotFound):
    code = "WORKOUT_NOT_FOUND"


class RecipeNotFound(NotFound):
    code = "RECIPE_NOT_FOUND"


class SessionNotFound(NotFound):
    code = "SESSION_NOT_FOUND"


class SessionNotActive(Conflict):
    code = "SESSION_NOT_ACTIVE"


class SessionAlreadyActive(Conflict):
    code = "SESSION_ALREADY_ACTIVE"


class PremiumRequired(Forbidden):
    code = "PREMIUM_REQUIRED"
