"""Leaderboards: periods in the caller's zone from per-period totals, privacy flags and blocks,
ranks for callers outside the page, current streaks, a bounded number of statements."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import fresh_token
from tests.progression.helpers import StatementLog, counting_statements, set_timezone
from tests.social.helpers import FRIENDS, PROFILE_SOCIAL, befriend, board, log_fast, ok, person, utc


def values(body: dict[str, object]) -> dict[str, tuple[int, float]]:
    entries = body["entries"]
    assert isinstance(entries, list)
    return {e["identity_id"]: (e["rank"], e["value"]) for e in entries}


async def test_week_differs_from_all_time_for_old_xp(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    old_timer, _ = await person(app, client, "old_timer")
    clock.set(utc(2, 20, 12))
    await fresh_token(app, old_timer)
    await log_fast(client, old_timer, utc(2, 19, 18), utc(2, 20, 10))  # 16 h in February
    clock.set(utc(3, 10, 12))
    await fresh_token(app, old_timer)
    await log_fast(client, old_timer, utc(3, 9, 18), utc(3, 10, 10))
    total = ok(await client.get("/api/v1/progression/level", headers=old_timer.headers))["total_xp_earned"]

    week = await board(client, old_timer, "global_xp", period="week")
    all_time = await board(client, old_timer, "global_xp", period="all_time")
    month = await board(client, old_timer, "global_xp", period="month")
    assert all_time["my_value"] == total
    assert week["my_value"] < total
    assert week["period_start"] == "2026-03-09"
    assert month["period_start"] == "2026-03-01"
    assert week["my_value"] == month["my_value"] > 0


async def test_the_period_is_the_callers_week(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    earner, _ = await person(app, client, "earner")
    far_east, _ = await person(app, client, "far_east")
    await set_timezone(client, far_east, "Pacific/Auckland")
    await log_fast(client, earner, utc(3, 9, 18), utc(3, 10, 10))
    # Sunday 20:00 UTC is already Monday morning in Auckland: a new week there.
    clock.set(utc(3, 15, 20))
    await fresh_token(app, earner)
    await fresh_token(app, far_east)
    here = await board(client, earner, "global_xp", period="week")
    there = await board(client, far_east, "global_xp", period="week")
    assert earner.id in values(here)
    assert here["period_start"] == "2026-03-09"
    assert there["period_start"] == "2026-03-16"
    assert earner.id not in values(there)


async def test_private_profiles_and_hidden_levels_stay_off_global_boards(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    viewer, _ = await person(app, client, "viewer")
    shy, _ = await person(app, client, "shy", public=False)
    modest, _ = await person(app, client, "modest", show_level=False)
    proud, _ = await person(app, client, "proud")
    for user in (shy, modest, proud):
        await log_fast(client, user, utc(3, 9, 18), utc(3, 10, 10))

    seen = values(await board(client, viewer, "global_xp", period="week"))
    assert proud.id in seen
    assert shy.id not in seen
    assert modest.id not in seen
    # The private person still sees themselves, ranked among the public.
    own = await board(client, shy, "global_xp", period="week")
    assert shy.id in values(own)
    assert own["my_rank"] == 1
    # Going public puts them on the board.
    ok(await client.patch(PROFILE_SOCIAL, json={"profile_public": True}, headers=shy.headers))
    assert shy.id in values(await board(client, viewer, "global_xp", period="week"))


async def test_friends_board_shows_private_friends_that_show_their_level(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    me, _ = await person(app, client, "me_myself")
    friend, friend_social = await person(app, client, "private_friend", public=False)
    stranger, _ = await person(app, client, "stranger")
    await befriend(client, me, friend, friend_social["friend_code"])
    await log_fast(client, friend, utc(3, 9, 18), utc(3, 10, 10))
    await log_fast(client, stranger, utc(3, 9, 18), utc(3, 10, 10))
    seen = values(await board(client, me, "friends_xp", period="week"))
    assert set(seen) == {me.id, friend.id}
    assert seen[friend.id][0] == 1
    assert seen[me.id] == (2, 0)


async def test_my_rank_is_given_outside_the_page_with_shared_ranks_for_ties(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    top, _ = await person(app, client, "top")
    tied, _ = await person(app, client, "tied")
    me, _ = await person(app, client, "late")
    await log_fast(client, top, utc(3, 9, 10), utc(3, 10, 10))  # 24 h
    await log_fast(client, tied, utc(3, 9, 10), utc(3, 10, 10))
    await log_fast(client, me, utc(3, 9, 22), utc(3, 10, 10))  # 12 h
    full = await board(client, me, "global_xp", period="week")
    ranks = [e["rank"] for e in full["entries"]]
    assert ranks == [1, 1, 3]
    page = await board(client, me, "global_xp", period="week", limit=1)
    assert len(page["entries"]) == 1
    assert page["entries"][0]["identity_id"] != me.id
    assert page["my_rank"] == 3
    assert page["my_value"] == full["entries"][2]["value"]


async def test_blocked_people_are_not_on_my_boards(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "me_myself")
    rude, _ = await person(app, client, "rude")
    await log_fast(client, rude, utc(3, 9, 18), utc(3, 10, 10))
    assert rude.id in values(await board(client, me, "global_xp", period="week"))
    assert (await client.post(f"{FRIENDS}/{me.id}/block", headers=rude.headers)).status_code == 204
    assert rude.id not in values(await board(client, me, "global_xp", period="week"))
    assert me.id not in values(await board(client, rude, "global_streaks"))


async def test_streak_boards_show_current_streaks_that_lapse(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    me, _ = await person(app, client, "streaker")
    viewer, _ = await person(app, client, "viewer")
    for day in (7, 8, 9):
        await log_fast(client, me, utc(3, day - 1, 18), utc(3, day, 10))
    assert values(await board(client, viewer, "global_streaks"))[me.id] == (1, 3)
    mine = await board(client, me, "global_streaks")
    assert (mine["my_rank"], mine["my_value"]) == (1, 3)
    clock.set(utc(3, 12, 12))  # the 10th and 11th passed without a fast: the streak is broken
    await fresh_token(app, viewer)
    assert me.id not in values(await board(client, viewer, "global_streaks"))


async def test_challenge_board_without_an_id_is_empty(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "me_myself")
    body = await board(client, me, "challenge")
    assert body["entries"] == []


async def test_global_board_runs_a_bounded_number_of_statements(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "counter")
    people = [(await person(app, client, f"member{i}"))[0] for i in range(6)]
    for user in people[:3]:
        await log_fast(client, user, utc(3, 9, 18), utc(3, 10, 10))
    with counting_statements(app) as few:
        await board(client, me, "global_xp", period="week")
    for user in people[3:]:
        await log_fast(client, user, utc(3, 9, 18), utc(3, 10, 10))
    with counting_statements(app) as more:
        body = await board(client, me, "global_xp", period="week")
    assert len(body["entries"]) == 7

    def board_statements(log: StatementLog) -> int:
        # The sign-in check may or may not hit its cache: only the board's own statements count.
        return sum(1 for s in log.statements if "social_" in s or "user_preferences" in s or "friendships" in s)

    assert board_statements(more) == board_statements(few) <= 6


async def test_friends_streak_board_and_challenge_board(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "me_myself")
    friend, friend_social = await person(app, client, "streaky_friend", public=False)
    quiet, quiet_social = await person(app, client, "quiet_friend", show_streaks=False)
    await befriend(client, me, friend, friend_social["friend_code"])
    await befriend(client, me, quiet, quiet_social["friend_code"])
    for day in (8, 9):
        await log_fast(client, friend, utc(3, day - 1, 18), utc(3, day, 10))
        await log_fast(client, quiet, utc(3, day - 1, 18), utc(3, day, 10))
    seen = values(await board(client, me, "friends_streaks"))
    assert seen == {friend.id: (1, 2), me.id: (2, 0)}

    created = ok(
        await client.post(
            "/api/v1/social/challenges",
            json={
                "name": "Duel",
                "challenge_type": "consistency",
                "goal_value": 5,
                "start_date": "2026-03-09",
                "end_date": "2026-03-15",
            },
            headers=friend.headers,
        ),
        201,
    )
    challenge_board = await board(client, friend, "challenge", challenge_id=created["id"])
    assert challenge_board["my_rank"] == 1
    assert challenge_board["my_value"] == 1
    # Someone outside a private challenge cannot read its board.
    response = await client.get(
        "/api/v1/social/leaderboards/challenge", params={"challenge_id": created["id"]}, headers=quiet.headers
    )
    assert response.status_code == 404
