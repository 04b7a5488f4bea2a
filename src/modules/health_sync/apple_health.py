"""Reading an Apple Health export (export.xml, or the export .zip holding it), streamed through
expat without keeping the document: only top-level records of the mapped types are looked at."""

from __future__ import annotations

import math
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, NoReturn
from xml.parsers import expat
from zoneinfo import ZoneInfo

from .errors import HealthExportTooLarge, InvalidHealthExport, UnsafeHealthExport
from .recovery import local_midnight
from .rules import BODY_FAT, CALORIES, DAILY_TYPES, FUTURE_TOLERANCE, HRV, OLDEST, RESTING_HR, SLEEP, STEPS, WEIGHT

APPLE_TYPES: dict[str, str] = {
    "HKQuantityTypeIdentifierRestingHeartRate": RESTING_HR,
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": HRV,
    "HKQuantityTypeIdentifierStepCount": STEPS,
    "HKQuantityTypeIdentifierActiveEnergyBurned": CALORIES,
    "HKQuantityTypeIdentifierBodyMass": WEIGHT,
    "HKQuantityTypeIdentifierBodyFatPercentage": BODY_FAT,
    "HKCategoryTypeIdentifierSleepAnalysis": SLEEP,
}
ASLEEP_VALUES = frozenset(
    {
        "HKCategoryValueSleepAnalysisAsleep",
        "HKCategoryValueSleepAnalysisAsleepUnspecified",
        "HKCategoryValueSleepAnalysisAsleepCore",
        "HKCategoryValueSleepAnalysisAsleepDeep",
        "HKCategoryValueSleepAnalysisAsleepREM",
    }
)
# Unit of the export -> factor to the stored unit.
APPLE_UNITS: dict[str, dict[str, float]] = {
    RESTING_HR: {"count/min": 1.0},
    HRV: {"ms": 1.0},
    STEPS: {"count": 1.0},
    CALORIES: {"kcal": 1.0, "Cal": 1.0, "kJ": 1 / 4.184},
    WEIGHT: {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "st": 6.35029318},
    BODY_FAT: {"%": 100.0},  # exported as a fraction (0.22 = 22 %)
}
DAILY_ROUNDING: dict[str, int] = {STEPS: 0, CALORIES: 1, SLEEP: 2}
APPLE_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # 2024-03-01 07:15:00 +0100
EXPORT_MEMBER = "apple_health_export/export.xml"
CHUNK_BYTES = 64 * 1024
# An archive may expand to at most this multiple of the upload limit (zip bombs); real exports
# compress 10-20 times.
MAX_EXPANSION = 40
# Point readings kept from one export (daily totals are bounded by the number of days).
MAX_POINT_READINGS = 100_000
MAX_SLEEP_SEGMENTS = 200_000  # per source; a night with sleep stages has a few dozen
SLEEP_BREAK = timedelta(hours=3)  # a longer time awake ends a sleep (a nap later is a sleep of its own)
HOUR = timedelta(hours=1)


@dataclass
class ParsedExport:
    """What an export holds, reduced to the rows to store: daily totals per type and day, point
    readings per type and instant."""

    values: list[tuple[str, datetime, float]] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


