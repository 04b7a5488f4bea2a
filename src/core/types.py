"""Column types shared by every module, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ValidationInfo, field_validator
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from src.core.validation import RequestBody


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant.

    PostgreSQL stores `timestamptz`; SQLite has no timezone support, so values are normalised to
    UTC before they are written and re-attached to UTC when they are read. Naive datetimes are
    refused: every instant in the code base must carry its zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSONType: Any = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Normalise an incoming instant to UTC; a value without offset is taken as UTC."""
    try:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("datetime out of range") from exc


def refuse_number(value: Any) -> Any:
    """Instants are ISO 8601 text: a number (seconds? milliseconds?) is refused, not guessed."""
    if isinstance(value, int | float):
        raise ValueError("an instant must be ISO 8601 text with its UTC offset, not a number")
    return value


UTCInstant = Annotated[datetime, BeforeValidator(refuse_number), AfterValidator(ensure_utc)]


def _scalar_kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation accepts (through Optional, unions and Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _scalar_kinds(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return {kind for arg in typing.get_args(annotation) for kind in _scalar_kinds(arg)}
    return {annotation}


class ExactScalars(RequestBody):
    """Base of request bodies: JSON `true`/`false` is refused where a number is expected (pydantic
    would read `"rating": true` as 1), and a number where an instant or a date is expected; and
    unknown fields are ignored only within bounds (`RequestBody`)."""

    @field_validator("*", mode="before")
    @classmethod
    def _exact_scalars(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None or not isinstance(value, int | float):
            return value
        kinds = _scalar_kinds(cls.model_fields[info.field_name].annotation)
        if isinstance(value, bool):
            if bool not in kinds and kinds & {int, float}:
                raise ValueError("must be a number, not true or false")
        elif kinds & {datetime, date, AwareDatetime} and not kinds & {int, float, str}:
            raise ValueError("must be ISO 8601 text, not a number")
        return value
