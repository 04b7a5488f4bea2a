from __future__ import annotations

from src.core.errors import Conflict, NotFound, ServiceUnavailable, Unauthorized, UnprocessableEntity


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"


class InvalidToken(Unauthorized):
    code = "INVALID_TOKEN"


class InvalidRefreshToken(Unauthorized):
    code = "INVALID_REFRESH_TOKEN"


class RefreshTokenReused(Unauthorized):
    """A refresh token was presented again after it had been exchanged: its whole family is
    revoked, and that revocation must be committed although the request fails."""

    code = "REFRESH_TOKEN_REUSED"
    commit_transaction = True


class RefreshTokenAlreadyRotated(Unauthorized):
    """A refresh token was presented again moments after it was exchanged: two refreshes of the
    same client racing (two taps, two app components). Refused, but nothing is revoked: the
    request that won holds the valid tokens."""

    code = "REFRESH_TOKEN_ALREADY_ROTATED"


class EmailAlreadyRegistered(Conflict):
    code = "EMAIL_ALREADY_REGISTERED"


class CredentialInUse(Conflict):
    code = "CREDENTIAL_IN_USE"


class AlreadyUpgraded(Conflict):
    code = "ALREADY_UPGRADED"


class DeviceAccountUpgraded(Conflict):
    """The device id belongs to an account that was secured with another sign-in method."""

    code = "DEVICE_ACCOUNT_UPGRADED"


class ProviderNotConfigured(UnprocessableEntity):
    code = "PROVIDER_NOT_CONFIGURED"


class ProviderUnavailable(ServiceUnavailable):
    code = "IDENTITY_PROVIDER_UNAVAILABLE"


class IdentityNotFound(NotFound):
    code = "IDENTITY_NOT_FOUND"


class WeakPassword(UnprocessableEntity):
    code = "WEAK_PASSWORD"


class PersonalTokenNotFound(NotFound):
    code = "PERSONAL_TOKEN_NOT_FOUND"


class TooManyPersonalTokens(Conflict):
    code = "TOO_MANY_PERSONAL_TOKENS"
