"""Workout ratings: 1 to 5, one per person (rating again replaces it), the average and count on
the workout always true, also under concurrent ratings."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.content.helpers import WORKOUTS, assert_problem, count_rows, ok, workout_named
from tests.factories import User, anonymous_user


def rating_url(workout_id: str) -> str:
    return f"{WORKOUTS}/{workout_id}/rating"


async def rate(client: httpx.AsyncClient, user: User, workout_id: str, rating: int) -> dict[str, object]:
    body: dict[str, object] = ok(
        await client.post(rating_url(workout_id), headers=user.headers, json={"rating": rating})
    )
    return body


async def test_rating_needs_a_signed_in_caller(app: FastAPI, client: httpx.AsyncClient) -> None:
    quick = await workout_named(client, "Quick HIIT Blast")
    assert_problem(await client.post(rating_url(quick["id"]), json={"rating": 5}), 401)
    assert (await workout_named(client, "Quick HIIT Blast"))["rating_count"] == 0


@pytest.mark.parametrize("rating", [0, 6, -1, 10**12, 4.5, "five", None])
async def test_rating_outside_one_to_five_returns_422(app: FastAPI, client: httpx.AsyncClient, rating: object) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    assert_problem(await client.post(rating_url(quick["id"]), headers=user.headers, json={"rating": rating}), 422)
    assert (await workout_named(client, "Quick HIIT Blast"))["rating_count"] == 0


async def test_rating_an_unknown_workout_returns_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(rating_url(str(uuid.uuid4())), headers=user.headers, json={"rating": 3})
    assert_problem(response, 404, "WORKOUT_NOT_FOUND")


async def test_first_rating_sets_the_average_and_count(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    assert quick["average_rating"] is None
    body = await rate(client, user, quick["id"], 4)
    assert body == {"workout_id": quick["id"], "rating": 4, "average_rating": 4.0, "rating_count": 1}
    shown = await workout_named(client, "Quick HIIT Blast")
    assert (shown["average_rating"], shown["rating_count"]) == (4.0, 1)


async def test_rating_again_replaces_the_persons_rating(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    await rate(client, user, quick["id"], 2)
    body = await rate(client, user, quick["id"], 5)
    assert (body["average_rating"], body["rating_count"]) == (5.0, 1)
    assert await count_rows(app, "workout_ratings", user.id) == 1
    detail = ok(await client.get(f"{WORKOUTS}/{quick['id']}"))
    assert (detail["average_rating"], detail["rating_count"]) == (5.0, 1)


async def test_two_peoples_ratings_are_averaged(app: FastAPI, client: httpx.AsyncClient) -> None:
    first, second = await anonymous_user(app), await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    await rate(client, first, quick["id"], 5)
    body = await rate(client, second, quick["id"], 2)
    assert (body["average_rating"], body["rating_count"]) == (3.5, 2)
    await rate(client, first, quick["id"], 3)
    shown = await workout_named(client, "Quick HIIT Blast")
    assert (shown["average_rating"], shown["rating_count"]) == (2.5, 2)


async def test_ratings_of_one_workout_leave_others_untouched(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    await rate(client, user, quick["id"], 5)
    other = await workout_named(client, "Yoga Flow")
    assert (other["average_rating"], other["rating_count"]) == (None, 0)


async def test_concurrent_ratings_by_five_people_are_all_counted(app: FastAPI, client: httpx.AsyncClient) -> None:
    users = [await anonymous_user(app) for _ in range(5)]
    quick = await workout_named(client, "Quick HIIT Blast")
    responses = await asyncio.gather(
        *(
            client.post(rating_url(quick["id"]), headers=user.headers, json={"rating": stars})
            for user, stars in zip(users, [1, 2, 4, 5, 5], strict=True)
        )
    )
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    shown = await workout_named(client, "Quick HIIT Blast")
    assert (shown["average_rating"], shown["rating_count"]) == (3.4, 5)


async def test_concurrent_re_ratings_by_one_person_keep_one_rating(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    responses = await asyncio.gather(
        *(client.post(rating_url(quick["id"]), headers=user.headers, json={"rating": 3}) for _ in range(5))
    )
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    shown = await workout_named(client, "Quick HIIT Blast")
    assert (shown["average_rating"], shown["rating_count"]) == (3.0, 1)
    assert await count_rows(app, "workout_ratings", user.id) == 1
