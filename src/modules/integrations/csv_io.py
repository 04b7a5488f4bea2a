"""CSV import and export of weights and fasts, in the shapes other apps export.

Reading: UTF-8 with or without a byte-order mark; a header row; comma, semicolon or tab as the
delimiter (whichever the header uses most); with a semicolon, a decimal comma is read too
("81,3"). Columns are matched by name, case-insensitively (see `WEIGHT_DATE`, `WEIGHT_VALUE`,
`FAST_START`, ...); unknown columns are ignored. Dates are ISO 8601 (`2026-03-01`,
`2026-03-01T07:30:00+01:00`, `2026-03-01 07:30`), `2026/03/01` or `01.03.2026`; a time without
an offset is in the person's time zone, a date without a time is noon there (so that the same
file always gives the same instants).

Every row goes through the owning module's interface with the rules of the API (metrics: the
same validation and upsert of a value at an instant, weight XP at most once per day; time keeper:
a logged fast at most 7 days back, never overlapping another). So importing a file twice changes
nothing the second time: a weight at the same instant is the same row, and a fast with the same
start and end is recognised as already there.

Hostile input is bounded: `MAX_BYTES`, `MAX_ROWS`, `MAX_LINE_CHARS`; NUL characters are refused.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from src.core.errors import AppError
from src.core.uow import UnitOfWork
from src.modules.metrics import Measurement, MetricSource
from src.modules.metrics import metrics as metrics_service
from src.modules.profile import profile_service
from src.modules.time_keeper import OpenWindowRequest, WindowType, time_keeper

from .errors import CsvColumnsMissing, CsvTooLarge, CsvUnreadable
from .models import CsvImportResult, CsvRowError

MAX_BYTES = 1_048_576
MAX_ROWS = 5000
MAX_LINE_CHARS = 1000
MAX_REPORTED_ERRORS = 100
EXPORT_LIMIT = 10_000
LB_TO_KG = 0.45359237

WEIGHT_DATE = ("timestamp", "datetime", "date", "date/time", "time", "day", "measured at", "measured_at")
WEIGHT_VALUE = (
    "weight_kg", "weight (kg)", "weight kg", "kg", "weight", "weight_lb", "weight_lbs", "weight (lb)",
    "weight (lbs)", "weight lb", "weight lbs", "lb", "lbs", "body weight", "bodyweight", "value",
)  # fmt: skip
WEIGHT_UNIT = ("unit", "units", "weight unit")
FAST_START = ("start", "start_time", "start time", "started", "started at", "fast start", "begin", "from")
FAST_END = ("end", "end_time", "end time", "ended", "ended at", "fast end", "finish", "to")
FAST_PROTOCOL = ("protocol", "plan", "fasting protocol", "fast type", "type")


class _RowError(ValueError):
    pass


# Reading ------------------------------------------------------------------------------------


def read_rows(data: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]], str]:
    """(normalised header, rows as {column: text} with their line numbers, delimiter)."""
    if len(data) > MAX_BYTES:
        raise CsvTooLarge(f"A CSV file may have at most {MAX_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvUnreadable("The file is not UTF-8 text") from exc
    if "\x00" in text:
        raise CsvUnreadable("The file contains NUL characters")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CsvUnreadable("The file is empty: a header row is needed")
    if len(lines) > MAX_ROWS + 1:
        raise CsvTooLarge(f"A CSV file may have at most {MAX_ROWS} rows")
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise CsvUnreadable(f"Line {number} is longer than {MAX_LINE_CHARS} characters")
    header_line = lines[0]
    delimiter = max((";", ",", "\t"), key=header_line.count)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except csv.Error as exc:
        raise CsvUnreadable(f"The header row cannot be read: {exc}") from exc

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                yield reader.line_num, {header[i]: cell.strip() for i, cell in enumerate(cells) if i < len(header)}
        except csv.Error as exc:
            raise CsvUnreadable(f"Line {reader.line_num} cannot be read: {exc}") from exc

    return header, rows(), delimiter


def _column(header: Sequence[str], names: Sequence[str]) -> str | None:
    for name in names:
        if name in header:
            return name
    return None


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S",
                     "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")  # fmt: skip


def parse_instant(text: str, zone: ZoneInfo, *, date_only_at: time | None = time(12, 0)) -> datetime:
    value = text.strip()
    if not value:
        raise _RowError("the date is empty")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise _RowError(f"{value!r} is not a valid date and time") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    if date_only_at is not None:
        for fmt in _DATE_FORMATS:
            try:
                day = datetime.strptime(value, fmt).date()
            except ValueError:
                continue
            return datetime.combine(day, date_only_at, tzinfo=zone)
    raise _RowError(f"{value!r} is not a date this import reads (use e.g. 2026-03-01 or 2026-03-01T07:30)")


def parse_number(text: str, *, decimal_comma: bool) -> float:
    value = text.strip()
    if decimal_comma:
        value = value.replace(",", ".")
    try:
        number = float(value)
    except ValueError as exc:
        raise _RowError(f"{text!r} is not a number") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise _RowError(f"{text!r} is not a number")
    return number


def _unit_of(column: str, explicit: str | None, default: str) -> str:
    if explicit:
        unit = explicit.strip().lower()
        if unit in ("kg", "kgs", "kilogram", "kilograms"):
            return "kg"
        if unit in ("lb", "lbs", "pound", "pounds"):
            return "lb"
        raise _RowError(f"unit {explicit!r} is neither kg nor lb")
    if "lb" in column:
        return "lb"
    if "kg" in column:
        return "kg"
    return default


# Import -------------------------------------------------------------------------------------


class _Report:
    def __init__(self) -> None:
        self.result = CsvImportResult(rows=0, created=0, unchanged=0, rejected=0, errors=[])

    def add(self, outcome: str) -> None:
        self.result.rows += 1
        setattr(self.result, outcome, getattr(self.result, outcome) + 1)

    def reject(self, line: int, reason: str) -> None:
        self.add("rejected")
        if len(self.result.errors) < MAX_REPORTED_ERRORS:
            self.result.errors.append(CsvRowError(line=line, reason=reason[:300]))


def _reason(exc: Exception) -> str:
    if isinstance(exc, AppError):
        return f"{exc.code}: {exc.detail}"
    if isinstance(exc, ValidationError):
        return "; ".join(str(e.get("msg", "invalid")) for e in exc.errors(include_url=False))
    return str(exc)


class CsvImports:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def import_weights(self, identity_id: UUID, data: bytes, *, default_unit: str = "kg") -> CsvImportResult:
        header, rows, delimiter = read_rows(data)
        date_col = _column(header, WEIGHT_DATE)
        value_col = _column(header, WEIGHT_VALUE)
        if date_col is None or value_col is None:
            raise CsvColumnsMissing(
                "Weights need a date column (date, timestamp, …) and a weight column (weight, weight_kg, "
                f"weight_lb, …); found: {', '.join(header[:20])}"
            )
        unit_col = _column(header, WEIGHT_UNIT)
        zone = await profile_service(self.uow).zone_of(identity_id)
        metrics = metrics_service(self.uow)
        report = _Report()
        for line, row in rows:
            try:
                timestamp = parse_instant(row.get(date_col, ""), zone)
                value = parse_number(row.get(value_col, ""), decimal_comma=delimiter == ";")
                unit = _unit_of(value_col, row.get(unit_col, "") if unit_col else None, default_unit)
                measurement = Measurement(
                    metric_type="weight_kg" if unit == "kg" else "weight_lbs", value=value, timestamp=timestamp
                )
                async with self.session.begin_nested():
                    [stored] = await metrics.store(identity_id, [measurement], source=MetricSource.USER_INPUT)
            except (AppError, ValidationError, _RowError) as exc:
                report.reject(line, _reason(exc))
                continue
            report.add("created" if stored.changed else "unchanged")
        return report.result

    async def import_fasts(self, identity_id: UUID, data: bytes) -> CsvImportResult:
        header, rows, _delimiter = read_rows(data)
        start_col, end_col = _column(header, FAST_START), _column(header, FAST_END)
        if start_col is None or end_col is None:
            raise CsvColumnsMissing(
                f"Fasts need a start column (start, started, …) and an end column (end, ended, …); "
                f"found: {', '.join(header[:20])}"
            )
        protocol_col = _column(header, FAST_PROTOCOL)
        zone = await profile_service(self.uow).zone_of(identity_id)
        keeper = time_keeper(self.uow)
        now = self.uow.now()
        existing = {
            (fast.start_time, fast.end_time)
            for fast in await keeper.completed_fasts_between(
                identity_id, now - timedelta(days=8), now + timedelta(days=1)
            )
        }
        report = _Report()
        for line, row in rows:
            try:
                start = parse_instant(row.get(start_col, ""), zone, date_only_at=None)
                end = parse_instant(row.get(end_col, ""), zone, date_only_at=None)
                if (start, end) in existing:
                    report.add("unchanged")
                    continue
                request = _fast_request(start, end, row.get(protocol_col, "") if protocol_col else "")
                async with self.session.begin_nested():
                    window = await keeper.log_fast(identity_id, request)
            except (AppError, ValidationError, _RowError) as exc:
                report.reject(line, _reason(exc))
                continue
            existing.add((window.start_time, window.end_time))
            report.add("created")
        return report.result


def _fast_request(start: datetime, end: datetime, protocol: str) -> OpenWindowRequest:
    """A logged fast of the file's protocol; an unknown or missing protocol is a custom fast of
    the row's length (whole hours, 1–72)."""
    hours = max(1, min(72, round((end - start).total_seconds() / 3600)))
    base: dict[str, Any] = {"window_type": WindowType.FAST, "start_time": start, "end_time": end}
    if protocol.strip() and protocol.strip().lower() != "custom":
        try:
            return OpenWindowRequest.model_validate(
                {**base, "protocol": protocol.strip(), "metadata": {"imported": "csv"}}
            )
        except ValidationError:
            pass
    return OpenWindowRequest.model_validate(
        {**base, "protocol": "custom", "custom_hours": hours, "metadata": {"imported": "csv"}}
    )


