"""Fault tests: the real service in subprocesses, broken on purpose (tests/faults/).

`sqlite_only` tests run the service on its own SQLite file; they belong to the SQLite pass and are
not collected in the PostgreSQL pass (as `postgres_only` ones are not collected in the SQLite one).
"""

from __future__ import annotations

import os

import pytest

ENGINE = os.environ.get("CLINITRACK_TEST_ENGINE", "sqlite").strip().lower()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a fault of the SQLite file; runs in the SQLite pass")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if ENGINE != "sqlite":
        items[:] = [i for i in items if i.get_closest_marker("sqlite_only") is None]
