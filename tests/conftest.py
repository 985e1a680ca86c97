"""Test set-up. The engine is chosen before any ``server`` import, because tables bind to it.

CLINITRACK_TEST_ENGINE=sqlite (default) uses a temporary SQLite file;
CLINITRACK_TEST_ENGINE=postgres uses a throwaway database (tests/pg.py).
Migrations run once, for real, at the start; each test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

ENGINE = os.environ.get("CLINITRACK_TEST_ENGINE", "sqlite").strip().lower()
if ENGINE not in ("sqlite", "postgres"):
    raise RuntimeError(f"CLINITRACK_TEST_ENGINE: {ENGINE!r} is not sqlite or postgres")

_VAR_DIR = tempfile.mkdtemp(prefix="clinitrack-test-")
os.environ["CLINITRACK_VAR_DIR"] = _VAR_DIR
os.environ["CLINITRACK_SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
os.environ["CLINITRACK_SCHEDULER"] = "off"
os.environ["CLINITRACK_LOG_LEVEL"] = "warning"
os.environ.pop("CLINITRACK_WORKERS", None)
_PG: tuple[str, str] | None = None
if ENGINE == "postgres":
    from tests.pg import create_throwaway_database

    _PG = create_throwaway_database()
    os.environ["CLINITRACK_DATABASE_URL"] = _PG[0]
else:
    os.environ.pop("CLINITRACK_DATABASE_URL", None)

from litestar import Litestar  # noqa: E402
from piccolo.conf.apps import Finder  # noqa: E402
from piccolo.table import sort_table_classes  # noqa: E402

from server.app import create_app  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db import run_migrations  # noqa: E402

asyncio.run(run_migrations())

# Children before parents, so deletes pass the RESTRICT foreign keys.
_TABLES = [t._meta.tablename for t in reversed(sort_table_classes(Finder().get_table_classes()))]


def pytest_report_header() -> str:
    return f"clinitrack engine: {ENGINE}" + (f" ({_PG[0].rsplit('/', 1)[-1]})" if _PG else "")


def pytest_sessionfinish() -> None:
    if _PG:
        from tests.pg import drop_database

        drop_database(*_PG)
    shutil.rmtree(_VAR_DIR, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests are not skipped on SQLite: they are not collected there,
    # and the PostgreSQL run (always part of `make test`) runs them.
    if ENGINE != "postgres":
        items[:] = [i for i in items if i.get_closest_marker("postgres_only") is None]


async def _empty_tables() -> None:
    from server.core.tables import Site

    if ENGINE == "postgres":
        names = ", ".join(f'"{t}"' for t in _TABLES)
        await Site.raw(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for table in _TABLES:
            await Site.raw(f'DELETE FROM "{table}"')


@pytest.fixture(autouse=True)
async def clean_db() -> AsyncIterator[None]:
    from server.db import close_pool

    await _empty_tables()
    yield
    # Pooled SQLite connections each hold a thread: close them, or the test process cannot exit.
    # (PostgreSQL pools belong to the fixtures that start them.)
    if ENGINE == "sqlite":
        await close_pool()


@pytest.fixture
def engine_name() -> str:
    return ENGINE


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # In-loop transport: Litestar's AsyncTestClient runs the app on another thread's
    # event loop, which cannot share the PostgreSQL pool with the test's own queries.
    # The lifespan's work (pool, WAL) is done here; the serve test covers the real one.
    from server.db import close_pool, prepare_engine, start_pool

    await prepare_engine()
    await start_pool(settings.pool_size)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await close_pool()


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[None]:
    """For service-level tests that run many queries: the PostgreSQL pool, as the app has it."""
    from server.db import close_pool, start_pool

    await start_pool(settings.pool_size)
    yield
    await close_pool()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tmp_env() -> Iterator[dict[str, str]]:
    yield {"CLINITRACK_VAR_DIR": tempfile.mkdtemp(prefix="clinitrack-env-")}
