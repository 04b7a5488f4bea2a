"""Photos and scanned PDFs go through the `tesseract` program when it is installed. These tests
install a stand-in program (a shell script speaking tesseract's command line: `tesseract <image>
stdout …`) on PATH; without it the server reports that it cannot read photos (see
test_hostile_inputs.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.bloodwork.documents import photo, scanned_pdf
from tests.bloodwork.helpers import assert_problem, biomarkers_of, expect, row_counts, stored_report, upload, uploaded
from tests.factories import anonymous_user

OCR_TEXT = """Eastgate Pathology
Collected: 02/03/2026
Haemoglobin 128 g/L 130-170 L
Platelets 250 x10^9/L 150-400
"""
OCR_RESULTS = [
    expect("Haemoglobin", "haemoglobin", "biomarker_haemoglobin", 128.0, "128", "g/L", 130.0, 170.0, "low"),
    expect("Platelets", "platelets", "biomarker_platelets", 250.0, "250", "x10^9/L", 150.0, 400.0, "normal"),
]


class FakeTesseract:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls = folder / "calls.log"

    def install(self, monkeypatch: pytest.MonkeyPatch, *, text: str = OCR_TEXT, exit_status: int = 0) -> None:
        program = self.folder / "tesseract"
        program.write_text(
            "#!/bin/sh\n"
            f"printf '%s\\n' \"$1\" >> '{self.calls}'\n"
            '[ "$2" = "stdout" ] || exit 2\n'
            '[ -s "$1" ] || exit 3\n'
            f"[ {exit_status} -eq 0 ] || exit {exit_status}\n"
            "while IFS= read -r line; do printf '%s\\n' \"$line\"; done <<'TEXT'\n"
            f"{text}TEXT\n"
        )
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", str(self.folder))

    @property
    def runs(self) -> int:
        return len(self.calls.read_text().splitlines()) if self.calls.exists() else 0


@pytest.fixture
def tesseract(tmp_path: Path) -> FakeTesseract:
    folder = tmp_path / "ocr-bin"
    folder.mkdir()
    return FakeTesseract(folder)


async def test_photo_is_read_by_ocr_when_tesseract_is_installed(
    app: FastAPI, client: httpx.AsyncClient, tesseract: FakeTesseract, monkeypatch: pytest.MonkeyPatch
) -> None:
    tesseract.install(monkeypatch)
    user = await anonymous_user(app)
    body = await uploaded(client, user, photo("JPEG"), filename="r.jpg", content_type="image/jpeg")
    assert biomarkers_of(body) == OCR_RESULTS
    assert body["test_date"] == "2026-03-02"
    assert tesseract.runs == 1
    report = await stored_report(app, body["lab_report_id"])
    assert (report["parser"], report["content_type"]) == ("ocr:rules", "image/jpeg")


async def test_scanned_pdf_is_read_by_ocr_page_by_page(
    app: FastAPI, client: httpx.AsyncClient, tesseract: FakeTesseract, monkeypatch: pytest.MonkeyPatch
) -> None:
    tesseract.install(monkeypatch)
    user = await anonymous_user(app)
    body = await uploaded(client, user, scanned_pdf(pages=2))
    assert biomarkers_of(body) == OCR_RESULTS
    assert tesseract.runs == 2


async def test_ocr_program_failure_is_reported_as_unreadable(
    app: FastAPI, client: httpx.AsyncClient, tesseract: FakeTesseract, monkeypatch: pytest.MonkeyPatch
) -> None:
    tesseract.install(monkeypatch, exit_status=1)
    user = await anonymous_user(app)
    response = await upload(client, user, photo("PNG"), filename="r.png", content_type="image/png")
    assert_problem(response, 422, "UNREADABLE_DOCUMENT")
    assert (await row_counts(app))["lab_reports"] == 0
