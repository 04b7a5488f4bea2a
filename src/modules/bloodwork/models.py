"""What the bloodwork endpoints answer, and a document's results as read."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from src.core.validation import RequestBody

FlagName = Literal["low", "normal", "high", "abnormal"]


class ParsedBiomarker(BaseModel):
    """One result as read from the document (field names as the mobile app knows them)."""

    model_config = ConfigDict(frozen=True)

    raw_name: str = Field(max_length=100, description="The test name as printed")
    standardised_name: str = Field(max_length=100, description="Lowercase, abbreviations expanded")
    metric_type: str = Field(max_length=100, description="Where the value is stored: biomarker_<snake name>")
    value: float | None = Field(default=None, description="The number (the numeric part of '<0.5')")
    value_text: str = Field(max_length=50, description="The result as printed, e.g. '<0.5'")
    unit: str | None = Field(default=None, max_length=30)
    reference_low: float | None = None
    reference_high: float | None = None
    flag: FlagName | None = None


class ParsedReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    biomarkers: list[ParsedBiomarker]
    test_date: date | None = None
    lab_name: str | None = None


class BloodworkUploadResponse(BaseModel):
    success: bool = True
    test_date: date | None = Field(description="The test day the results are filed under")
    biomarker_count: int = Field(description="Results stored as metrics")
    biomarkers: list[ParsedBiomarker]
    message: str
    lab_report_id: uuid.UUID
    duplicate: bool = Field(
        default=False,
        description="True when this file was uploaded before: nothing changed (unless a new test_date moved it)",
    )
    redated: bool = Field(default=False, description="True when a re-upload with test_date moved the earlier import")


class LabReportSummary(BaseModel):
    """A lab report as the person sees it, with its results (text results such as 'Negative' too)."""

    id: UUID
    test_date: date | None = Field(description="The test day in your time zone when the report was filed")
    date_source: str | None = Field(
        description="given (by you), printed (on the report) or upload_day (neither: the day it was uploaded)"
    )
    source: str = Field(description="upload (a document) or fhir_import")
    lab_name: str | None
    content_type: str
    biomarker_count: int
    uploaded_at: AwareDatetime
    results: list[ParsedBiomarker]


class UpdateLabReportRequest(RequestBody):
    model_config = ConfigDict(extra="forbid")

    test_date: date = Field(description="The day the blood was taken; the report's results move to it")


class SupportedFormat(BaseModel):
    extension: str
    mime_type: str
    description: str


class SupportedFormats(BaseModel):
    formats: list[SupportedFormat]
    max_file_size_mb: int | float
    notes: list[str]


class LabReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    identity_id: UUID
    sha256: str
    storage_key: str | None
    content_type: str
    size_bytes: int
    test_date: AwareDatetime | None
    test_day: date | None = None
    date_source: str | None = None
    source: str = "upload"
    parser: str
    biomarker_count: int
    lab_name: str | None
    parsed: list[dict[str, object]]
    created_at: AwareDatetime


class FhirImportedReport(BaseModel):
    lab_report_id: UUID
    test_date: date
    biomarker_count: int
    duplicate: bool = Field(description="True when these very results were imported before: nothing changed")


class FhirImportResponse(BaseModel):
    reports: list[FhirImportedReport] = Field(description="One lab report per test day found in the document")
    biomarker_count: int = Field(description="Results stored (text results included), duplicates not counted")
    skipped: int = Field(description="Resources that are not lab results (vital signs, unreadable Observations)")
