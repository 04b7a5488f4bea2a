from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.sql.expression import ColumnElement

from src.core.contracts import (
    FastCompleted,
    SocialProfileChanged,
    SocialProgress,
    StreakChanged,
    WeightLogged,
    WorkoutCompleted,
    XPCredited,
)
from src.core.lean import HotQuery
from src.core.persistence import (
    advisory_lock,
    hot_upsert,
    insert_ignore,
    lock_identity,
    try_insert,
    upsert_insert,
    upsert_params,
)
from src.core.uow import UnitOfWork
from src.modules.content import content
from src.modules.event_journal import EventSource, EventType, event_journal
from src.modules.identity import identity_service
from src.modules.profile import PublicSocialProfile, profile_service
from src.modules.progression import StreakType, fast_streak_days, progression

from .cards import CardSpec
from .errors import (
    AlreadyFollowing,
    AlreadyFriends,
    AlreadyParticipating,
    BlockNotFound,
    CannotBefriendSelf,
    CannotBlockSelf,
    CannotFollowSelf,
    ChallengeEnded,
    ChallengeFull,
    ChallengeNotFound,
    CreatorCannotLeave,
    FollowNotFound,
    FriendNotFound,
    FriendRequestExists,
    FriendRequestNotFound,
    FriendRequestNotPending,
    FriendTargetMissing,
    InvalidChallengeDates,
    NotParticipating,
    NotRequestAddressee,
    PersonBlocked,
    ProfileNotFollowable,
    SearchQueryTooShort,
    ShareSubjectNotFound,
    ShareSubjectRequired,
    UserNotFound,
)
from .interface import CHALLENGE_CLOSE_TOPIC, NOTIFY_TOPIC, SocialInterface
from .models import (
    Challenge,
    ChallengeCreate,
    ChallengeDates,
    ChallengeStanding,
    ChallengeStatus,
    ChallengeType,
    FollowEntry,
    FollowResult,
    FriendRequestCreate,
    Friendship,
    FriendshipStatus,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardPeriod,
    LeaderboardType,
    PersonSummary,
    PublicProfile,
    SearchResult,
    ShareContent,
    ShareRequest,
    ShareType,
)
from .orm import (
    ActivityDayRow,
    BlockRow,
    ChallengeRow,
    FollowRow,
    FriendshipRow,
    MemberRow,
    ParticipantRow,
    StreakStandingRow,
    XPTotalRow,
)
from .rules import (
    MIN_STREAK_FAST_SECONDS,
    PERIOD_KEYS,
    DayFacts,
    activity_day,
    challenge_closes_at,
    challenge_progress,
    competition_ranks,
    local_date,
    period_keys,
    period_start,
    streak_alive_until,
)
from .share_cards import ShareCards

PENDING, ACCEPTED = str(FriendshipStatus.PENDING), str(FriendshipStatus.ACCEPTED)
# Profile defaults for someone who never saved social settings: private, level and streaks shown.
DEFAULT_FLAGS = (False, True, True)
MAX_CHALLENGE_LIST = 50
# Read with every XP credit (whether the person's totals are listed on the boards).
_MEMBER_FLAGS = HotQuery(
    lambda: select(MemberRow.profile_public, MemberRow.show_level, MemberRow.show_streaks).where(
        MemberRow.identity_id == bindparam("identity_id")
    )
)
# Every logged activity asks whether it moves one of the person's challenges; most people are in
# none on that day, and learn it from this read alone.
_CHALLENGES_ON_DAY = HotQuery(
    lambda: (
        select(ParticipantRow.id)
        .join(ChallengeRow, ChallengeRow.id == ParticipantRow.challenge_id)
        .where(
            ParticipantRow.identity_id == bindparam("identity_id"),
            ChallengeRow.finalized_at.is_(None),
            ChallengeRow.start_date <= bindparam("day", type_=ChallengeRow.start_date.type),
            ChallengeRow.end_date >= bindparam("day", type_=ChallengeRow.end_date.type),
        )
        .limit(1)
    )
)


