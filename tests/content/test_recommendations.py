"""Recommendations: a deterministic list, each item with a reason and a score, that never offers
a workout the person's restrictions rule out, puts their preferred types first and ranks a type
trained yesterday (their local yesterday) lower."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.content.models import Recommendation, Workout
from src.modules.content.recommend import recommend
from src.modules.profile import WorkoutRestrictions
from tests.content.helpers import (
    PREFERENCES,
    RECOMMENDATIONS,
    RESTRICTIONS,
    all_workouts,
    assert_problem,
    do_workout,
    ok,
    set_timezone,
    utc,
)
from tests.factories import User, anonymous_user, fresh_token

# Restrictions that allow the whole catalogue, so that each test's own restriction is what filters.
OPEN = {"fitness_level": "advanced", "max_workout_duration_minutes": 120}


async def restrict(client: httpx.AsyncClient, user: User, **values: Any) -> None:
    ok(await client.patch(RESTRICTIONS, headers=user.headers, json={**OPEN, **values}))


async def recommendations(client: httpx.AsyncClient, user: User, limit: int = 10) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await client.get(RECOMMENDATIONS, headers=user.headers, params={"limit": limit}))
    return rows


def workout_names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["workout"]["name"] for row in rows]


async def test_recommendations_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(RECOMMENDATIONS), 401)


async def test_every_recommendation_has_a_reason_and_a_score(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    rows = ok(await client.get(RECOMMENDATIONS, headers=user.headers))
    assert len(rows) == 5
    for row in rows:
        assert isinstance(row["reason"], str)
        assert row["reason"].strip()
        assert 0 < row["score"] <= 1
        assert row["workout"]["id"]
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert len(set(workout_names(rows))) == len(rows)


async def test_recommendations_are_the_same_for_the_same_data(app: FastAPI, client: httpx.AsyncClient) -> None:
    first, second = await anonymous_user(app), await anonymous_user(app)
    for user in (first, second):
        await restrict(client, user)
    once = await recommendations(client, first)
    assert await recommendations(client, first) == once
    assert [(r["workout"]["id"], r["score"], r["reason"]) for r in await recommendations(client, second)] == [
        (r["workout"]["id"], r["score"], r["reason"]) for r in once
    ]


async def test_open_restrictions_offer_jumping_floor_knee_and_long_workouts(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The control for the restriction tests below: without them, the top ten holds such workouts."""
    user = await anonymous_user(app)
    await restrict(client, user)
    rows = [r["workout"] for r in await recommendations(client, user)]
    assert any(w["jumping"] for w in rows)
    assert any(w["high_impact"] for w in rows)
    assert any(w["floor"] for w in rows)
    assert any("knee" in w["stress_areas"] for w in rows)
    assert any(w["duration_minutes"] > 12 for w in rows)
    assert any(w["difficulty"] != "beginner" for w in rows)


@pytest.mark.parametrize(
    ("restriction", "allowed"),
    [
        ({"avoid_jumping": True}, lambda w: not w["jumping"]),
        ({"avoid_high_impact": True}, lambda w: not w["high_impact"]),
        ({"avoid_floor_exercises": True}, lambda w: not w["floor"]),
        ({"injury_areas": ["knee"]}, lambda w: "knee" not in w["stress_areas"]),
        ({"max_workout_duration_minutes": 12}, lambda w: w["duration_minutes"] <= 12),
        ({"fitness_level": "beginner"}, lambda w: w["difficulty"] == "beginner"),
        (
            {"avoid_jumping": True, "injury_areas": ["shoulder"], "max_workout_duration_minutes": 15},
            lambda w: not w["jumping"] and "shoulder" not in w["stress_areas"] and w["duration_minutes"] <= 15,
        ),
    ],
    ids=["no-jumping", "no-high-impact", "no-floor", "knee-injury", "max-12-min", "beginner", "combined"],
)
async def test_recommendations_respect_the_persons_restrictions(
    app: FastAPI, client: httpx.AsyncClient, restriction: dict[str, Any], allowed: Any
) -> None:
    user = await anonymous_user(app)
    await restrict(client, user, **restriction)
    rows = await recommendations(client, user)
    assert rows
    assert all(allowed(r["workout"]) for r in rows), workout_names(rows)
    permitted = {w["name"] for w in await all_workouts(client) if allowed(w)}
    if len(permitted) <= 10:
        assert set(workout_names(rows)) == permitted
    else:
        assert len(rows) == 10


