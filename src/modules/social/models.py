"""Request and response models of the social module, and its enums."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from src.core.validation import RequestBody, StorableText


class FriendshipStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    BLOCKED = "blocked"


class ChallengeType(StrEnum):
    FASTING_STREAK = "fasting_streak"
    WORKOUT_COUNT = "workout_count"
    TOTAL_XP = "total_xp"
    CONSISTENCY = "consistency"


class ChallengeStatus(StrEnum):
    UPCOMING = "upcoming"
    ACTIVE = "active"
    COMPLETED = "completed"


class LeaderboardType(StrEnum):
    GLOBAL_XP = "global_xp"
    GLOBAL_STREAKS = "global_streaks"
    FRIENDS_XP = "friends_xp"
    FRIENDS_STREAKS = "friends_streaks"
    CHALLENGE = "challenge"


class LeaderboardPeriod(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL_TIME = "all_time"


class ShareType(StrEnum):
    ACHIEVEMENT = "achievement"
    STREAK = "streak"
    LEVEL_UP = "level_up"
    WORKOUT = "workout"
    CHALLENGE_WIN = "challenge_win"


class _Input(RequestBody):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


# Friends and follows -------------------------------------------------------------------------


class FriendRequestCreate(_Input):
    friend_code: str | None = Field(default=None, max_length=20, description="The other person's friend code")
    username: str | None = Field(default=None, max_length=40, description="Or their username (any case)")


class RespondRequest(_Input):
    accept: bool


class PersonSummary(_View):
    identity_id: UUID
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None


class Friendship(_View):
    """A friendship or friend request as one participant sees it."""

    id: UUID
    friend_id: UUID = Field(description="The other person")
    friend: PersonSummary
    status: FriendshipStatus
    requested_by: UUID = Field(description="Who asked (for a block: who blocked)")
    incoming: bool = Field(description="True when the other person asked you")
    accepted_at: AwareDatetime | None = None
    created_at: AwareDatetime


class FollowEntry(_View):
    identity_id: UUID
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    followed_at: AwareDatetime


class FollowResult(_View):
    follower_id: UUID
    following_id: UUID
    is_following: bool
    created_at: AwareDatetime | None = None


# Profiles -----------------------------------------------------------------------------------


class PublicProfile(_View):
    identity_id: UUID
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    bio: str | None = None
    level: int | None = None
    title: str | None = None
    streaks: dict[str, int] | None = None
    achievements_count: int | None = None
    is_friend: bool = False
    is_following: bool = False
    is_followed_by: bool = False
    friendship_status: FriendshipStatus | None = None
    friends_count: int | None = None
    followers_count: int | None = None
    following_count: int | None = None


class SearchResult(_View):
    identity_id: UUID
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    bio: str | None = None
    is_friend: bool = False
    is_following: bool = False


# Leaderboards --------------------------------------------------------------------------------


class LeaderboardEntry(_View):
    rank: int = Field(description="Standard competition ranking: equal values share a rank (1, 2, 2, 4)")
    identity_id: UUID
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    value: float
    is_current_user: bool = False


class Leaderboard(_View):
    type: LeaderboardType
    period: LeaderboardPeriod
    period_start: date | None = Field(default=None, description="First day of the period in your time zone")
    entries: list[LeaderboardEntry]
    my_rank: int | None = None
    my_value: float | None = None
    total_participants: int = Field(description="Entries returned")
    updated_at: AwareDatetime


# Challenges ----------------------------------------------------------------------------------


class ChallengeCreate(_Input):
    name: StorableText = Field(min_length=3, max_length=100)
    description: StorableText | None = Field(default=None, max_length=500)
    challenge_type: ChallengeType
    goal_value: float = Field(gt=0, le=1_000_000)
    goal_unit: StorableText | None = Field(default=None, max_length=20)
    start_date: date
    end_date: date
    is_public: bool = False
    max_participants: int = Field(default=50, ge=2, le=1000)

    @model_validator(mode="after")
    def _dates(self) -> ChallengeCreate:
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        if (self.end_date - self.start_date).days > 366:
            raise ValueError("a challenge lasts at most a year")
        return self


class Challenge(_View):
    id: UUID
    name: str
    description: str | None = None
    challenge_type: ChallengeType
    goal_value: float
    goal_unit: str | None = None
    start_date: date
    end_date: date
    created_by: UUID | None = None
    creator_username: str | None = None
    join_code: str | None = Field(default=None, description="Shown to participants only")
    is_public: bool
    max_participants: int
    participant_count: int
    status: ChallengeStatus
    my_progress: float | None = None
    my_rank: int | None = None
    is_participating: bool = False
    days_remaining: int | None = None
    winner_id: UUID | None = None
    finalized_at: AwareDatetime | None = None
    created_at: AwareDatetime


class ChallengeDates(_View):
    """A challenge someone takes part in, as other modules see it: what it is and when, no figures."""

    id: UUID
    name: str
    challenge_type: ChallengeType
    start_date: date
    end_date: date = Field(description="Its last day (inclusive)")


class ChallengeStanding(_View):
    rank: int
    identity_id: UUID
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    progress: float
    completed: bool
    completed_at: AwareDatetime | None = None
    joined_at: AwareDatetime
    is_current_user: bool = False


# Share ---------------------------------------------------------------------------------------


class ShareRequest(_Input):
    share_type: str = Field(max_length=30)
    related_id: str | None = Field(default=None, max_length=64)
    custom_message: StorableText | None = Field(default=None, max_length=500)


class ShareContent(_View):
    title: str
    message: str
    image_url: str | None = Field(
        default=None, description="The 1200×630 PNG card (absolute URL); null when file storage is unavailable"
    )
    share_url: str | None = Field(
        default=None, description="The public page to share (shows the card in link previews); null with image_url"
    )
    deep_link: str
