from __future__ import annotations

import httpx

from tests.factories import anonymous_user, fresh_token


async def test_sixteen_eight_fast_end_to_end(app, client: httpx.AsyncClient, clock) -> None:
    user = await anonymous_user(app)
    h = user.headers
    r = await client.post(
        "/api/v1/time-keeper/windows",
        headers=h,
        json={"window_type": "fast", "metadata": {"protocol": "16:8", "target_hours": 16}},
    )
    assert r.status_code == 201, r.text
    wid = r.json()["id"]
    assert r.json()["target_seconds"] == 16 * 3600
    r2 = await client.post("/api/v1/time-keeper/windows", headers=h, json={"window_type": "fast"})
    assert r2.status_code == 409, r2.text
    clock.advance(hours=5)
    await fresh_token(app, user)
    h = user.headers
    r = await client.get("/api/v1/time-keeper/windows/active", headers=h)
    assert r.json()["stage"]["name"] == "catabolic", r.text
    clock.advance(hours=11, minutes=5)
    await fresh_token(app, user)
    h = user.headers
    r = await client.post(f"/api/v1/time-keeper/windows/{wid}/close", headers=h, json={"end_state": "completed"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["xp_earned"] > 50
    r = await client.post(f"/api/v1/time-keeper/windows/{wid}/close", headers=h, json={"end_state": "completed"})
    assert r.status_code == 409
    r = await client.get("/api/v1/progression/overview", headers=h)
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/time-keeper/windows/active", headers=h)
    assert r.json() is None
