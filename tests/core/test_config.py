from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import ConfigError, Settings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CLINITRACK_DATABASE_URL", "mysql://db/x", "must start with postgresql://"),
        ("CLINITRACK_DATABASE_URL", "postgresql://127.0.0.1:5432/", "names no database"),
        ("CLINITRACK_PORT", "abc", "is not a whole number"),
        ("CLINITRACK_PORT", "70000", "outside 1..65535"),
        ("CLINITRACK_WORKERS", "0", "outside 1..64"),
        ("CLINITRACK_WORKERS", "4", "several workers need PostgreSQL"),
        ("CLINITRACK_LOG_LEVEL", "loud", "is not one of"),
        ("CLINITRACK_SCHEDULER", "maybe", "is not one of auto, on, off"),
        ("CLINITRACK_SECRET_KEY", "short", "at least 32 characters"),
        ("CLINITRACK_SESSION_HOURS", "-1", "outside"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {"CLINITRACK_VAR_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    text = str(info.value)
    assert text.startswith(f"{name}:")
    assert message in text
    assert "\n" not in text


def test_defaults(tmp_path: Path) -> None:
    s = Settings.from_env({"CLINITRACK_VAR_DIR": str(tmp_path)})
    assert (s.database_url, s.host, s.port, s.workers, s.log_level, s.scheduler_enabled) == (
        None,
        "127.0.0.1",
        8000,
        1,
        "info",
        True,
    )
    assert s.sqlite_path == tmp_path / "clinitrack.sqlite3"


def test_postgres_allows_several_workers(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "CLINITRACK_VAR_DIR": str(tmp_path),
            "CLINITRACK_WORKERS": "4",
            "CLINITRACK_DATABASE_URL": "postgresql://u@db.example:5432/clinitrack",
        }
    )
    assert s.is_postgres and s.workers == 4


def test_secret_key_is_created_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings.from_env({"CLINITRACK_VAR_DIR": str(tmp_path)}).secret_key
    second = Settings.from_env({"CLINITRACK_VAR_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_the_cli_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "CLINITRACK_VAR_DIR": str(tmp_path), "CLINITRACK_PORT": "eighty"}
    env.pop("CLINITRACK_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "server", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["Error: configuration error: CLINITRACK_PORT: 'eighty' is not a whole number"]
