from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T01:30:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "one subscription per person and site"

INDEXES = {
    "subscription_user_site_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS subscription_user_site_uniq ON subscription (\"user\", site)"
    ),
    "delivery_pending": "CREATE INDEX IF NOT EXISTS delivery_pending ON delivery (status, next_attempt_at)",
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
