"""Lab reports made for the tests: PDFs in the layouts labs use (a results table, one result per
line, two columns of results side by side), scanned-looking PDFs without text, and images."""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

from fpdf import FPDF
from PIL import Image, ImageDraw

FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # the same content gives the same bytes


def _document(font: bool = True) -> FPDF:
    pdf = FPDF()
    pdf.set_creation_date(FIXED_DATE)
    if font:
        pdf.set_font("Helvetica", size=10)
    return pdf


def _lines(pdf: FPDF, lines: Sequence[str]) -> None:
    for text in lines:
        pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def _pdf(lines: Sequence[str] = ()) -> FPDF:
    """A one-page document starting with `lines`, one under another."""
    pdf = _document()
    pdf.add_page()
    _lines(pdf, lines)
    return pdf


def table_report(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, columns: Sequence[str] | None = None
) -> bytes:
    """Header lines, then a ruled table: Test | Result | Units | Reference range | Flag."""
    pdf = _pdf(header)
    with pdf.table() as table:
        for row in [columns or ("Test", "Result", "Units", "Reference range", "Flag"), *rows]:
            cells = table.row()
            for value in row:
                cells.cell(value)
    return bytes(pdf.output())


def line_report(lines: Sequence[str]) -> bytes:
    """One result (or header line) per line of text, no table."""
    return bytes(_pdf(lines).output())


def two_column_report(header: Sequence[str], left: Sequence[str], right: Sequence[str]) -> bytes:
    """Two columns of results printed side by side (their lines share a baseline)."""
    pdf = _pdf(header)
    top = pdf.get_y() + 10
    for index, text in enumerate(left):
        pdf.text(10, top + index * 8, text)
    for index, text in enumerate(right):
        pdf.text(110, top + index * 8, text)
    return bytes(pdf.output())


def scanned_pdf(pages: int = 1) -> bytes:
    """Pages with only drawings on them: no text layer at all (like a scan)."""
    pdf = _document(font=False)
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 120, 60)
        pdf.line(20, 100, 180, 100)
    return bytes(pdf.output())


def multi_page_report(pages: int, lines: Sequence[str]) -> bytes:
    pdf = _document()
    for _ in range(pages):
        pdf.add_page()
        _lines(pdf, lines)
    return bytes(pdf.output())


def encrypted_report(lines: Sequence[str]) -> bytes:
    pdf = _pdf(lines)
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


def _assemble_pdf(objects: Sequence[bytes]) -> bytes:
    """A PDF file from its numbered objects (1..n, object 1 the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def deflate_bomb(inflated_mb: int) -> bytes:
    """Deflated spaces that inflate to `inflated_mb` MiB, compressed without ever holding them."""
    compressor = zlib.compressobj(9)
    chunk = b" " * 1_048_576
    return b"".join(compressor.compress(chunk) for _ in range(inflated_mb)) + compressor.flush()


def bomb_pdf(inflated_mb: int, streams: int = 1) -> bytes:
    """A one-page PDF whose content streams each inflate to `inflated_mb` MiB of spaces."""
    deflated = deflate_bomb(inflated_mb)
    first_stream = 4
    contents = b" ".join(b"%d 0 R" % (first_stream + i) for i in range(streams))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [" + contents + b"] >>",
    ]
    objects += [
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(deflated) + deflated + b"\nendstream"
        for _ in range(streams)
    ]
    return _assemble_pdf(objects)


def many_pages_pdf(pages: int) -> bytes:
    """A PDF of `pages` empty pages."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    return _assemble_pdf(objects)
