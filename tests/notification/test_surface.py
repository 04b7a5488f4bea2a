"""The app's notification endpoints: list and paging, unread count, marking read (owner only),
read-all (delivered only), preferences (GET saves nothing, PATCH can clear with null), stats, and
the account export and erasure."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from src.core.clock import FrozenClock
from tests.factories import User, admin_user, anonymous_user, email_user
from tests.notification.fake_expo import FakeExpo
from tests.notification.helpers import (
    API,
    DEVICES,
    NOTIFICATIONS,
    PREFERENCES,
    assert_problem,
    deliver,
    notifications,
    ok,
    register_device,
    set_preferences,
)


async def send(client: AsyncClient, admin: User, user: User, title: str, **extra: Any) -> None:
    body = {"identity_id": user.id, "category": "system", "title": title, "body": "Body", **extra}
    ok(await client.post(f"{NOTIFICATIONS}/send", headers=admin.headers, json=body), 202)


async def test_list_is_newest_first_with_paging_and_unread_filter(
    app: FastAPI, client: AsyncClient, clock: FrozenClock
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    for i in range(3):
        await send(client, admin, user, f"n{i}")
        await deliver(app)
        clock.advance(seconds=1)
    assert [n["title"] for n in await notifications(client, user)] == ["n2", "n1", "n0"]
    assert [n["title"] for n in await notifications(client, user, limit=1, offset=1)] == ["n1"]
    first = (await notifications(client, user))[-1]
    read = ok(await client.post(f"{NOTIFICATIONS}/{first['id']}/read", headers=user.headers))
    assert read["status"] == "read"
    assert read["read_at"].endswith(("Z", "+00:00"))
    assert [n["title"] for n in await notifications(client, user, unread_only="true")] == ["n2", "n1"]
    assert ok(await client.get(f"{NOTIFICATIONS}/unread-count", headers=user.headers)) == 2
    assert_problem(await client.get(NOTIFICATIONS, headers=user.headers, params={"limit": 101}), 422)


async def test_marking_someone_elses_notification_read_is_404(app: FastAPI, client: AsyncClient) -> None:
    admin = await admin_user(app)
    owner = await anonymous_user(app)
    intruder = await anonymous_user(app)
    await send(client, admin, owner, "private")
    await deliver(app)
    notification = (await notifications(client, owner))[0]
    assert_problem(
        await client.post(f"{NOTIFICATIONS}/{notification['id']}/read", headers=intruder.headers),
        404,
        "NOTIFICATION_NOT_FOUND",
    )
    assert_problem(await client.post(f"{NOTIFICATIONS}/{notification['id']}/read"), 401)
    assert (await notifications(client, owner))[0]["read_at"] is None


async def test_read_all_marks_only_delivered_notifications(
    app: FastAPI, client: AsyncClient, clock: FrozenClock
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await send(client, admin, user, "delivered")
    await deliver(app)
    # Quiet hours around now: the next one is held, not delivered.
    await set_preferences(client, user, quiet_hours_enabled=True, quiet_hours_start="00:00", quiet_hours_end="23:59")
    await send(client, admin, user, "held")
    await deliver(app)
    assert ok(await client.post(f"{NOTIFICATIONS}/read-all", headers=user.headers)) == {"marked_read": 1}
    stats = ok(await client.get(f"{NOTIFICATIONS}/stats", headers=user.headers))
    assert stats == {"total_sent": 1, "total_read": 1, "read_rate": 100.0, "by_category": {"system": 1}}


async def test_stats_count_only_delivered_notifications(app: FastAPI, client: AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await set_preferences(client, user, motivational_notifications=False)
    await send(client, admin, user, "a")
    await send(client, admin, user, "b")
    await send(client, admin, user, "switched off", category="motivational")
    await deliver(app)
    first = (await notifications(client, user))[0]
    ok(await client.post(f"{NOTIFICATIONS}/{first['id']}/read", headers=user.headers))
    stats = ok(await client.get(f"{NOTIFICATIONS}/stats", headers=user.headers))
    assert stats == {"total_sent": 2, "total_read": 1, "read_rate": 50.0, "by_category": {"system": 2}}


async def test_get_preferences_answers_defaults_and_saves_nothing(app: FastAPI, client: AsyncClient) -> None:
    user = await anonymous_user(app)
    prefs = ok(await client.get(PREFERENCES, headers=user.headers))
    assert prefs["push_enabled"] is True
    assert prefs["quiet_hours_enabled"] is False
    export = ok(await client.get(f"{API}/profile/export", headers=user.headers))
    assert export["modules"]["notification"]["preferences"] is None


async def test_patch_preferences_clears_quiet_hours_and_motivation_time_with_null(
    app: FastAPI, client: AsyncClient
) -> None:
    user = await anonymous_user(app)
    prefs = await set_preferences(
        client,
        user,
        quiet_hours_enabled=True,
        quiet_hours_start="22:00",
        quiet_hours_end="07:00",
        daily_motivation_time="08:30",
    )
    assert (prefs["quiet_hours_start"], prefs["quiet_hours_end"]) == ("22:00:00", "07:00:00")
    prefs = await set_preferences(
        client,
        user,
        quiet_hours_enabled=False,
        quiet_hours_start=None,
        quiet_hours_end=None,
        daily_motivation_time=None,
    )
    assert prefs["quiet_hours_start"] is None
    assert prefs["daily_motivation_time"] is None
    assert prefs["push_enabled"] is True  # untouched


async def test_bad_preferences_are_422(app: FastAPI, client: AsyncClient) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.patch(PREFERENCES, headers=user.headers, json={"push_enabled": None}), 422)
    assert_problem(
        await client.patch(PREFERENCES, headers=user.headers, json={"quiet_hours_enabled": True}),
        422,
        "INVALID_QUIET_HOURS",
    )
    assert_problem(await client.patch(PREFERENCES, headers=user.headers, json={"quiet_hours_start": "25:00"}), 422)


async def test_email_address_must_be_the_sign_in_address(app: FastAPI, client: AsyncClient) -> None:
    user = await email_user(app)
    assert_problem(
        await client.patch(PREFERENCES, headers=user.headers, json={"email_address": "someone@else.example"}),
        422,
        "NOTIFICATION_EMAIL_NOT_VERIFIED",
    )
    prefs = await set_preferences(client, user, email_address=user.email)
    assert prefs["email_address"] == user.email


async def test_export_holds_notifications_devices_and_preferences_and_erase_removes_them(
    app: FastAPI, client: AsyncClient, expo: FakeExpo
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    other = await anonymous_user(app)
    await register_device(client, user, "ExponentPushToken[gdpr]")
    await register_device(client, other, "ExponentPushToken[other]")
    await set_preferences(client, user, quiet_hours_start="21:00", quiet_hours_end="06:00")
    await send(client, admin, user, "hello")
    await send(client, admin, other, "hello other")
    await deliver(app)

    export = ok(await client.get(f"{API}/profile/export", headers=user.headers))["modules"]["notification"]
    assert [n["title"] for n in export["notifications"]] == ["hello"]
    assert [d["token"] for d in export["device_tokens"]] == ["ExponentPushToken[gdpr]"]
    assert [d["channel"] for d in export["deliveries"]] == ["push"]
    assert export["preferences"]["quiet_hours_start"] == "21:00:00"

    ok(await client.delete(f"{API}/profile/all-data", headers=user.headers, params={"confirm": "true"}))
    # The token is free for the next person on that phone; the other person keeps everything.
    newcomer = await anonymous_user(app)
    await register_device(client, newcomer, "ExponentPushToken[gdpr]")
    assert [n["title"] for n in await notifications(client, other)] == ["hello other"]
    assert [d["token"] for d in ok(await client.get(DEVICES, headers=other.headers))] == ["ExponentPushToken[other]"]
