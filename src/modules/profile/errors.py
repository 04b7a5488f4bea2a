from __future__ import annotations

from src.core.errors import BadRequest, Conflict, NotFound, UnprocessableEntity


class ProfileNotFound(NotFound):
    code = "PROFILE_NOT_FOUND"


class ProfileAlreadyExists(BadRequest):
    """400, not 409: the mobile client continues onboarding only on exactly 400 here."""

    code = "PROFILE_ALREADY_EXISTS"


class UsernameTaken(Conflict):
    code = "USERNAME_TAKEN"


class FriendCodeNotFound(NotFound):
    code = "FRIEND_CODE_NOT_FOUND"


class StepSetByServer(UnprocessableEntity):
    code = "ONBOARDING_STEP_SET_BY_SERVER"


class ConfirmationRequired(BadRequest):
    """400 like the reference: its client treats the answer to a missing `confirm` as a refusal."""

    code = "CONFIRMATION_REQUIRED"
