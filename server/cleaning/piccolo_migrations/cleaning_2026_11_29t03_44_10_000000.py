from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T03:44:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "one correction per cleaning log"

INDEXES = {
    # A log is corrected once; a later fix corrects the correction (NULLs do not collide).
    "cleaning_log_corrects_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS cleaning_log_corrects_uniq ON cleaning_log (corrects)"
    ),
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cleaning", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await _RawSQL.raw(sql).run()

    async def drop() -> None:
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
