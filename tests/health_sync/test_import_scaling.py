"""A large Apple Health import costs a few statements per batch of readings, not per reading:
weights are credited once per import and the onboarding step is marked once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.health_sync.helpers import events, export_xml, ok, record, upload, weight_xp
from tests.support import counting_statements

START = datetime(2025, 1, 1, 7, 0, tzinfo=UTC)


def weights(count: int, base: float = 80.0) -> bytes:
    """`count` weigh-ins, one an hour."""
    lines = [
        record(
            "BodyMass",
            round(base + (i % 50) / 10, 1),
            (START + timedelta(hours=i)).strftime("%Y-%m-%d %H:%M:%S +0000"),
            unit="kg",
        )
        for i in range(count)
    ]
    return export_xml(*lines)


def _writes(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "SELECT")))


async def test_statements_grow_with_batches_not_with_records(app: FastAPI, client: httpx.AsyncClient) -> None:
    small, large = await anonymous_user(app), await anonymous_user(app)
    with counting_statements(app) as log_small:
        body = ok(await upload(client, small, weights(100)))
    assert body["imported"] == 100
    with counting_statements(app) as log_large:
        body = ok(await upload(client, large, weights(4_100)))
    assert body["imported"] == 4_100
    # 4 100 readings are three batches: a handful of statements more, not 4 000.
    assert _writes(log_large.statements) - _writes(log_small.statements) < 30


async def test_an_import_of_many_weights_is_credited_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await upload(client, user, weights(3_000)))
    credited = await weight_xp(client, user)
    assert credited > 0
    single = await anonymous_user(app)
    ok(await upload(client, single, weights(1)))
    assert await weight_xp(client, single) == credited
    assert len(await events(client, user, "health_synced")) == 1
    onboarding = ok(await client.get("/api/v1/profile/onboarding", headers=user.headers))
    assert "first_weight_logged" in str(onboarding)


async def test_a_changed_reimport_updates_in_bulk_and_leaves_the_rest(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await upload(client, user, weights(2_500)))
    body = ok(await upload(client, user, weights(2_500, base=81.0)))
    assert (body["imported"], body["unchanged"]) == (2_500, 0)
    body = ok(await upload(client, user, weights(2_500, base=81.0)))
    assert (body["imported"], body["unchanged"]) == (0, 2_500)
