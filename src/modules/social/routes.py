from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from src.core.errors import problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.dependencies import CurrentIdentity, UoWDep

from .models import (
    Challenge,
    ChallengeCreate,
    ChallengeStanding,
    FollowEntry,
    FollowResult,
    FriendRequestCreate,
    Friendship,
    FriendshipStatus,
    Leaderboard,
    LeaderboardPeriod,
    LeaderboardType,
    PublicProfile,
    RespondRequest,
    SearchResult,
    ShareContent,
    ShareRequest,
)
from .service import SocialService
from .share_cards import PAGE_PATH, ShareCards

router = ModuleRouter(prefix="/social", tags=["social"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 403, 404, 409, 422)}


# Friends ---------------------------------------------------------------------------------------


@router.post(
    "/friends/request",
    response_model=Friendship,
    status_code=status.HTTP_201_CREATED,
    summary="Send a friend request by friend code or username (any case)",
    openapi_extra=limits("LOOKUP"),  # codes and usernames are guessable: bounded guessing
    description=(
        "When the other person has already asked you, their request is accepted instead (status `accepted`). "
        "404 for an unknown person, 409 `ALREADY_FRIENDS` / `FRIEND_REQUEST_EXISTS` / `PERSON_BLOCKED`, "
        "422 when neither code nor username is given or the target is yourself."
    ),
    responses=_ERRORS,
)
async def send_request(uow: UoWDep, me: CurrentIdentity, body: FriendRequestCreate) -> Friendship:
    return await SocialService(uow).request_friend(me.identity_id, body)


@router.get("/friends/requests/incoming", response_model=list[Friendship], summary="Requests waiting for your answer")
async def incoming(uow: UoWDep, me: CurrentIdentity) -> list[Friendship]:
    return await SocialService(uow).requests(me.identity_id, incoming=True)


@router.get(
    "/friends/requests/outgoing", response_model=list[Friendship], summary="Requests you sent, not answered yet"
)
async def outgoing(uow: UoWDep, me: CurrentIdentity) -> list[Friendship]:
    return await SocialService(uow).requests(me.identity_id, incoming=False)


@router.post(
    "/friends/requests/{request_id}/respond",
    response_model=Friendship | None,
    summary="Accept or decline a friend request (only the person asked)",
    description="Accepting answers the friendship; declining deletes the request and answers null.",
    responses=_ERRORS,
)
async def respond(uow: UoWDep, me: CurrentIdentity, request_id: UUID, body: RespondRequest) -> Friendship | None:
    return await SocialService(uow).respond(me.identity_id, request_id, accept=body.accept)


@router.get(
    "/friends",
    response_model=list[Friendship],
    summary="Your friends (or pending requests, or the people you blocked)",
    description="`status=blocked` lists only the blocks you made.",
)
async def friends(
    uow: UoWDep, me: CurrentIdentity, status: FriendshipStatus = FriendshipStatus.ACCEPTED
) -> list[Friendship]:
    return await SocialService(uow).friends(me.identity_id, status)


