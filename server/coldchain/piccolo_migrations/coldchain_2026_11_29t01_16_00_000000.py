from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T01:16:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one open cold chain incident per fridge"

INDEXES = {
    # The last line of defence behind the per-fridge lock: never two open incidents for one fridge.
    "coldchain_incident_one_open": (
        "CREATE UNIQUE INDEX IF NOT EXISTS coldchain_incident_one_open ON coldchain_incident (location) "
        "WHERE status = 'open'"
    ),
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="coldchain", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await _RawSQL.raw(sql).run()

    async def drop() -> None:
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
