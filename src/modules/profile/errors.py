from __future__ import annotations

from src.core.errors import (  # noqa: F401 - ConfirmationRequired: re-exported
    BadRequest,
    ConfirmationRequired,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)


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


# Avatars --------------------------------------------------------------------------------------


class UnsupportedImageType(UnsupportedMediaType):
    code = "UNSUPPORTED_IMAGE_TYPE"


class AvatarTooLarge(PayloadTooLarge):
    code = "AVATAR_TOO_LARGE"


class ImageUnreadable(UnprocessableEntity):
    code = "IMAGE_UNREADABLE"


class ImageTooManyPixels(UnprocessableEntity):
    code = "IMAGE_TOO_MANY_PIXELS"


class AvatarNotFound(NotFound):
    code = "AVATAR_NOT_FOUND"
