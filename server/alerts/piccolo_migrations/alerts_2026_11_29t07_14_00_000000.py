from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T07:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one sighting per rule and site"

INDEXES = {
    "alert_sighting_rule_site_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS alert_sighting_rule_site_uniq ON alert_sighting (rule, site)"
    ),
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
