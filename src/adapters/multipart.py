"""Reading one file field of a multipart upload as the request streams in: the size limit is
enforced while reading (the rest of an oversized body is never read), the bytes are hashed on the
way, and every other part is discarded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from src.core.errors import AppError, BadRequest, UnprocessableEntity, UnsupportedMediaType


class MultipartRequired(UnsupportedMediaType):
    code = "MULTIPART_REQUIRED"


class EmptyFile(UnprocessableEntity):
    code = "EMPTY_FILE"


class MalformedUpload(BadRequest):
    code = "MALFORMED_UPLOAD"


@dataclass(frozen=True)
class UploadedFile:
    data: bytes
    sha256: str


class _FilePart:
    """Multipart parser callbacks keeping the first part named `field`."""

    def __init__(self, field: str, limit: int) -> None:
        self.field = field.encode()
        self.limit = limit
        self.digest = hashlib.sha256()
        self.data = bytearray()
        self.found = False
        self.too_large = False
        self._receiving = False
        self._header = bytearray()
        self._value = bytearray()
        self._disposition = b""

    def on_part_begin(self) -> None:
        self._receiving = False
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._header.clear()
        self._value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") == self.field and not self.found:
            self.found = True
            self._receiving = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._receiving:
            return
        chunk = data[start:end]
        if len(self.data) + len(chunk) > self.limit:
            self.too_large = True
            self._receiving = False
            self.data = bytearray()
            return
        self.digest.update(chunk)
        self.data += chunk

    def on_part_end(self) -> None:
        self._receiving = False

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }


async def read_file_field(request: Request, *, field: str, limit: int, too_large: AppError) -> UploadedFile:
    """The bytes (and SHA-256) of the multipart field `field`; raises `too_large` as soon as the
    file passes `limit` bytes."""
    media_type, params = parse_options_header(request.headers.get("content-type", ""))
    if media_type != b"multipart/form-data":
        raise MultipartRequired(f"Send the file as multipart/form-data with a `{field}` field.")
    boundary = params.get(b"boundary")
    if not boundary:
        raise MalformedUpload("The multipart body has no boundary.")
    part = _FilePart(field, limit)
    try:
        parser = MultipartParser(boundary, part.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
            if part.too_large:
                raise too_large
        parser.finalize()
    except (FormParserError, ValueError):
        raise MalformedUpload("The multipart body is malformed.") from None
    except ClientDisconnect:
        raise MalformedUpload("The upload was interrupted.") from None
    if not part.found:
        raise RequestValidationError(
            [{"loc": ("body", field), "msg": "Field required", "type": "missing", "input": None}]
        )
    return UploadedFile(bytes(part.data), part.digest.hexdigest())


def upload_body(field: str, description: str) -> dict[str, Any]:
    """The OpenAPI `requestBody` of an upload route (`openapi_extra`): one required binary field."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [field],
                        "properties": {field: {"type": "string", "format": "binary", "description": description}},
                    }
                }
            },
        }
    }
