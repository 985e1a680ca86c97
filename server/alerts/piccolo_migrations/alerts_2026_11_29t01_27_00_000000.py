from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T01:27:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one open alert per rule and subject"

INDEXES = {
    # The sweeps upsert into this partial index (ON CONFLICT ... WHERE resolved_at IS NULL).
    "alert_open_rule_subject_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS alert_open_rule_subject_uniq ON alert (rule, subject) "
        "WHERE resolved_at IS NULL"
    ),
    "alert_site_open": "CREATE INDEX IF NOT EXISTS alert_site_open ON alert (site, resolved_at)",
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="alerts", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await _RawSQL.raw(sql).run()

    async def drop() -> None:
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
