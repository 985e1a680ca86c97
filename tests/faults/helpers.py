"""Helpers for the fault tests: a load of scanners (bench/load.py's), a private PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.load import Scanner, Setup, Stats, free_port, scanner_loop
from tests.pg import _pg_bin

SECRET = "fault-test-secret-key-0123456789-0123456789"


def service_env(var_dir: Path, database_url: str | None, *, scheduler: bool = False) -> dict[str, str]:
    env = {
        **os.environ,
        "CLINITRACK_VAR_DIR": str(var_dir),
        "CLINITRACK_SECRET_KEY": SECRET,
        "CLINITRACK_SCHEDULER": "on" if scheduler else "off",
        "CLINITRACK_LOG_LEVEL": "warning",
    }
    env.pop("CLINITRACK_DATABASE_URL", None)
    if database_url:
        env["CLINITRACK_DATABASE_URL"] = database_url
    return env


async def drive(
    base: str, setup: Setup, stats: Stats, *, scanners: int, seconds: float, think: float = 0.02
) -> None:
    """`scanners` concurrent scanners for `seconds`; they retry with the same key on connection errors."""
    deadline = time.monotonic() + seconds
    rng = random.Random(11)
    await asyncio.gather(
        *(
            scanner_loop(
                Scanner(base, setup.token, stats, timeout=20, retry_for=45),
                setup,
                deadline,
                think=think,
                rng=random.Random(rng.random()),
            )
            for _ in range(scanners)
        )
    )


def token_client(base: str, token: str, timeout: float = 20) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def assert_problem(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A clear RFC 9457 answer: the status, the stable code and a plain sentence, no trace."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body: dict[str, Any] = resp.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert "Traceback" not in resp.text and "Error:" not in body["detail"], body
    assert body["detail"].endswith("."), body
    return body


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, on a free port: stopping it touches nobody else."""

    root: Path
    port: int
    as_postgres: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, _pg_bin("pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", opts, "-l", str(self.root / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop")

    async def create_database(self, name: str) -> str:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.admin_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="clinitrack-fault-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    cluster = PrivatePostgres(root, free_port(), as_postgres)
    subprocess.run(
        [
            *as_postgres,
            _pg_bin("initdb"),
            "-D",
            str(cluster.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            [*as_postgres, _pg_bin("pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
