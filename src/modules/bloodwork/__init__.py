"""Bloodwork: lab reports uploaded as documents, read (text layer, OCR or a language model),
their results standardised and stored as biomarker series in metrics."""

from .errors import (
    EmptyFile,
    ImageNotSupportedOffline,
    ImageTooLarge,
    InvalidTestDate,
    LabReportNotFound,
    LanguageModelUnavailable,
    NoBiomarkersFound,
    NoTextFound,
    ParseTimeout,
    StorageUnavailable,
    UnreadableDocument,
    UnsupportedFileType,
)
from .interface import BloodworkInterface
from .models import BloodworkUploadResponse, LabReport, ParsedBiomarker, ParsedReport

__all__ = [
    "BloodworkInterface",
    "BloodworkUploadResponse",
    "EmptyFile",
    "ImageNotSupportedOffline",
    "ImageTooLarge",
    "InvalidTestDate",
    "LabReport",
    "LabReportNotFound",
    "LanguageModelUnavailable",
    "NoBiomarkersFound",
    "NoTextFound",
    "ParseTimeout",
    "ParsedBiomarker",
    "ParsedReport",
    "StorageUnavailable",
    "UnreadableDocument",
    "UnsupportedFileType",
]
