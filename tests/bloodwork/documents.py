"""Lab reports made for the tests: PDFs in the layouts labs use (a results table, one result per
line, two columns of results side by side), scanned-looking PDFs without text, and images."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

from fpdf import FPDF
from PIL import Image, ImageDraw

FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # the same content gives the same bytes


def _pdf() -> FPDF:
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    return pdf


def _line(pdf: FPDF, text: str) -> None:
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def table_report(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, columns: Sequence[str] | None = None
) -> bytes:
    """Header lines, then a ruled table: Test | Result | Units | Reference range | Flag."""
    pdf = _pdf()
    for text in header:
        _line(pdf, text)
    with pdf.table() as table:
        for row in [columns or ("Test", "Result", "Units", "Reference range", "Flag"), *rows]:
            cells = table.row()
            for value in row:
                cells.cell(value)
    return bytes(pdf.output())


def line_report(lines: Sequence[str]) -> bytes:
    """One result (or header line) per line of text, no table."""
    pdf = _pdf()
    for text in lines:
        _line(pdf, text)
    return bytes(pdf.output())


def two_column_report(header: Sequence[str], left: Sequence[str], right: Sequence[str]) -> bytes:
    """Two columns of results printed side by side (their lines share a baseline)."""
    pdf = _pdf()
    for text in header:
        _line(pdf, text)
    top = pdf.get_y() + 10
    for index, text in enumerate(left):
        pdf.text(10, top + index * 8, text)
    for index, text in enumerate(right):
        pdf.text(110, top + index * 8, text)
    return bytes(pdf.output())


def scanned_pdf(pages: int = 1) -> bytes:
    """Pages with only drawings on them: no text layer at all (like a scan)."""
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 120, 60)
        pdf.line(20, 100, 180, 100)
    return bytes(pdf.output())


def multi_page_report(pages: int, lines: Sequence[str]) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_font("Helvetica", size=10)
    for _ in range(pages):
        pdf.add_page()
        for text in lines:
            _line(pdf, text)
    return bytes(pdf.output())


def encrypted_report(lines: Sequence[str]) -> bytes:
    pdf = _pdf()
    for text in lines:
        _line(pdf, text)
    pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    return bytes(pdf.output())


def photo(kind: str = "PNG", size: tuple[int, int] = (320, 200)) -> bytes:
    """A small picture standing in for a photographed report."""
    image = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, size[0] - 10, 40), outline=(0, 0, 0))
    draw.text((20, 60), "Haemoglobin 150 g/L", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()
