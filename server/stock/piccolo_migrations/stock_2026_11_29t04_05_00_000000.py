from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T04:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "journal keyset index (site, id)"

INDEXES = {
    # The journal pages newest first by id within a site (WHERE site = ? AND id < ? ORDER BY id DESC).
    # Without it PostgreSQL walks the primary key backwards and filters on site: on the region set
    # (10 M movements) the first page of a site whose movements are old took 6.8 s instead of 1 ms.
    "movement_site_id": "CREATE INDEX IF NOT EXISTS movement_site_id ON movement (site, id)",
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="stock", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await _RawSQL.raw(sql).run()

    async def drop() -> None:
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
