"""Reading untrusted documents: a PDF's text layer (with table rows as "cell | cell"), PDF pages
rendered as images, image checks against decompression bombs, images scaled for a language
model, and OCR through the `tesseract` program when it is installed.

Every function here is blocking and checks the caller's deadline (a `time.monotonic()` value)
between pages. Failures are problem errors with a stable code.

Hostile files are bounded three ways:
- while a PDF is read, every compressed stream is inflated in steps and the reading stops past
  `MAX_STREAM_BYTES` for one stream or `MAX_DOCUMENT_BYTES` for the whole document
  (`DOCUMENT_TOO_LARGE`); a PDF with more than `MAX_PAGES` pages is refused; rendered pages have
  at most `MAX_PAGE_PIXELS` pixels;
- `run_isolated` runs the reading in a child process with an address-space limit, so whatever the
  PDF libraries allocate (including the renderer's native code) stays inside the limit;
- at the deadline the child process is killed, and its slot is released only once it is gone: an
  abandoned parse never keeps running.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import multiprocessing
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from src.core.errors import AppError, UnprocessableEntity

logger = logging.getLogger("ugoki.documents")

DocumentKind = Literal["pdf", "jpeg", "png"]

MEDIA_TYPES: dict[DocumentKind, str] = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS: dict[DocumentKind, str] = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}

MAX_PAGES = 30  # lab reports are a few pages; a PDF with more is refused
MAX_STREAM_BYTES = 16 * 1_048_576  # decompressed bytes of one PDF stream
MAX_DOCUMENT_BYTES = 64 * 1_048_576  # decompressed bytes of all streams of one PDF
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


class DocumentTooLarge(UnprocessableEntity):
    code = "DOCUMENT_TOO_LARGE"


def _too_large() -> DocumentTooLarge:
    return DocumentTooLarge(
        "The document holds more data than a lab report can; upload the report as your lab sent it."
    )


# Bounded inflation of PDF streams ----------------------------------------------------------------
#
# The PDF reader (pdfminer) inflates a stream with one `zlib.decompress` call, which a few hundred
# kilobytes can turn into gigabytes. `_BoundedZlib` stands in for the `zlib` module inside the
# reader: it inflates in steps and stops at the budget of the current reading (per thread), so the
# memory of a hostile stream is never allocated. Outside a reading it inflates with the same bounds.


class _Budget(threading.local):
    remaining: int = MAX_DOCUMENT_BYTES


_budget = _Budget()


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    limit = min(MAX_STREAM_BYTES, _budget.remaining)
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise _too_large()
    out += inflater.flush(limit + 1 - len(out))
    if len(out) > limit:
        raise _too_large()
    _budget.remaining -= len(out)
    return out


class _BoundedZlib:
    error = zlib.error

    @staticmethod
    def decompress(data: bytes) -> bytes:
        return _inflate(data)

    @staticmethod
    def decompressobj() -> Any:
        return zlib.decompressobj()


def _bounded_pdf_reader() -> Any:
    """pdfplumber, with the PDF reader's stream inflation bounded; the budget restarts."""
    import pdfminer.pdftypes
    import pdfplumber

    pdfminer.pdftypes.zlib = _BoundedZlib  # type: ignore[attr-defined,assignment]
    _budget.remaining = MAX_DOCUMENT_BYTES
    return pdfplumber


def _pages(pdf: Any) -> list[Any]:
    """The pages of an opened PDF; more than `MAX_PAGES` is refused before the page list is built
    (the declared count), and after (a page tree may declare fewer pages than it holds)."""
    from pdfminer.pdftypes import resolve1

    try:
        declared = resolve1(resolve1(pdf.doc.catalog.get("Pages")).get("Count"))
    except Exception:  # a damaged page tree: the reader decides below
        declared = None
    if isinstance(declared, int) and declared > MAX_PAGES:
        raise _pages_refused()
    pages = list(pdf.pages)
    if len(pages) > MAX_PAGES:
        raise _pages_refused()
    return pages


def _raise_wrapped_bound(exc: BaseException) -> None:
    """pdfplumber wraps what the PDF reader raises (`PdfminerException(error)`): a bound reached
    inside the reader is raised as itself."""
    for inner in (*exc.args, exc.__cause__, exc.__context__):
        if isinstance(inner, DocumentTooLarge):
            raise inner from None


