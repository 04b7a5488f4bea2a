"""Social: friendships, follows and blocks, public profiles and search, leaderboards, group
challenges and share texts."""

from src.core.uow import UnitOfWork

from .errors import ChallengeNotFound, UserNotFound
from .interface import SocialInterface
from .models import ChallengeDates, ChallengeType, FriendshipStatus, LeaderboardPeriod, LeaderboardType


def social_service(uow: UnitOfWork) -> SocialInterface:
    from .service import SocialService

    return SocialService(uow)


__all__ = [
    "ChallengeDates",
    "ChallengeNotFound",
    "ChallengeType",
    "FriendshipStatus",
    "LeaderboardPeriod",
    "LeaderboardType",
    "SocialInterface",
    "UserNotFound",
    "social_service",
]
