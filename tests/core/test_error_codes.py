"""Every problem `code` names exactly one kind of error: a client can branch on it."""

from __future__ import annotations

from collections import defaultdict

import src.main  # noqa: F401 - imports every module, adapter and their errors
from src.core.errors import AppError


def _subclasses(klass: type[AppError]) -> list[type[AppError]]:
    found: list[type[AppError]] = []
    for sub in klass.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def _owners() -> dict[str, list[str]]:
    owners: dict[str, list[str]] = defaultdict(list)
    for klass in [AppError, *_subclasses(AppError)]:
        if klass.__module__.startswith("tests."):
            continue  # errors made up by tests
        if "code" in vars(klass):  # the class that introduces the code (subclasses inherit it)
            owners[klass.code].append(f"{klass.__module__}.{klass.__qualname__}")
    return owners


def test_every_error_code_belongs_to_exactly_one_class() -> None:
    shared = {code: classes for code, classes in _owners().items() if len(classes) > 1}
    assert not shared, f"codes defined by more than one class: {shared}"


def test_the_known_shared_errors_are_defined_once() -> None:
    owners = _owners()
    for code in ("EMPTY_FILE", "STORAGE_UNAVAILABLE", "CONFIRMATION_REQUIRED", "UNSUPPORTED_MEDIA_TYPE"):
        assert len(owners[code]) == 1, (code, owners[code])


def test_every_415_error_derives_from_the_one_base() -> None:
    from src.core.errors import UnsupportedMediaType

    for klass in _subclasses(AppError):
        if klass.status == 415:
            assert issubclass(klass, UnsupportedMediaType), klass
