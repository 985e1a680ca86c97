from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T01:27:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "one load number per sterilizer and day; one recall row per pack and failure"

INDEXES = {
    "rp_load_number_unique": (
        "CREATE UNIQUE INDEX IF NOT EXISTS rp_load_number_unique ON rp_load (sterilizer, day, load_number)"
    ),
    "rp_recall_pack_unique": (
        "CREATE UNIQUE INDEX IF NOT EXISTS rp_recall_pack_unique ON rp_recall_pack (failure, pack)"
    ),
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reprocessing", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await _RawSQL.raw(sql).run()

    async def drop() -> None:
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
