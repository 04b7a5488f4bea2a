"""Example values for the API document, made from the JSON schemas of the bodies.

A client generator and a person reading `/docs` both want an example of every request body and
every answer. Writing one by hand for each of the hundreds of models goes stale, so the API
document synthesises them: a value the schema itself offers wins (`examples`, `const`, `default`,
the first `enum` member); otherwise a plausible value is built from the type, format, field name
and bounds. Every synthesised example is valid against its schema (the tests check all of them).

Models that need a more telling example declare their own (`model_config = ConfigDict(
json_schema_extra={"examples": [...]})` or `Field(examples=[...])`): those are used as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REF_PREFIX = "#/components/schemas/"
MAX_DEPTH = 8

# Plausible values by field name (the last part of the name decides, e.g. `friend_code`).
_STRING_BY_NAME: dict[str, str] = {
    "email": "ada@example.com",
    "email_address": "ada@example.com",
    "password": "correct horse battery staple",
    "username": "ada_runs",
    "display_name": "Ada",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "name": "Morning HIIT",
    "title": "Morning HIIT",
    "timezone": "Europe/Berlin",
    "language": "en",
    "locale": "en",
    "phone": "+44 20 7946 0000",
    "emergency_contact_phone": "+44 20 7946 0000",
    "emergency_contact_name": "Grace Hopper",
    "color": "#4CAF50",
    "unit": "kg",
    "goal_unit": "hours",
    "metric_type": "weight",
    "protocol": "16:8",
    "default_fasting_protocol": "16:8",
    "device_id": "device-7f3c2a",
    "friend_code": "ADA7K2",
    "join_code": "FAST42",
    "code": "ADA7K2",
    "token": "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]",
    "message": "How long should my first fast be?",
    "content": "How long should my first fast be?",
    "bio": "Fasting 16:8 and running twice a week.",
    "description": "A short description.",
    "notes": "Felt good.",
    "note": "Felt good.",
    "query": "time-restricted eating",
    "topic": "intermittent_fasting",
    "icon": "flame",
    "emoji": "🔥",
    "hint": "ugoki_pat_Ab3d",
    "lab_name": "City Lab",
    "doi": "10.1000/xyz123",
    "pmid": "12345678",
    "journal": "Cell Metabolism",
    "mime_type": "application/pdf",
    "content_type": "application/pdf",
    "extension": ".pdf",
    "refresh_token": "rt_4f1c9a7b2e6d4c0a8b3e5f7a9c1d2e3f",
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.signature",
    "id_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.e30.signature",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
_STRING_BY_SUFFIX: tuple[tuple[str, str], ...] = (
    ("_url", "https://ugoki.app/example"),
    ("_link", "ugoki://example"),
    ("_name", "Ada"),
    ("_notes", "Felt good."),
)
# Moments by field name, so that an end comes after its start.
_MOMENT_BY_NAME: dict[str, str] = {
    "end_time": "2026-03-10T23:30:00Z",
    "ended_at": "2026-03-10T23:30:00Z",
    "scheduled_end": "2026-03-10T23:30:00Z",
    "completed_at": "2026-03-10T23:30:00Z",
    "expires_at": "2026-04-09T07:30:00Z",
    "end_date": "2026-03-17",
    "period_end": "2026-03-17",
    "target_date": "2026-06-01",
    "date_of_birth": "1990-12-10",
}
_FORMATS: dict[str, str] = {
    "date-time": "2026-03-10T07:30:00Z",
    "date": "2026-03-10",
    "time": "07:30:00",
    "uuid": "7d7e3b8a-2f0c-4b9e-9a61-3c5d2f1e8a40",
    "email": "ada@example.com",
    "uri": "https://ugoki.app/example",
    "url": "https://ugoki.app/example",
    "duration": "PT16H",
    "ipv4": "203.0.113.7",
    "ipv6": "2001:db8::7",
    "hostname": "ugoki.app",
    "password": "correct horse battery staple",
}
# Tried in turn when a `pattern` refuses the value built first.
_PATTERN_CANDIDATES = ("example", "en", "ada_runs", "+44 20 7946 0000", "A1", "a", "1", "weight", "x-1")
_NUMBER_BY_NAME: dict[str, float] = {
    "weight_kg": 72.5,
    "starting_weight_kg": 78.0,
    "target_weight_kg": 70.0,
    "height_cm": 172.0,
    "value": 72.5,
    "rating": 4,
    "hours": 16,
    "target_hours": 16,
    "custom_hours": 16,
    "custom_fast_hours": 16,
    "duration_minutes": 20,
    "duration_seconds": 1200,
    "calories": 420,
    "xp": 50,
    "xp_earned": 50,
    "level": 3,
    "limit": 50,
    "offset": 0,
    "count": 3,
    "total": 3,
}


class _Unresolvable(LookupError):
    """A `$ref` that the document does not define."""


def example_for(schema: Mapping[str, Any], components: Mapping[str, Any], *, name: str = "") -> Any:
    """An example value valid against `schema` (which may `$ref` into `components`)."""
    return _example(schema, components, name=name, depth=0, seen=())


def _resolve(ref: str, components: Mapping[str, Any]) -> Mapping[str, Any]:
    if not ref.startswith(REF_PREFIX):
        raise _Unresolvable(ref)
    found = components.get("schemas", {}).get(ref.removeprefix(REF_PREFIX))
    if not isinstance(found, Mapping):
        raise _Unresolvable(ref)
    return found


def _offered(schema: Mapping[str, Any]) -> tuple[bool, Any]:
    """A value the schema offers itself: (True, value), or (False, None)."""
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return True, examples[0]
    if "example" in schema:
        return True, schema["example"]
    if "const" in schema:
        return True, schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return True, enum[0]
    if schema.get("default") is not None:
        return True, schema["default"]
    return False, None


def _is_null(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "null"


def _example(
    schema: Mapping[str, Any], components: Mapping[str, Any], *, name: str, depth: int, seen: tuple[str, ...]
) -> Any:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen or depth > MAX_DEPTH:
            return _shallow(_resolve(ref, components))
        return _example(_resolve(ref, components), components, name=name, depth=depth + 1, seen=(*seen, ref))
    offered, value = _offered(schema)
    if offered:
        return value
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            usable = [b for b in branches if isinstance(b, Mapping) and not _is_null(b)] or branches
            return _example(usable[0], components, name=name, depth=depth, seen=seen)
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: dict[str, Any] = {}
        for part in all_of:
            value = _example(part, components, name=name, depth=depth, seen=seen)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or kind
        kind = kinds[0]
    if kind == "object" or "properties" in schema:
        return _object(schema, components, depth=depth, seen=seen)
    if kind == "array":
        return _array(schema, components, name=name, depth=depth, seen=seen)
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return int(_number(schema, name, integer=True))
    if kind == "number":
        return _number(schema, name, integer=False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {}  # any value


def _shallow(schema: Mapping[str, Any]) -> Any:
    """A minimal value for a schema met again inside itself (a recursive model)."""
    if schema.get("type") == "array":
        return []
    if schema.get("type") == "object" or "properties" in schema:
        return {}
    return None


def _object(schema: Mapping[str, Any], components: Mapping[str, Any], *, depth: int, seen: tuple[str, ...]) -> Any:
    properties = schema.get("properties")
    out: dict[str, Any] = {}
    if isinstance(properties, Mapping):
        for key, sub in properties.items():
            if isinstance(sub, Mapping):
                out[key] = _example(sub, components, name=key, depth=depth + 1, seen=seen)
        return out
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and extra:
        names = schema.get("propertyNames")
        key = "key"
        if isinstance(names, Mapping):
            key = str(_example(names, components, name="key", depth=depth + 1, seen=seen))
        out[key] = _example(extra, components, name=key, depth=depth + 1, seen=seen)
    return out


def _array(
    schema: Mapping[str, Any], components: Mapping[str, Any], *, name: str, depth: int, seen: tuple[str, ...]
) -> Any:
    items = schema.get("items")
    if not isinstance(items, Mapping) or schema.get("maxItems") == 0:
        return []
    item = _example(items, components, name=name, depth=depth + 1, seen=seen)
    wanted = max(1, int(schema.get("minItems", 1)))
    if wanted > 1 and schema.get("uniqueItems"):
        return [item]  # distinct values cannot be made up reliably; one is enough to show the shape
    return [item] * wanted


def _string(schema: Mapping[str, Any], name: str) -> str:
    fmt = schema.get("format")
    value: str
    if fmt in ("date-time", "date") and name in _MOMENT_BY_NAME:
        moment = _MOMENT_BY_NAME[name]
        value = moment if fmt == "date-time" or "T" not in moment else moment.split("T")[0]
        if fmt == "date-time" and "T" not in value:
            value += "T07:30:00Z"
    elif isinstance(fmt, str) and fmt in _FORMATS:
        value = _FORMATS[fmt]
    elif name in _STRING_BY_NAME:
        value = _STRING_BY_NAME[name]
    else:
        value = next((v for suffix, v in _STRING_BY_SUFFIX if name.endswith(suffix)), "")
        value = value or (name.replace("_", " ") if name else "string")
    return _fit_string(value, schema)


def _fit_string(value: str, schema: Mapping[str, Any]) -> str:
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    pattern = schema.get("pattern")

    def fits(candidate: str) -> bool:
        if len(candidate) < low or (isinstance(high, int) and len(candidate) > high):
            return False
        return not isinstance(pattern, str) or re.search(pattern, candidate) is not None

    if fits(value):
        return value
    candidates = [value, *_PATTERN_CANDIDATES]
    for candidate in candidates:
        sized = candidate
        if len(sized) < low:
            sized = (sized * (low // max(len(sized), 1) + 1))[: max(low, len(sized))]
        if isinstance(high, int):
            sized = sized[:high]
        if fits(sized):
            return sized
    return value  # the tests report a schema no candidate fits


def _number(schema: Mapping[str, Any], name: str, *, integer: bool) -> float:
    value = float(_NUMBER_BY_NAME.get(name, 1))
    step = 1.0 if integer else 0.5
    minimum = schema.get("minimum")
    maximum = schema.get("maximum")
    exclusive_min = schema.get("exclusiveMinimum")
    exclusive_max = schema.get("exclusiveMaximum")
    if isinstance(minimum, int | float) and value < minimum:
        value = float(minimum)
    if isinstance(exclusive_min, int | float) and value <= exclusive_min:
        value = float(exclusive_min) + step
    if isinstance(maximum, int | float) and value > maximum:
        value = float(maximum)
    if isinstance(exclusive_max, int | float) and value >= exclusive_max:
        value = float(exclusive_max) - step
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        value = round(value / multiple) * multiple
    if integer:
        return float(round(value))
    return value
