"""Whatever arrives, the answer is a problem body with a stable code (never a 500), and nothing
is stored."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.bloodwork.anthropic_server import FakeAnthropic
from tests.bloodwork.documents import encrypted_report, line_report, multi_page_report, photo, scanned_pdf
from tests.bloodwork.helpers import UPLOAD, assert_nothing_stored, assert_problem, upload
from tests.bloodwork.reports import fbc_table_report
from tests.factories import anonymous_user
from tests.uploads.test_avatar import bilevel_png

MB = 1_048_576


async def test_text_file_named_like_a_pdf_is_refused_as_unsupported(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, b"Haemoglobin 145 g/L 130 - 170\n", filename="report.pdf")
    assert_problem(response, 415, "UNSUPPORTED_FILE_TYPE")
    await assert_nothing_stored(app)


async def test_file_over_the_size_limit_is_refused_with_413(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, b"%PDF-1.7\n" + b"0" * (20 * MB))
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    await assert_nothing_stored(app)


async def test_streamed_oversized_upload_is_refused_before_the_rest_is_read(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    boundary = "bloodwork-boundary"
    chunk = b"0" * (256 * 1024)
    total_chunks = 80  # 20 MB
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
        ).encode()
        for _ in range(total_chunks):
            sent += 1
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        UPLOAD,
        headers={**user.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert sent < total_chunks // 2 + 2  # stopped a little past 10 MB, not at 20 MB
    await assert_nothing_stored(app)


async def test_empty_file_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert_problem(await upload(client, user, b""), 422, "EMPTY_FILE")


async def test_pdf_without_text_is_refused_when_nothing_can_read_it(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, scanned_pdf())
    assert_problem(response, 422, "NO_TEXT_FOUND")
    await assert_nothing_stored(app)


async def test_corrupt_pdf_is_refused_as_unreadable(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    garbage = await upload(client, user, b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\n" + b"\xde\xad" * 500)
    assert_problem(garbage, 422, "UNREADABLE_DOCUMENT")
    document = fbc_table_report()
    truncated = await upload(client, user, document[: len(document) // 3])
    assert_problem(truncated, 422, "UNREADABLE_DOCUMENT")
    await assert_nothing_stored(app)


async def test_password_protected_pdf_is_refused_as_unreadable(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, encrypted_report(["Haemoglobin 145 g/L 130 - 170"]))
    assert_problem(response, 422, "UNREADABLE_DOCUMENT")


async def test_pdf_without_results_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    letter = line_report(
        [
            "Dear patient,",
            "Your appointment is on 12/04/2026 at 10:30 in room 4.",
            "Please bring this letter and arrive 15 minutes early.",
        ]
    )
    response = await upload(client, user, letter)
    assert_problem(response, 422, "NO_BIOMARKERS_FOUND")
    await assert_nothing_stored(app)


@pytest.mark.parametrize(("kind", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
async def test_photo_is_refused_when_no_reader_is_configured(
    app: FastAPI, client: httpx.AsyncClient, kind: str, content_type: str
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, photo(kind), filename="report.jpg", content_type=content_type)
    assert_problem(response, 422, "IMAGE_NOT_SUPPORTED_OFFLINE")
    await assert_nothing_stored(app)


@pytest.mark.parametrize("settings_overrides", ["slow_parse"], indirect=True)
async def test_parse_that_exceeds_the_time_limit_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, multi_page_report(8, ["Haemoglobin 145 g/L 130 - 170"] * 30))
    assert_problem(response, 422, "PARSE_TIMEOUT")
    await assert_nothing_stored(app)


async def test_request_without_a_file_field_is_a_validation_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        UPLOAD, headers=user.headers, files={"document": ("r.pdf", b"%PDF-", "application/pdf")}
    )
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"] == ["body", "file"]


async def test_body_that_is_not_multipart_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(UPLOAD, headers=user.headers, json={"file": "JVBERi0xLjc="})
    assert_problem(response, 415, "MULTIPART_REQUIRED")


async def test_malformed_multipart_body_is_a_bad_request(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    no_boundary = await client.post(
        UPLOAD, headers={**user.headers, "Content-Type": "multipart/form-data"}, content=b"--x\r\n\r\n"
    )
    assert_problem(no_boundary, 400, "MALFORMED_UPLOAD")
    broken = await client.post(
        UPLOAD,
        headers={**user.headers, "Content-Type": "multipart/form-data; boundary=abc"},
        content=b'--abc\r\nContent-Disposition: form-data; name="file"\r\n\r\n%PDF-1.7' + b"\r\n--zzz garbage",
    )
    assert broken.status_code in (400, 422), broken.text
    assert broken.headers["content-type"].startswith("application/problem+json")


async def test_random_bytes_never_cause_a_server_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    rng = random.Random(20260310)
    prefixes = [
        b"",
        b"%PDF-1.4\n",
        b"\xff\xd8\xff\xe0",
        b"\x89PNG\r\n\x1a\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    ]
    for index in range(9):  # the upload rate limit allows 10 a minute
        data = prefixes[index % len(prefixes)] + rng.randbytes(rng.randint(1, 4000))
        response = await upload(client, user, data)
        assert response.status_code in (415, 422), (index, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    await assert_nothing_stored(app)


async def test_decompression_bomb_photo_is_refused_before_it_is_decoded(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    bomb = bilevel_png(30_000, 30_000, rows=64)  # 900 megapixels in a few kilobytes
    assert len(bomb) < 10_000
    response = await upload(client, user, bomb, filename="report.png", content_type="image/png")
    assert_problem(response, 422, "IMAGE_TOO_LARGE")
    await assert_nothing_stored(app)


@pytest.mark.parametrize("settings_overrides", ["anthropic"], indirect=True)
async def test_decompression_bomb_photo_never_reaches_the_language_model(
    app: FastAPI, client: httpx.AsyncClient, anthropic: FakeAnthropic
) -> None:
    user = await anonymous_user(app)
    response = await upload(
        client, user, bilevel_png(30_000, 30_000, rows=64), filename="r.png", content_type="image/png"
    )
    assert_problem(response, 422, "IMAGE_TOO_LARGE")
    assert anthropic.exchanges == []
    await assert_nothing_stored(app)
