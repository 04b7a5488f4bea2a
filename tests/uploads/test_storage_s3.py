"""The S3 adapter against a local S3 server (moto in server mode on 127.0.0.1) that checks every
request's SigV4 signature against the IAM user's real secret: objects go in, come back and go
away; a wrong secret is refused; and avatars uploaded through the API land in the bucket as clean
JPEGs with their caching headers, the old one deleted after the outbox runs."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from PIL import Image

from src.adapters.storage import S3Storage, StorageError, delete_stored_object
from src.core.outbox import OutboxDispatcher
from tests.factories import anonymous_user
from tests.profile.helpers import assert_problem

AVATAR = "/api/v1/uploads/avatar"
PROFILE = "/api/v1/profile"
REGION = "us-east-1"
BUCKET = "ugoki-avatars"
CDN = "https://cdn.ugoki.test/media"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str

    def client(self) -> Any:
        """An independent client (boto3) for looking into the bucket."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # From here on the server checks signatures, except for the three set-up calls that create
    # the IAM user our adapter signs as.
    httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"3").raise_for_status()
    iam = boto3.client(
        "iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="setup", aws_secret_access_key="setup"
    )
    iam.create_user(UserName="ugoki-api")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="ugoki-api", PolicyName="objects", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="ugoki-api")["AccessKey"]
    try:
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"inf")
        server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def s3_storage(
    http: httpx.AsyncClient, server: S3Server, *, bucket: str = BUCKET, secret: str | None = None
) -> S3Storage:
    return S3Storage(
        http,
        endpoint_url=server.endpoint,
        bucket=bucket,
        region=REGION,
        access_key_id=server.access_key_id,
        secret_access_key=secret or server.secret_access_key,
    )


@pytest.fixture
async def bucket(s3_server: S3Server, http: httpx.AsyncClient) -> S3Storage:
    storage = s3_storage(http, s3_server)
    await storage.create_bucket()
    return storage


def object_key() -> str:
    return f"avatars/{uuid.uuid4()}/{uuid.uuid4().hex}.jpg"


# The adapter ---------------------------------------------------------------------------------


async def test_object_put_can_be_read_back_and_deleted(bucket: S3Storage) -> None:
    key = object_key()
    await bucket.put(key, b"\xff\xd8\xff picture", content_type="image/jpeg")
    assert await bucket.get(key) == b"\xff\xd8\xff picture"
    await bucket.delete(key)
    assert await bucket.get(key) is None


async def test_deleting_a_missing_object_is_not_an_error(bucket: S3Storage) -> None:
    key = object_key()
    await bucket.delete(key)
    await bucket.put(key, b"x", content_type="image/jpeg")
    await bucket.delete(key)
    await bucket.delete(key)
    assert await bucket.get(key) is None


async def test_object_keeps_its_content_type_and_cache_control(bucket: S3Storage, s3_server: S3Server) -> None:
    key = object_key()
    await bucket.put(key, b"x", content_type="image/jpeg", cache_control="public, max-age=31536000, immutable")
    head = s3_server.client().head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"


async def test_creating_the_bucket_twice_is_fine(bucket: S3Storage) -> None:
    await bucket.create_bucket()


async def test_wrong_secret_is_refused_by_the_server(
    bucket: S3Storage, s3_server: S3Server, http: httpx.AsyncClient
) -> None:
    key = object_key()
    await bucket.put(key, b"kept", content_type="image/jpeg")
    impostor = s3_storage(http, s3_server, secret="not-the-secret")
    with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
        await impostor.put(object_key(), b"x", content_type="image/jpeg")
    with pytest.raises(StorageError, match="403"):
        await impostor.get(key)
    with pytest.raises(StorageError, match="403"):
        await impostor.delete(key)
    assert await bucket.get(key) == b"kept"


