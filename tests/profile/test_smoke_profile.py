from __future__ import annotations

import httpx

from tests.factories import anonymous_user


async def test_profile_round_trip(app, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    h = user.headers
    assert (await client.get("/api/v1/profile", headers=h)).status_code == 404
    goals = await client.get("/api/v1/profile/goals", headers=h)
    assert goals.status_code == 200, goals.text
    created = await client.post("/api/v1/profile", headers=h, json={"display_name": "Ana"})
    assert created.status_code == 201, created.text
    again = await client.post("/api/v1/profile", headers=h, json={"display_name": "Ana"})
    assert again.status_code == 400, again.text
    r = await client.patch(
        "/api/v1/profile/health", headers=h, json={"conditions": ["pregnant"], "emergency_contact_name": "Bo"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["fasting_safe"] is False
    r = await client.get("/api/v1/profile/health/fasting-safety", headers=h)
    assert r.json()["safe"] is False, r.text
    r = await client.patch(
        "/api/v1/profile/preferences", headers=h, json={"timezone": "Mars/Base", "default_fasting_protocol": "20:4"}
    )
    assert r.status_code == 422, r.text
    r = await client.patch(
        "/api/v1/profile/preferences",
        headers=h,
        json={"timezone": "Pacific/Auckland", "default_fasting_protocol": "20:4"},
    )
    assert r.status_code == 200, r.text
    r = await client.patch("/api/v1/profile/social", headers=h, json={"username": "AnaFit"})
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/profile/complete", headers=h)
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/profile/export", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["health"]["emergency_contact_name"] == "Bo"
    r = await client.get("/api/v1/profile/export?format=zip", headers=h)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    r = await client.delete("/api/v1/profile/all-data?confirm=true", headers=h)
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/identity/me", headers=h)
    assert r.status_code == 401, r.text