@router.delete(
    "/friends/{friend_id}", status_code=status.HTTP_204_NO_CONTENT, summary="End a friendship", responses=_ERRORS
)
async def remove_friend(uow: UoWDep, me: CurrentIdentity, friend_id: UUID) -> Response:
    await SocialService(uow).remove_friend(me.identity_id, friend_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/friends/{user_id}/block",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Block someone: ends any friendship or request and the follows between you",
    responses=_ERRORS,
)
async def block(uow: UoWDep, me: CurrentIdentity, user_id: UUID) -> Response:
    await SocialService(uow).block(me.identity_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/friends/{user_id}/block",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Lift your block (their block of you, if any, stays)",
    responses=_ERRORS,
)
async def unblock(uow: UoWDep, me: CurrentIdentity, user_id: UUID) -> Response:
    await SocialService(uow).unblock(me.identity_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Follows ---------------------------------------------------------------------------------------


@router.post(
    "/follow/{user_id}",
    response_model=FollowResult,
    status_code=status.HTTP_201_CREATED,
    summary="Follow a public profile (or a friend's)",
    responses=_ERRORS,
)
async def follow(uow: UoWDep, me: CurrentIdentity, user_id: UUID) -> FollowResult:
    return await SocialService(uow).follow(me.identity_id, user_id)


@router.delete("/follow/{user_id}", response_model=FollowResult, summary="Stop following", responses=_ERRORS)
async def unfollow(uow: UoWDep, me: CurrentIdentity, user_id: UUID) -> FollowResult:
    return await SocialService(uow).unfollow(me.identity_id, user_id)


@router.get("/followers", response_model=list[FollowEntry], summary="People who follow you, newest first")
async def followers(
    uow: UoWDep,
    me: CurrentIdentity,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[FollowEntry]:
    return await SocialService(uow).follow_list(me.identity_id, followers=True, limit=limit, offset=offset)


@router.get("/following", response_model=list[FollowEntry], summary="People you follow, newest first")
async def following(
    uow: UoWDep,
    me: CurrentIdentity,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[FollowEntry]:
    return await SocialService(uow).follow_list(me.identity_id, followers=False, limit=limit, offset=offset)


# Profiles (search is declared before /users/{user_id}) -----------------------------------------


@router.get(
    "/users/search",
    response_model=list[SearchResult],
    summary="Search public profiles by username or display name (at least 2 characters, any case)",
    openapi_extra=limits("SEARCH"),
    responses=_ERRORS,
)
async def search(
    uow: UoWDep,
    me: CurrentIdentity,
    query: Annotated[str, Query(max_length=50)],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[SearchResult]:
    return await SocialService(uow).search(me.identity_id, query, limit=limit)


@router.get(
    "/users/{user_id}",
    response_model=PublicProfile,
    summary="Someone's profile as you may see it",
    description=(
        "A private profile shows a stranger only the username. Level, streaks and achievement count appear for "
        "public profiles, friends and yourself, each only when its privacy flag allows. 404 when they blocked you."
    ),
    responses=_ERRORS,
)
async def public_profile(uow: UoWDep, me: CurrentIdentity, user_id: UUID) -> PublicProfile:
    return await SocialService(uow).public_profile(me.identity_id, user_id)


# Leaderboards ----------------------------------------------------------------------------------


@router.get(
    "/leaderboards/{board}",
    response_model=Leaderboard,
    summary="A leaderboard: global or friends, by XP in a period or by current fasting streak",
    description=(
        "`period` (week starting Monday, month, all_time) is taken in your time zone; each person's XP counts in the "
        "week or month of their own local day. Streak boards show current fasting streaks (a broken streak is 0) "
        "and ignore `period`. Global boards list public profiles that show their level (XP) or streaks, plus you; "
        "friends boards your friends whose flags allow it, plus you; people blocked either way never appear. "
        "Ranks are standard competition ranks (equal values share a rank: 1, 2, 2, 4); equal values are listed "
        "by identity id, descending. `my_rank`/`my_value` are given even when you are outside the page. "
        "`challenge` needs `challenge_id` (else the board is empty)."
    ),
    responses=_ERRORS,
)
async def leaderboard(
    uow: UoWDep,
    me: CurrentIdentity,
    board: LeaderboardType,
    period: LeaderboardPeriod = LeaderboardPeriod.WEEK,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    challenge_id: UUID | None = None,
) -> Leaderboard:
    return await SocialService(uow).leaderboard(me.identity_id, board, period, limit=limit, challenge_id=challenge_id)


# Challenges ------------------------------------------------------------------------------------


@router.post(
    "/challenges",
    response_model=Challenge,
    status_code=status.HTTP_201_CREATED,
    summary="Create a challenge (you join it at once)",
    description="Private by default: others join with its code. The end date may not be in the past.",
    responses=_ERRORS,
)
async def create_challenge(uow: UoWDep, me: CurrentIdentity, body: ChallengeCreate) -> Challenge:
    return await SocialService(uow).create_challenge(me.identity_id, body)


@router.get(
    "/challenges",
    response_model=list[Challenge],
    summary="Challenges you can see: public ones, yours, and your friends' (newest first, at most 50)",
)
async def list_challenges(
    uow: UoWDep, me: CurrentIdentity, include_public: bool = True, active_only: bool = True
) -> list[Challenge]:
    return await SocialService(uow).list_challenges(
        me.identity_id, include_public=include_public, active_only=active_only
    )


@router.get("/challenges/mine", response_model=list[Challenge], summary="Challenges you joined (latest start first)")
async def my_challenges(uow: UoWDep, me: CurrentIdentity, active_only: bool = True) -> list[Challenge]:
    return await SocialService(uow).my_challenges(me.identity_id, active_only=active_only)


@router.post(
    "/challenges/update-progress",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Recompute your progress in your running challenges",
    description="Progress already follows every completed fast, workout and XP credit; this only recomputes it.",
)
async def update_progress(uow: UoWDep, me: CurrentIdentity) -> Response:
    await SocialService(uow).update_progress(me.identity_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/challenges/join/{code}",
    response_model=Challenge,
    summary="Join a challenge by its code (any case)",
    openapi_extra=limits("LOOKUP"),
    responses=_ERRORS,
)
async def join_by_code(uow: UoWDep, me: CurrentIdentity, code: Annotated[str, Path(max_length=20)]) -> Challenge:
    return await SocialService(uow).join_by_code(me.identity_id, code)


@router.get("/challenges/{challenge_id}", response_model=Challenge, summary="A challenge", responses=_ERRORS)
async def challenge(uow: UoWDep, me: CurrentIdentity, challenge_id: UUID) -> Challenge:
    return await SocialService(uow).challenge(me.identity_id, challenge_id)


@router.post(
    "/challenges/{challenge_id}/join",
    response_model=Challenge,
    summary="Join a public challenge",
    description="Private challenges are joined with their code. 409 when full, ended, or already joined.",
    responses=_ERRORS,
)
async def join(uow: UoWDep, me: CurrentIdentity, challenge_id: UUID) -> Challenge:
    return await SocialService(uow).join_by_id(me.identity_id, challenge_id)


@router.delete(
    "/challenges/{challenge_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Leave a challenge (not its creator, not once decided)",
    responses=_ERRORS,
)
async def leave(uow: UoWDep, me: CurrentIdentity, challenge_id: UUID) -> Response:
    await SocialService(uow).leave(me.identity_id, challenge_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/challenges/{challenge_id}/leaderboard",
    response_model=list[ChallengeStanding],
    summary="Every participant by progress",
    description="Live standard competition ranks while it runs; the frozen final ranks once decided.",
    responses=_ERRORS,
)
async def challenge_leaderboard(uow: UoWDep, me: CurrentIdentity, challenge_id: UUID) -> list[ChallengeStanding]:
    return await SocialService(uow).standings(me.identity_id, challenge_id)


# Share -----------------------------------------------------------------------------------------


@router.post(
    "/share/generate",
    response_model=ShareContent,
    summary="Share text with your real figures, a card image, a public page and a deep link",
    description=(
        "`achievement` and `challenge_win` need `related_id` (an achievement you unlocked, a challenge you won; "
        "404 otherwise); `workout` takes an optional `related_id` (a workout session you completed, else your "
        "totals); `streak` and `level_up` use your current figures; other types get a generic text. "
        "`custom_message` replaces the message. `image_url` is a 1200×630 PNG card of the share and `share_url` "
        "its public page (`/s/{key}`, no sign-in, with Open Graph tags for link previews); the card and page show "
        "only the figure shared (streak, level, achievement, workout or challenge name) and your message, never "
        "your name. Sharing the same thing again reuses its card. Both are null when file storage is "
        "unavailable; the text is still given."
    ),
    responses=_ERRORS,
    openapi_extra=limits("UPLOAD"),  # each new share stores an image
)
async def share(request: Request, uow: UoWDep, me: CurrentIdentity, body: ShareRequest) -> ShareContent:
    return await SocialService(uow).share(me.identity_id, body, base_url=str(request.base_url))


# Public share pages (mounted at the site root, outside /api/v1) ----------------------------

share_pages = ModuleRouter(prefix=PAGE_PATH, tags=["share"])

# The page only links out; its image may come from the storage's own host.
_PAGE_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "Content-Security-Policy": (
        "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


@share_pages.get(
    "/{key}",
    response_class=HTMLResponse,
    summary="A shared card's public page (no sign-in)",
    description=(
        "HTML with Open Graph and Twitter card tags (`og:image` is the card, `twitter:card` "
        "`summary_large_image`) and a link that opens the app. 404 problem for an unknown key."
    ),
    responses={200: {"content": {"text/html": {}}}, 404: problem_schema()},
)
async def share_page(request: Request, uow: UoWDep, key: str) -> HTMLResponse:
    page = await ShareCards(uow).page(key, base_url=str(request.base_url))
    return HTMLResponse(page, headers=_PAGE_HEADERS)