async def test_writing_to_a_missing_bucket_is_a_storage_error(
    bucket: S3Storage, s3_server: S3Server, http: httpx.AsyncClient
) -> None:
    elsewhere = s3_storage(http, s3_server, bucket=f"missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        await elsewhere.put(object_key(), b"x", content_type="image/jpeg")


# Avatars through the API on the S3 backend ------------------------------------------------------


@pytest.fixture
def settings_overrides(
    s3_server: S3Server, bucket: S3Storage, tmp_path: Any, request: pytest.FixtureRequest
) -> dict[str, object]:
    overrides: dict[str, object] = {
        "data_dir": tmp_path,
        "storage_backend": "s3",
        "s3_endpoint_url": s3_server.endpoint,
        "s3_bucket": BUCKET,
        "s3_region": REGION,
        "s3_access_key_id": s3_server.access_key_id,
        "s3_secret_access_key": s3_server.secret_access_key,
    }
    overrides.update(getattr(request, "param", {}))
    return overrides


def png(color: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


async def upload(client: httpx.AsyncClient, headers: dict[str, str], content: bytes) -> httpx.Response:
    return await client.post(AVATAR, files={"file": ("me.png", content, "image/png")}, headers=headers)


def key_of(url: str, base: str) -> str:
    assert url.startswith(f"{base}/avatars/"), url
    return url.removeprefix(f"{base}/")


async def test_avatar_is_stored_in_the_bucket_as_a_400px_jpeg_with_a_long_cache(
    app: FastAPI, client: httpx.AsyncClient, s3_server: S3Server
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user.headers, png((10, 120, 200)))
    assert response.status_code == 200, response.text
    url = response.json()["avatar_url"]
    key = key_of(url, f"{s3_server.endpoint}/{BUCKET}")
    assert key.startswith(f"avatars/{user.id}/")

    stored = s3_server.client().get_object(Bucket=BUCKET, Key=key)
    assert stored["ContentType"] == "image/jpeg"
    assert "max-age=31536000" in stored["CacheControl"]
    image = Image.open(io.BytesIO(stored["Body"].read()))
    assert (image.format, image.size) == ("JPEG", (400, 400))
    profile = await client.get(PROFILE, headers=user.headers)
    assert profile.json()["avatar_url"] == url


@pytest.mark.parametrize("settings_overrides", [{"storage_public_base_url": CDN}], indirect=True)
async def test_configured_public_base_url_prefixes_the_avatar_url(
    app: FastAPI, client: httpx.AsyncClient, s3_server: S3Server
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user.headers, png((200, 10, 10)))
    assert response.status_code == 200, response.text
    key = key_of(response.json()["avatar_url"], CDN)
    s3_server.client().head_object(Bucket=BUCKET, Key=key)  # the object behind the URL exists


async def test_replaced_avatar_is_deleted_from_the_bucket_after_the_outbox_runs(
    app: FastAPI, client: httpx.AsyncClient, s3_server: S3Server
) -> None:
    user = await anonymous_user(app)
    base = f"{s3_server.endpoint}/{BUCKET}"
    first = key_of((await upload(client, user.headers, png((1, 2, 3)))).json()["avatar_url"], base)
    second = key_of((await upload(client, user.headers, png((3, 2, 1)))).json()["avatar_url"], base)
    bucket = s3_server.client()
    bucket.head_object(Bucket=BUCKET, Key=first)  # not deleted before the outbox runs

    outbox = app.state.resources.outbox
    assert isinstance(outbox, OutboxDispatcher)
    if "storage.delete" not in outbox.handlers:
        outbox.register("storage.delete", delete_stored_object)
    assert await outbox.drain() == 1

    listed = bucket.list_objects_v2(Bucket=BUCKET, Prefix=f"avatars/{user.id}/")
    assert [item["Key"] for item in listed.get("Contents", [])] == [second]


@pytest.mark.parametrize("settings_overrides", [{"s3_secret_access_key": "revoked-secret"}], indirect=True)
async def test_storage_refusing_the_upload_answers_503_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, s3_server: S3Server
) -> None:
    user = await anonymous_user(app)
    created = await client.post(PROFILE, json={"display_name": "Aiko"}, headers=user.headers)
    assert created.status_code == 201, created.text

    response = await upload(client, user.headers, png((5, 5, 5)))

    body = assert_problem(response, 503, "STORAGE_UNAVAILABLE")
    assert "revoked-secret" not in json.dumps(body)
    assert (await client.get(PROFILE, headers=user.headers)).json()["avatar_url"] is None
    listed = s3_server.client().list_objects_v2(Bucket=BUCKET, Prefix=f"avatars/{user.id}/")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("settings_overrides", [{"s3_bucket": None}], indirect=True)
async def test_incomplete_s3_configuration_answers_503_not_500(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert_problem(await upload(client, user.headers, png((9, 9, 9))), 503, "STORAGE_UNAVAILABLE")


async def test_media_route_serves_nothing_on_the_s3_backend(
    app: FastAPI, client: httpx.AsyncClient, s3_server: S3Server
) -> None:
    user = await anonymous_user(app)
    url = (await upload(client, user.headers, png((7, 7, 7)))).json()["avatar_url"]
    key = key_of(url, f"{s3_server.endpoint}/{BUCKET}")
    assert_problem(await client.get(f"/api/v1/uploads/media/{key}"), 404)
