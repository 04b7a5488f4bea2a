"""Scanned PDF pages are rendered for OCR with a bounded number of pixels, whatever page size the
file declares."""

from __future__ import annotations

import io
import time

import pytest
from fpdf import FPDF
from PIL import Image

from src.modules.bloodwork.parser import (
    MAX_PAGE_PIXELS,
    OCR_DPI,
    ImageTooLarge,
    UnreadableDocument,
    render_pdf_pages,
    render_resolution,
)

A4 = (595.3, 841.9)  # points


def test_an_a4_page_is_rendered_at_the_full_ocr_resolution() -> None:
    assert render_resolution(*A4) == OCR_DPI


def test_a_large_page_is_rendered_at_a_lower_resolution_within_the_pixel_budget() -> None:
    side = 72 * 40  # a 40-inch square page: 64 megapixels at the full resolution
    dpi = render_resolution(side, side)
    assert dpi < OCR_DPI
    assert (40 * dpi) ** 2 == pytest.approx(MAX_PAGE_PIXELS)


@pytest.mark.parametrize(("width", "height"), [(72 * 1000, 72 * 1000), (0, 800), (600, -1)])
def test_absurd_page_sizes_are_refused(width: float, height: float) -> None:
    with pytest.raises((ImageTooLarge, UnreadableDocument)):
        render_resolution(width, height)


def test_rendering_a_huge_scanned_page_stays_within_the_pixel_budget() -> None:
    pdf = FPDF(format=(1500, 1500))  # mm: a 59-inch page, 139 megapixels at the full resolution
    pdf.add_page()
    pdf.rect(20, 20, 120, 60)
    [page] = render_pdf_pages(bytes(pdf.output()), time.monotonic() + 30)
    with Image.open(io.BytesIO(page)) as image:
        width, height = image.size
    assert width * height <= MAX_PAGE_PIXELS * 1.01  # rounding of the page size to whole pixels
    assert width * height > MAX_PAGE_PIXELS * 0.9
