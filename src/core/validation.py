"""Validation shared by request models: text and free-form JSON documents clients may send."""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

MAX_JSON_DEPTH = 16
# Fields a request body may carry that its model does not declare (ignored: clients of other
# versions send some, e.g. the mobile app's `identity_id`), at most this many per object and this
# many bytes together (their names and values, as JSON).
MAX_IGNORED_FIELDS = 64
MAX_IGNORED_BYTES = 16 * 1024


def _json_size_over(value: Any, limit: int) -> bool:
    """Whether `value` serialises to more than `limit` bytes of JSON (about: text counts by
    characters), found without serialising it and stopping as soon as it is over."""
    size = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, dict):
            size += 2 + 2 * len(item)
            for key, child in item.items():
                size += len(str(key)) + 2
                pending.append(child)
        elif isinstance(item, list | tuple):
            size += 2 + len(item)
            pending.extend(item)
        else:
            size += len(str(item)) if isinstance(item, int | float) else 5
        if size > limit:
            return True
    return False


@cache
def _declared_keys(model: type[BaseModel]) -> frozenset[str]:
    """Every key that sets a field of `model`: names, aliases and validation aliases."""
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(name)
        for alias in (field.alias, field.validation_alias):
            if isinstance(alias, str):
                keys.add(alias)
            elif isinstance(alias, AliasChoices):
                keys.update(choice for choice in alias.choices if isinstance(choice, str))
    return frozenset(keys)


class RequestBody(BaseModel):
    """Base of request bodies (and of the objects inside them): a field the model does not
    declare is ignored, as clients send some (the mobile app adds `identity_id`; other versions
    other fields), but only within bounds: more than `MAX_IGNORED_FIELDS` such fields in one
    object, or more than `MAX_IGNORED_BYTES` of them together, are refused (422) instead of being
    read and thrown away. Models that refuse unknown fields outright (`extra="forbid"`) keep
    doing so."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _bounded_ignored_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict) or cls.model_config.get("extra", "ignore") != "ignore":
            return data
        declared = _declared_keys(cls)
        ignored = {key: value for key, value in data.items() if key not in declared}
        if len(ignored) > MAX_IGNORED_FIELDS:
            raise PydanticCustomError(
                "too_many_unknown_fields",
                "at most {limit} fields this request does not use may be sent",
                {"limit": MAX_IGNORED_FIELDS},
            )
        if ignored and _json_size_over(ignored, MAX_IGNORED_BYTES):
            raise PydanticCustomError(
                "unknown_fields_too_large",
                "fields this request does not use may take at most {limit} bytes together",
                {"limit": MAX_IGNORED_BYTES},
            )
        return data


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
