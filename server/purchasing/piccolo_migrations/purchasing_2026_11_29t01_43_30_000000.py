from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T01:43:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "purchasing unique indexes"

INDEXES = {
    # One supplier per name at a site (matched from items' default supplier text).
    "supplier_site_name_uniq": "CREATE UNIQUE INDEX IF NOT EXISTS supplier_site_name_uniq ON supplier (site, name)",
    "purchase_order_number_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS purchase_order_number_uniq ON purchase_order (number)"
    ),
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="purchasing", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await _RawSQL.raw(sql).run()

    async def drop() -> None:
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
