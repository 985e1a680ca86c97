from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T01:40:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "one correction per reading"

INDEXES = {
    # A reading is corrected once; a later fix corrects the correction (NULLs do not collide).
    "temperature_reading_corrects_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS temperature_reading_corrects_uniq ON temperature_reading (corrects)"
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
