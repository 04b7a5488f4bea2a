from __future__ import annotations

import httpx

from tests.factories import anonymous_user, fresh_token


async def test_browse_start_and_complete_a_workout(app, client: httpx.AsyncClient, clock) -> None:
    user = await anonymous_user(app)
    workouts = (await client.get("/api/v1/content/workouts?limit=100")).json()
    assert len(workouts) == 23
    quick = next(w for w in workouts if w["name"] == "Quick HIIT Blast")
    detail = (await client.get(f"/api/v1/content/workouts/{quick['id']}?include_exercises=true")).json()
    assert sum(e["duration_seconds"] + e["rest_seconds"] for e in detail["exercises"]) == 600
    assert len((await client.get("/api/v1/content/exercises?limit=200")).json()) == 80
    started = await client.post("/api/v1/content/sessions", headers=user.headers, json={"workout_id": quick["id"]})
    assert started.status_code == 201, started.text
    clock.advance(minutes=9)
    await fresh_token(app, user)
    done = await client.post(f"/api/v1/content/sessions/{started.json()['id']}/complete", headers=user.headers)
    assert done.status_code == 200, done.text
    assert done.json()["credited"] is True
    assert done.json()["xp_earned"] >= 30
    recs = await client.get("/api/v1/content/recommendations", headers=user.headers)
    assert recs.status_code == 200, recs.text
    stats = await client.get("/api/v1/content/stats", headers=user.headers)
    assert stats.json()["total_workouts"] == 1, stats.text
    recipes = await client.get("/api/v1/content/recipes?diet_tags=vegan&diet_tags=gluten_free&limit=100")
    assert recipes.status_code == 200
    assert all({"vegan", "gluten_free"} <= set(r["diet_tags"]) for r in recipes.json())
