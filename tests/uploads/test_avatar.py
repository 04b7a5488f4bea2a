"""Avatar upload, removal and public serving with the local storage backend, through the API as
the mobile app uses it: the type is read from the bytes, the size is enforced while streaming,
hostile images never crash the server, the stored picture is a clean 400×400 JPEG, and an old
picture is deleted only after the change that replaced it has committed — and only ever the
caller's own."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import ExifTags, Image

from src.adapters.storage import delete_stored_object
from src.core.outbox import OutboxDispatcher
from tests.factories import User, anonymous_user
from tests.profile.helpers import assert_problem

API = "/api/v1"
AVATAR = f"{API}/uploads/avatar"
MEDIA = f"http://testserver{API}/uploads/media"  # absolute, as the app's image components need
PROFILE = f"{API}/profile"

RED = (230, 20, 20)
GREEN = (20, 200, 20)
BLUE = (20, 20, 230)


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    return {"data_dir": tmp_path}


# Helpers -----------------------------------------------------------------------------------


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format, **params)
    return out.getvalue()


def photo(image_format: str = "PNG", size: tuple[int, int] = (600, 450), color: tuple[int, ...] = GREEN) -> bytes:
    mode = "RGBA" if len(color) == 4 else "RGB"
    return encode(Image.new(mode, size, color), image_format)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bilevel_png(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A 1-bit PNG of `width`×`height` (all black), built by hand so the test never holds the
    decoded pixels; `rows` < height writes only that many rows of image data."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(height if rows is None else rows))
    compressed += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", compressed) + png_chunk(b"IEND", b"")


def corrupt_idat_crc(png: bytes) -> bytes:
    at = png.index(b"IDAT")
    length = struct.unpack(">I", png[at - 4 : at])[0]
    crc_at = at + 4 + length
    return png[:crc_at] + bytes(b ^ 0xFF for b in png[crc_at : crc_at + 4]) + png[crc_at + 4 :]


async def upload(
    client: httpx.AsyncClient,
    user: User,
    content: bytes,
    *,
    filename: str = "avatar.png",
    content_type: str = "image/png",
) -> httpx.Response:
    return await client.post(AVATAR, files={"file": (filename, content, content_type)}, headers=user.headers)


async def uploaded(client: httpx.AsyncClient, user: User, content: bytes | None = None) -> str:
    response = await upload(client, user, content if content is not None else photo())
    assert response.status_code == 200, response.text
    url: str = response.json()["avatar_url"]
    return url


def stored_path(data_dir: Path, url: str) -> Path:
    assert url.startswith(f"{MEDIA}/"), url
    return data_dir / "uploads" / url.removeprefix(f"{MEDIA}/")


async def fetch_avatar(client: httpx.AsyncClient, url: str) -> Image.Image:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def profile_avatar(client: httpx.AsyncClient, user: User) -> str | None:
    response = await client.get(PROFILE, headers=user.headers)
    assert response.status_code == 200, response.text
    value: str | None = response.json()["avatar_url"]
    return value


async def deliver_outbox(app: FastAPI) -> int:
    outbox = app.state.resources.outbox
    assert isinstance(outbox, OutboxDispatcher)
    if "storage.delete" not in outbox.handlers:
        outbox.register("storage.delete", delete_stored_object)
    return await outbox.drain()


def close_to(pixel: tuple[int, ...], color: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=False))


# Accepted uploads --------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
async def test_png_jpeg_and_webp_uploads_are_stored_as_a_400px_square_jpeg(
    app: FastAPI, client: httpx.AsyncClient, image_format: str
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, photo(image_format, size=(900, 500)), content_type="image/whatever")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["message"]
    assert body["avatar_url"].startswith(f"{MEDIA}/avatars/{user.id}/")
    assert body["avatar_url"].endswith(".jpg")
    avatar = await fetch_avatar(client, body["avatar_url"])
    assert avatar.format == "JPEG"
    assert avatar.size == (400, 400)
    assert avatar.mode == "RGB"


async def test_upload_points_the_profile_at_the_new_avatar_and_completes_basic_profile(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    url = await uploaded(client, user)
    assert await profile_avatar(client, user) == url
    onboarding = await client.get(f"{PROFILE}/onboarding", headers=user.headers)
    assert onboarding.json()["basic_profile_completed"] is True


async def test_type_is_read_from_the_bytes_not_from_the_client_name_or_content_type(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, photo("JPEG"), filename="notes.txt", content_type="application/octet-stream")
    assert response.status_code == 200, response.text


async def test_exif_gps_and_comments_are_not_kept_in_the_stored_avatar(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await anonymous_user(app)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 15"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 26.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.0)
    original = encode(Image.new("RGB", (640, 480), GREEN), "JPEG", exif=exif, comment=b"home address")
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input has GPS

    url = await uploaded(client, user, original)

    stored = stored_path(tmp_path, url).read_bytes()
    avatar = Image.open(io.BytesIO(stored))
    assert dict(avatar.getexif()) == {}
    assert "exif" not in avatar.info
    assert "comment" not in avatar.info
    assert "icc_profile" not in avatar.info
    assert b"Exif" not in stored
    assert b"PhoneMaker" not in stored
    assert b"home address" not in stored


async def test_exif_orientation_is_applied_before_cropping(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    # Stored sideways: red on the left, blue on the right; orientation 6 means "rotate 90° clockwise
    # to display", so the person sees red on top and blue at the bottom.
    sideways = Image.new("RGB", (600, 300), RED)
    sideways.paste(BLUE, (300, 0, 600, 300))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    avatar = await fetch_avatar(client, await uploaded(client, user, encode(sideways, "JPEG", exif=exif)))
    assert close_to(avatar.getpixel((100, 20)), RED)  # type: ignore[arg-type]
    assert close_to(avatar.getpixel((300, 20)), RED)  # type: ignore[arg-type]
    assert close_to(avatar.getpixel((100, 380)), BLUE)  # type: ignore[arg-type]


async def test_wide_image_is_centre_cropped_to_a_square(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    banner = Image.new("RGB", (900, 300), RED)
    banner.paste(GREEN, (300, 0, 600, 300))
    banner.paste(BLUE, (600, 0, 900, 300))
    avatar = await fetch_avatar(client, await uploaded(client, user, encode(banner, "PNG")))
    for corner in ((5, 5), (394, 5), (5, 394), (394, 394)):
        assert close_to(avatar.getpixel(corner), GREEN), corner  # type: ignore[arg-type]


async def test_transparent_png_is_flattened_on_white(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    avatar = await fetch_avatar(client, await uploaded(client, user, photo("PNG", color=(0, 0, 0, 0))))
    assert close_to(avatar.getpixel((200, 200)), (255, 255, 255), tolerance=3)  # type: ignore[arg-type]


async def test_large_jpeg_photo_within_the_declared_pixel_budget_is_accepted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    big = encode(Image.new("RGB", (6400, 4800), GREEN), "JPEG", quality=50)  # 30.7 MP
    avatar = await fetch_avatar(client, await uploaded(client, user, big))
    assert avatar.size == (400, 400)


# Refused uploads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"just some notes, certainly not a picture\n" * 20, id="text"),
        pytest.param(photo("GIF"), id="gif"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", id="pdf"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
    ],
)
async def test_file_that_is_not_jpeg_png_or_webp_is_refused_with_415_whatever_its_name(
    app: FastAPI, client: httpx.AsyncClient, content: bytes
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, content, filename="avatar.png", content_type="image/png")
    assert_problem(response, 415, "UNSUPPORTED_IMAGE_TYPE")
    onboarding = await client.get(f"{PROFILE}/onboarding", headers=user.headers)
    assert onboarding.json()["basic_profile_completed"] is False


async def test_six_megabyte_file_is_refused_with_413_and_nothing_is_stored(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await anonymous_user(app)
    oversized = b"\x89PNG\r\n\x1a\n" + b"\x00" * (6 * 1_048_576)
    assert_problem(await upload(client, user, oversized), 413, "AVATAR_TOO_LARGE")
    assert not (tmp_path / "uploads").exists()
    assert (await client.get(PROFILE, headers=user.headers)).status_code == 404


async def test_file_at_the_size_limit_is_not_refused_for_its_size(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    content = encode(Image.effect_noise((1400, 1400), 120), "PNG")
    content += b"\x00" * (5 * 1_048_576 - len(content))  # trailing bytes after IEND are ignored
    assert len(content) == 5 * 1_048_576
    response = await upload(client, user, content)
    assert response.status_code == 200, response.text


async def test_decompression_bomb_png_is_refused_with_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    bomb = bilevel_png(30_000, 30_000, rows=64)
    assert len(bomb) < 10_000
    assert_problem(await upload(client, user, bomb), 422, "IMAGE_TOO_MANY_PIXELS")


async def test_png_over_the_decoded_pixel_budget_is_refused_with_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    # A complete, valid 36-megapixel image that compresses to a few kilobytes.
    assert_problem(await upload(client, user, bilevel_png(6_000, 6_000)), 422, "IMAGE_TOO_MANY_PIXELS")


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
async def test_truncated_image_is_refused_with_422(app: FastAPI, client: httpx.AsyncClient, image_format: str) -> None:
    user = await anonymous_user(app)
    noise = Image.effect_noise((500, 500), 100).convert("RGB")
    whole = encode(noise, image_format)
    assert_problem(await upload(client, user, whole[: len(whole) // 2]), 422, "IMAGE_UNREADABLE")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xff\xd8\xff" + b"\x00" * 64, id="jpeg-magic-then-zeros"),
        pytest.param(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8, id="jpeg-magic-then-garbage"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="png-signature-only"),
        pytest.param(bilevel_png(0, 10), id="png-zero-width"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", b"\x00" * 5), id="png-short-header"),
        pytest.param(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\xff" * 40, id="webp-garbage"),
        pytest.param(corrupt_idat_crc(bilevel_png(64, 64)), id="png-bad-checksum"),
    ],
)
async def test_hostile_or_broken_image_is_refused_with_422_never_500(
    app: FastAPI, client: httpx.AsyncClient, content: bytes
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, content)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_empty_file_is_refused_with_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert_problem(await upload(client, user, b""), 422, "EMPTY_FILE")


async def test_missing_file_field_is_a_422_validation_problem(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        AVATAR, files={"picture": ("a.png", photo(), "image/png")}, data={"note": "hi"}, headers=user.headers
    )
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"] == ["body", "file"]


async def test_body_that_is_not_multipart_is_refused_with_415(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(AVATAR, json={"file": "aGVsbG8="}, headers=user.headers)
    assert_problem(response, 415)


async def test_malformed_multipart_body_is_refused_without_a_500(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        AVATAR,
        content=b"--xyz\r\nthis is not a part header\r\n\r\n\r\n--xyz--",
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_upload_and_delete_require_a_signed_in_user(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(AVATAR, files={"file": ("a.png", photo(), "image/png")}), 401)
    assert_problem(await client.delete(AVATAR), 401)


async def test_eleventh_upload_in_a_minute_is_rate_limited(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for _ in range(10):
        assert (await upload(client, user, b"not an image")).status_code == 415
    response = await upload(client, user, photo())
    assert_problem(response, 429, "RATE_LIMITED")
    assert int(response.headers["Retry-After"]) >= 1


async def test_storage_failure_answers_503_and_leaves_the_profile_unchanged(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await anonymous_user(app)
    first = await uploaded(client, user)
    root = tmp_path / "uploads"
    root.rename(tmp_path / "uploads-elsewhere")
    root.write_bytes(b"a file where the storage directory should be")

    response = await upload(client, user, photo("JPEG"))

    assert_problem(response, 503, "STORAGE_UNAVAILABLE")
    assert await profile_avatar(client, user) == first


# Replacing and deleting --------------------------------------------------------------------


async def test_second_upload_deletes_the_first_picture_only_after_the_outbox_runs(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await anonymous_user(app)
    first = await uploaded(client, user)
    second = await uploaded(client, user, photo("JPEG", color=BLUE))
    assert first != second
    assert await profile_avatar(client, user) == second
    assert stored_path(tmp_path, first).exists()  # still there until the change is committed and delivered

    assert await deliver_outbox(app) == 1

    assert not stored_path(tmp_path, first).exists()
    assert stored_path(tmp_path, second).exists()
    assert (await client.get(first)).status_code == 404
    assert (await client.get(second)).status_code == 200


async def test_pending_deletion_of_an_old_picture_survives_account_erasure(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await anonymous_user(app)
    first = await uploaded(client, user)
    await uploaded(client, user)
    erased = await client.delete(f"{PROFILE}/all-data?confirm=true", headers=user.headers)
    assert erased.status_code == 200, erased.text

    await deliver_outbox(app)

    assert not stored_path(tmp_path, first).exists()


async def test_patching_avatar_url_cannot_point_the_profile_elsewhere(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    url = await uploaded(client, user)
    patched = await client.patch(PROFILE, json={"avatar_url": "https://evil.example/tracker.jpg"}, headers=user.headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["avatar_url"] == url
    assert await profile_avatar(client, user) == url


async def test_another_users_avatar_is_never_deleted(app: FastAPI, client: httpx.AsyncClient, tmp_path: Path) -> None:
    victim = await anonymous_user(app)
    victim_url = await uploaded(client, victim)
    attacker = await anonymous_user(app)
    await client.patch(PROFILE, json={"avatar_url": victim_url}, headers=attacker.headers)
    await uploaded(client, attacker)
    await client.patch(PROFILE, json={"avatar_url": victim_url}, headers=attacker.headers)
    await uploaded(client, attacker)
    await client.patch(PROFILE, json={"avatar_url": victim_url}, headers=attacker.headers)
    assert (await client.delete(AVATAR, headers=attacker.headers)).status_code == 200

    await deliver_outbox(app)

    assert stored_path(tmp_path, victim_url).exists()
    assert (await client.get(victim_url)).status_code == 200
    assert await profile_avatar(client, victim) == victim_url
    assert not list((tmp_path / "uploads" / "avatars" / attacker.id).iterdir())


async def test_deleting_the_avatar_twice_answers_200_then_404(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    user = await anonymous_user(app)
    url = await uploaded(client, user)

    first = await client.delete(AVATAR, headers=user.headers)
    assert first.status_code == 200, first.text
    assert first.json()["success"] is True
    assert first.json()["message"]
    assert await profile_avatar(client, user) is None
    await deliver_outbox(app)
    assert not stored_path(tmp_path, url).exists()

    second = await client.delete(AVATAR, headers=user.headers)
    assert assert_problem(second, 404, "AVATAR_NOT_FOUND")["detail"] == "No avatar to delete."


async def test_deleting_when_there_never_was_an_avatar_answers_404_and_creates_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.delete(AVATAR, headers=user.headers), 404, "AVATAR_NOT_FOUND")
    assert (await client.get(PROFILE, headers=user.headers)).status_code == 404
    onboarding = await client.get(f"{PROFILE}/onboarding", headers=user.headers)
    assert onboarding.json()["basic_profile_completed"] is False


# Public serving ----------------------------------------------------------------------------


async def test_media_route_serves_the_avatar_publicly_with_a_long_cache(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    url = await uploaded(client, user)
    response = await client.get(url)  # no Authorization header
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    cache = response.headers["cache-control"]
    assert "public" in cache
    assert "max-age=31536000" in cache
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "suffix",
    [
        "../../../../etc/passwd",
        "%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "avatars/..%2f..%2fsecret.txt",
        "lab-reports/{id}/report.pdf",
        "avatars/../lab-reports/{id}/report.pdf",
        "avatars/{id}/report.pdf",
        "avatars/{id}/00000000000000000000000000000000.jpg",
        "secret.txt",
    ],
)
async def test_media_route_refuses_traversal_other_folders_and_missing_files_with_404(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path, suffix: str
) -> None:
    user = await anonymous_user(app)
    await uploaded(client, user)
    root = tmp_path / "uploads"
    (root / "lab-reports" / user.id).mkdir(parents=True)
    (root / "lab-reports" / user.id / "report.pdf").write_bytes(b"%PDF-1.7 private lab report")
    (root / "avatars" / user.id / "report.pdf").write_bytes(b"%PDF-1.7 misplaced")
    (root / "secret.txt").write_text("secret")
    (tmp_path / "secret.txt").write_text("secret")

    response = await client.get(f"{MEDIA}/{suffix.format(id=user.id)}")

    assert response.status_code == 404, response.text
    assert b"secret" not in response.content
    assert b"PDF" not in response.content
