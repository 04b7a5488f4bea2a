"""Avatars (profile pictures) at `/uploads/avatar`, and `/uploads/media/{key}`: the public stored
files (profile pictures, share card images) with the local storage backend.

An upload is read from the request stream and refused as soon as it passes `MAX_AVATAR_BYTES`
(413). Its type is decided from its first bytes (JPEG, PNG or WebP), never from the client's
content type or file name (415 otherwise). It is decoded off the event loop with a pixel budget
(decompression bombs and broken files → 422), turned upright (EXIF orientation), flattened on
white, centre-cropped and resized to 400×400, and re-encoded as a JPEG that carries no metadata
at all (no EXIF, GPS, comments or profiles). The server names the object
(`avatars/<identity>/<random>.jpg`), stores it, and points the profile at it; the previous object
is deleted through the outbox only after that change has committed. The key to delete always
comes from the server-side record, never from the client-writable `avatar_url`.

With the local storage backend the API serves the public objects (avatars, and the social
module's share cards) itself from `GET /uploads/media/{key}` (public, cacheable for a year: keys
are never reused).
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from PIL import Image, ImageOps
from pydantic import BaseModel

from src.adapters.multipart import EmptyFile, read_file_field, upload_body
from src.adapters.storage import (
    DELETE_TOPIC,
    LocalStorage,
    StorageError,
    StorageUnavailable,
    public_media_type,
    usable_storage,
)
from src.core.errors import AppError, NotFound, problem_schema
from src.core.rate_limit import limits
from src.core.uow import UnitOfWork
from src.dependencies import CurrentIdentity, UoWDep

from .errors import AvatarNotFound, AvatarTooLarge, ImageTooManyPixels, ImageUnreadable, UnsupportedImageType
from .service import ProfileService

logger = logging.getLogger("ugoki.avatar")

router = APIRouter()

AVATAR_SIZE = 400
JPEG_QUALITY = 85
CACHE_CONTROL = "public, max-age=31536000, immutable"
# Pixel budgets: what a file may declare, and what is actually decoded (JPEGs are decoded at a
# reduced scale, so a large photo costs little; PNG and WebP are decoded in full).
MAX_DECLARED_PIXELS = 80_000_000
MAX_DECODED_PIXELS = 25_000_000
# Decoding is memory-hungry: at most `Resources.image_slots` avatars are decoded at once per process.
FILE_FIELD = "file"


# Responses ---------------------------------------------------------------------------------


class AvatarUploadResponse(BaseModel):
    success: bool = True
    avatar_url: str
    message: str


class AvatarDeleteResponse(BaseModel):
    success: bool = True
    message: str


# Image handling ----------------------------------------------------------------------------


def sniff_image_format(data: bytes) -> str | None:
    """The Pillow format name from the file's magic bytes (JPEG, PNG, WebP), else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _flatten_on_white(image: Image.Image) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def render_avatar(data: bytes, image_format: str) -> bytes:
    """Decode an untrusted image of the sniffed format and return the 400×400 JPEG avatar.
    Raises ImageTooManyPixels or ImageUnreadable; blocking: run it in a worker thread."""
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as probe:
            width, height = probe.size
            if width < 1 or height < 1 or width * height > MAX_DECLARED_PIXELS:
                raise ImageTooManyPixels(f"The image declares {width}×{height} pixels, more than we accept.")
            probe.verify()
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            if image_format == "JPEG":
                image.draft("RGB", (AVATAR_SIZE, AVATAR_SIZE))
            width, height = image.size
            if width * height > MAX_DECODED_PIXELS:
                raise ImageTooManyPixels(f"The image has {width}×{height} pixels, more than we accept.")
            image.load()
            upright = ImageOps.exif_transpose(image)
            flat = _flatten_on_white(upright)
    except AppError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooManyPixels("The image has more pixels than we accept.") from exc
    except Exception as exc:  # anything the decoder trips over is a broken or hostile file
        logger.info("avatar decode failed: %s", type(exc).__name__)
        raise ImageUnreadable("The image could not be read; it may be damaged or incomplete.") from exc

    side = min(flat.size)
    left = (flat.width - side) // 2
    top = (flat.height - side) // 2
    square = flat.crop((left, top, left + side, top + side))
    resized = square.resize((AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    # A new image carries no metadata from the upload (EXIF, GPS, ICC, comments).
    clean = Image.new("RGB", (AVATAR_SIZE, AVATAR_SIZE))
    clean.paste(resized)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


class AvatarService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def upload(self, identity_id: uuid.UUID, data: bytes, *, api_base_url: str) -> str:
        """Check, render and store the picture, point the profile at it; its absolute URL."""
        if not data:
            raise EmptyFile("The file is empty.")
        image_format = sniff_image_format(data)
        if image_format is None:
            raise UnsupportedImageType("Only JPEG, PNG and WebP images are accepted.")
        async with self.uow.resources.image_slots:
            avatar = await asyncio.to_thread(render_avatar, data, image_format)
        storage = usable_storage(self.uow.resources)
        key = f"avatars/{identity_id}/{uuid.uuid4().hex}.jpg"
        try:
            await storage.put(key, avatar, content_type="image/jpeg", cache_control=CACHE_CONTROL)
        except StorageError as exc:
            logger.error("avatar upload to storage failed: %s", exc)
            raise StorageUnavailable("The picture could not be stored right now; try again later.") from exc
        url = storage.public_url(key)
        if url.startswith("/"):
            # The local backend serves pictures from this API: an absolute URL, as image components need.
            url = f"{api_base_url.rstrip('/')}{url}"
        previous = await ProfileService(self.uow).set_avatar(identity_id, url=url, key=key)
        self._delete_after_commit(identity_id, previous)
        return url

    async def delete(self, identity_id: uuid.UUID) -> None:
        previous = await ProfileService(self.uow).set_avatar(identity_id, url=None, key=None)
        if previous is None:
            raise AvatarNotFound("No avatar to delete.")  # rolls back the (no-op) change
        self._delete_after_commit(identity_id, previous)

    def _delete_after_commit(self, identity_id: uuid.UUID, key: str | None) -> None:
        if key is None:
            return
        if not key.startswith(f"avatars/{identity_id}/"):  # only ever this person's own pictures
            logger.warning("previous avatar key outside the owner's prefix; not deleted")
            return
        # No identity on the message: erasing the account's outbox rows must not drop the deletion.
        self.uow.enqueue(DELETE_TOPIC, {"key": key})


# Routes ------------------------------------------------------------------------------------

_UPLOAD_BODY = upload_body(FILE_FIELD, "A JPEG, PNG or WebP image (type read from the file itself)")
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (400, 401, 413, 415, 422, 429, 503)}


@router.post(
    "/avatar",
    response_model=AvatarUploadResponse,
    summary="Upload a profile picture (JPEG, PNG or WebP)",
    description=(
        "Multipart field `file`, at most `MAX_AVATAR_BYTES` (5 MB). Stored as a 400×400 JPEG without "
        "metadata; the profile's `avatar_url` (an absolute URL) points at it. The previous picture is deleted "
        "afterwards."
    ),
    responses=_ERRORS,
    openapi_extra={**limits("UPLOAD"), **_UPLOAD_BODY},
)
async def upload_avatar(request: Request, uow: UoWDep, me: CurrentIdentity) -> AvatarUploadResponse:
    limit = uow.settings.max_avatar_bytes
    too_large = AvatarTooLarge(f"The image is larger than {limit // 1_048_576} MB.")
    uploaded = await read_file_field(request, field=FILE_FIELD, limit=limit, too_large=too_large)
    url = await AvatarService(uow).upload(me.identity_id, uploaded.data, api_base_url=str(request.base_url))
    return AvatarUploadResponse(avatar_url=url, message="Avatar uploaded successfully.")


@router.delete(
    "/avatar",
    response_model=AvatarDeleteResponse,
    summary="Remove the profile picture",
    description="404 `AVATAR_NOT_FOUND` when there is none. The stored picture is deleted afterwards.",
    responses=_ERRORS,
)
async def delete_avatar(uow: UoWDep, me: CurrentIdentity) -> AvatarDeleteResponse:
    await AvatarService(uow).delete(me.identity_id)
    return AvatarDeleteResponse(message="Avatar deleted successfully.")


@router.get(
    "/media/{key:path}",
    summary="A public stored file (avatars, share cards; local storage backend)",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}, 404: problem_schema()},
)
async def serve_media(request: Request, key: str) -> FileResponse:
    resources = request.app.state.resources
    media_type = public_media_type(key)
    if resources.settings.storage_backend != "local" or media_type is None:
        raise NotFound("No such file.")
    storage = resources.storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("No such file.")
    path = storage.file_path(key)
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("No such file.")
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "Cache-Control": CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
