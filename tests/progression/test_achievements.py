"""Achievements: every one reachable from server-side facts, each unlocked once, its XP in the
level at once; hidden ones stay hidden until unlocked."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import admin_user, anonymous_user
from tests.progression.helpers import (
    ACHIEVEMENTS,
    CHECK,
    MINE,
    complete_workout,
    grant_xp,
    ledger,
    level,
    log_fast,
    log_fast_on,
    log_weight,
    mine,
    names,
    ok,
    set_timezone,
    social,
    unlocked_names,
    utc,
)

NOW = utc(3, 10, 12)
HIDDEN = {"Legendary", "Level 25"}


async def achievement_xp(client: httpx.AsyncClient, user) -> dict[str, int]:
    return {
        row["description"]: row["amount"]
        for row in await ledger(client, user)
        if row["transaction_type"] == "achievement_unlocked"
    }


async def test_first_fast_unlocks_first_fast_and_welcome(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    closed = await log_fast(client, user, NOW - timedelta(hours=13), NOW)
    assert names(closed["achievements_unlocked"]) == {"First Fast", "Welcome to UGOKI"}
    assert await unlocked_names(client, user) == {"First Fast", "Welcome to UGOKI"}
    assert await achievement_xp(client, user) == {"First Fast": 25, "Welcome to UGOKI": 50}


async def test_first_weigh_in_unlocks_first_weigh_in_and_welcome(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    reward = await log_weight(app, user, NOW)
    assert reward is not None
    assert names([a.model_dump() for a in reward.achievements_unlocked]) == {"First Weigh-In", "Welcome to UGOKI"}
    assert await unlocked_names(client, user) == {"First Weigh-In", "Welcome to UGOKI"}


async def test_twenty_hour_fast_unlocks_extended_fast_but_not_marathon(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    closed = await log_fast(client, user, NOW - timedelta(hours=20), NOW)
    assert "Extended Fast" in names(closed["achievements_unlocked"])
    assert "Marathon Faster" not in await unlocked_names(client, user)


async def test_nineteen_hour_fast_unlocks_neither_long_fast_achievement(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, NOW - timedelta(hours=19, minutes=59), NOW)
    assert not {"Extended Fast", "Marathon Faster"} & await unlocked_names(client, user)


async def test_twenty_four_hour_fast_unlocks_marathon_faster_and_extended_fast(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    closed = await log_fast(client, user, NOW - timedelta(hours=24), NOW)
    assert {"Extended Fast", "Marathon Faster"} <= names(closed["achievements_unlocked"])
    assert await achievement_xp(client, user) == {
        "First Fast": 25,
        "Welcome to UGOKI": 50,
        "Extended Fast": 100,
        "Marathon Faster": 200,
    }


async def test_three_day_fasting_streak_unlocks_getting_started(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 8)
    second = await log_fast_on(client, user, 9)
    assert "Getting Started" not in names(second["achievements_unlocked"])
    third = await log_fast_on(client, user, 10)
    assert names(third["achievements_unlocked"]) == {"Getting Started"}
    progress = (await mine(client, user))["Week Warrior"]
    assert (progress["progress"], progress["is_unlocked"]) == (3, False)


async def test_admin_xp_reaching_level_five_unlocks_level_5_and_counts_its_reward(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    almost = await grant_xp(client, admin, user, 999)
    assert almost["current_level"] == 4
    assert "Level 5" not in await unlocked_names(client, user)
    body = await grant_xp(client, admin, user, 1)
    assert "Level 5" in await unlocked_names(client, user)
    assert body["total_xp_earned"] == 1100  # the reward is in the level at once
    assert (await level(client, user))["total_xp_earned"] == 1100


@pytest.mark.parametrize(
    ("zone", "instant", "unlocked", "elsewhere"),
    [
        ("Pacific/Auckland", utc(3, 9, 17, 30), "Early Bird", "UTC"),  # 06:30 NZDT, 17:30 UTC
        ("America/Los_Angeles", utc(3, 10, 13, 59), "Early Bird", "UTC"),  # 06:59 PDT, 13:59 UTC
        ("Pacific/Auckland", utc(3, 10, 9, 30), "Night Owl", "UTC"),  # 22:30 NZDT, 09:30 UTC
        ("America/Los_Angeles", utc(3, 10, 5, 15), "Night Owl", "Pacific/Auckland"),  # 22:15 PDT, 18:15 NZDT
    ],
)
async def test_workout_time_of_day_is_judged_in_the_person_time_zone(
    app: FastAPI, client: httpx.AsyncClient, zone: str, instant, unlocked: str, elsewhere: str
) -> None:
    local = await anonymous_user(app)
    await set_timezone(client, local, zone)
    other = await anonymous_user(app)
    await set_timezone(client, other, elsewhere)
    await complete_workout(app, local, instant)
    await complete_workout(app, other, instant)
    assert unlocked in await unlocked_names(client, local)
    assert not {"Early Bird", "Night Owl"} & await unlocked_names(client, other)


async def test_workout_at_seven_or_in_the_afternoon_unlocks_no_time_of_day_achievement(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/Los_Angeles")
    await complete_workout(app, user, utc(3, 10, 14))  # 07:00 PDT
    await complete_workout(app, user, utc(3, 10, 3, 59))  # 20:59 PDT
    assert not {"Early Bird", "Night Owl"} & await unlocked_names(client, user)


async def test_variety_pack_needs_five_different_workout_categories(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for category in ("HIIT", "Strength", "HIIT", "Cardio", "Flexibility", "Strength"):
        await complete_workout(app, user, NOW, category=category)
    progress = (await mine(client, user))["Variety Pack"]
    assert (progress["progress"], progress["is_unlocked"]) == (4, False)
    reward = await complete_workout(app, user, NOW, category="Recovery")
    assert reward is not None
    assert "Variety Pack" in {a.name for a in reward.achievements_unlocked}


async def test_social_butterfly_unlocks_at_five_friends(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await social(app, user, NOW, friends_count=4)
    assert (await mine(client, user))["Social Butterfly"]["progress"] == 4
    assert "Social Butterfly" not in await unlocked_names(client, user)
    reward = await social(app, user, NOW, friends_count=5)
    assert reward is not None
    assert [a.name for a in reward.achievements_unlocked] == ["Social Butterfly"]
    assert (await level(client, user))["total_xp_earned"] == 100


async def test_joining_and_winning_a_challenge_unlock_their_achievements(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await social(app, user, NOW, challenge_joined=True)
    assert "Challenge Accepted" in await unlocked_names(client, user)
    assert "Challenge Champion" not in await unlocked_names(client, user)
    await social(app, user, NOW, challenge_won=True)
    assert {"Challenge Accepted", "Challenge Champion"} <= await unlocked_names(client, user)
    assert (await level(client, user))["total_xp_earned"] == 50 + 250


async def test_an_achievement_unlocks_once_however_often_it_is_reached(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 8)
    second = await log_fast_on(client, user, 9)
    assert second["achievements_unlocked"] == []
    assert ok(await client.post(CHECK, headers=user.headers)) == []
    rows = await ledger(client, user)
    unlock_rows = [r["description"] for r in rows if r["transaction_type"] == "achievement_unlocked"]
    assert sorted(unlock_rows) == ["First Fast", "Welcome to UGOKI"]
    listed = ok(await client.get(MINE, headers=user.headers, params={"unlocked_only": True}))
    assert sorted(a["achievement"]["name"] for a in listed) == ["First Fast", "Welcome to UGOKI"]
    assert (await level(client, user))["total_xp_earned"] == sum(r["amount"] for r in rows)


async def test_check_returns_nothing_when_nothing_new_is_reached(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert ok(await client.post(CHECK, headers=user.headers)) == []
    assert await ledger(client, user) == []


async def test_catalogue_is_public_and_hides_hidden_achievements(app: FastAPI, client: httpx.AsyncClient) -> None:
    catalogue = ok(await client.get(ACHIEVEMENTS))
    listed = {a["name"] for a in catalogue}
    assert not HIDDEN & listed
    assert {
        "First Fast",
        "Welcome to UGOKI",
        "Extended Fast",
        "Marathon Faster",
        "Getting Started",
        "Level 5",
        "First Weigh-In",
        "Early Bird",
        "Night Owl",
        "Variety Pack",
        "Social Butterfly",
        "Challenge Accepted",
        "Challenge Champion",
    } <= listed
    assert len(catalogue) == len(listed)  # each once
    asked = {a["name"] for a in ok(await client.get(ACHIEVEMENTS, params={"include_hidden": True}))}
    assert not HIDDEN & asked


async def test_hidden_achievement_appears_only_once_unlocked(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    assert not HIDDEN & set(await mine(client, user))
    await grant_xp(client, admin, user, 30_000)  # level 25
    my = await mine(client, user)
    assert my["Level 25"]["is_unlocked"] is True
    assert "Legendary" not in my
    shown = {
        a["name"] for a in ok(await client.get(ACHIEVEMENTS, headers=user.headers, params={"include_hidden": True}))
    }
    assert "Level 25" in shown
    assert "Legendary" not in shown
    # Someone else still does not see it.
    other = await anonymous_user(app)
    assert "Level 25" not in {
        a["name"] for a in ok(await client.get(ACHIEVEMENTS, headers=other.headers, params={"include_hidden": True}))
    }


async def test_my_achievements_show_progress_and_pending_ids_for_locked_ones(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, NOW - timedelta(hours=13), NOW)
    my = await mine(client, user)
    catalogue = ok(await client.get(ACHIEVEMENTS))
    assert set(my) == {a["name"] for a in catalogue}
    first = my["First Fast"]
    assert first["is_unlocked"] is True
    assert not first["id"].startswith("pending_")
    assert first["unlocked_at"].endswith(("Z", "+00:00"))
    assert first["progress_percent"] == 100.0
    enthusiast = my["Fasting Enthusiast"]
    assert enthusiast["id"] == f"pending_{enthusiast['achievement_id']}"
    assert enthusiast["is_unlocked"] is False
    assert enthusiast["unlocked_at"] is None
    assert (enthusiast["progress"], enthusiast["progress_percent"]) == (1, 10.0)


async def test_my_achievements_need_authentication(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.get(MINE)).status_code == 401
    assert (await client.post(CHECK)).status_code == 401


async def test_achievement_xp_can_reach_a_level_achievement_in_the_same_activity(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await grant_xp(client, admin, user, 900)  # level 4
    closed = await log_fast(client, user, NOW - timedelta(hours=24), NOW)
    # 150 + First Fast 25 + Welcome 50 + Extended 100 + Marathon 200 passes 1000: Level 5 too, whose
    # own 100 XP then carries the total past 1500 (level 6).
    assert "Level 5" in names(closed["achievements_unlocked"])
    body = await level(client, user)
    assert body["total_xp_earned"] == 900 + 150 + 25 + 50 + 100 + 200 + 100
    assert body["current_level"] == 6
    assert (closed["level_up"], closed["new_level"]) == (True, 6)


async def test_a_workout_at_half_past_one_at_night_is_night_owl_not_early_bird(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/New_York")
    await complete_workout(app, user, utc(3, 10, 5, 30))  # 01:30 EDT
    found = await unlocked_names(client, user)
    assert "Night Owl" in found
    assert "Early Bird" not in found
