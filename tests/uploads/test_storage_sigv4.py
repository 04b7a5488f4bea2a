"""AWS Signature Version 4 as the S3 adapter computes it: AWS's own documented S3 examples
(access key AKIAIOSFODNN7EXAMPLE, 24 May 2013) must come out byte for byte, and the requests the
adapter sends must carry a signature an independent implementation (botocore) agrees with."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from src.adapters.storage import EMPTY_SHA256, S3Storage, StorageError, sigv4_headers

AWS_EXAMPLE = {
    "access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "region": "us-east-1",
    "now": datetime(2013, 5, 24, tzinfo=UTC),
}
AWS_EXAMPLE_HOST = "examplebucket.s3.amazonaws.com"
AWS_EXAMPLE_SCOPE = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
PUT_BODY = b"Welcome to Amazon S3."

AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<credential>[^,]+), SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "payload", "signed", "signature"),
    [
        pytest.param(
            "GET",
            "/test.txt",
            {},
            {"Range": "bytes=0-9"},
            EMPTY_SHA256,
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            id="get-object",
        ),
        pytest.param(
            "PUT",
            "/test%24file.text",
            {},
            {"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"},
            hashlib.sha256(PUT_BODY).hexdigest(),
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            id="put-object",
        ),
        pytest.param(
            "GET",
            "/",
            {"lifecycle": ""},
            {},
            EMPTY_SHA256,
            "host;x-amz-content-sha256;x-amz-date",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            id="get-bucket-lifecycle",
        ),
        pytest.param(
            "GET",
            "/",
            {"prefix": "J", "max-keys": "2"},
            {},
            EMPTY_SHA256,
            "host;x-amz-content-sha256;x-amz-date",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            id="list-objects",
        ),
    ],
)
def test_signature_matches_the_aws_documented_s3_examples(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], payload: str, signed: str, signature: str
) -> None:
    out = sigv4_headers(
        method=method,
        host=AWS_EXAMPLE_HOST,
        path=path,
        query=query,
        headers=headers,
        payload_sha256=payload,
        **AWS_EXAMPLE,  # type: ignore[arg-type]
    )
    assert out["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={AWS_EXAMPLE_SCOPE}, SignedHeaders={signed}, Signature={signature}"
    )
    assert out["x-amz-date"] == "20130524T000000Z"
    assert out["x-amz-content-sha256"] == payload


def test_documented_put_example_payload_hash_is_the_sha256_of_the_body() -> None:
    assert hashlib.sha256(PUT_BODY).hexdigest() == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"


def _botocore_signature(request: httpx.Request, *, secret: str, region: str) -> str:
    """The signature botocore computes for the same request (an independent implementation)."""
    match = AUTHORIZATION.match(request.headers["authorization"])
    assert match is not None
    signed = match["signed"].split(";")
    headers = {name: request.headers[name] for name in signed}
    aws = AWSRequest(method=request.method, url=str(request.url), data=request.content, headers=headers)
    aws.context["timestamp"] = request.headers["x-amz-date"]
    auth = S3SigV4Auth(Credentials(match["credential"].split("/")[0], secret), "s3", region)
    return str(auth.signature(auth.string_to_sign(aws, auth.canonical_request(aws)), aws))


class Recorder:
    def __init__(self, status: int = 200, content: bytes = b"") -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.content = content

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, content=self.content)


def adapter(transport: httpx.MockTransport, **overrides: object) -> tuple[httpx.AsyncClient, S3Storage]:
    http = httpx.AsyncClient(transport=transport)
    values: dict[str, object] = {
        "endpoint_url": "http://127.0.0.1:9000",
        "bucket": "ugoki-media",
        "region": "auto",
        "access_key_id": "AKIDTESTING",
        "secret_access_key": "s3cr3t/key+value",
    }
    values.update(overrides)
    return http, S3Storage(http, **values)  # type: ignore[arg-type]


async def test_put_is_a_path_style_request_signed_the_way_botocore_signs_it() -> None:
    recorder = Recorder()
    http, storage = adapter(httpx.MockTransport(recorder))
    body = b"\xff\xd8\xff jpeg bytes"
    async with http:
        await storage.put("avatars/abc/f00.jpg", body, content_type="image/jpeg", cache_control="public, max-age=60")

    (request,) = recorder.requests
    assert request.method == "PUT"
    assert str(request.url) == "http://127.0.0.1:9000/ugoki-media/avatars/abc/f00.jpg"
    assert request.content == body
    assert request.headers["content-type"] == "image/jpeg"
    assert request.headers["cache-control"] == "public, max-age=60"
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert re.fullmatch(r"\d{8}T\d{6}Z", request.headers["x-amz-date"])
    match = AUTHORIZATION.match(request.headers["authorization"])
    assert match is not None, request.headers["authorization"]
    assert match["credential"] == f"AKIDTESTING/{request.headers['x-amz-date'][:8]}/auto/s3/aws4_request"
    assert set(match["signed"].split(";")) >= {
        "host",
        "content-type",
        "cache-control",
        "x-amz-content-sha256",
        "x-amz-date",
    }
    assert match["signature"] == _botocore_signature(request, secret="s3cr3t/key+value", region="auto")


async def test_get_and_delete_are_signed_over_the_empty_payload() -> None:
    recorder = Recorder(content=b"stored bytes")
    http, storage = adapter(httpx.MockTransport(recorder), endpoint_url="https://acct.r2.example/base/")
    async with http:
        assert await storage.get("avatars/abc/f00.jpg") == b"stored bytes"
        await storage.delete("avatars/abc/f00.jpg")
    for request in recorder.requests:
        assert str(request.url) == "https://acct.r2.example/base/ugoki-media/avatars/abc/f00.jpg"
        assert request.headers["x-amz-content-sha256"] == EMPTY_SHA256
        match = AUTHORIZATION.match(request.headers["authorization"])
        assert match is not None
        assert match["signature"] == _botocore_signature(request, secret="s3cr3t/key+value", region="auto")


async def test_missing_object_reads_as_none_and_deleting_it_is_not_an_error() -> None:
    http, storage = adapter(httpx.MockTransport(Recorder(404, b"<Error><Code>NoSuchKey</Code></Error>")))
    async with http:
        assert await storage.get("avatars/abc/gone.jpg") is None
        await storage.delete("avatars/abc/gone.jpg")


@pytest.mark.parametrize("status", [400, 403, 500, 503])
async def test_error_answers_become_storage_errors_naming_the_s3_code(status: int) -> None:
    body = b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>x</Message></Error>"
    http, storage = adapter(httpx.MockTransport(Recorder(status, body)))
    async with http:
        for call in (
            storage.put("avatars/abc/f.jpg", b"x", content_type="image/jpeg"),
            storage.get("avatars/abc/f.jpg"),
            storage.delete("avatars/abc/f.jpg"),
        ):
            with pytest.raises(StorageError, match="SlowDown"):
                await call


async def test_network_failure_becomes_a_storage_error_without_the_secret() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http, storage = adapter(httpx.MockTransport(refuse))
    async with http:
        with pytest.raises(StorageError) as caught:
            await storage.put("avatars/abc/f.jpg", b"x", content_type="image/jpeg")
    assert "s3cr3t" not in str(caught.value)
    assert "s3cr3t" not in repr(storage)


async def test_keys_that_could_escape_the_bucket_are_never_sent() -> None:
    recorder = Recorder()
    http, storage = adapter(httpx.MockTransport(recorder))
    async with http:
        for key in ("../other-bucket/x.jpg", "avatars/../../x", "/avatars/x.jpg", "avatars/a b.jpg", "avatars"):
            with pytest.raises(StorageError):
                await storage.put(key, b"x", content_type="image/jpeg")
    assert recorder.requests == []