class _ExportReader:
    """SAX-style handlers for the expat parser: only top-level `<Record>` elements of the mapped
    types are looked at, and only their attributes; nothing of the document is kept."""

    def __init__(self, zone: ZoneInfo, now: datetime) -> None:
        self.zone = zone
        self.latest_allowed = now + FUTURE_TOLERANCE
        self.depth = 0
        self.root_seen = False
        # (metric type, local day, source) -> total of that source on that day
        self.daily: dict[tuple[str, date, str], float] = {}
        self.points: dict[tuple[str, datetime], float] = {}
        # source -> asleep segments (sleep stages), put together into nights at the end
        self.sleep: dict[str, list[tuple[datetime, datetime]]] = {}
        self.records: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if name != "HealthData":
                raise InvalidHealthExport("This is not an Apple Health export (export.xml with a HealthData root)")
            self.root_seen = True
            return
        if self.depth != 2 or name != "Record":
            return  # records nested in correlations repeat top-level ones
        metric_type = APPLE_TYPES.get(attrs.get("type", ""))
        if metric_type is None:
            return
        self.records[metric_type] += 1
        try:
            if not self._record(metric_type, attrs):
                self.skipped[metric_type] += 1
        except (KeyError, ValueError, OverflowError):
            self.skipped[metric_type] += 1

    def end(self, _name: str) -> None:
        self.depth -= 1

    def _record(self, metric_type: str, attrs: dict[str, str]) -> bool:
        start = _apple_date(attrs["startDate"])
        end = _apple_date(attrs.get("endDate") or attrs["startDate"])
        if end < start or end > self.latest_allowed:
            return False
        source = attrs.get("sourceName", "")[:200]
        if metric_type == SLEEP:
            if attrs.get("value") not in ASLEEP_VALUES:
                return True  # in bed / awake: not sleep, nothing to count
            segments = self.sleep.setdefault(source, [])
            if len(segments) >= MAX_SLEEP_SEGMENTS:
                return False
            segments.append((start.astimezone(UTC), end.astimezone(UTC)))
            return True
        factor = APPLE_UNITS[metric_type].get(attrs.get("unit", ""))
        if factor is None:
            return False
        value = float(attrs["value"]) * factor
        if not math.isfinite(value) or value < 0:
            return False
        if metric_type in DAILY_TYPES:
            self._add_daily(metric_type, start.astimezone(self.zone).date(), source, value)
            return True
        key = (metric_type, start.astimezone(UTC))
        if key not in self.points and len(self.points) >= MAX_POINT_READINGS:
            return False
        self.points[key] = round(value, 4)
        return True

    def _add_daily(self, metric_type: str, day: date, source: str, value: float) -> None:
        key = (metric_type, day, source)
        self.daily[key] = self.daily.get(key, 0.0) + value

    def _add_sleep(self) -> None:
        """Each source's asleep segments, joined into sleeps (segments less than `SLEEP_BREAK`
        apart belong to one sleep), count on the day the sleep ended: a night's stages before and
        after midnight are one night, on the day the person woke up. Overlapping segments of one
        source (a plain "asleep" record beside stage records) are counted once."""
        for source, segments in self.sleep.items():
            segments.sort()
            ended: datetime | None = None
            asleep = timedelta(0)
            for start, end in segments:
                if ended is not None and start - ended > SLEEP_BREAK:
                    self._add_daily(SLEEP, ended.astimezone(self.zone).date(), source, asleep / HOUR)
                    ended, asleep = None, timedelta(0)
                covered = start if ended is None else max(start, ended)
                asleep += max(end - covered, timedelta(0))
                ended = end if ended is None else max(ended, end)
            if ended is not None:
                self._add_daily(SLEEP, ended.astimezone(self.zone).date(), source, asleep / HOUR)

    def result(self) -> ParsedExport:
        self._add_sleep()
        # Several sources (a phone and a watch) count the same steps: per day, the source that
        # counted most stands for the day, instead of the sum of all of them.
        best: dict[tuple[str, date], float] = {}
        for (metric_type, day, _source), total in self.daily.items():
            best[(metric_type, day)] = max(best.get((metric_type, day), 0.0), total)
        parsed = ParsedExport(records=self.records, skipped=self.skipped)
        for (metric_type, day), total in sorted(best.items()):
            parsed.values.append(
                (metric_type, local_midnight(day, self.zone), round(total, DAILY_ROUNDING[metric_type]))
            )
        parsed.values.extend((t, instant, value) for (t, instant), value in sorted(self.points.items()))
        return parsed


def _apple_date(text: str) -> datetime:
    text = text.strip()
    # "2024-03-01 07:15:00 +0100": the ISO parser (several times faster than strptime) reads it
    # once the space before the offset is gone; anything else goes through the exact format.
    if len(text) == 25 and text[10] == " " and text[19] == " " and text[20] in "+-":
        try:
            value = datetime.fromisoformat(text[:19] + text[20:])
        except ValueError:
            value = datetime.strptime(text, APPLE_DATE_FORMAT)
    else:
        value = datetime.strptime(text, APPLE_DATE_FORMAT)
    if value.year < OLDEST.year:
        raise ValueError("before 2000")
    return value


def _refuse_entities(*_args: object) -> NoReturn:
    raise UnsafeHealthExport("The file declares XML entities, which an Apple Health export never does; refused")


def _open_export(upload: IO[bytes]) -> tuple[IO[bytes], zipfile.ZipFile | None]:
    """The export.xml stream: the upload itself, or the member of an uploaded .zip archive."""
    upload.seek(0)
    if not zipfile.is_zipfile(upload):
        upload.seek(0)
        return upload, None
    upload.seek(0)
    archive = zipfile.ZipFile(upload)
    names = [info for info in archive.infolist() if not info.is_dir()]
    member = next((i for i in names if i.filename == EXPORT_MEMBER), None) or next(
        (i for i in names if i.filename.rsplit("/", 1)[-1] == "export.xml"), None
    )
    if member is None:
        archive.close()
        raise InvalidHealthExport(f"The archive holds no {EXPORT_MEMBER}")
    return archive.open(member), archive


def parse_apple_health_export(upload: IO[bytes], *, zone: ZoneInfo, now: datetime, max_bytes: int) -> ParsedExport:
    """Stream an Apple Health export.xml (or a .zip holding it) through expat. Blocking: run it in
    a worker thread. Entity declarations (billion laughs, external entities) are refused; Apple's
    own DOCTYPE with element and attribute declarations is fine."""
    reader = _ExportReader(zone, now)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    archive: zipfile.ZipFile | None = None
    try:
        stream, archive = _open_export(upload)
        total = 0
        while chunk := stream.read(CHUNK_BYTES):
            total += len(chunk)
            if total > max_bytes:
                raise HealthExportTooLarge(f"export.xml is larger than {max_bytes} bytes")
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise InvalidHealthExport(
            f"The file is not a readable export.xml (XML error at line {exc.lineno}: {expat.ErrorString(exc.code)})"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        # Damaged, encrypted or oddly compressed archives.
        raise InvalidHealthExport(f"The archive cannot be read ({type(exc).__name__})") from None
    finally:
        if archive is not None:
            archive.close()
    if not reader.root_seen:
        raise InvalidHealthExport("The file holds no Apple Health data")
    return reader.result()
