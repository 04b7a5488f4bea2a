"""Account export, erasure and anonymisation of everything the social module holds about a person.

Erasure also takes the person out of other people's lives here: friend lists, requests, follows
and blocks go (and the other people's counters are counted again), their challenge places go (a
challenge they created stays for the others without its creator, or goes when nobody else is in
it), and their rows behind the leaderboards go. Their share cards go too (pages and images), on
erasure and on anonymisation alike: a public card is never worth keeping without the person."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, or_, select, update

from src.core.uow import UnitOfWork

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
from .service import ACCEPTED, SocialService
from .share_cards import ShareCards

_BOARD_ROWS = (ActivityDayRow, XPTotalRow, StreakStandingRow, MemberRow)


async def export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    s = uow.session
    friendships = (
        await s.execute(
            select(FriendshipRow).where(
                or_(FriendshipRow.identity_id_a == identity_id, FriendshipRow.identity_id_b == identity_id)
            )
        )
    ).scalars()
    blocks = (await s.execute(select(BlockRow).where(BlockRow.blocker_id == identity_id))).scalars()
    follows = (
        await s.execute(
            select(FollowRow).where(or_(FollowRow.follower_id == identity_id, FollowRow.following_id == identity_id))
        )
    ).scalars()
    created = (await s.execute(select(ChallengeRow).where(ChallengeRow.created_by == identity_id))).scalars()
    joined = (await s.execute(select(ParticipantRow).where(ParticipantRow.identity_id == identity_id))).scalars()
    days = (
        await s.execute(
            select(ActivityDayRow).where(ActivityDayRow.identity_id == identity_id).order_by(ActivityDayRow.day)
        )
    ).scalars()
    totals = (await s.execute(select(XPTotalRow).where(XPTotalRow.identity_id == identity_id))).scalars()
    return {
        "friendships": [
            {
                "other_id": str(f.identity_id_b if f.identity_id_a == identity_id else f.identity_id_a),
                "status": f.status,
                "requested_by_me": f.requested_by == identity_id,
                "accepted_at": f.accepted_at.isoformat() if f.accepted_at else None,
                "created_at": f.created_at.isoformat(),
            }
            for f in friendships
        ],
        "blocks": [{"blocked_id": str(b.blocked_id), "created_at": b.created_at.isoformat()} for b in blocks],
        "follows": [
            {
                "direction": "following" if f.follower_id == identity_id else "follower",
                "other_id": str(f.following_id if f.follower_id == identity_id else f.follower_id),
                "created_at": f.created_at.isoformat(),
            }
            for f in follows
        ],
        "challenges_created": [
            {
                "id": str(c.id),
                "name": c.name,
                "description": c.description,
                "challenge_type": c.challenge_type,
                "start_date": c.start_date.isoformat(),
                "end_date": c.end_date.isoformat(),
                "created_at": c.created_at.isoformat(),
            }
            for c in created
        ],
        "challenge_participations": [
            {
                "challenge_id": str(p.challenge_id),
                "joined_at": p.joined_at.isoformat(),
                "progress": p.current_progress,
                "completed": p.completed,
                "rank": p.rank,
            }
            for p in joined
        ],
        "activity_days": [
            {"day": d.day.isoformat(), "fasts": d.fasts, "workouts": d.workouts, "weigh_ins": d.weigh_ins, "xp": d.xp}
            for d in days
        ],
        "xp_totals": [{"period": t.period, "period_start": t.period_start.isoformat(), "xp": t.xp} for t in totals],
        "share_cards": await ShareCards(uow).export(identity_id),
    }


async def _remove_relationships(uow: UnitOfWork, identity_id: UUID) -> int:
    """Friendships, requests, blocks and follows of the person go; the others' counters are
    counted again."""
    s = uow.session
    pairs = (
        await s.execute(
            select(FriendshipRow.identity_id_a, FriendshipRow.identity_id_b, FriendshipRow.status).where(
                or_(FriendshipRow.identity_id_a == identity_id, FriendshipRow.identity_id_b == identity_id)
            )
        )
    ).all()
    ex_friends = {b if a == identity_id else a for a, b, status in pairs if status == ACCEPTED}
    follows = (
        await s.execute(
            select(FollowRow.follower_id, FollowRow.following_id).where(
                or_(FollowRow.follower_id == identity_id, FollowRow.following_id == identity_id)
            )
        )
    ).all()
    touched = {x for f in follows for x in f} - {identity_id}
    total = 0
    for statement in (
        delete(FriendshipRow).where(
            or_(FriendshipRow.identity_id_a == identity_id, FriendshipRow.identity_id_b == identity_id)
        ),
        delete(BlockRow).where(or_(BlockRow.blocker_id == identity_id, BlockRow.blocked_id == identity_id)),
        delete(FollowRow).where(or_(FollowRow.follower_id == identity_id, FollowRow.following_id == identity_id)),
    ):
        total += int((await s.execute(statement)).rowcount)  # type: ignore[attr-defined]
    service = SocialService(uow)
    if ex_friends:
        await service._sync_counters(ex_friends, friends_changed=True)
    if touched - ex_friends:
        await service._sync_counters(touched - ex_friends)
    return total


async def _remove_board_rows(uow: UnitOfWork, identity_id: UUID) -> int:
    total = 0
    for row_type in _BOARD_ROWS:
        result = await uow.session.execute(delete(row_type).where(row_type.identity_id == identity_id))
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


async def erase(uow: UnitOfWork, identity_id: UUID) -> int:
    s = uow.session
    total = await _remove_relationships(uow, identity_id)
    places = list(
        (
            await s.execute(select(ParticipantRow.challenge_id).where(ParticipantRow.identity_id == identity_id))
        ).scalars()
    )
    if places:
        total += int(
            (await s.execute(delete(ParticipantRow).where(ParticipantRow.identity_id == identity_id))).rowcount  # type: ignore[attr-defined]
        )
        await s.execute(
            update(ChallengeRow)
            .where(ChallengeRow.id.in_(places), ChallengeRow.participant_count > 0)
            .values(participant_count=ChallengeRow.participant_count - 1)
        )
    await s.execute(update(ChallengeRow).where(ChallengeRow.winner_id == identity_id).values(winner_id=None))
    total += int(
        (
            await s.execute(
                delete(ChallengeRow).where(ChallengeRow.created_by == identity_id, ChallengeRow.participant_count == 0)
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    await s.execute(update(ChallengeRow).where(ChallengeRow.created_by == identity_id).values(created_by=None))
    total += await ShareCards(uow).erase(identity_id)
    return total + await _remove_board_rows(uow, identity_id)


async def anonymize(uow: UnitOfWork, identity_id: UUID, replacement_id: UUID) -> int:
    """Relationships, share cards and board rows go; challenge places, results and created challenges stay
    under the replacement id (the other participants' standings keep their shape)."""
    s = uow.session
    total = await _remove_relationships(uow, identity_id)
    total += int(
        (
            await s.execute(
                update(ParticipantRow)
                .where(ParticipantRow.identity_id == identity_id)
                .values(identity_id=replacement_id)
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    await s.execute(update(ChallengeRow).where(ChallengeRow.winner_id == identity_id).values(winner_id=replacement_id))
    await s.execute(
        update(ChallengeRow).where(ChallengeRow.created_by == identity_id).values(created_by=replacement_id)
    )
    total += await ShareCards(uow).erase(identity_id)
    return total + await _remove_board_rows(uow, identity_id)
