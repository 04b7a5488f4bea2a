"""Validation shared by request models: text and free-form JSON documents clients may send."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_JSON_DEPTH = 16


def storable_text[T: (str, str | None)](value: T) -> T:
    """Text both databases store alike: PostgreSQL refuses NUL characters (SQLite would keep them),
    and lone surrogates cannot be encoded at all. `None` passes (for optional fields)."""
    if value is not None:
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("must be valid Unicode text") from exc
    return value


StorableText = Annotated[str, AfterValidator(storable_text)]


def check_storable_json(value: Any, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH, what: str = "metadata") -> Any:
    """Refuse what parses from a request body but cannot be stored and answered faithfully on
    both databases: nesting too deep to serialise, NaN/Infinity, NUL characters and lone
    surrogates in strings, and documents over `max_bytes` once serialised."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise ValueError(f"{what} must nest at most {max_depth} levels deep")
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
                pending.extend((child, depth + 1) for child in item.values())
            else:
                pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{what} must not contain NaN or Infinity")
        elif isinstance(item, str):
            if "\x00" in item:
                raise ValueError(f"{what} text must not contain NUL characters")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"{what} text must be valid Unicode") from exc
    if len(json.dumps(value).encode()) > max_bytes:
        raise ValueError(f"{what} must serialise to at most {max_bytes} bytes")
    return value
