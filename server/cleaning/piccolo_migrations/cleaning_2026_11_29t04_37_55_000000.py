from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T04:37:55:000000"
VERSION = "1.38.0"
DESCRIPTION = "each plan's latest log and request from an index"

INDEXES = {
    # The overdue sweep reads every plan's latest log and latest request (MAX per plan): with these
    # each is one step down an index instead of reading all the plan's logs.
    "cleaning_log_plan_ended_at": "CREATE INDEX IF NOT EXISTS cleaning_log_plan_ended_at ON cleaning_log (plan, ended_at)",
    "cleaning_request_plan_requested_at": (
        "CREATE INDEX IF NOT EXISTS cleaning_request_plan_requested_at ON cleaning_request (plan, requested_at)"
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
