"""Bloodwork problems (each a problem body with a stable code). Problems of reading a document,
of the language model, of uploads and of storage come from the adapters and are re-exported."""

from src.adapters.documents import ImageTooLarge, ParseTimeout, UnreadableDocument
from src.adapters.llm import LanguageModelUnavailable
from src.adapters.multipart import EmptyFile
from src.adapters.storage import StorageUnavailable
from src.core.errors import NotFound, UnprocessableEntity, UnsupportedMediaType


class UnsupportedFileType(UnsupportedMediaType):
    code, title = "UNSUPPORTED_FILE_TYPE", "Unsupported file type"


class NoTextFound(UnprocessableEntity):
    code = "NO_TEXT_FOUND"


class NoBiomarkersFound(UnprocessableEntity):
    code = "NO_BIOMARKERS_FOUND"


class ImageNotSupportedOffline(UnprocessableEntity):
    code = "IMAGE_NOT_SUPPORTED_OFFLINE"


class InvalidTestDate(UnprocessableEntity):
    code = "INVALID_TEST_DATE"


class LabReportNotFound(NotFound):
    code = "LAB_REPORT_NOT_FOUND"


class InvalidFhir(UnprocessableEntity):
    code = "INVALID_FHIR"


class FhirNestingTooDeep(UnprocessableEntity):
    code = "FHIR_NESTING_TOO_DEEP"


class TooManyFhirEntries(UnprocessableEntity):
    code = "TOO_MANY_FHIR_ENTRIES"


class NoLabResultsInFhir(UnprocessableEntity):
    code = "NO_LAB_RESULTS_IN_FHIR"


__all__ = [
    "EmptyFile",
    "FhirNestingTooDeep",
    "ImageNotSupportedOffline",
    "ImageTooLarge",
    "InvalidFhir",
    "InvalidTestDate",
    "LabReportNotFound",
    "LanguageModelUnavailable",
    "NoBiomarkersFound",
    "NoLabResultsInFhir",
    "NoTextFound",
    "ParseTimeout",
    "StorageUnavailable",
    "TooManyFhirEntries",
    "UnreadableDocument",
    "UnsupportedFileType",
]