async def test_default_restrictions_offer_only_beginner_workouts(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    rows = await recommendations(client, user)
    assert {r["workout"]["difficulty"] for r in rows} == {"beginner"}


async def test_preferred_workout_types_rank_first(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await restrict(client, user)
    ok(await client.patch(PREFERENCES, headers=user.headers, json={"preferred_workout_types": ["recovery"]}))
    rows = await recommendations(client, user)
    recovery = {w["name"] for w in await all_workouts(client, workout_type="recovery")}
    assert set(workout_names(rows)[: len(recovery)]) == recovery
    assert all("prefer" in r["reason"].lower() for r in rows[: len(recovery)])


async def test_preferred_workout_types_match_whatever_their_case(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await restrict(client, user)
    ok(await client.patch(PREFERENCES, headers=user.headers, json={"preferred_workout_types": ["Strength"]}))
    rows = await recommendations(client, user, limit=3)
    assert {r["workout"]["workout_type"] for r in rows} == {"strength"}


async def test_a_type_trained_yesterday_in_local_time_ranks_lower(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    auckland, utc_person = await anonymous_user(app), await anonymous_user(app)
    for user in (auckland, utc_person):
        await restrict(client, user)
    await set_timezone(client, auckland, "Pacific/Auckland")
    # Both finish a HIIT workout at 07:10 UTC on the 10th (20:10 on the 10th in Auckland) and ask at
    # 23:00 UTC (12:00 on the 11th in Auckland): yesterday for one, earlier today for the other.
    for user in (auckland, utc_person):
        clock.set(utc(3, 10, 7))
        await do_workout(app, client, clock, user, "Quick HIIT Blast")
    clock.set(utc(3, 10, 23))
    for user in (auckland, utc_person):
        await fresh_token(app, user)
    kiwi = {r["workout"]["name"]: r for r in await recommendations(client, auckland)}
    control = {r["workout"]["name"]: r for r in await recommendations(client, utc_person)}
    assert kiwi.get("Tabata Torch", {"score": 0})["score"] < control["Tabata Torch"]["score"]
    kiwi_rows = await recommendations(client, auckland)
    hiit_positions = [i for i, r in enumerate(kiwi_rows) if r["workout"]["workout_type"] == "hiit"]
    others = [i for i, r in enumerate(kiwi_rows) if r["workout"]["workout_type"] != "hiit"]
    assert not hiit_positions or min(hiit_positions) > max(others)
    assert all("yesterday" in kiwi_rows[i]["reason"] for i in hiit_positions)


@pytest.mark.parametrize("limit", [0, 11, -1, "many"])
async def test_recommendation_limit_outside_one_to_ten_returns_422(
    app: FastAPI, client: httpx.AsyncClient, limit: Any
) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.get(RECOMMENDATIONS, headers=user.headers, params={"limit": limit}), 422)


async def test_recommendation_limit_bounds_the_list(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await restrict(client, user)
    assert len(await recommendations(client, user, limit=1)) == 1
    assert len(await recommendations(client, user, limit=10)) == 10


async def _trained_yesterday_in_auckland(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, workout: str
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """An Auckland person and a UTC person (the control) both do `workout` finishing at 07:xx UTC on the
    10th, then ask at 23:00 UTC: 12:00 on the 11th in Auckland (yesterday), the same day in UTC. Only
    workouts of at most 12 minutes are allowed, so every candidate is listed."""
    auckland, utc_person = await anonymous_user(app), await anonymous_user(app)
    for user in (auckland, utc_person):
        await restrict(client, user, max_workout_duration_minutes=12)
    await set_timezone(client, auckland, "Pacific/Auckland")
    for user in (auckland, utc_person):
        clock.set(utc(3, 10, 7))
        await do_workout(app, client, clock, user, workout)
    clock.set(utc(3, 10, 23))
    for user in (auckland, utc_person):
        await fresh_token(app, user)
    kiwi = {r["workout"]["name"]: r for r in await recommendations(client, auckland)}
    control = {r["workout"]["name"]: r for r in await recommendations(client, utc_person)}
    assert set(kiwi) == set(control)
    return kiwi, control


async def test_a_body_focus_trained_yesterday_ranks_lower_whatever_the_workout_type(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # Lower Body Burner is a lower-body strength workout; the two below are lower-body HIIT and cardio.
    kiwi, control = await _trained_yesterday_in_auckland(app, client, clock, "Lower Body Burner")
    for name in ("Lower Body HIIT - Quick Burn", "Cardio Kickstart"):
        assert kiwi[name]["workout"]["body_focus"] == "lower_body"
        assert kiwi[name]["workout"]["workout_type"] != "strength"
        assert "yesterday" not in control[name]["reason"]
        assert kiwi[name]["score"] == round(control[name]["score"] - 0.3, 2)
        assert kiwi[name]["reason"].endswith("(ranked lower: you trained your lower body yesterday)")
    # Another focus is not held back, and neither is a restorative workout for the same legs.
    for name in ("Upper Body HIIT - Quick Burn", "Quick HIIT Blast", "Post-Workout Cooldown"):
        assert kiwi[name]["score"] == control[name]["score"]
        assert "yesterday" not in kiwi[name]["reason"]
    assert kiwi["Post-Workout Cooldown"]["workout"]["body_focus"] == "lower_body"
    ranked = list(kiwi)
    assert ranked.index("Upper Body HIIT - Quick Burn") < ranked.index("Lower Body HIIT - Quick Burn")


async def test_a_full_body_day_holds_back_full_body_workouts_only(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # Bodyweight Basics: full-body strength. Quick HIIT Blast: full-body HIIT (type not trained yesterday).
    kiwi, control = await _trained_yesterday_in_auckland(app, client, clock, "Bodyweight Basics")
    assert kiwi["Quick HIIT Blast"]["workout"]["body_focus"] == "full_body"
    assert kiwi["Quick HIIT Blast"]["score"] == round(control["Quick HIIT Blast"]["score"] - 0.3, 2)
    assert "you trained your full body yesterday" in kiwi["Quick HIIT Blast"]["reason"]
    for name in ("Upper Body HIIT - Quick Burn", "Lower Body HIIT - Quick Burn", "Morning Stretch"):
        assert kiwi[name]["score"] == control[name]["score"]
        assert "yesterday" not in kiwi[name]["reason"]


async def test_a_workout_repeating_yesterdays_type_and_focus_says_both(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    kiwi, control = await _trained_yesterday_in_auckland(app, client, clock, "Lower Body HIIT - Quick Burn")
    assert kiwi["Lower Body HIIT - Quick Burn"]["reason"].endswith(
        "(ranked lower: you trained hiit and your lower body yesterday; you did it yesterday)"
    )
    assert kiwi["Upper Body HIIT - Quick Burn"]["reason"].endswith("(ranked lower: you trained hiit yesterday)")
    assert kiwi["Cardio Kickstart"]["reason"].endswith("(ranked lower: you trained your lower body yesterday)")
    for name in ("Lower Body HIIT - Quick Burn", "Upper Body HIIT - Quick Burn", "Cardio Kickstart"):
        assert kiwi[name]["score"] == round(control[name]["score"] - 0.3, 2)


async def test_a_restorative_workout_yesterday_holds_nothing_back(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # Post-Workout Cooldown is a lower-body recovery session: the legs were not trained.
    kiwi, control = await _trained_yesterday_in_auckland(app, client, clock, "Post-Workout Cooldown")
    # The session itself ranks lower for both (done yesterday / earlier today); nothing else does.
    done = "Post-Workout Cooldown"
    assert kiwi[done]["reason"].endswith("(ranked lower: you did it yesterday)")
    assert control[done]["reason"].endswith("(ranked lower: you did it today)")
    assert kiwi[done]["score"] == control[done]["score"]
    assert {k: v for k, v in kiwi.items() if k != done} == {k: v for k, v in control.items() if k != done}
    assert list(kiwi) == list(control)
    assert not any("yesterday" in r["reason"] for name, r in kiwi.items() if name != done)
    assert kiwi["Lower Body HIIT - Quick Burn"]["workout"]["body_focus"] == "lower_body"


# Recommendations adapt --------------------------------------------------------------------------


async def test_completing_intermediate_workouts_unlocks_them_in_recommendations(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await restrict(client, user, fitness_level="beginner")
    before = await recommendations(client, user)
    assert {r["workout"]["difficulty"] for r in before} == {"beginner"}
    intermediate = next(w for w in await all_workouts(client) if w["difficulty"] == "intermediate")
    await do_workout(app, client, clock, user, intermediate["name"])
    after = await recommendations(client, user)
    unlocked = [r for r in after if r["workout"]["difficulty"] == "intermediate"]
    assert unlocked
    assert all("unlocked by the intermediate workouts you completed" in r["reason"] for r in unlocked)


async def test_at_most_two_featured_picks(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await restrict(client, user)
    assert sum(1 for w in await all_workouts(client) if w["is_featured"]) > 2  # the catalogue has more
    rows = await recommendations(client, user)
    assert sum(1 for r in rows if r["reason"].startswith("Featured")) == 2


def _recommend(catalogue: list[Workout], **kwargs: Any) -> dict[str, Recommendation]:
    restrictions = WorkoutRestrictions(identity_id=uuid.uuid4(), **OPEN)
    options: dict[str, Any] = {"preferred_types": [], "completed": [], "yesterday": set(), "limit": 100}
    rows = recommend(catalogue, restrictions=restrictions, **{**options, **kwargs})
    return {r.workout.name: r for r in rows}


async def test_popular_with_other_users_only_when_others_completed_it(client: httpx.AsyncClient) -> None:
    catalogue = [Workout.model_validate(w) for w in await all_workouts(client)]
    hiit = [w for w in catalogue if w.workout_type == "hiit" and not w.is_featured][:2]
    mine, theirs = hiit[0], hiit[1]
    # The person did one twice (its counter says 2: both theirs) and the other once (its counter
    # says 3: two by other people).
    catalogue = [
        w.model_copy(update={"times_completed": 2 if w.id == mine.id else 3 if w.id == theirs.id else 0})
        for w in catalogue
    ]
    rows = _recommend(catalogue, completed=[mine.id, theirs.id, mine.id])
    assert rows[mine.name].reason == "Fits your level: advanced"
    assert rows[theirs.name].reason == "Popular with other users"
    assert all(r.reason != "Popular with other users" for name, r in rows.items() if name != theirs.name)


async def test_a_workout_done_in_the_last_days_ranks_lower(client: httpx.AsyncClient) -> None:
    catalogue = [Workout.model_validate(w) for w in await all_workouts(client)]
    fresh = _recommend(catalogue)
    first = max(fresh.values(), key=lambda r: r.score).workout
    rows = _recommend(catalogue, completed=[first.id], days_since={first.id: 2})
    assert rows[first.name].reason.endswith("(ranked lower: you did it 2 days ago)")
    assert rows[first.name].score < fresh[first.name].score
    later = _recommend(catalogue, completed=[first.id], days_since={first.id: 4})
    assert "ranked lower" not in later[first.name].reason
