"""PostgreSQL for the test run: the machine's server, or a private throwaway cluster.

A throwaway database is created per run and dropped at the end. When no server
answers, a private cluster is started from Debian's PostgreSQL binaries (as the
``postgres`` user when running as root, since initdb refuses root).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_db(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def _can_connect(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not running and its binaries are missing: apt-get install -y postgresql"
        )
    return found[-1]


def start_private_cluster() -> str:
    """Start a private cluster on a free port; returns its admin URL. Stopped at exit."""
    root = Path(tempfile.mkdtemp(prefix="clinitrack-pg-"))
    data = root / "data"
    port = _free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_postgres, _pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_postgres,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            [*as_postgres, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def create_throwaway_database() -> tuple[str, str]:
    """Returns (database URL, admin URL)."""
    admin_url = os.environ.get("CLINITRACK_TEST_PG_URL", DEFAULT_ADMIN_URL)
    if not asyncio.run(_can_connect(admin_url)):
        if os.environ.get("CLINITRACK_TEST_PG_URL"):
            raise RuntimeError(f"CLINITRACK_TEST_PG_URL: cannot connect to {admin_url}")
        admin_url = start_private_cluster()
    name = f"clinitrack_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return _with_db(admin_url, name), admin_url


def drop_database(url: str, admin_url: str) -> None:
    name = urlsplit(url).path.strip("/")

    async def drop() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())
