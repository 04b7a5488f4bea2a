from __future__ import annotations

from datetime import timedelta

import httpx

from tests.factories import anonymous_user, fresh_token


async def test_weight_log_trend_and_biomarkers(app, client: httpx.AsyncClient, clock) -> None:
    user = await anonymous_user(app)
    start = clock.now()
    for day in range(5):
        clock.set(start + timedelta(days=day))
        await fresh_token(app, user)
        r = await client.post(
            "/api/v1/metrics", headers=user.headers, json={"metric_type": "weight_kg", "value": 80 - day}
        )
        assert r.status_code == 201, r.text
        assert r.json()["xp_earned"] >= 10
    trend = await client.get("/api/v1/metrics/trend?metric_type=weight_kg&period_days=30", headers=user.headers)
    assert trend.status_code == 200, trend.text
    body = trend.json()
    assert body["direction"] == "down"
    assert abs(body["slope_per_day"] + 1) < 1e-6
    r = await client.post("/api/v1/metrics", headers=user.headers, json={"metric_type": "weight_lbs", "value": 1000})
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/metrics",
        headers=user.headers,
        json={"metric_type": "biomarker_ldl_cholesterol", "value": 3.1, "unit": "mmol/L", "flag": "high"},
    )
    assert r.status_code == 201, r.text
    grouped = await client.get("/api/v1/metrics/biomarkers/grouped", headers=user.headers)
    assert grouped.status_code == 200, grouped.text
    assert grouped.json()[0]["abnormal_count"] == 1
    agg = await client.get("/api/v1/metrics/aggregate?metric_type=weight_kg&operation=avg", headers=user.headers)
    assert agg.json()["value"] == 78.0, agg.text
    r = await client.delete("/api/v1/metrics", headers=user.headers)
    assert r.status_code == 422