def _pages_refused() -> DocumentTooLarge:
    return DocumentTooLarge(f"The PDF has more than {MAX_PAGES} pages; upload only the pages of the lab report.")


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise ParseTimeout("The document took too long to read; try a smaller or simpler file.")


def _clean_cell(cell: object) -> str:
    return " ".join(str(cell).split()) if cell is not None else ""


def extract_pdf_text(data: bytes, deadline: float) -> str:
    """Text of a PDF: for each page, its table rows ("cell | cell") and then its text. Blocking."""
    pdfplumber = _bounded_pdf_reader()

    parts: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in _pages(pdf):
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
    except MemoryError:
        raise _too_large() from None
    except Exception as exc:  # whatever a broken or hostile file makes the PDF reader raise
        _raise_wrapped_bound(exc)
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


def render_pdf_pages(data: bytes, deadline: float) -> list[bytes]:
    """PNG images of a scanned PDF's pages, for OCR (pixel count bounded). Blocking."""
    pdfplumber = _bounded_pdf_reader()

    images: list[bytes] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in _pages(pdf):
                _check_deadline(deadline)
                resolution = render_resolution(float(page.width), float(page.height))
                out = io.BytesIO()
                page.to_image(resolution=resolution).original.save(out, format="PNG")
                images.append(out.getvalue())
    except AppError:
        raise
    except MemoryError:
        raise _too_large() from None
    except Exception as exc:
        _raise_wrapped_bound(exc)
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


# Reading in a child process ------------------------------------------------------------------------

_PRELOAD = ["src.adapters.documents", "pdfplumber", "pypdfium2", "PIL.Image"]
_context: Any = None


def _process_context() -> Any:
    """Child processes are forked from a small server process that has the PDF libraries loaded
    (fast to start, and none of the API's threads, sockets or database connections)."""
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        _context = context
    return _context


def _child(connection: Connection, memory_bytes: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        outcome: tuple[str, Any, Any] = ("ok", function(*args), None)
    except AppError as exc:
        outcome = ("error", type(exc), exc.detail)
    except MemoryError:
        outcome = ("error", DocumentTooLarge, _too_large().detail)
    except Exception as exc:  # reported as unreadable; the type only, never the content
        outcome = ("failed", type(exc).__name__, None)
    try:
        connection.send(outcome)
    except MemoryError:
        connection.send(("error", DocumentTooLarge, _too_large().detail))
    connection.close()


def _receive(connection: Connection) -> tuple[str, Any, Any]:
    try:
        outcome: tuple[str, Any, Any] = connection.recv()
    except (EOFError, OSError):
        return ("died", None, None)
    return outcome


async def run_isolated[T](
    deadline: float, slots: asyncio.Semaphore, memory_bytes: int, function: Callable[..., T], *args: Any
) -> T:
    """`function(*args)` in a child process limited to `memory_bytes` of address space, at most
    `slots` at once. At the deadline the child is killed (`PARSE_TIMEOUT`); the slot is held until
    the child has exited, so abandoned work never piles up. `function` must be importable."""
    timeout = ParseTimeout("The document took too long to read; try a smaller or simpler file.")
    if deadline - time.monotonic() <= 0:
        raise timeout
    async with slots:
        context = _process_context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(sender, memory_bytes, function, args), daemon=True)
        try:
            await asyncio.to_thread(process.start)
            sender.close()
            remaining = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(remaining, 0.001)):
                    outcome = await asyncio.to_thread(_receive, receiver)
            except TimeoutError:
                raise timeout from None
        finally:
            sender.close()
            if process.pid is not None:
                if process.is_alive():
                    process.kill()
                await asyncio.to_thread(process.join)
                process.close()
            receiver.close()
    status, value, detail = outcome
    if status == "ok":
        result: T = value
        return result
    if status == "error":
        raise value(detail)
    if status == "failed":
        logger.info("document reading failed: %s", value)
    else:
        logger.warning("a document reader process ended without an answer (memory limit or crash)")
    raise UnreadableDocument("The document could not be read; it may be damaged or too complex.")
