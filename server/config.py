"""Settings read from the environment, validated once at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


class ConfigError(Exception):
    """Invalid configuration: the message is one line naming the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    var_dir: Path
    secret_key: str
    host: str
    port: int
    workers: int
    log_level: str
    scheduler_enabled: bool
    pool_size: int
    cookie_secure: bool | None
    session_hours: int

    @property
    def is_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "clinitrack.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, create_secret: bool = True) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("CLINITRACK_VAR_DIR", "var")).resolve()
        database_url = _database_url(env.get("CLINITRACK_DATABASE_URL", "").strip() or None)
        workers = _int(env, "CLINITRACK_WORKERS", 1, 1, 64)
        if workers > 1 and database_url is None:
            raise ConfigError(
                "CLINITRACK_WORKERS: several workers need PostgreSQL (set CLINITRACK_DATABASE_URL); "
                "SQLite runs one worker"
            )
        return cls(
            database_url=database_url,
            var_dir=var_dir,
            secret_key=_secret_key(env, var_dir, create=create_secret),
            host=env.get("CLINITRACK_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=_int(env, "CLINITRACK_PORT", 8000, 1, 65535),
            workers=workers,
            log_level=_choice(env, "CLINITRACK_LOG_LEVEL", "info", LOG_LEVELS),
            scheduler_enabled=_bool(env, "CLINITRACK_SCHEDULER", default=True),
            pool_size=_int(env, "CLINITRACK_DB_POOL_SIZE", 10, 1, 200),
            cookie_secure=_optional_bool(env, "CLINITRACK_COOKIE_SECURE"),
            session_hours=_int(env, "CLINITRACK_SESSION_HOURS", 12, 1, 24 * 30),
        )


def _database_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(
            "CLINITRACK_DATABASE_URL: must start with postgresql:// (leave it unset for SQLite)"
        )
    if not parts.hostname and "host=" not in parts.query:
        raise ConfigError("CLINITRACK_DATABASE_URL: names no host")
    if not parts.path.strip("/"):
        raise ConfigError("CLINITRACK_DATABASE_URL: names no database")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is outside {low}..{high}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in choices:
        raise ConfigError(f"{name}: {raw!r} is not one of {', '.join(choices)}")
    return raw


def _optional_bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "auto"):
        return None
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}: {raw!r} is not one of auto, on, off")


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = _optional_bool(env, name)
    return default if value is None else value


def _secret_key(env: Mapping[str, str], var_dir: Path, *, create: bool) -> str:
    raw = env.get("CLINITRACK_SECRET_KEY", "").strip()
    if raw:
        if len(raw) < 32:
            raise ConfigError("CLINITRACK_SECRET_KEY: must be at least 32 characters")
        return raw
    path = var_dir / "secret_key"
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if len(stored) < 32:
            raise ConfigError(f"CLINITRACK_SECRET_KEY: the stored key in {path} is too short; delete it")
        return stored
    if not create:
        return ""
    try:
        var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: two workers starting together must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"CLINITRACK_VAR_DIR: cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key
