"""Webhooks: signed (verified with the `standardwebhooks` package), sent through the outbox after
commit, logged, retried with back-off, disabled after 3 days of failures; unsafe targets refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from src.core.clock import FrozenClock
from src.core.outbox import OutboxMessage
from tests.factories import User, anonymous_user, fresh_token
from tests.http import assert_problem, ok
from tests.integrations.receiver import Receiver, running_receiver
from tests.support import count_rows, iso

API = "/api/v1"
WEBHOOKS = f"{API}/integrations/webhooks"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_enabled": False, "webhook_allow_private_targets": True, "webhook_timeout_seconds": 1.0}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def real_time(clock: FrozenClock) -> None:
    # Receivers check `webhook-timestamp` against their own clock.
    clock.set(datetime.now(UTC).replace(microsecond=0))


async def register(client: httpx.AsyncClient, user: User, url: str, *types: str) -> dict[str, Any]:
    body = {"url": url, "event_types": list(types or ["fast.completed"])}
    return ok(await client.post(WEBHOOKS, headers=user.headers, json=body), 201)  # type: ignore[no-any-return]


async def complete_fast(client: httpx.AsyncClient, user: User, clock: FrozenClock, hours: float = 17) -> dict[str, Any]:
    start = clock.now() - timedelta(hours=hours)
    opened = ok(
        await client.post(
            f"{API}/time-keeper/windows",
            headers=user.headers,
            json={"window_type": "fast", "protocol": "16:8", "start_time": iso(start)},
        ),
        201,
    )
    return ok(await client.post(f"{API}/time-keeper/windows/{opened['id']}/close", headers=user.headers))  # type: ignore[no-any-return]


async def deliveries(client: httpx.AsyncClient, user: User, endpoint_id: str) -> list[dict[str, Any]]:
    return ok(await client.get(f"{WEBHOOKS}/{endpoint_id}/deliveries", headers=user.headers))  # type: ignore[no-any-return]


async def test_a_completed_fast_reaches_the_receiver_signed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url)
    assert endpoint["secret"].startswith("whsec_")
    listed = ok(await client.get(WEBHOOKS, headers=user.headers))
    assert "secret" not in listed[0]

    closed = await complete_fast(client, user, clock)
    assert receiver.requests == []  # nothing is sent inside the request
    await app.state.resources.outbox.drain()

    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    payload = Webhook(endpoint["secret"]).verify(received.body, received.headers)
    assert payload["type"] == "fast.completed"
    assert payload["data"]["window_id"] == closed["id"]
    assert payload["data"]["protocol"] == "16:8"
    log = await deliveries(client, user, endpoint["id"])
    assert [(d["status"], d["response_code"], d["attempts"]) for d in log] == [("succeeded", 200, 1)]
    assert log[0]["id"] == received.headers["webhook-id"]

    tampered = received.body.replace(b"16:8", b"18:6")
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(endpoint["secret"]).verify(tampered, received.headers)


async def test_only_subscribed_event_types_are_sent(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    await register(client, user, receiver.url, "workout.completed")
    await complete_fast(client, user, clock)
    await app.state.resources.outbox.drain()
    assert receiver.requests == []


async def test_failures_are_retried_with_back_off_and_logged(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url)
    receiver.status = 500
    await complete_fast(client, user, clock)
    await app.state.resources.outbox.drain()
    [first] = await deliveries(client, user, endpoint["id"])
    assert (first["status"], first["response_code"], first["attempts"]) == ("pending", 500, 1)
    assert datetime.fromisoformat(first["next_attempt_at"]) == clock.now() + timedelta(seconds=5)

    await app.state.resources.outbox.drain()  # not due yet
    assert len(receiver.requests) == 1
    clock.advance(timedelta(seconds=5))
    receiver.status = 204
    await app.state.resources.outbox.drain()
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    [done] = await deliveries(client, user, endpoint["id"])
    assert (done["status"], done["response_code"], done["attempts"]) == ("succeeded", 204, 2)


async def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owner_notified(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url)
    receiver.status = 503
    await complete_fast(client, user, clock)
    started = clock.now()
    for _ in range(20):
        await app.state.resources.outbox.drain()
        clock.advance(timedelta(hours=1))
        if clock.now() - started > timedelta(days=4):
            break
    await fresh_token(app, user)
    [state] = ok(await client.get(WEBHOOKS, headers=user.headers))
    assert state["disabled_at"] is None  # well within three days: still trying
    for _ in range(200):
        await app.state.resources.outbox.drain()
        clock.advance(timedelta(hours=1))
    await fresh_token(app, user)
    [state] = ok(await client.get(WEBHOOKS, headers=user.headers))
    assert state["disabled_at"] is not None
    assert datetime.fromisoformat(state["disabled_at"]) - datetime.fromisoformat(state["failing_since"]) >= timedelta(
        days=3
    )
    [log] = await deliveries(client, user, endpoint["id"])
    assert log["status"] == "failed"
    attempts = len(receiver.requests)
    assert 5 < attempts <= 10
    async with app.state.sessions.reader() as session:
        notes = (await session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "notification.send"))).all()
    mine = [n for n in notes if n.identity_id is not None and str(n.identity_id) == user.id]
    assert any(n.payload.get("data", {}).get("webhook_endpoint_id") == endpoint["id"] for n in mine if n.payload) or (
        mine and all(n.delivered_at is not None for n in mine)
    )

    # A disabled endpoint gets nothing more.
    await complete_fast(client, user, clock, hours=20)
    await app.state.resources.outbox.drain()
    assert len(receiver.requests) == attempts


async def test_redirects_are_not_followed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url)
    receiver.status = 307
    receiver.extra_headers = {"location": receiver.url + "/elsewhere"}
    await complete_fast(client, user, clock)
    await app.state.resources.outbox.drain()
    assert [r.path for r in receiver.requests] == ["/hook"]
    [log] = await deliveries(client, user, endpoint["id"])
    assert (log["status"], log["response_code"]) == ("pending", 307)


async def test_a_slow_or_huge_answer_is_cut_short(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url)
    receiver.delay = 3.0  # longer than the 1 s timeout of this test
    await complete_fast(client, user, clock)
    await app.state.resources.outbox.drain()
    [log] = await deliveries(client, user, endpoint["id"])
    assert (log["status"], log["response_code"], log["error"]) == ("pending", None, "timed out")

    receiver.delay, receiver.body = 0.0, b"x" * 5_000_000
    clock.advance(timedelta(seconds=5))
    await app.state.resources.outbox.drain()
    [log] = await deliveries(client, user, endpoint["id"])
    assert (log["status"], log["response_code"]) == ("succeeded", 200)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
    ],
)
async def test_private_loopback_and_odd_targets_are_refused(
    app: FastAPI, client: httpx.AsyncClient, url: str, settings_overrides: dict[str, object]
) -> None:
    app.state.resources.settings.webhook_allow_private_targets = False
    user = await anonymous_user(app)
    response = await client.post(WEBHOOKS, headers=user.headers, json={"url": url, "event_types": ["fast.completed"]})
    assert_problem(response, 422, "WEBHOOK_TARGET_REFUSED")


async def test_endpoints_are_private_and_erased_with_the_account(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    owner, other = await anonymous_user(app), await anonymous_user(app)
    endpoint = await register(client, owner, receiver.url)
    assert_problem(await client.get(f"{WEBHOOKS}/{endpoint['id']}/deliveries", headers=other.headers), 404)
    assert_problem(await client.delete(f"{WEBHOOKS}/{endpoint['id']}", headers=other.headers), 404)
    await complete_fast(client, owner, clock)
    export = ok(await client.get(f"{API}/profile/export", headers=owner.headers))
    section = export["modules"]["integrations"]
    assert [e["id"] for e in section["webhook_endpoints"]] == [endpoint["id"]]
    assert endpoint["secret"] not in json.dumps(export)
    assert len(section["webhook_deliveries"]) == 1

    ok(await client.delete(f"{API}/profile/all-data", params={"confirm": "true"}, headers=owner.headers))
    assert await count_rows(app, "webhook_endpoints") == 0
    assert await count_rows(app, "webhook_deliveries") == 0
    await app.state.resources.outbox.drain()
    assert receiver.requests == []


async def test_achievements_and_level_ups_are_sent_too(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url, "achievement.unlocked", "level.up", "fast.completed")
    closed = await complete_fast(client, user, clock, hours=25)  # 150 XP: level 2, and first-fast achievements
    await app.state.resources.outbox.drain()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for received in receiver.requests:
        payload = Webhook(endpoint["secret"]).verify(received.body, received.headers)
        by_type.setdefault(payload["type"], []).append(payload["data"])
    assert closed["level_up"] is True
    assert by_type["level.up"] == [{"level": closed["new_level"], "title": by_type["level.up"][0]["title"]}]
    assert sorted(a["name"] for a in by_type["achievement.unlocked"]) == sorted(
        a["name"] for a in closed["achievements_unlocked"]
    )
    assert len(by_type["fast.completed"]) == 1


async def test_an_address_that_became_private_is_refused_when_sending(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url)
    app.state.resources.settings.webhook_allow_private_targets = False  # checked again at every attempt
    await complete_fast(client, user, clock)
    await app.state.resources.outbox.drain()
    assert receiver.requests == []
    [log] = await deliveries(client, user, endpoint["id"])
    assert log["response_code"] is None
    assert log["error"] == "Webhook URLs must use https"


async def test_a_won_challenge_is_sent_with_its_id_and_name(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, receiver: Receiver
) -> None:
    from tests.progression.helpers import complete_workout
    from tests.social.helpers import create_challenge, person

    now = clock.now()
    clock.set(now - timedelta(days=4))
    first_day = clock.now().date()
    ana, _ = await person(app, client, "ana")
    ben, _ = await person(app, client, "ben")
    won = await create_challenge(
        client,
        ana,
        name="Two-day sprint",
        challenge_type="workout_count",
        goal_value=2,
        start_date=first_day.isoformat(),
        end_date=(first_day + timedelta(days=1)).isoformat(),
    )
    ok(await client.post(f"{API}/social/challenges/join/{won['join_code']}", headers=ben.headers))
    await complete_workout(app, ana, clock.now())
    clock.set(now)  # the challenge's last day is over everywhere
    await fresh_token(app, ana)
    await fresh_token(app, ben)
    ana_hook = await register(client, ana, receiver.url, "challenge.won")
    await register(client, ben, receiver.url, "challenge.won")

    await app.state.resources.outbox.drain()

    assert len(receiver.requests) == 1  # only the winner's endpoint hears of it
    payload = Webhook(ana_hook["secret"]).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert payload["type"] == "challenge.won"
    assert payload["data"] == {"challenge_id": won["id"], "name": "Two-day sprint"}
    assert ok(await client.get(f"{API}/social/challenges/{won['id']}", headers=ana.headers))["winner_id"] == ana.id


async def test_every_kind_of_measurement_is_sent_as_metric_recorded_without_its_value(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    user = await anonymous_user(app)
    endpoint = await register(client, user, receiver.url, "metric.recorded")
    recorded = [
        ok(await client.post(f"{API}/metrics", headers=user.headers, json=body), 201)
        for body in (
            {"metric_type": "steps", "value": 8421},
            {"metric_type": "body_fat_pct", "value": 21.5},
            {"metric_type": "weight_kg", "value": 80.2},
        )
    ]
    await app.state.resources.outbox.drain()

    payloads = [Webhook(endpoint["secret"]).verify(r.body, r.headers) for r in receiver.requests]
    assert all(p["type"] == "metric.recorded" for p in payloads)
    sent = sorted((p["data"]["metric_type"], p["data"]["metric_id"]) for p in payloads)
    assert sent == sorted((r["metric_type"], r["id"]) for r in recorded)
    for request in receiver.requests:
        assert b"8421" not in request.body
        assert b"21.5" not in request.body
