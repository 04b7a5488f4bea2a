from __future__ import annotations

from src.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity


class UserNotFound(NotFound):
    code = "SOCIAL_USER_NOT_FOUND"


class FriendTargetMissing(UnprocessableEntity):
    code = "FRIEND_TARGET_MISSING"


class CannotBefriendSelf(UnprocessableEntity):
    code = "CANNOT_BEFRIEND_SELF"


class AlreadyFriends(Conflict):
    code = "ALREADY_FRIENDS"


class FriendRequestExists(Conflict):
    code = "FRIEND_REQUEST_EXISTS"


class PersonBlocked(Conflict):
    code = "PERSON_BLOCKED"


class FriendRequestNotFound(NotFound):
    code = "FRIEND_REQUEST_NOT_FOUND"


class NotRequestAddressee(Forbidden):
    code = "NOT_REQUEST_ADDRESSEE"


class FriendRequestNotPending(Conflict):
    code = "FRIEND_REQUEST_NOT_PENDING"


class FriendNotFound(NotFound):
    code = "FRIEND_NOT_FOUND"


class CannotBlockSelf(UnprocessableEntity):
    code = "CANNOT_BLOCK_SELF"


class BlockNotFound(NotFound):
    code = "BLOCK_NOT_FOUND"


class CannotFollowSelf(UnprocessableEntity):
    code = "CANNOT_FOLLOW_SELF"


class AlreadyFollowing(Conflict):
    code = "ALREADY_FOLLOWING"


class ProfileNotFollowable(Conflict):
    code = "PROFILE_NOT_FOLLOWABLE"


class FollowNotFound(NotFound):
    code = "FOLLOW_NOT_FOUND"


class SearchQueryTooShort(UnprocessableEntity):
    code = "SEARCH_QUERY_TOO_SHORT"


class ChallengeNotFound(NotFound):
    code = "CHALLENGE_NOT_FOUND"


class InvalidChallengeDates(UnprocessableEntity):
    code = "INVALID_CHALLENGE_DATES"


class AlreadyParticipating(Conflict):
    code = "ALREADY_PARTICIPATING"


class ChallengeFull(Conflict):
    code = "CHALLENGE_FULL"


class ChallengeEnded(Conflict):
    code = "CHALLENGE_ENDED"


class NotParticipating(NotFound):
    code = "NOT_PARTICIPATING"


class CreatorCannotLeave(Conflict):
    code = "CREATOR_CANNOT_LEAVE"


class ShareSubjectNotFound(NotFound):
    code = "SHARE_SUBJECT_NOT_FOUND"


class ShareSubjectRequired(UnprocessableEntity):
    code = "SHARE_SUBJECT_REQUIRED"


class SharePageNotFound(NotFound):
    code = "SHARE_NOT_FOUND"