# Export -------------------------------------------------------------------------------------


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


class CsvExports:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def weights(self, identity_id: UUID) -> bytes:
        """`timestamp,date,weight_kg,weight_lb`: the instant in the person's zone (with offset),
        its local date, the weight in kg and in lb. Reads back in as it was."""
        zone = await profile_service(self.uow).zone_of(identity_id)
        values = await metrics_service(self.uow).series_for(
            identity_id, "weight_kg", limit=EXPORT_LIMIT, accessed_by="csv_export"
        )
        rows = []
        for metric in values:
            local = metric.timestamp.astimezone(zone)
            rows.append([local.isoformat(), local.date().isoformat(), round(metric.value, 2),
                         round(metric.value / LB_TO_KG, 1)])  # fmt: skip
        return _csv(("timestamp", "date", "weight_kg", "weight_lb"), rows)

    async def fasts(self, identity_id: UUID, *, since: date | None = None) -> bytes:
        """`start,end,protocol,hours`: completed fasts, times in the person's zone (with offset)."""
        zone = await profile_service(self.uow).zone_of(identity_id)
        now = self.uow.now()
        start = datetime.combine(since, time(0), tzinfo=zone) if since else now - timedelta(days=3660)
        fasts = await time_keeper(self.uow).completed_fasts_between(identity_id, start, now + timedelta(days=1))
        rows = [
            [
                fast.start_time.astimezone(zone).isoformat(),
                (fast.end_time or fast.start_time).astimezone(zone).isoformat(),
                fast.protocol or "",
                round(fast.elapsed_seconds / 3600, 2),
            ]
            for fast in fasts[-EXPORT_LIMIT:]
        ]
        return _csv(("start", "end", "protocol", "hours"), rows)
