from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T22:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "stock unique and journal indexes"

INDEXES = {
    # One code per site resolves to one item.
    "item_code_site_code_uniq": "CREATE UNIQUE INDEX IF NOT EXISTS item_code_site_code_uniq ON item_code (site, code)",
    "lot_item_number_serial_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS lot_item_number_serial_uniq ON lot (item, lot_number, serial)"
    ),
    # The running total has exactly one row per lot and location.
    "stock_level_lot_location_uniq": (
        "CREATE UNIQUE INDEX IF NOT EXISTS stock_level_lot_location_uniq ON stock_level (lot, location)"
    ),
    "movement_site_at_id": "CREATE INDEX IF NOT EXISTS movement_site_at_id ON movement (site, at, id)",
    "lot_site_expiry": "CREATE INDEX IF NOT EXISTS lot_site_expiry ON lot (site, expiry)",
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
