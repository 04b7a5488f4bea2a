"""Push tokens: registered, listed, removed by URL-encoded token; never silently taken from
another account; deactivated when the session that registered them signs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import quote

from fastapi import FastAPI
from httpx import AsyncClient

from src.core.clock import FrozenClock
from tests.conftest import client_for
from tests.factories import User, anonymous_user, fresh_ip
from tests.notification.helpers import API, DEVICES, assert_problem, ok, register_device

TOKEN = "ExponentPushToken[shared-phone/abc+def]"


async def sign_in(app: FastAPI, device_id: str) -> User:
    async with client_for(app, fresh_ip()) as c:
        body = ok(await c.post(f"{API}/identity/authenticate", json={"provider": "anonymous", "token": device_id}))
    return User(body["identity"]["id"], body["access_token"], body["refresh_token"], device_id=device_id)


async def test_register_list_and_delete_with_a_url_encoded_token(app: FastAPI, client: AsyncClient) -> None:
    user = await anonymous_user(app)
    device = await register_device(client, user, TOKEN)
    assert device["is_active"] is True
    again = await register_device(client, user, TOKEN, platform="android")  # the app registers at every launch
    assert again["id"] == device["id"]
    assert [d["platform"] for d in ok(await client.get(DEVICES, headers=user.headers))] == ["android"]

    response = await client.delete(f"{DEVICES}/{quote(TOKEN, safe='')}", headers=user.headers)
    assert response.status_code == 204
    assert ok(await client.get(DEVICES, headers=user.headers)) == []
    assert_problem(
        await client.delete(f"{DEVICES}/{quote(TOKEN, safe='')}", headers=user.headers), 404, "DEVICE_TOKEN_NOT_FOUND"
    )


async def test_someone_elses_token_is_not_taken_silently(app: FastAPI, client: AsyncClient) -> None:
    owner = await anonymous_user(app)
    thief = await anonymous_user(app)
    await register_device(client, owner, TOKEN)
    assert_problem(
        await client.post(DEVICES, headers=thief.headers, json={"token": TOKEN, "platform": "ios"}),
        409,
        "DEVICE_TOKEN_IN_USE",
    )
    assert_problem(
        await client.delete(f"{DEVICES}/{quote(TOKEN, safe='')}", headers=thief.headers), 404, "DEVICE_TOKEN_NOT_FOUND"
    )
    assert [d["token"] for d in ok(await client.get(DEVICES, headers=owner.headers))] == [TOKEN]


async def test_logout_deactivates_the_sessions_token_which_may_then_move(app: FastAPI, client: AsyncClient) -> None:
    owner = await anonymous_user(app)
    await register_device(client, owner, TOKEN)
    ok(await client.post(f"{API}/identity/logout", headers=owner.headers))
    newcomer = await anonymous_user(app)
    moved = await register_device(client, newcomer, TOKEN)
    assert moved["identity_id"] == newcomer.id
    owner_again = await sign_in(app, owner.device_id or "")
    assert ok(await client.get(DEVICES, headers=owner_again.headers)) == []


async def test_same_device_id_with_a_fresh_sign_in_proves_the_token(
    app: FastAPI, client: AsyncClient, clock: FrozenClock
) -> None:
    device_id = "install-0123456789abcdef"
    first = await anonymous_user(app)
    await register_device(client, first, TOKEN, device_id=device_id)
    # Another account on the same phone, signed in just now, with the phone's device id.
    second = await anonymous_user(app)
    moved = await register_device(client, second, TOKEN, device_id=device_id)
    assert moved["identity_id"] == second.id
    assert ok(await client.get(DEVICES, headers=first.headers)) == []


async def test_a_stale_sign_in_or_another_device_id_is_no_proof(
    app: FastAPI, client: AsyncClient, clock: FrozenClock
) -> None:
    device_id = "install-0123456789abcdef"
    first = await anonymous_user(app)
    await register_device(client, first, TOKEN, device_id=device_id)
    second = await anonymous_user(app)
    assert_problem(
        await client.post(
            DEVICES, headers=second.headers, json={"token": TOKEN, "platform": "ios", "device_id": "x" * 20}
        ),
        409,
        "DEVICE_TOKEN_IN_USE",
    )
    clock.advance(timedelta(minutes=20))
    assert_problem(
        await client.post(
            DEVICES, headers=second.headers, json={"token": TOKEN, "platform": "ios", "device_id": device_id}
        ),
        409,
        "DEVICE_TOKEN_IN_USE",
    )


async def test_bad_registrations_are_422(app: FastAPI, client: AsyncClient) -> None:
    user = await anonymous_user(app)
    for body in (
        {"token": TOKEN, "platform": "windows"},
        {"token": "short", "platform": "ios"},
        {"token": "Exponent Push Token", "platform": "ios"},
        {"platform": "ios"},
    ):
        assert_problem(await client.post(DEVICES, headers=user.headers, json=body), 422)


async def test_logout_on_one_phone_keeps_pushing_to_the_other(app: FastAPI, client: AsyncClient) -> None:
    phone = await anonymous_user(app)
    tablet = await sign_in(app, phone.device_id or "")  # a second session of the same person
    await register_device(client, phone, "ExponentPushToken[phone]")
    await register_device(client, tablet, "ExponentPushToken[tablet]", platform="android")
    ok(await client.post(f"{API}/identity/logout", headers=phone.headers))
    assert [d["token"] for d in ok(await client.get(DEVICES, headers=tablet.headers))] == ["ExponentPushToken[tablet]"]


async def test_two_accounts_registering_one_token_at_once_leave_one_owner(app: FastAPI) -> None:
    first, second = await anonymous_user(app), await anonymous_user(app)

    async def register(user: User) -> int:
        async with client_for(app, fresh_ip()) as c:
            response = await c.post(DEVICES, headers=user.headers, json={"token": TOKEN, "platform": "ios"})
            return response.status_code

    statuses = sorted(await asyncio.gather(register(first), register(second), register(first)))
    assert statuses in ([201, 201, 409], [201, 409, 409])
    async with client_for(app) as c:
        owners = [len(ok(await c.get(DEVICES, headers=u.headers))) for u in (first, second)]
    assert sorted(owners) == [0, 1]
