"""Hostile documents cannot exhaust the server: decompression bombs and page floods are refused
with 422 before their data is allocated, the reader runs in a child process with a memory limit,
and a parse past its time limit is killed (its slot is released only once it has exited)."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from src.adapters.documents import DocumentTooLarge, ParseTimeout, extract_pdf_text, run_isolated
from tests.bloodwork.documents import bomb_pdf, many_pages_pdf
from tests.bloodwork.helpers import assert_nothing_stored, assert_problem, upload
from tests.bloodwork.slow_work import sleep_recording_pid
from tests.factories import anonymous_user

MB = 1_048_576


async def test_a_pdf_stream_inflating_to_400_mb_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    document = bomb_pdf(400)
    assert len(document) < 500_000  # a small upload...
    response = await upload(client, user, document)  # ...that would take 400 MB to read whole
    assert_problem(response, 422, "DOCUMENT_TOO_LARGE")
    await assert_nothing_stored(app)


async def test_many_streams_each_under_the_stream_bound_are_refused_by_the_document_bound(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, bomb_pdf(12, streams=8))  # 8 x 12 MB = 96 MB in all
    assert_problem(response, 422, "DOCUMENT_TOO_LARGE")
    await assert_nothing_stored(app)


async def test_a_pdf_with_more_pages_than_a_lab_report_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await upload(client, user, many_pages_pdf(500))
    body = assert_problem(response, 422, "DOCUMENT_TOO_LARGE")
    assert "30 pages" in body["detail"]


def test_reading_a_bomb_never_allocates_its_inflated_size() -> None:
    document = bomb_pdf(200)
    tracemalloc.start()
    try:
        with pytest.raises(DocumentTooLarge):
            extract_pdf_text(document, time.monotonic() + 30)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 60 * MB


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def test_a_parse_past_its_time_limit_is_killed_and_holds_its_slot_until_it_has_exited(tmp_path: Path) -> None:
    slots = asyncio.Semaphore(1)
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(ParseTimeout):
        await run_isolated(time.monotonic() + 5, slots, 256 * MB, sleep_recording_pid, str(pid_file), 600)
    assert time.monotonic() - started < 15
    assert not _running(int(pid_file.read_text()))
    assert not slots.locked()


async def test_three_abandoned_parses_leave_no_process_behind(tmp_path: Path) -> None:
    slots = asyncio.Semaphore(2)
    files = [tmp_path / f"pid{i}" for i in range(3)]
    for pid_file in files:
        with pytest.raises(ParseTimeout):
            await run_isolated(time.monotonic() + 3, slots, 256 * MB, sleep_recording_pid, str(pid_file), 600)
    assert not any(_running(int(f.read_text())) for f in files if f.exists())


async def test_the_reader_process_cannot_take_more_memory_than_its_limit() -> None:
    with pytest.raises(DocumentTooLarge):
        await run_isolated(time.monotonic() + 30, asyncio.Semaphore(1), 256 * MB, bytearray, 1024 * MB)
