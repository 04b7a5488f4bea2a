"""Choosing and configuring the storage backend, the local backend's files, and the outbox
handler that deletes objects after commit (bad keys dropped, storage outages retried)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from src.adapters.storage import (
    LOCAL_MEDIA_PATH,
    LocalStorage,
    S3Storage,
    StorageError,
    build_storage,
    delete_stored_object,
)
from src.core.outbox import OutboxDispatcher, OutboxMessage
from src.core.uow import UnitOfWork
from tests.conftest import make_settings

KEY = "avatars/8b0b2f4e-8f5e-4a53-9a53-3c8c8a1f7c11/0123456789abcdef0123456789abcdef.jpg"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def test_local_backend_keeps_files_under_data_dir_and_links_them_to_the_media_route(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    storage = build_storage(make_settings("sqlite://", data_dir=tmp_path), http)
    assert isinstance(storage, LocalStorage)
    assert storage.file_path(KEY) == tmp_path / "uploads" / KEY
    assert storage.public_url(KEY) == f"{LOCAL_MEDIA_PATH}/{KEY}"
    assert LOCAL_MEDIA_PATH == "/api/v1/uploads/media"


def test_configured_public_base_url_is_used_for_local_files(tmp_path: Path, http: httpx.AsyncClient) -> None:
    settings = make_settings(
        "sqlite://", data_dir=tmp_path, storage_public_base_url="http://192.168.1.20:8000/api/v1/uploads/media/"
    )
    assert build_storage(settings, http).public_url(KEY) == f"http://192.168.1.20:8000/api/v1/uploads/media/{KEY}"


def test_s3_backend_links_to_endpoint_and_bucket_unless_a_public_base_is_set(http: httpx.AsyncClient) -> None:
    values: dict[str, object] = {
        "storage_backend": "s3",
        "s3_endpoint_url": "https://acct.r2.example",
        "s3_bucket": "media",
        "s3_access_key_id": "id",
        "s3_secret_access_key": "secret",
    }
    plain = build_storage(make_settings("sqlite://", **values), http)
    assert isinstance(plain, S3Storage)
    assert plain.public_url(KEY) == f"https://acct.r2.example/media/{KEY}"
    cdn = build_storage(make_settings("sqlite://", storage_public_base_url="https://cdn.example", **values), http)
    assert cdn.public_url(KEY) == f"https://cdn.example/{KEY}"


@pytest.mark.parametrize("missing", ["s3_endpoint_url", "s3_bucket", "s3_access_key_id", "s3_secret_access_key"])
def test_s3_backend_without_its_settings_is_refused(http: httpx.AsyncClient, missing: str) -> None:
    values: dict[str, object] = {
        "storage_backend": "s3",
        "s3_endpoint_url": "https://acct.r2.example",
        "s3_bucket": "media",
        "s3_access_key_id": "id",
        "s3_secret_access_key": "secret",
        missing: None,
    }
    with pytest.raises(StorageError, match="S3_"):
        build_storage(make_settings("sqlite://", **values), http)


async def test_local_storage_round_trip_and_idempotent_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, public_base_url="/media")
    await storage.put(KEY, b"picture", content_type="image/jpeg")
    assert await storage.get(KEY) == b"picture"
    await storage.delete(KEY)
    await storage.delete(KEY)
    assert await storage.get(KEY) is None


@pytest.mark.parametrize("key", ["../outside.jpg", "avatars/../../outside.jpg", "/etc/passwd", "avatars", ""])
async def test_local_storage_refuses_keys_that_leave_its_folder(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "uploads", public_base_url="/media")
    with pytest.raises(StorageError):
        await storage.put(key, b"x", content_type="image/jpeg")
    assert not (tmp_path / "outside.jpg").exists()


# The outbox handler ----------------------------------------------------------------------------


@pytest.fixture
def settings_overrides(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = {"data_dir": tmp_path}
    overrides.update(getattr(request, "param", {}))
    return overrides


async def queue_deletions(app: FastAPI, *payloads: dict[str, object]) -> OutboxDispatcher:
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        for payload in payloads:
            uow.enqueue("storage.delete", payload)
        await session.commit()
    outbox = app.state.resources.outbox
    assert isinstance(outbox, OutboxDispatcher)
    if "storage.delete" not in outbox.handlers:
        outbox.register("storage.delete", delete_stored_object)
    return outbox


async def test_deletion_handler_removes_the_object_and_drops_invalid_keys(app: FastAPI, tmp_path: Path) -> None:
    target = tmp_path / "uploads" / KEY
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old picture")
    bystander = tmp_path / "keep.jpg"
    bystander.write_bytes(b"not ours to delete")

    outbox = await queue_deletions(app, {"key": KEY}, {"key": "../keep.jpg"}, {"key": 42}, {})

    assert await outbox.drain() == 4
    assert not target.exists()
    assert bystander.exists()


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "storage_backend": "s3",
            "s3_endpoint_url": "http://127.0.0.1:1",
            "s3_bucket": "media",
            "s3_access_key_id": "id",
            "s3_secret_access_key": "secret",
        }
    ],
    indirect=True,
)
async def test_deletion_is_retried_later_when_storage_is_unreachable(app: FastAPI) -> None:
    outbox = await queue_deletions(app, {"key": KEY})

    assert await outbox.drain() == 0

    async with app.state.sessions.reader() as session:
        message = (await session.execute(select(OutboxMessage))).scalar_one()
    assert message.delivered_at is None
    assert message.dead_at is None
    assert message.attempts == 1
    assert message.last_error is not None
    assert message.last_error.rstrip().endswith("StorageError: object storage unreachable: ConnectError")
