"""Identity: sign-in (device id, email, Google, Apple), tokens, sessions and capabilities."""

from src.core.uow import UnitOfWork

from .errors import IdentityNotFound
from .interface import IdentityInterface
from .models import ADMIN, AuthProvider, Capability, Identity, IdentityType


def identity_service(uow: UnitOfWork) -> IdentityInterface:
    from .service import IdentityService

    return IdentityService(uow)


__all__ = [
    "ADMIN",
    "AuthProvider",
    "Capability",
    "Identity",
    "IdentityInterface",
    "IdentityNotFound",
    "IdentityType",
    "identity_service",
]
