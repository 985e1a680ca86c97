"""Piccolo's configuration: the engine comes from clinitrack's settings."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from server.config import Settings
from server.sqlite_engine import PooledSQLiteEngine

APPS = [
    "server.core.piccolo_app",
    "server.stock.piccolo_app",
    "server.cleaning.piccolo_app",
    "server.coldchain.piccolo_app",
    "server.reprocessing.piccolo_app",
    "server.alerts.piccolo_app",
    "server.purchasing.piccolo_app",
]


def make_engine(settings: Settings) -> PostgresEngine | SQLiteEngine:
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url}, log_queries=False)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    # timeout is SQLite's busy timeout in seconds: other processes (the CLI while
    # the service runs) wait for the write lock instead of failing at once.
    return PooledSQLiteEngine(path=str(settings.sqlite_path), timeout=30)


DB = make_engine(Settings.from_env())
APP_REGISTRY = AppRegistry(apps=APPS)