def _pair(x: uuid.UUID, y: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (x, y) if str(x) < str(y) else (y, x)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class SocialService(SocialInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # Shared helpers -------------------------------------------------------------------------

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def _upsert_add(
        self, model: type[Any], rows: Sequence[dict[str, Any]], add: Collection[str], keep: Collection[str] = ()
    ) -> None:
        """INSERT the rows; where the key exists, add the `add` columns to the stored values (and
        overwrite the `keep` columns). One statement, atomic on both databases."""
        columns = rows[0].keys()
        if all(row.keys() == columns for row in rows):  # one person's day, totals, standing: built once
            upsert = hot_upsert(model.__table__, columns, add=add, keep=keep, rows=len(rows))
            await upsert.execute(self.session, **upsert_params(rows))
            return
        statement = upsert_insert(self._dialect, model).values(list(rows))
        table = model.__table__
        values: dict[str, Any] = {name: table.c[name] + statement.excluded[name] for name in add}
        values.update({name: statement.excluded[name] for name in keep})
        keys = [column.name for column in table.primary_key.columns]
        await self.session.execute(statement.on_conflict_do_update(index_elements=keys, set_=values))

    async def _zone(self, identity_id: uuid.UUID) -> str:
        return await profile_service(self.uow).timezone_of(identity_id)

    async def _today(self, identity_id: uuid.UUID) -> date:
        return local_date(self.uow.now(), await self._zone(identity_id))

    async def _record(
        self,
        identity_id: uuid.UUID,
        event_type: EventType,
        *,
        related_id: uuid.UUID | str | None = None,
        related_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        source: EventSource = EventSource.API,
    ) -> None:
        await event_journal(self.uow).record(
            identity_id,
            event_type,
            related_id=related_id,
            related_type=related_type,
            metadata=metadata,
            source=source,
        )

    def _notify(self, recipient: uuid.UUID, category: str, title: str, body: str, data: dict[str, Any]) -> None:
        """Queue a push for the notification module (same topic and payload as progression's)."""
        self.uow.enqueue(
            NOTIFY_TOPIC,
            {"identity_id": str(recipient), "category": category, "title": title, "body": body, "data": data},
            identity_id=recipient,
        )

    async def _profiles(
        self, viewer_id: uuid.UUID, ids: Iterable[uuid.UUID], *, friends: Collection[uuid.UUID] | None = None
    ) -> dict[uuid.UUID, PublicSocialProfile]:
        ids = list(ids)
        if not ids:
            return {}
        if friends is None:
            friends = await self.friend_ids(viewer_id)
        return await profile_service(self.uow).public_profiles(viewer_id, ids, friends=friends)

    @staticmethod
    def _summary(identity_id: uuid.UUID, profile: PublicSocialProfile | None) -> PersonSummary:
        if profile is None:
            return PersonSummary(identity_id=identity_id)
        return PersonSummary(
            identity_id=identity_id,
            username=profile.username,
            display_name=profile.display_name,
            avatar_url=profile.avatar_url,
        )

    @staticmethod
    def _name(profile: PublicSocialProfile | None) -> str:
        if profile is None:
            return "Someone"
        return profile.username or profile.display_name or "Someone"

    async def _require_identity(self, identity_id: uuid.UUID) -> None:
        if await identity_service(self.uow).find_identity(identity_id) is None:
            raise UserNotFound("User not found")

    # Relationships: reading -----------------------------------------------------------------

    async def friend_ids(self, identity_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.execute(
            select(FriendshipRow.identity_id_a, FriendshipRow.identity_id_b).where(
                FriendshipRow.status == ACCEPTED,
                or_(FriendshipRow.identity_id_a == identity_id, FriendshipRow.identity_id_b == identity_id),
            )
        )
        return {b if a == identity_id else a for a, b in rows.all()}

    async def _blocked_either_way(self, identity_id: uuid.UUID) -> set[uuid.UUID]:
        rows = await self.session.execute(
            select(BlockRow.blocker_id, BlockRow.blocked_id).where(
                or_(BlockRow.blocker_id == identity_id, BlockRow.blocked_id == identity_id)
            )
        )
        return {blocked if blocker == identity_id else blocker for blocker, blocked in rows.all()}

    async def _blocks_between(self, me: uuid.UUID, other: uuid.UUID) -> tuple[bool, bool]:
        """(I blocked them, they blocked me)."""
        rows = await self.session.execute(
            select(BlockRow.blocker_id).where(
                or_(
                    and_(BlockRow.blocker_id == me, BlockRow.blocked_id == other),
                    and_(BlockRow.blocker_id == other, BlockRow.blocked_id == me),
                )
            )
        )
        blockers = set(rows.scalars())
        return me in blockers, other in blockers

    async def _friendship(self, x: uuid.UUID, y: uuid.UUID, *, lock: bool = False) -> FriendshipRow | None:
        a, b = _pair(x, y)
        query = select(FriendshipRow).where(FriendshipRow.identity_id_a == a, FriendshipRow.identity_id_b == b)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def _lock_pair(self, x: uuid.UUID, y: uuid.UUID) -> None:
        """Every change between two people runs one at a time (block vs request vs follow)."""
        a, b = _pair(x, y)
        await advisory_lock(self.session, f"social-pair:{a}:{b}")

    async def _counts(self, identity_id: uuid.UUID) -> tuple[int, int, int]:
        friends = (
            select(func.count())
            .select_from(FriendshipRow)
            .where(
                FriendshipRow.status == ACCEPTED,
                or_(FriendshipRow.identity_id_a == identity_id, FriendshipRow.identity_id_b == identity_id),
            )
            .scalar_subquery()
        )
        followers = (
            select(func.count()).select_from(FollowRow).where(FollowRow.following_id == identity_id).scalar_subquery()
        )
        following = (
            select(func.count()).select_from(FollowRow).where(FollowRow.follower_id == identity_id).scalar_subquery()
        )
        row = (await self.session.execute(select(friends, followers, following))).one()
        return int(row[0]), int(row[1]), int(row[2])

    async def _sync_counters(self, ids: Iterable[uuid.UUID], *, friends_changed: bool = False) -> None:
        """Count each person's friends, followers and following and store the figures on their
        social profile. The count runs under a per-person lock taken in one global order, after
        this transaction's own change: a concurrent change waits and then counts ours too."""
        for identity_id in sorted(set(ids), key=str):
            await lock_identity(self.session, "social-counters", identity_id)
        for identity_id in sorted(set(ids), key=str):
            friends, followers, following = await self._counts(identity_id)
            await profile_service(self.uow).set_social_counters(
                identity_id, friends=friends, followers=followers, following=following
            )
            if friends_changed:
                await self.uow.publish(
                    SocialProgress(identity_id=identity_id, occurred_at=self.uow.now(), friends_count=friends)
                )

    def _friendship_view(
        self, row: FriendshipRow, me: uuid.UUID, profiles: dict[uuid.UUID, PublicSocialProfile]
    ) -> Friendship:
        other = row.identity_id_b if row.identity_id_a == me else row.identity_id_a
        return Friendship(
            id=row.id,
            friend_id=other,
            friend=self._summary(other, profiles.get(other)),
            status=FriendshipStatus(row.status),
            requested_by=row.requested_by,
            incoming=row.requested_by != me,
            accepted_at=row.accepted_at,
            created_at=row.created_at,
        )

    # Friendships ----------------------------------------------------------------------------

    async def request_friend(self, me: uuid.UUID, body: FriendRequestCreate) -> Friendship:
        profiles = profile_service(self.uow)
        if body.friend_code:
            target = await profiles.find_by_friend_code(body.friend_code)
        elif body.username:
            target = await profiles.find_by_username(body.username.lstrip("@"))
        else:
            raise FriendTargetMissing("Give a friend_code or a username")
        if target is None:
            raise UserNotFound("User not found")
        if target == me:
            raise CannotBefriendSelf("You cannot send a friend request to yourself")
        await self._lock_pair(me, target)
        i_blocked, they_blocked = await self._blocks_between(me, target)
        if they_blocked:
            raise UserNotFound("User not found")
        if i_blocked:
            raise PersonBlocked("You have blocked this person: unblock them first")
        row = await self._friendship(me, target, lock=True)
        if row is not None:
            if row.status == ACCEPTED:
                raise AlreadyFriends("You are already friends")
            if row.requested_by == me:
                raise FriendRequestExists("You have already sent this person a request")
            return await self._accept(row, me)  # they asked first: a crossing request accepts theirs
        now = self.uow.now()
        a, b = _pair(me, target)
        row = FriendshipRow(
            id=uuid.uuid4(),
            identity_id_a=a,
            identity_id_b=b,
            status=PENDING,
            requested_by=me,
            accepted_at=None,
            created_at=now,
            updated_at=now,
        )
        if not await try_insert(self.session, row):
            raise FriendRequestExists("A request between you already exists")
        await self._record(me, EventType.FRIEND_REQUEST_SENT, related_id=target, related_type="identity")
        seen = await self._profiles(me, [me, target], friends=())
        self._notify(
            target,
            "social",
            "New friend request",
            f"{self._name(seen.get(me))} wants to be your friend",
            {"type": "friend_request", "request_id": str(row.id), "from_id": str(me)},
        )
        return self._friendship_view(row, me, seen)

    async def _accept(self, row: FriendshipRow, me: uuid.UUID) -> Friendship:
        now = self.uow.now()
        row.status, row.accepted_at, row.updated_at = ACCEPTED, now, now
        requester = row.requested_by
        await self.session.flush()
        await self._record(me, EventType.FRIEND_REQUEST_ACCEPTED, related_id=requester, related_type="identity")
        await self._sync_counters([me, requester], friends_changed=True)
        seen = await self._profiles(me, [me, requester], friends=[requester])
        self._notify(
            requester,
            "social",
            "Friend request accepted",
            f"{self._name(seen.get(me))} accepted your friend request",
            {"type": "friend_accepted", "friend_id": str(me)},
        )
        return self._friendship_view(row, me, seen)

    async def respond(self, me: uuid.UUID, request_id: uuid.UUID, *, accept: bool) -> Friendship | None:
        row = await self.session.get(FriendshipRow, request_id)
        if row is None or me not in (row.identity_id_a, row.identity_id_b):
            raise FriendRequestNotFound("Friend request not found")
        other = row.identity_id_b if row.identity_id_a == me else row.identity_id_a
        await self._lock_pair(me, other)
        row = await self._friendship(me, other, lock=True)
        if row is None or row.id != request_id:
            raise FriendRequestNotFound("Friend request not found")
        if row.status != PENDING:
            raise FriendRequestNotPending("This request has already been answered")
        if row.requested_by == me:
            raise NotRequestAddressee("Only the person asked can answer a friend request")
        if accept:
            return await self._accept(row, me)
        await self.session.delete(row)
        await self.session.flush()
        await self._record(me, EventType.FRIEND_REQUEST_DECLINED, related_id=other, related_type="identity")
        return None

    async def remove_friend(self, me: uuid.UUID, friend_id: uuid.UUID) -> None:
        await self._lock_pair(me, friend_id)
        row = await self._friendship(me, friend_id, lock=True)
        if row is None or row.status != ACCEPTED:
            raise FriendNotFound("You are not friends with this person")
        await self.session.delete(row)
        await self.session.flush()
        await self._record(me, EventType.FRIEND_REMOVED, related_id=friend_id, related_type="identity")
        await self._sync_counters([me, friend_id], friends_changed=True)

    async def block(self, me: uuid.UUID, other: uuid.UUID) -> None:
        if other == me:
            raise CannotBlockSelf("You cannot block yourself")
        await self._require_identity(other)
        await self._lock_pair(me, other)
        inserted = await insert_ignore(
            self.session, BlockRow, {"blocker_id": me, "blocked_id": other, "created_at": self.uow.now()}
        )
        friendship = await self._friendship(me, other, lock=True)
        was_friend = friendship is not None and friendship.status == ACCEPTED
        if friendship is not None:
            await self.session.delete(friendship)
        follows = await self.session.execute(
            delete(FollowRow).where(
                or_(
                    and_(FollowRow.follower_id == me, FollowRow.following_id == other),
                    and_(FollowRow.follower_id == other, FollowRow.following_id == me),
                )
            )
        )
        await self.session.flush()
        if inserted:
            await self._record(me, EventType.USER_BLOCKED, related_id=other, related_type="identity")
        if was_friend or _rowcount(follows) or friendship is not None:
            await self._sync_counters([me, other], friends_changed=was_friend)

    async def unblock(self, me: uuid.UUID, other: uuid.UUID) -> None:
        await self._lock_pair(me, other)
        result = await self.session.execute(
            delete(BlockRow).where(BlockRow.blocker_id == me, BlockRow.blocked_id == other)
        )
        if not _rowcount(result):
            raise BlockNotFound("You have not blocked this person")
        await self._record(me, EventType.USER_UNBLOCKED, related_id=other, related_type="identity")

    async def friends(self, me: uuid.UUID, status: FriendshipStatus) -> list[Friendship]:
        if status is FriendshipStatus.BLOCKED:
            return await self._my_blocks(me)
        rows = list(
            (
                await self.session.execute(
                    select(FriendshipRow)
                    .where(
                        FriendshipRow.status == str(status),
                        or_(FriendshipRow.identity_id_a == me, FriendshipRow.identity_id_b == me),
                    )
                    .order_by(FriendshipRow.created_at.desc(), FriendshipRow.id)
                )
            ).scalars()
        )
        return await self._friendship_views(me, rows)

    async def _friendship_views(self, me: uuid.UUID, rows: list[FriendshipRow]) -> list[Friendship]:
        others = [r.identity_id_b if r.identity_id_a == me else r.identity_id_a for r in rows]
        profiles = await self._profiles(me, others)
        return [self._friendship_view(row, me, profiles) for row in rows]

    async def requests(self, me: uuid.UUID, *, incoming: bool) -> list[Friendship]:
        direction = FriendshipRow.requested_by != me if incoming else FriendshipRow.requested_by == me
        rows = list(
            (
                await self.session.execute(
                    select(FriendshipRow)
                    .where(
                        FriendshipRow.status == PENDING,
                        or_(FriendshipRow.identity_id_a == me, FriendshipRow.identity_id_b == me),
                        direction,
                    )
                    .order_by(FriendshipRow.created_at.desc(), FriendshipRow.id)
                )
            ).scalars()
        )
        return await self._friendship_views(me, rows)

    async def _my_blocks(self, me: uuid.UUID) -> list[Friendship]:
        """Only the blocks the caller made: who blocked them is never revealed."""
        rows = list(
            (
                await self.session.execute(
                    select(BlockRow).where(BlockRow.blocker_id == me).order_by(BlockRow.created_at.desc())
                )
            ).scalars()
        )
        profiles = await self._profiles(me, [r.blocked_id for r in rows], friends=())
        return [
            Friendship(
                id=uuid.uuid5(uuid.NAMESPACE_OID, f"block:{row.blocker_id}:{row.blocked_id}"),
                friend_id=row.blocked_id,
                friend=self._summary(row.blocked_id, profiles.get(row.blocked_id)),
                status=FriendshipStatus.BLOCKED,
                requested_by=me,
                incoming=False,
                created_at=row.created_at,
            )
            for row in rows
        ]

    # Follows --------------------------------------------------------------------------------

    async def follow(self, me: uuid.UUID, other: uuid.UUID) -> FollowResult:
        if other == me:
            raise CannotFollowSelf("You cannot follow yourself")
        await self._require_identity(other)
        await self._lock_pair(me, other)
        i_blocked, they_blocked = await self._blocks_between(me, other)
        if they_blocked:
            raise UserNotFound("User not found")
        if i_blocked:
            raise PersonBlocked("You have blocked this person: unblock them first")
        friendship = await self._friendship(me, other)
        is_friend = friendship is not None and friendship.status == ACCEPTED
        if not is_friend:
            seen = await self._profiles(me, [other], friends=())
            target = seen.get(other)
            if target is None or not target.profile_public:
                raise ProfileNotFollowable("This profile is private: only friends can follow it")
        now = self.uow.now()
        if not await insert_ignore(
            self.session, FollowRow, {"follower_id": me, "following_id": other, "created_at": now}
        ):
            raise AlreadyFollowing("You already follow this person")
        await self._record(me, EventType.FOLLOW_STARTED, related_id=other, related_type="identity")
        await self._sync_counters([me, other])
        return FollowResult(follower_id=me, following_id=other, is_following=True, created_at=now)

    async def unfollow(self, me: uuid.UUID, other: uuid.UUID) -> FollowResult:
        await self._lock_pair(me, other)
        result = await self.session.execute(
            delete(FollowRow).where(FollowRow.follower_id == me, FollowRow.following_id == other)
        )
        if not _rowcount(result):
            raise FollowNotFound("You do not follow this person")
        await self._record(me, EventType.FOLLOW_ENDED, related_id=other, related_type="identity")
        await self._sync_counters([me, other])
        return FollowResult(follower_id=me, following_id=other, is_following=False)

    async def follow_list(self, me: uuid.UUID, *, followers: bool, limit: int, offset: int) -> list[FollowEntry]:
        mine, theirs = (
            (FollowRow.following_id, FollowRow.follower_id)
            if followers
            else (FollowRow.follower_id, FollowRow.following_id)
        )
        blocked = await self._blocked_either_way(me)
        query = select(theirs, FollowRow.created_at).where(mine == me)
        if blocked:
            query = query.where(theirs.not_in(blocked))
        rows = (
            await self.session.execute(query.order_by(FollowRow.created_at.desc(), theirs).limit(limit).offset(offset))
        ).all()
        profiles = await self._profiles(me, [r[0] for r in rows])
        out: list[FollowEntry] = []
        for identity_id, created_at in rows:
            summary = self._summary(identity_id, profiles.get(identity_id))
            out.append(FollowEntry(**summary.model_dump(), followed_at=created_at))
        return out

    # Profiles and search --------------------------------------------------------------------

    async def public_profile(self, me: uuid.UUID, target: uuid.UUID) -> PublicProfile:
        if target != me:
            i_blocked, they_blocked = await self._blocks_between(me, target)
            if they_blocked:
                raise UserNotFound("User not found")
        else:
            i_blocked = False
        friendship = None if target == me else await self._friendship(me, target)
        is_friend = friendship is not None and friendship.status == ACCEPTED
        seen = await self._profiles(me, [target], friends=[target] if is_friend else ())
        profile = seen.get(target)
        if profile is None:
            await self._require_identity(target)
        follows = await self.session.execute(
            select(FollowRow.follower_id).where(
                or_(
                    and_(FollowRow.follower_id == me, FollowRow.following_id == target),
                    and_(FollowRow.follower_id == target, FollowRow.following_id == me),
                )
            )
        )
        followers = set(follows.scalars())
        status: FriendshipStatus | None = None
        if i_blocked:
            status = FriendshipStatus.BLOCKED
        elif friendship is not None:
            status = FriendshipStatus(friendship.status)
        visible = profile is not None and (profile.profile_public or is_friend or target == me)
        extra: dict[str, Any] = {}
        if profile is not None and visible and not i_blocked:
            journey = progression(self.uow)
            if profile.show_level:
                level = await journey.level(target)
                extra.update(level=level.current_level, title=level.title)
            if profile.show_streaks:
                streaks = await journey.streaks(target)
                extra["streaks"] = {str(s.streak_type): s.current_count for s in streaks}
            if profile.show_achievements:
                extra["achievements_count"] = len(await journey.unlocked_achievements(target))
            friends_count, followers_count, following_count = await self._counts(target)
            extra.update(friends_count=friends_count, followers_count=followers_count, following_count=following_count)
        return PublicProfile(
            identity_id=target,
            username=profile.username if profile else None,
            display_name=profile.display_name if profile and not i_blocked else None,
            avatar_url=profile.avatar_url if profile and not i_blocked else None,
            bio=profile.bio if profile and not i_blocked else None,
            is_friend=is_friend,
            is_following=me in followers and target != me,
            is_followed_by=target in followers and target != me,
            friendship_status=status,
            **extra,
        )

    async def search(self, me: uuid.UUID, query: str, *, limit: int) -> list[SearchResult]:
        if len(query.strip()) < 2:
            raise SearchQueryTooShort("Search needs at least 2 characters")
        blocked = await self._blocked_either_way(me)
        found = await profile_service(self.uow).search_public_profiles(me, query, exclude=blocked, limit=limit)
        if not found:
            return []
        ids = [p.identity_id for p in found]
        friends = await self.friend_ids(me)
        following = set(
            (
                await self.session.execute(
                    select(FollowRow.following_id).where(FollowRow.follower_id == me, FollowRow.following_id.in_(ids))
                )
            ).scalars()
        )
        return [
            SearchResult(
                identity_id=p.identity_id,
                username=p.username,
                display_name=p.display_name,
                avatar_url=p.avatar_url,
                bio=p.bio,
                is_friend=p.identity_id in friends,
                is_following=p.identity_id in following,
            )
            for p in found
        ]

    # Facts from other modules (bus subscribers) ---------------------------------------------

    async def _member_flags(self, identity_id: uuid.UUID) -> tuple[bool, bool, bool]:
        # One activity publishes several events (a fast, its XP, the achievements): read once.
        key = ("social.member_flags", identity_id)
        flags: tuple[bool, bool, bool] | None = self.uow.memo.get(key)
        if flags is None:
            row = await _MEMBER_FLAGS.first(self.session, identity_id=identity_id)
            flags = DEFAULT_FLAGS if row is None else (row.profile_public, row.show_level, row.show_streaks)
            self.uow.memo[key] = flags
        return flags

    async def on_xp_credited(self, event: XPCredited) -> None:
        """Per-period totals and the day's XP follow the ledger, in the crediting transaction."""
        zone = await self._zone(event.identity_id)
        public, show_level, _ = await self._member_flags(event.identity_id)
        listed = public and show_level
        day = local_date(event.occurred_at, zone)
        await self._upsert_add(
            XPTotalRow,
            [
                {
                    "period": period,
                    "period_start": start,
                    "identity_id": event.identity_id,
                    "xp": event.amount,
                    "listed": listed,
                }
                for period, start in period_keys(day)
            ],
            add=("xp",),
        )
        # A challenge counts the XP of its own days: activity XP on the activity's day (a fast
        # logged later counts for the day it was kept), any other XP on the day it was credited.
        day_of_activity = event.activity_day or activity_day(event.occurred_at, zone)
        await self._add_activity(event.identity_id, day_of_activity, xp=event.amount)

    async def on_fast_completed(self, event: FastCompleted) -> None:
        if event.fasted_seconds < MIN_STREAK_FAST_SECONDS:
            return
        zone = await self._zone(event.identity_id)
        # The days a fast counts for are the streak's: the day it ended and every other day it ran
        # at least 12 h of (a Saturday 09:00 → Sunday 05:00 fast is active on both days).
        for day in fast_streak_days(event.started_at, event.ended_at, zone):
            await self._add_activity(event.identity_id, day, fasts=1)

    async def on_workout_completed(self, event: WorkoutCompleted) -> None:
        if not event.eligible:  # a session too short to earn credit is not a completed workout
            return
        zone = await self._zone(event.identity_id)
        await self._add_activity(event.identity_id, activity_day(event.occurred_at, zone), workouts=1)

    async def on_weight_logged(self, event: WeightLogged) -> None:
        zone = await self._zone(event.identity_id)
        await self._add_activity(event.identity_id, activity_day(event.occurred_at, zone), weigh_ins=1)

    async def on_streak_changed(self, event: StreakChanged) -> None:
        if event.streak_type != str(StreakType.FASTING):
            return
        zone = await self._zone(event.identity_id)
        public, _, show_streaks = await self._member_flags(event.identity_id)
        await self._upsert_add(
            StreakStandingRow,
            [
                {
                    "identity_id": event.identity_id,
                    "current_count": event.current_count,
                    "last_day": event.last_activity_date,
                    "alive_until": streak_alive_until(event.last_activity_date, zone),
                    "listed": public and show_streaks,
                }
            ],
            add=(),
            keep=("current_count", "last_day", "alive_until", "listed"),
        )

    async def on_profile_changed(self, event: SocialProfileChanged) -> None:
        self.uow.memo.pop(("social.member_flags", event.identity_id), None)
        await self._upsert_add(
            MemberRow,
            [
                {
                    "identity_id": event.identity_id,
                    "profile_public": event.profile_public,
                    "show_level": event.show_level,
                    "show_streaks": event.show_streaks,
                    "updated_at": event.occurred_at,
                }
            ],
            add=(),
            keep=("profile_public", "show_level", "show_streaks", "updated_at"),
        )
        xp_listed = event.profile_public and event.show_level
        streak_listed = event.profile_public and event.show_streaks
        await self.session.execute(
            update(XPTotalRow)
            .where(XPTotalRow.identity_id == event.identity_id, XPTotalRow.listed.is_not(xp_listed))
            .values(listed=xp_listed)
        )
        await self.session.execute(
            update(StreakStandingRow)
            .where(StreakStandingRow.identity_id == event.identity_id)
            .values(listed=streak_listed)
        )

    async def _add_activity(
        self, identity_id: uuid.UUID, day: date, *, fasts: int = 0, workouts: int = 0, weigh_ins: int = 0, xp: int = 0
    ) -> None:
        await self._upsert_add(
            ActivityDayRow,
            [
                {
                    "identity_id": identity_id,
                    "day": day,
                    "fasts": fasts,
                    "workouts": workouts,
                    "weigh_ins": weigh_ins,
                    "xp": xp,
                }
            ],
            add=("fasts", "workouts", "weigh_ins", "xp"),
        )
        await self._refresh_progress(identity_id, day=day)

    # Challenge progress ---------------------------------------------------------------------

    async def _facts(self, ids: Collection[uuid.UUID], first: date, last: date) -> dict[uuid.UUID, list[DayFacts]]:
        out: dict[uuid.UUID, list[DayFacts]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = await self.session.execute(
            select(ActivityDayRow).where(
                ActivityDayRow.identity_id.in_(list(ids)), ActivityDayRow.day >= first, ActivityDayRow.day <= last
            )
        )
        for row in rows.scalars():
            out[row.identity_id].append(DayFacts(row.day, row.fasts, row.workouts, row.weigh_ins, row.xp))
        return out

    async def _refresh_progress(self, identity_id: uuid.UUID, *, day: date | None = None) -> None:
        """Recompute the person's progress in their undecided challenges (those covering `day`,
        or every running one) from their facts inside each challenge's own dates."""
        if day is not None and not await _CHALLENGES_ON_DAY.all(self.session, identity_id=identity_id, day=day):
            return
        query = (
            select(ParticipantRow, ChallengeRow)
            .join(ChallengeRow, ChallengeRow.id == ParticipantRow.challenge_id)
            .where(ParticipantRow.identity_id == identity_id, ChallengeRow.finalized_at.is_(None))
        )
        if day is not None:
            query = query.where(ChallengeRow.start_date <= day, ChallengeRow.end_date >= day)
        pairs = (await self.session.execute(query)).all()
        if not pairs:
            return
        first = min(c.start_date for _, c in pairs)
        last = max(c.end_date for _, c in pairs)
        facts = (await self._facts([identity_id], first, last))[identity_id]
        for participant, challenge in pairs:
            await self._set_progress(participant, challenge, facts)

    async def _set_progress(self, participant: ParticipantRow, challenge: ChallengeRow, facts: list[DayFacts]) -> None:
        inside = [f for f in facts if challenge.start_date <= f.day <= challenge.end_date]
        progress = challenge_progress(ChallengeType(challenge.challenge_type), inside)
        participant.current_progress = progress
        if progress >= challenge.goal_value and not participant.completed:
            participant.completed, participant.completed_at = True, self.uow.now()
            await self._record(
                participant.identity_id,
                EventType.CHALLENGE_COMPLETED,
                related_id=challenge.id,
                related_type="challenge",
                metadata={"name": challenge.name, "goal_reached": True},
                source=EventSource.SYSTEM,
            )

    async def update_progress(self, me: uuid.UUID) -> None:
        await self._refresh_progress(me)

    # Challenges -----------------------------------------------------------------------------

    async def create_challenge(self, me: uuid.UUID, body: ChallengeCreate) -> Challenge:
        today = await self._today(me)
        if body.end_date < today:
            raise InvalidChallengeDates("end_date is in the past")
        now = self.uow.now()
        closes_at = challenge_closes_at(body.end_date)
        row: ChallengeRow | None = None
        for _ in range(8):  # a join-code collision: draw again
            candidate = ChallengeRow(
                id=uuid.uuid4(),
                name=body.name,
                description=body.description,
                challenge_type=str(body.challenge_type),
                goal_value=body.goal_value,
                goal_unit=body.goal_unit,
                start_date=body.start_date,
                end_date=body.end_date,
                created_by=me,
                join_code=secrets.token_hex(4).upper(),
                is_public=body.is_public,
                max_participants=body.max_participants,
                participant_count=0,
                closes_at=closes_at,
                finalized_at=None,
                winner_id=None,
                created_at=now,
                updated_at=now,
            )
            if await try_insert(self.session, candidate):
                row = candidate
                break
        if row is None:  # pragma: no cover - 2^32 codes
            raise RuntimeError("could not allocate a join code")
        self.uow.enqueue(CHALLENGE_CLOSE_TOPIC, {"challenge_id": str(row.id)}, available_at=closes_at)
        await self._record(
            me,
            EventType.CHALLENGE_CREATED,
            related_id=row.id,
            related_type="challenge",
            metadata={"name": row.name, "challenge_type": row.challenge_type},
        )
        await self._join(me, row, today=today, notify=False)
        return await self.challenge(me, row.id)

    async def _locked_challenge(self, challenge_id: uuid.UUID) -> ChallengeRow:
        row = (
            await self.session.execute(
                select(ChallengeRow)
                .where(ChallengeRow.id == challenge_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None:
            raise ChallengeNotFound("Challenge not found")
        return row

    async def _participant(self, challenge_id: uuid.UUID, identity_id: uuid.UUID) -> ParticipantRow | None:
        return (
            await self.session.execute(
                select(ParticipantRow).where(
                    ParticipantRow.challenge_id == challenge_id, ParticipantRow.identity_id == identity_id
                )
            )
        ).scalar_one_or_none()

    async def join_by_id(self, me: uuid.UUID, challenge_id: uuid.UUID) -> Challenge:
        row = await self.session.get(ChallengeRow, challenge_id)
        if row is None:
            raise ChallengeNotFound("Challenge not found")
        if not row.is_public and await self._participant(challenge_id, me) is None:
            # A private challenge is joined with its code; its existence is not confirmed.
            raise ChallengeNotFound("Challenge not found")
        await self._join(me, await self._locked_challenge(challenge_id), today=await self._today(me))
        return await self.challenge(me, challenge_id)

    async def join_by_code(self, me: uuid.UUID, code: str) -> Challenge:
        normalised = code.strip().upper()
        found = (
            await self.session.execute(select(ChallengeRow.id).where(ChallengeRow.join_code == normalised))
        ).scalar_one_or_none()
        if found is None:
            raise ChallengeNotFound("No challenge has this code")
        await self._join(me, await self._locked_challenge(found), today=await self._today(me))
        return await self.challenge(me, found)

    async def _join(self, me: uuid.UUID, row: ChallengeRow, *, today: date, notify: bool = True) -> None:
        """Under the challenge's row lock: the capacity and duplicate checks cannot race."""
        if row.finalized_at is not None or today > row.end_date or self.uow.now() >= row.closes_at:
            raise ChallengeEnded("This challenge has ended")
        if await self._participant(row.id, me) is not None:
            raise AlreadyParticipating("You are already in this challenge")
        if row.participant_count >= row.max_participants:
            raise ChallengeFull("This challenge is full")
        now = self.uow.now()
        participant = ParticipantRow(
            id=uuid.uuid4(),
            challenge_id=row.id,
            identity_id=me,
            joined_at=now,
            current_progress=0.0,
            completed=False,
            completed_at=None,
            rank=None,
        )
        if not await try_insert(self.session, participant):
            raise AlreadyParticipating("You are already in this challenge")
        row.participant_count += 1
        row.updated_at = now
        facts = (await self._facts([me], row.start_date, row.end_date))[me]
        await self._set_progress(participant, row, facts)
        await self._record(
            me, EventType.CHALLENGE_JOINED, related_id=row.id, related_type="challenge", metadata={"name": row.name}
        )
        await self.uow.publish(
            SocialProgress(
                identity_id=me, occurred_at=now, challenge_joined=True, challenge_id=row.id, challenge_name=row.name
            )
        )
        if notify and row.created_by is not None and row.created_by != me:
            seen = await self._profiles(row.created_by, [me], friends=())
            self._notify(
                row.created_by,
                "social",
                "New challenger",
                f"{self._name(seen.get(me))} joined {row.name}",
                {"type": "challenge_joined", "challenge_id": str(row.id), "participant_id": str(me)},
            )

    async def leave(self, me: uuid.UUID, challenge_id: uuid.UUID) -> None:
        row = await self._locked_challenge(challenge_id)
        participant = await self._participant(challenge_id, me)
        if participant is None:
            raise NotParticipating("You are not in this challenge")
        if row.created_by == me:
            raise CreatorCannotLeave("The creator cannot leave their own challenge")
        if row.finalized_at is not None:
            raise ChallengeEnded("This challenge has ended: its results are final")
        await self.session.delete(participant)
        row.participant_count = max(0, row.participant_count - 1)
        row.updated_at = self.uow.now()
        await self.session.flush()
        await self._record(me, EventType.CHALLENGE_LEFT, related_id=row.id, related_type="challenge")

    def _status(self, row: ChallengeRow, today: date) -> ChallengeStatus:
        if row.finalized_at is not None or today > row.end_date:
            return ChallengeStatus.COMPLETED
        if today < row.start_date:
            return ChallengeStatus.UPCOMING
        return ChallengeStatus.ACTIVE

    async def _visible(self, me: uuid.UUID, row: ChallengeRow, participating: bool) -> bool:
        if row.is_public or participating or row.created_by == me:
            return True
        return row.created_by is not None and row.created_by in await self.friend_ids(me)

    async def challenge(self, me: uuid.UUID, challenge_id: uuid.UUID) -> Challenge:
        row = await self.session.get(ChallengeRow, challenge_id, populate_existing=True)
        if row is None:
            raise ChallengeNotFound("Challenge not found")
        views = await self._challenge_views(me, [row])
        if not views:
            raise ChallengeNotFound("Challenge not found")
        return views[0]

    async def _challenge_views(
        self, me: uuid.UUID, rows: Sequence[ChallengeRow], *, check_visibility: bool = True
    ) -> list[Challenge]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        mine = {
            p.challenge_id: p
            for p in (
                await self.session.execute(
                    select(ParticipantRow).where(ParticipantRow.identity_id == me, ParticipantRow.challenge_id.in_(ids))
                )
            ).scalars()
        }
        ahead = await self._ahead_counts(me, list(mine))
        today = await self._today(me)
        friends = await self.friend_ids(me)
        creators = await self._profiles(me, {r.created_by for r in rows if r.created_by}, friends=friends)
        out: list[Challenge] = []
        for row in rows:
            participant = mine.get(row.id)
            if check_visibility and not (
                row.is_public or participant or row.created_by == me or row.created_by in friends
            ):
                continue
            status = self._status(row, today)
            rank: int | None = None
            if participant is not None:
                rank = participant.rank if participant.rank is not None else ahead.get(row.id, 0) + 1
            creator = creators.get(row.created_by) if row.created_by else None
            out.append(
                Challenge(
                    id=row.id,
                    name=row.name,
                    description=row.description,
                    challenge_type=ChallengeType(row.challenge_type),
                    goal_value=row.goal_value,
                    goal_unit=row.goal_unit,
                    start_date=row.start_date,
                    end_date=row.end_date,
                    created_by=row.created_by,
                    creator_username=creator.username if creator else None,
                    join_code=row.join_code if participant is not None else None,
                    is_public=row.is_public,
                    max_participants=row.max_participants,
                    participant_count=row.participant_count,
                    status=status,
                    my_progress=participant.current_progress if participant else None,
                    my_rank=rank,
                    is_participating=participant is not None,
                    days_remaining=(row.end_date - today).days if status is ChallengeStatus.ACTIVE else None,
                    winner_id=row.winner_id,
                    finalized_at=row.finalized_at,
                    created_at=row.created_at,
                )
            )
        return out

    async def _ahead_counts(self, me: uuid.UUID, challenge_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many participants are ahead of the caller in each challenge (one query)."""
        if not challenge_ids:
            return {}
        mine = select(ParticipantRow).where(ParticipantRow.identity_id == me).subquery()
        rows = await self.session.execute(
            select(ParticipantRow.challenge_id, func.count())
            .join(mine, mine.c.challenge_id == ParticipantRow.challenge_id)
            .where(
                ParticipantRow.challenge_id.in_(challenge_ids),
                ParticipantRow.current_progress > mine.c.current_progress,
            )
            .group_by(ParticipantRow.challenge_id)
        )
        return {challenge_id: int(count) for challenge_id, count in rows.all()}

    async def list_challenges(self, me: uuid.UUID, *, include_public: bool, active_only: bool) -> list[Challenge]:
        friends = await self.friend_ids(me)
        joined = select(ParticipantRow.challenge_id).where(ParticipantRow.identity_id == me)
        scope: list[ColumnElement[bool]] = [ChallengeRow.id.in_(joined), ChallengeRow.created_by == me]
        if friends:
            scope.append(ChallengeRow.created_by.in_(friends))
        if include_public:
            scope.append(ChallengeRow.is_public.is_(True))
        query = select(ChallengeRow).where(or_(*scope))
        if active_only:
            today = await self._today(me)
            query = query.where(
                ChallengeRow.start_date <= today, ChallengeRow.end_date >= today, ChallengeRow.finalized_at.is_(None)
            )
        rows = list(
            (
                await self.session.execute(
                    query.order_by(ChallengeRow.created_at.desc(), ChallengeRow.id).limit(MAX_CHALLENGE_LIST)
                )
            ).scalars()
        )
        return await self._challenge_views(me, rows, check_visibility=False)

    async def my_challenges(self, me: uuid.UUID, *, active_only: bool) -> list[Challenge]:
        query = (
            select(ChallengeRow)
            .join(ParticipantRow, ParticipantRow.challenge_id == ChallengeRow.id)
            .where(ParticipantRow.identity_id == me)
        )
        if active_only:
            today = await self._today(me)
            query = query.where(
                ChallengeRow.start_date <= today, ChallengeRow.end_date >= today, ChallengeRow.finalized_at.is_(None)
            )
        rows = list(
            (await self.session.execute(query.order_by(ChallengeRow.start_date.desc(), ChallengeRow.id))).scalars()
        )
        return await self._challenge_views(me, rows, check_visibility=False)

    async def challenges_of(
        self, identity_id: uuid.UUID, *, ending_on_or_after: date | None = None, limit: int = 200
    ) -> list[ChallengeDates]:
        query = (
            select(
                ChallengeRow.id,
                ChallengeRow.name,
                ChallengeRow.challenge_type,
                ChallengeRow.start_date,
                ChallengeRow.end_date,
            )
            .join(ParticipantRow, ParticipantRow.challenge_id == ChallengeRow.id)
            .where(ParticipantRow.identity_id == identity_id)
        )
        if ending_on_or_after is not None:
            query = query.where(ChallengeRow.end_date >= ending_on_or_after)
        rows = await self.session.execute(
            query.order_by(ChallengeRow.start_date.desc(), ChallengeRow.id).limit(max(0, limit))
        )
        return [
            ChallengeDates(
                id=r.id,
                name=r.name,
                challenge_type=ChallengeType(r.challenge_type),
                start_date=r.start_date,
                end_date=r.end_date,
            )
            for r in rows
        ]

    async def standings(self, me: uuid.UUID, challenge_id: uuid.UUID) -> list[ChallengeStanding]:
        row = await self.session.get(ChallengeRow, challenge_id)
        if row is None:
            raise ChallengeNotFound("Challenge not found")
        participants = await self._ordered_participants(challenge_id)
        if not await self._visible(me, row, any(p.identity_id == me for p in participants)):
            raise ChallengeNotFound("Challenge not found")
        blocked = await self._blocked_either_way(me)
        profiles = await self._profiles(me, [p.identity_id for p in participants])
        live = competition_ranks([p.current_progress for p in participants])
        out: list[ChallengeStanding] = []
        for p, rank in zip(participants, live, strict=True):
            shown = None if p.identity_id in blocked else profiles.get(p.identity_id)
            out.append(
                ChallengeStanding(
                    rank=p.rank if p.rank is not None else rank,
                    identity_id=p.identity_id,
                    username=shown.username if shown else None,
                    display_name=shown.display_name if shown else None,
                    avatar_url=shown.avatar_url if shown else None,
                    progress=p.current_progress,
                    completed=p.completed,
                    completed_at=p.completed_at,
                    joined_at=p.joined_at,
                    is_current_user=p.identity_id == me,
                )
            )
        return out

    async def _ordered_participants(self, challenge_id: uuid.UUID) -> list[ParticipantRow]:
        """Best first: progress, then who reached the goal first, then who joined first."""
        rows = await self.session.execute(
            select(ParticipantRow)
            .where(ParticipantRow.challenge_id == challenge_id)
            .order_by(
                ParticipantRow.current_progress.desc(),
                ParticipantRow.completed_at.is_(None),
                ParticipantRow.completed_at,
                ParticipantRow.joined_at,
                ParticipantRow.identity_id,
            )
        )
        return list(rows.scalars())

    async def close_challenge(self, challenge_id: uuid.UUID) -> None:
        """The scheduled end of a challenge: progress recomputed from facts, ranks frozen, the
        winner decided and rewarded. Runs once: a repeated delivery finds it decided."""
        row = (
            await self.session.execute(select(ChallengeRow).where(ChallengeRow.id == challenge_id).with_for_update())
        ).scalar_one_or_none()
        if row is None or row.finalized_at is not None:
            return
        now = self.uow.now()
        if now < row.closes_at:  # not due (an early delivery): the scheduled message comes back later
            self.uow.enqueue(CHALLENGE_CLOSE_TOPIC, {"challenge_id": str(row.id)}, available_at=row.closes_at)
            return
        participants = await self._ordered_participants(row.id)
        facts = await self._facts([p.identity_id for p in participants], row.start_date, row.end_date)
        kind = ChallengeType(row.challenge_type)
        progress = {p.identity_id: challenge_progress(kind, facts[p.identity_id]) for p in participants}
        participants.sort(
            key=lambda p: (
                -progress[p.identity_id],
                p.completed_at is None,
                p.completed_at or now,
                p.joined_at,
                str(p.identity_id),
            )
        )
        winner = participants[0] if participants and progress[participants[0].identity_id] > 0 else None
        if winner is not None:  # progression first: one lock order with activity credits
            await self.uow.publish(
                SocialProgress(
                    identity_id=winner.identity_id,
                    occurred_at=now,
                    challenge_won=True,
                    challenge_id=row.id,
                    challenge_name=row.name,
                )
            )
        ranks = competition_ranks([progress[p.identity_id] for p in participants])
        for participant, rank in zip(participants, ranks, strict=True):
            await self._set_progress(participant, row, facts[participant.identity_id])
            participant.rank = rank
        row.finalized_at, row.updated_at = now, now
        row.winner_id = winner.identity_id if winner else None
        await self.session.flush()
        for participant in participants:
            won = winner is not None and participant.identity_id == winner.identity_id
            if won:
                await self._record(
                    participant.identity_id,
                    EventType.CHALLENGE_WON,
                    related_id=row.id,
                    related_type="challenge",
                    metadata={"name": row.name, "rank": participant.rank},
                    source=EventSource.SYSTEM,
                )
            self._notify(
                participant.identity_id,
                "social",
                "You won the challenge!" if won else "Challenge finished",
                f"You won {row.name}" if won else f"{row.name} is over: you finished #{participant.rank}",
                {
                    "type": "challenge_won" if won else "challenge_finished",
                    "challenge_id": str(row.id),
                    "rank": participant.rank,
                },
            )

    # Leaderboards ---------------------------------------------------------------------------

    async def leaderboard(
        self,
        me: uuid.UUID,
        board: LeaderboardType,
        period: LeaderboardPeriod,
        *,
        limit: int,
        challenge_id: uuid.UUID | None = None,
    ) -> Leaderboard:
        now = self.uow.now()
        if board is LeaderboardType.CHALLENGE:
            return await self._challenge_board(me, period, limit, challenge_id)
        blocked = await self._blocked_either_way(me)
        today = await self._today(me)
        first = period_start(period, today)
        start: date | None = first
        if board is LeaderboardType.GLOBAL_XP:
            page, my_value, ahead = await self._global_xp(me, period, first, limit, blocked)
        elif board is LeaderboardType.GLOBAL_STREAKS:
            page, my_value, ahead = await self._global_streaks(me, limit, blocked)
            start = None
        else:
            streaks = board is LeaderboardType.FRIENDS_STREAKS
            page, my_value, ahead = await self._friends_board(me, period, first, streaks=streaks)
            if streaks:
                start = None
        return await self._board(me, board, period, start, page, my_value, ahead, limit, now)

    async def _board(
        self,
        me: uuid.UUID,
        board: LeaderboardType,
        period: LeaderboardPeriod,
        start: date | None,
        others: list[tuple[uuid.UUID, float]],
        my_value: float,
        ahead: int,
        limit: int,
        now: datetime,
    ) -> Leaderboard:
        # Best first; equal values by identity id, descending (the board index's own order).
        merged = sorted(
            [*[(i, v) for i, v in others if i != me], (me, my_value)], key=lambda e: (e[1], str(e[0])), reverse=True
        )
        page = merged[:limit]
        ranks = competition_ranks([v for _, v in page])
        # Friends boards show private friends' names; global boards list only public profiles.
        friends = None if board in (LeaderboardType.FRIENDS_XP, LeaderboardType.FRIENDS_STREAKS) else ()
        profiles = await self._profiles(me, [i for i, _ in page], friends=friends)
        my_rank = ahead + 1
        entries = []
        for (identity_id, value), rank in zip(page, ranks, strict=True):
            profile = profiles.get(identity_id)
            entries.append(
                LeaderboardEntry(
                    rank=my_rank if identity_id == me else rank,
                    identity_id=identity_id,
                    username=profile.username if profile else None,
                    display_name=profile.display_name if profile else None,
                    avatar_url=profile.avatar_url if profile else None,
                    value=value,
                    is_current_user=identity_id == me,
                )
            )
        return Leaderboard(
            type=board,
            period=period,
            period_start=start,
            entries=entries,
            my_rank=my_rank,
            my_value=my_value,
            total_participants=len(entries),
            updated_at=now,
        )

    async def _global_xp(
        self, me: uuid.UUID, period: LeaderboardPeriod, start: date, limit: int, blocked: set[uuid.UUID]
    ) -> tuple[list[tuple[uuid.UUID, float]], float, int]:
        key = PERIOD_KEYS[period]
        where = [XPTotalRow.period == key, XPTotalRow.period_start == start, XPTotalRow.listed.is_(True)]
        page = (
            await self.session.execute(
                select(XPTotalRow.identity_id, XPTotalRow.xp)
                .where(*where)
                .order_by(XPTotalRow.xp.desc(), XPTotalRow.identity_id.desc())
                .limit(limit + len(blocked) + 1)
            )
        ).all()
        # The caller's value and how many listed people are ahead of it, in one round trip.
        mine = (
            select(XPTotalRow.xp)
            .where(XPTotalRow.period == key, XPTotalRow.period_start == start, XPTotalRow.identity_id == me)
            .scalar_subquery()
        )
        ahead_query = select(func.coalesce(mine, 0), func.count()).where(
            *where, XPTotalRow.xp > func.coalesce(mine, 0), XPTotalRow.identity_id != me
        )
        if blocked:
            ahead_query = ahead_query.where(XPTotalRow.identity_id.not_in(blocked))
        my_value, ahead = (await self.session.execute(ahead_query)).one()
        return [(i, float(v)) for i, v in page if i not in blocked], float(my_value), int(ahead)

    async def _global_streaks(
        self, me: uuid.UUID, limit: int, blocked: set[uuid.UUID]
    ) -> tuple[list[tuple[uuid.UUID, float]], float, int]:
        now = self.uow.now()
        alive = [StreakStandingRow.alive_until > now, StreakStandingRow.current_count > 0]
        page = (
            await self.session.execute(
                select(StreakStandingRow.identity_id, StreakStandingRow.current_count)
                .where(StreakStandingRow.listed.is_(True), *alive)
                .order_by(StreakStandingRow.current_count.desc(), StreakStandingRow.identity_id.desc())
                .limit(limit + len(blocked) + 1)
            )
        ).all()
        mine = (
            await self.session.execute(
                select(StreakStandingRow.current_count).where(StreakStandingRow.identity_id == me, *alive)
            )
        ).scalar_one_or_none()
        my_value = int(mine or 0)
        ahead_query = select(func.count()).where(
            StreakStandingRow.listed.is_(True),
            *alive,
            StreakStandingRow.current_count > my_value,
            StreakStandingRow.identity_id != me,
        )
        if blocked:
            ahead_query = ahead_query.where(StreakStandingRow.identity_id.not_in(blocked))
        ahead = int((await self.session.execute(ahead_query)).scalar_one())
        return [(i, float(v)) for i, v in page if i not in blocked], float(my_value), ahead

    async def _friends_board(
        self, me: uuid.UUID, period: LeaderboardPeriod, start: date, *, streaks: bool
    ) -> tuple[list[tuple[uuid.UUID, float]], float, int]:
        """Friends who show their level (XP boards) or streaks (streak boards), and the caller."""
        friends = await self.friend_ids(me)
        shown = set(friends)
        if friends:
            flags = await self.session.execute(
                select(MemberRow.identity_id, MemberRow.show_level, MemberRow.show_streaks).where(
                    MemberRow.identity_id.in_(friends)
                )
            )
            for identity_id, show_level, show_streaks in flags.all():
                if not (show_streaks if streaks else show_level):
                    shown.discard(identity_id)
        people = [*shown, me]
        values: dict[uuid.UUID, float] = dict.fromkeys(people, 0.0)
        if streaks:
            rows = await self.session.execute(
                select(StreakStandingRow.identity_id, StreakStandingRow.current_count).where(
                    StreakStandingRow.identity_id.in_(people), StreakStandingRow.alive_until > self.uow.now()
                )
            )
        else:
            rows = await self.session.execute(
                select(XPTotalRow.identity_id, XPTotalRow.xp).where(
                    XPTotalRow.period == PERIOD_KEYS[period],
                    XPTotalRow.period_start == start,
                    XPTotalRow.identity_id.in_(people),
                )
            )
        values.update({i: float(v) for i, v in rows.all()})
        my_value = values[me]
        ahead = sum(1 for i, v in values.items() if i != me and v > my_value)
        return sorted(values.items(), key=lambda e: (e[1], str(e[0])), reverse=True), my_value, ahead

    async def _challenge_board(
        self, me: uuid.UUID, period: LeaderboardPeriod, limit: int, challenge_id: uuid.UUID | None
    ) -> Leaderboard:
        now = self.uow.now()
        if challenge_id is None:
            return Leaderboard(
                type=LeaderboardType.CHALLENGE, period=period, entries=[], total_participants=0, updated_at=now
            )
        standings = await self.standings(me, challenge_id)
        entries = [
            LeaderboardEntry(
                rank=s.rank,
                identity_id=s.identity_id,
                username=s.username,
                display_name=s.display_name,
                avatar_url=s.avatar_url,
                value=s.progress,
                is_current_user=s.is_current_user,
            )
            for s in standings
        ]
        mine = next((e for e in entries if e.is_current_user), None)
        page = entries[:limit]
        return Leaderboard(
            type=LeaderboardType.CHALLENGE,
            period=period,
            entries=page,
            my_rank=mine.rank if mine else None,
            my_value=mine.value if mine else None,
            total_participants=len(page),
            updated_at=now,
        )

    # Share ----------------------------------------------------------------------------------

    async def share(self, me: uuid.UUID, body: ShareRequest, *, base_url: str | None = None) -> ShareContent:
        """The share text with the caller's figures; with `base_url` (the API's public address)
        also its card image and public page (see share_cards.py). The page's text holds only the
        figure shared (streak, level, achievement, workout or challenge name), never other values."""
        journey = progression(self.uow)
        kind = body.share_type.strip().lower()
        link = f"ugoki://share/{kind}"
        if kind == ShareType.ACHIEVEMENT:
            subject = self._subject(body)
            found = next((a for a in await journey.unlocked_achievements(me) if str(a.id) == subject), None)
            if found is None:
                raise ShareSubjectNotFound("You have not unlocked this achievement")
            title, message = (
                f"Achievement unlocked: {found.name}",
                f"I unlocked {found.name} on UGOKI: {found.description}",
            )
            public = message
            card = CardSpec(kind, "Achievement unlocked", found.name, found.description)
            link = f"{link}/{found.id}"
        elif kind == ShareType.STREAK:
            streak = next(s for s in await journey.streaks(me) if s.streak_type == StreakType.FASTING)
            days = "day" if streak.current_count == 1 else "days"
            title = f"{streak.current_count}-{days[:3]} fasting streak"
            message = (
                f"I've kept my fasting streak going for {streak.current_count} {days} on UGOKI "
                f"(best: {streak.longest_count})"
            )
            public = message
            best = "day" if streak.longest_count == 1 else "days"
            card = CardSpec(
                kind,
                "Fasting streak",
                title,
                f"Best run: {streak.longest_count} {best}",
                badge=str(streak.current_count),
                badge_unit=days,
            )
        elif kind == ShareType.LEVEL_UP:
            level = await journey.level(me)
            title = f"Level {level.current_level}: {level.title}"
            message = f"I reached level {level.current_level} ({level.title}) with {level.total_xp_earned} XP on UGOKI"
            public = message
            card = CardSpec(
                kind,
                "Level up",
                title,
                f"{level.total_xp_earned:,} XP earned",
                badge=str(level.current_level),
                badge_unit="level",
            )
        elif kind == ShareType.WORKOUT:
            if body.related_id:  # one workout session of the caller's
                try:
                    session_id = uuid.UUID(body.related_id.strip())
                except ValueError as exc:
                    raise ShareSubjectNotFound("You have not completed this workout session") from exc
                done = await content(self.uow).completed_session(me, session_id)
                if done is None:
                    raise ShareSubjectNotFound("You have not completed this workout session")
                name = done.workout.name if done.workout else "a workout"
                minutes = round((done.duration_seconds or 0) / 60)
                title = f"Workout done: {name}"
                message = f"I just finished {name} ({minutes} min, {done.calories_burned or 0} kcal) on UGOKI"
                public = f"I just finished {name} on UGOKI"  # the page names the workout only
                card = CardSpec(kind, "Workout done", name, "Finished on UGOKI")
                link = f"{link}/{done.id}"
            else:
                stats = await content(self.uow).stats(me)
                title = f"{stats.total_workouts} workouts done"
                message = (
                    f"I've completed {stats.total_workouts} workouts ({stats.total_duration_minutes} minutes, "
                    f"{stats.current_week_workouts} this week) on UGOKI"
                )
                public = f"I've completed {stats.total_workouts} workouts on UGOKI"
                card = CardSpec(
                    kind,
                    "Workouts done",
                    title,
                    "Completed on UGOKI",
                    badge=str(stats.total_workouts),
                    badge_unit="workouts",
                )
        elif kind == ShareType.CHALLENGE_WIN:
            subject = self._subject(body)
            try:
                challenge_id = uuid.UUID(subject)
            except ValueError as exc:
                raise ShareSubjectNotFound("You have not won this challenge") from exc
            row = await self.session.get(ChallengeRow, challenge_id)
            if row is None or row.winner_id != me:
                raise ShareSubjectNotFound("You have not won this challenge")
            title, message = f"Won: {row.name}", f"I won the {row.name} challenge on UGOKI"
            public = message
            card = CardSpec(kind, "Challenge won", row.name, "Winner of the challenge")
            link = f"{link}/{row.id}"
        else:
            kind, link = "generic", "ugoki://share/generic"
            title, message = "UGOKI", "I'm fasting and training with UGOKI"
            public = message
            card = CardSpec(kind, "UGOKI", "Fasting and training with UGOKI", "Join me on UGOKI")
        await self._record(
            me, EventType.SHARE_CREATED, related_id=body.related_id, related_type=kind, metadata={"share_type": kind}
        )
        image_url = share_url = None
        if base_url is not None:
            image_url, share_url = await ShareCards(self.uow).publish(
                me,
                share_type=kind,
                title=title,
                message=body.custom_message or public,
                deep_link=link,
                card=card,
                base_url=base_url,
            )
        return ShareContent(
            title=title,
            message=body.custom_message or message,
            image_url=image_url,
            share_url=share_url,
            deep_link=link,
        )

    @staticmethod
    def _subject(body: ShareRequest) -> str:
        if not body.related_id:
            raise ShareSubjectRequired(f"related_id is required for {body.share_type}")
        return body.related_id.strip()
