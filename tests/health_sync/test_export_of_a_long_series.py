"""The account export of a person with a long series of device weigh-ins (an Apple Health import)
streams the measurements, in the module's section and in the reference's top-level list, and as a
member of the ZIP."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.health_sync.helpers import ok, upload
from tests.health_sync.test_import_scaling import weights

EXPORT = "/api/v1/profile/export"


async def test_the_export_streams_a_long_series_of_measurements(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert ok(await upload(client, user, weights(1_500)))["imported"] == 1_500

    response = await client.get(EXPORT, headers=user.headers)
    assert response.status_code == 200
    assert "content-length" not in response.headers
    document = response.json()
    series = document["modules"]["metrics"]["metrics"]
    assert sum(m["metric_type"] == "weight_kg" for m in series) == 1_500
    assert [m["timestamp"] for m in series] == sorted(m["timestamp"] for m in series)
    assert document["metrics"] == series  # the reference's top-level list holds the same

    response = await client.get(EXPORT, params={"format": "zip"}, headers=user.headers)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        text = archive.read("metrics.json").decode()
    assert json.loads(text) == {"metrics": series}
    assert text == json.dumps({"metrics": series}, indent=2)  # indented like the other members


async def test_the_export_of_a_person_without_measurements_has_empty_lists(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    document = ok(await client.get(EXPORT, headers=user.headers))
    assert document["modules"]["metrics"] == {"metrics": []}
    assert document["metrics"] == []
    response = await client.get(EXPORT, params={"format": "zip"}, headers=user.headers)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.read("metrics.json").decode() == json.dumps({"metrics": []}, indent=2)
        assert json.loads(archive.read("event_journal.json"))  # the export itself is journalled
