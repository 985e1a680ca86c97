from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T21:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def composite_unique_indexes() -> None:
        # Piccolo has no composite UNIQUE; these keep one role per user and
        # site, and make a forked audit chain impossible at the database level.
        for sql in (
            'CREATE UNIQUE INDEX IF NOT EXISTS membership_user_site_uniq ON membership ("user", site)',
            "CREATE UNIQUE INDEX IF NOT EXISTS audit_event_chain_seq_uniq ON audit_event (chain, seq)",
        ):
            await _RawSQL.raw(sql).run()

    async def drop_indexes() -> None:
        for name in ("membership_user_site_uniq", "audit_event_chain_seq_uniq"):
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(composite_unique_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
