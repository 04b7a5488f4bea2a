"""Reading untrusted documents: a PDF's text layer (with table rows as "cell | cell"), PDF pages
rendered as images, image checks against decompression bombs, images scaled for a language
model, and OCR through the `tesseract` program when it is installed.

Every function here is blocking (run it in a worker thread) and checks the caller's deadline
(a `time.monotonic()` value) between pages. Failures are problem errors with a stable code.
"""

from __future__ import annotations

import io
import logging
import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from src.core.errors import AppError, UnprocessableEntity

logger = logging.getLogger("ugoki.documents")

DocumentKind = Literal["pdf", "jpeg", "png"]

MEDIA_TYPES: dict[DocumentKind, str] = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS: dict[DocumentKind, str] = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}

MAX_PAGES = 30
MAX_TEXT_CHARS = 400_000
MAX_IMAGE_PIXELS = 40_000_000
OCR_DPI = 200  # scanned PDF pages are rendered at this resolution for OCR (A4: 3.9 megapixels)
MAX_PAGE_PIXELS = 12_000_000  # ...or less, so that no rendered page is larger than this
MIN_OCR_DPI = 50  # below this, text is too small to read: the page is refused
MODEL_IMAGE_SIDE = 1568  # long side the model reads images at; larger photos are scaled down
MODEL_IMAGE_BYTES = 3_500_000


class UnreadableDocument(UnprocessableEntity):
    code = "UNREADABLE_DOCUMENT"


class ImageTooLarge(UnprocessableEntity):
    code = "IMAGE_TOO_LARGE"


class ParseTimeout(UnprocessableEntity):
    code = "PARSE_TIMEOUT"


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise ParseTimeout("The document took too long to read; try a smaller or simpler file.")


def _clean_cell(cell: object) -> str:
    return " ".join(str(cell).split()) if cell is not None else ""


def extract_pdf_text(data: bytes, deadline: float, max_pages: int = MAX_PAGES) -> str:
    """Text of a PDF: for each page, its table rows ("cell | cell") and then its text. Blocking."""
    import pdfplumber

    parts: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages[:max_pages]:
                _check_deadline(deadline)
                for table in page.extract_tables():
                    for row in table:
                        cells = [_clean_cell(cell) for cell in row]
                        if any(cells):
                            parts.append(" | ".join(cells))
                _check_deadline(deadline)
                parts.append(page.extract_text() or "")
    except AppError:
        raise
    except Exception as exc:  # whatever a broken or hostile file makes the PDF reader raise
        logger.info("pdf unreadable: %s", type(exc).__name__)
        raise UnreadableDocument("The PDF could not be read; it may be damaged or password-protected.") from None
    return "\n".join(parts)[:MAX_TEXT_CHARS]


def render_resolution(width_points: float, height_points: float) -> float:
    """Dots per inch to render a page at for OCR: `OCR_DPI`, less for a page so large that it would
    exceed `MAX_PAGE_PIXELS` (a hostile PDF can declare a page of hundreds of inches)."""
    if width_points <= 0 or height_points <= 0:
        raise UnreadableDocument("The PDF could not be read; it may be damaged or password-protected.")
    square_inches = (width_points / 72) * (height_points / 72)
    dpi = min(OCR_DPI, math.sqrt(MAX_PAGE_PIXELS / square_inches))
    if dpi < MIN_OCR_DPI:
        raise ImageTooLarge("A page of the PDF is too large to read; upload the report as your lab sent it.")
    return dpi


def render_pdf_pages(data: bytes, deadline: float, max_pages: int = MAX_PAGES) -> list[bytes]:
    """PNG images of a scanned PDF's pages, for OCR (pixel count bounded). Blocking."""
    import pdfplumber

    images: list[bytes] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages[:max_pages]:
                _check_deadline(deadline)
                resolution = render_resolution(float(page.width), float(page.height))
                out = io.BytesIO()
                page.to_image(resolution=resolution).original.save(out, format="PNG")
                images.append(out.getvalue())
    except AppError:
        raise
    except Exception as exc:
        logger.info("pdf pages could not be rendered: %s", type(exc).__name__)
        raise UnreadableDocument("The PDF could not be read; it may be damaged or password-protected.") from None
    return images


def check_image(data: bytes, kind: DocumentKind) -> tuple[int, int]:
    """Size of an image after checking that it decodes and is not a decompression bomb. Blocking."""
    from PIL import Image

    pil_format = "JPEG" if kind == "jpeg" else "PNG"
    try:
        with Image.open(io.BytesIO(data), formats=[pil_format]) as probe:
            width, height = probe.size
            if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
                raise ImageTooLarge("The image has more pixels than we accept; send a smaller photo.")
            probe.verify()
    except AppError:
        raise
    except Image.DecompressionBombError:
        raise ImageTooLarge("The image has more pixels than we accept; send a smaller photo.") from None
    except Exception as exc:
        logger.info("image unreadable: %s", type(exc).__name__)
        raise UnreadableDocument("The image could not be read; it may be damaged or incomplete.") from None
    return width, height


def image_for_model(data: bytes, kind: DocumentKind) -> tuple[bytes, str]:
    """The image as the model should receive it: as uploaded when small, else scaled down to the
    size the model reads at and re-encoded as JPEG. Blocking."""
    from PIL import Image

    width, height = check_image(data, kind)
    if max(width, height) <= MODEL_IMAGE_SIDE and len(data) <= MODEL_IMAGE_BYTES:
        return data, MEDIA_TYPES[kind]
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG" if kind == "jpeg" else "PNG"]) as image:
            image.thumbnail((MODEL_IMAGE_SIDE, MODEL_IMAGE_SIDE))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=85)
    except Exception as exc:
        logger.info("image could not be scaled: %s", type(exc).__name__)
        raise UnreadableDocument("The image could not be read; it may be damaged or incomplete.") from None
    return out.getvalue(), "image/jpeg"


def tesseract_program() -> str | None:
    """Path of the OCR program when it is installed."""
    return shutil.which("tesseract")


def ocr_images(images: Sequence[bytes], program: str, deadline: float) -> str:
    """Text of images through the tesseract program (one run per image). Blocking."""
    texts: list[str] = []
    for image in images:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ParseTimeout("The document took too long to read; try a smaller or simpler file.")
        with tempfile.TemporaryDirectory(prefix="ugoki-ocr-") as folder:
            path = Path(folder) / "page.img"
            path.write_bytes(image)
            try:
                # The program path comes from the PATH lookup, the arguments are ours.
                done = subprocess.run(  # noqa: S603
                    [program, str(path), "stdout", "--psm", "6"],
                    capture_output=True,
                    timeout=remaining,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise ParseTimeout("The document took too long to read; try a smaller or simpler file.") from None
            except OSError as exc:
                logger.warning("ocr could not run: %s", type(exc).__name__)
                raise UnreadableDocument("The document could not be read.") from None
        if done.returncode != 0:
            logger.info("ocr failed with exit status %s", done.returncode)
            raise UnreadableDocument("The document could not be read.")
        texts.append(done.stdout.decode("utf-8", "replace"))
    return "\n".join(texts)[:MAX_TEXT_CHARS]
