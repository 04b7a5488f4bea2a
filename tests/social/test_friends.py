"""Friend requests, friendships and blocks, with the counters on the social profile."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI

from tests.conftest import client_for
from tests.social.helpers import (
    FRIEND_REQUEST,
    FRIENDS,
    INCOMING,
    OUTGOING,
    SOCIAL,
    assert_problem,
    befriend,
    counters,
    ok,
    person,
)


async def test_request_by_code_then_accept_makes_friends_and_counts_them(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice, _ = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")

    sent = ok(
        await client.post(
            FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"].lower()}, headers=alice.headers
        ),
        201,
    )
    assert sent["status"] == "pending"
    assert sent["friend_id"] == bob.id
    assert [r["id"] for r in ok(await client.get(INCOMING, headers=bob.headers))] == [sent["id"]]
    assert [r["id"] for r in ok(await client.get(OUTGOING, headers=alice.headers))] == [sent["id"]]
    assert ok(await client.get(INCOMING, headers=alice.headers)) == []

    accepted = ok(
        await client.post(f"{FRIENDS}/requests/{sent['id']}/respond", json={"accept": True}, headers=bob.headers)
    )
    assert accepted["status"] == "accepted"
    assert [f["friend_id"] for f in ok(await client.get(FRIENDS, headers=alice.headers))] == [bob.id]
    assert await counters(client, alice) == (1, 0, 0)
    assert await counters(client, bob) == (1, 0, 0)


async def test_request_by_username_is_case_insensitive(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    bob, _ = await person(app, client, "BobSmith")
    sent = ok(await client.post(FRIEND_REQUEST, json={"username": "bobsmith"}, headers=alice.headers), 201)
    assert sent["friend_id"] == bob.id


async def test_bad_requests_answer_problems(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, alice_social = await person(app, client, "alice")
    assert_problem(await client.post(FRIEND_REQUEST, json={}, headers=alice.headers), 422, "FRIEND_TARGET_MISSING")
    assert_problem(
        await client.post(FRIEND_REQUEST, json={"username": "nobody_here"}, headers=alice.headers),
        404,
        "SOCIAL_USER_NOT_FOUND",
    )
    assert_problem(
        await client.post(FRIEND_REQUEST, json={"friend_code": alice_social["friend_code"]}, headers=alice.headers),
        422,
        "CANNOT_BEFRIEND_SELF",
    )


async def test_a_crossing_request_accepts_the_first_one(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, alice_social = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")
    ok(await client.post(FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"]}, headers=alice.headers), 201)
    crossing = ok(
        await client.post(FRIEND_REQUEST, json={"friend_code": alice_social["friend_code"]}, headers=bob.headers), 201
    )
    assert crossing["status"] == "accepted"
    assert await counters(client, alice) == (1, 0, 0)
    assert await counters(client, bob) == (1, 0, 0)
    assert_problem(
        await client.post(FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"]}, headers=alice.headers),
        409,
        "ALREADY_FRIENDS",
    )


async def test_only_the_person_asked_can_answer(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")
    carol, _ = await person(app, client, "carol")
    sent = ok(
        await client.post(FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"]}, headers=alice.headers), 201
    )
    respond = f"{FRIENDS}/requests/{sent['id']}/respond"
    assert_problem(
        await client.post(respond, json={"accept": True}, headers=alice.headers), 403, "NOT_REQUEST_ADDRESSEE"
    )
    assert_problem(await client.post(respond, json={"accept": True}, headers=carol.headers), 404)
    assert ok(await client.post(respond, json={"accept": False}, headers=bob.headers)) is None
    assert ok(await client.get(OUTGOING, headers=alice.headers)) == []
    assert await counters(client, bob) == (0, 0, 0)


async def test_removing_a_friend_updates_both_counters(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")
    await befriend(client, alice, bob, bob_social["friend_code"])
    assert (await client.delete(f"{FRIENDS}/{bob.id}", headers=alice.headers)).status_code == 204
    assert await counters(client, alice) == (0, 0, 0)
    assert await counters(client, bob) == (0, 0, 0)
    assert_problem(await client.delete(f"{FRIENDS}/{bob.id}", headers=alice.headers), 404, "FRIEND_NOT_FOUND")


async def test_block_ends_friendship_and_follows_and_only_the_blocker_can_unblock(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice, _ = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")
    await befriend(client, alice, bob, bob_social["friend_code"])
    ok(await client.post(f"{SOCIAL}/follow/{bob.id}", headers=alice.headers), 201)
    ok(await client.post(f"{SOCIAL}/follow/{alice.id}", headers=bob.headers), 201)
    assert await counters(client, alice) == (1, 1, 1)

    assert (await client.post(f"{FRIENDS}/{bob.id}/block", headers=alice.headers)).status_code == 204
    assert await counters(client, alice) == (0, 0, 0)
    assert await counters(client, bob) == (0, 0, 0)
    assert_problem(
        await client.post(FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"]}, headers=alice.headers),
        409,
        "PERSON_BLOCKED",
    )
    assert_problem(await client.post(f"{SOCIAL}/follow/{bob.id}", headers=alice.headers), 409, "PERSON_BLOCKED")
    # The blocked side learns nothing: the blocker is not found.
    assert_problem(await client.post(f"{SOCIAL}/follow/{alice.id}", headers=bob.headers), 404)
    # Bob blocks back: Alice's block stays hers.
    assert (await client.post(f"{FRIENDS}/{alice.id}/block", headers=bob.headers)).status_code == 204
    blocked = ok(await client.get(FRIENDS, params={"status": "blocked"}, headers=alice.headers))
    assert [b["friend_id"] for b in blocked] == [bob.id]
    # Each sees only their own blocks, never who blocked them.
    assert [
        b["friend_id"] for b in ok(await client.get(FRIENDS, params={"status": "blocked"}, headers=bob.headers))
    ] == [alice.id]

    assert (await client.delete(f"{FRIENDS}/{bob.id}/block", headers=alice.headers)).status_code == 204
    assert ok(await client.get(FRIENDS, params={"status": "blocked"}, headers=alice.headers)) == []
    # Bob's block still holds: Alice cannot reach him, he can lift his own.
    assert_problem(
        await client.post(FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"]}, headers=alice.headers), 404
    )
    assert_problem(await client.delete(f"{FRIENDS}/{bob.id}/block", headers=alice.headers), 404, "BLOCK_NOT_FOUND")
    assert (await client.delete(f"{FRIENDS}/{alice.id}/block", headers=bob.headers)).status_code == 204
    await befriend(client, alice, bob, bob_social["friend_code"])
    assert await counters(client, alice) == (1, 0, 0)


async def test_block_of_an_unknown_id_is_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    assert_problem(await client.post(f"{FRIENDS}/{uuid.uuid4()}/block", headers=alice.headers), 404)


async def test_concurrent_double_requests_leave_one_request_and_right_counters(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice, alice_social = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")

    async def send(user_headers: dict[str, str], code: str) -> httpx.Response:
        async with client_for(app) as c:
            return await c.post(FRIEND_REQUEST, json={"friend_code": code}, headers=user_headers)

    responses = await asyncio.gather(
        send(alice.headers, bob_social["friend_code"]),
        send(alice.headers, bob_social["friend_code"]),
        send(bob.headers, alice_social["friend_code"]),
        send(bob.headers, alice_social["friend_code"]),
    )
    statuses = sorted(r.status_code for r in responses)
    assert 500 not in statuses, [r.text for r in responses]
    assert statuses.count(201) >= 2  # one request and one crossing acceptance at least
    assert [f["friend_id"] for f in ok(await client.get(FRIENDS, headers=alice.headers))] == [bob.id]
    assert await counters(client, alice) == (1, 0, 0)
    assert await counters(client, bob) == (1, 0, 0)


async def test_concurrent_follows_of_one_person_are_all_counted(app: FastAPI, client: httpx.AsyncClient) -> None:
    star, _ = await person(app, client, "star")
    fans = [(await person(app, client, f"fan{i}"))[0] for i in range(5)]

    async def follow(headers: dict[str, str]) -> httpx.Response:
        async with client_for(app) as c:
            return await c.post(f"{SOCIAL}/follow/{star.id}", headers=headers)

    responses = await asyncio.gather(*(follow(f.headers) for f in fans), follow(fans[0].headers))
    assert sorted(r.status_code for r in responses) == [201] * 5 + [409], [r.text for r in responses]
    assert await counters(client, star) == (0, 5, 0)
    assert len(ok(await client.get(f"{SOCIAL}/followers", headers=star.headers))) == 5


async def test_two_concurrent_accepts_make_one_friendship(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")
    sent = ok(
        await client.post(FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"]}, headers=alice.headers), 201
    )

    async def accept() -> httpx.Response:
        async with client_for(app) as c:
            return await c.post(f"{FRIENDS}/requests/{sent['id']}/respond", json={"accept": True}, headers=bob.headers)

    responses = await asyncio.gather(accept(), accept())
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert await counters(client, alice) == (1, 0, 0)
    accepted = ok(
        await client.get("/api/v1/events/count", params={"event_type": "friend_request_accepted"}, headers=bob.headers)
    )
    assert accepted["count"] == 1


async def test_guessing_friend_codes_is_rate_limited(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    statuses = [
        (await client.post(FRIEND_REQUEST, json={"friend_code": f"{n:08X}"}, headers=alice.headers)).status_code
        for n in range(21)
    ]
    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429
