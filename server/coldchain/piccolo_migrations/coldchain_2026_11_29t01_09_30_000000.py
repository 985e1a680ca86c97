from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T01:09:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "cold chain unique and log indexes"

INDEXES = {
    # One "closed" mark per site and day.
    "closed_day_site_day_uniq": "CREATE UNIQUE INDEX IF NOT EXISTS closed_day_site_day_uniq ON closed_day (site, day)",
    # A fridge's log by period (charts, the monthly sheet, due readings).
    "temperature_reading_location_taken_at": (
        "CREATE INDEX IF NOT EXISTS temperature_reading_location_taken_at "
        "ON temperature_reading (location, taken_at, id)"
    ),
    "coldchain_incident_location_status": (
        "CREATE INDEX IF NOT EXISTS coldchain_incident_location_status ON coldchain_incident (location, status)"
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
