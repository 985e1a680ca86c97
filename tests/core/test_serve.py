"""The real thing: `clinitrack` commands in subprocesses, and the served app over TCP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from server.scheduler import LEADER_LOCK

DEMO = {
    "assistant": "demo-assistant",
    "manager": "demo-manager-1",
    "inspector": "demo-inspector",
    "admin": "demo-admin-123",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


_PIDS: dict[str, int] = {}


def _pid_of(base: str) -> int:
    return _PIDS[base]


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    _PIDS[base] = proc.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"service did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the service did not stop within 20 s of SIGTERM") from None


def _env(tmp_path: Path, *, postgres: bool, engine_name: str) -> dict[str, str]:
    env = {**os.environ, "CLINITRACK_VAR_DIR": str(tmp_path), "CLINITRACK_SCHEDULER": "on"}
    env.pop("CLINITRACK_SECRET_KEY", None)
    if not postgres:
        env.pop("CLINITRACK_DATABASE_URL", None)
    assert postgres == (engine_name == "postgres")
    return env


def test_fresh_install_migrate_seed_serve_and_every_demo_user_signs_in(
    tmp_path: Path, engine_name: str
) -> None:
    postgres = engine_name == "postgres"
    env = _env(tmp_path, postgres=postgres, engine_name=engine_name)
    assert _cli(env, "migrate").returncode == 0
    seeded = _cli(env, "seed", "demo")
    assert seeded.returncode == 0, seeded.stderr
    for username, password in DEMO.items():
        assert f"username {username}" in seeded.stdout and password in seeded.stdout
    # The demo's low and expiring stock are in the bell from the start.
    [alerts] = [int(line.split()[0]) for line in seeded.stdout.splitlines() if line.endswith(" alerts open")]
    assert alerts >= 3
    again = _cli(env, "seed", "demo")
    assert "0 records added" in again.stdout
    if not postgres:
        assert (tmp_path / "secret_key").exists() and (tmp_path / "clinitrack.sqlite3").exists()
    workers = ["--workers", "2"] if postgres else []
    with serving(env, *workers) as base:
        assert httpx.get(f"{base}/readyz").json()["migrations"] == "current"
        assert httpx.get(f"{base}/api/me").status_code == 401
        for username, password in DEMO.items():
            with httpx.Client(base_url=base) as c:
                resp = c.post("/api/auth/login", json={"username": username, "password": password})
                assert resp.status_code == 200, resp.text
                me = c.get("/api/me").json()
                assert me["memberships"][0]["role"] == username
                assert me["memberships"][0]["site_name"] == "Maple Grove Family Practice"
        with httpx.Client(base_url=base) as c:
            csrf = c.post(
                "/api/auth/login", json={"username": "inspector", "password": DEMO["inspector"]}
            ).json()["csrf_token"]
            site = c.get("/api/me").json()["memberships"][0]["site_id"]
            write = c.post(
                f"/api/sites/{site}/locations",
                json={"name": "X", "kind": "room"},
                headers={"X-CSRF-Token": csrf, "Idempotency-Key": "4c0e2a1e-7c2d-4b7e-9a55-1d2f3e4a5b6c"},
            )
            assert write.status_code == 403
        assert "text/html" in httpx.get(f"{base}/").headers["content-type"]
    verify = _cli(env, "audit", "verify")
    assert verify.returncode == 0 and verify.stdout.startswith("OK ")


def test_readyz_reports_pending_migrations(tmp_path: Path) -> None:
    env = {**os.environ, "CLINITRACK_VAR_DIR": str(tmp_path), "CLINITRACK_SCHEDULER": "off"}
    env.pop("CLINITRACK_DATABASE_URL", None)
    with serving(env, "--no-migrate") as base:
        resp = httpx.get(f"{base}/readyz")
        assert resp.status_code == 503
        assert resp.json()["code"] == "migrations_pending"
        assert httpx.get(f"{base}/healthz").status_code == 200


def _createuser(username: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "createuser", username, "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
        check=False,
    )


def test_createuser_from_the_command_line() -> None:
    result = _createuser("night-nurse", "a-long-secret-pw")
    assert result.returncode == 0, result.stderr
    assert "created night-nurse" in result.stdout
    dup = _createuser("night-nurse", "a-long-secret-pw")
    assert dup.returncode != 0
    assert "is taken" in dup.stderr
    weak = _createuser("day-nurse", "short")
    assert weak.returncode != 0 and "at least 12 characters" in weak.stderr


def test_jobs_run_once_for_cron(tmp_path: Path) -> None:
    env = {**os.environ, "CLINITRACK_VAR_DIR": str(tmp_path)}
    env.pop("CLINITRACK_DATABASE_URL", None)
    assert _cli(env, "migrate").returncode == 0
    first = _cli(env, "jobs", "run-once")
    assert first.returncode == 0, first.stderr
    assert {line.split(":")[0] for line in first.stdout.splitlines()} == {
        "housekeeping",
        "vial_sweep",
        "alert_sweep",
        "alert_delivery",
    }
    assert "already ran" not in first.stdout
    unknown = _cli(env, "jobs", "run-once", "coffee")
    assert unknown.returncode != 0 and "no such job: coffee" in unknown.stderr
    # The alerts' own command runs the same two jobs (through the same slots: never twice in one).
    again = _cli(env, "alerts", "run-once")
    assert again.returncode == 0, again.stderr
    assert [line.split(":")[0] for line in again.stdout.splitlines()] == ["alert_sweep", "alert_delivery"]
    full = _cli(env, "alerts", "run-once", "--full")
    assert full.returncode == 0, full.stderr
    assert "low_stock: 0 open, 0 cleared" in full.stdout.splitlines()


@pytest.mark.postgres_only
def test_two_service_processes_one_runs_the_jobs_and_the_other_takes_over(tmp_path: Path) -> None:
    """Two `clinitrack serve` processes on one PostgreSQL database: one holds the scheduler's lock;
    kill -9 it and the other takes the lock over by itself."""
    import asyncpg

    dsn = os.environ["CLINITRACK_DATABASE_URL"]

    async def leaders() -> list[int]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted",
                LEADER_LOCK,
            )
        finally:
            await conn.close()
        return [int(r["application_name"].rsplit(":", 1)[1]) for r in rows]

    def wait_for_leader(among: set[int], seconds: float = 30) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = asyncio.run(leaders())
            assert len(found) <= 1, f"two leaders: {found}"
            if found and found[0] in among:
                return found[0]
            time.sleep(0.3)
        raise AssertionError(f"no leader among {among} within {seconds} s")

    env = {**os.environ, "CLINITRACK_VAR_DIR": str(tmp_path), "CLINITRACK_SCHEDULER": "on"}
    with serving(env) as first, serving(env, "--no-migrate") as second:
        pids = {_pid_of(first), _pid_of(second)}
        leader = wait_for_leader(pids)
        for _ in range(10):  # it stays one leader while both run
            assert asyncio.run(leaders()) == [leader]
            time.sleep(0.2)
        os.kill(leader, signal.SIGKILL)
        survivor = wait_for_leader(pids - {leader})
        assert survivor != leader
