from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T03:44:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "keyset indexes on the filters inspectors use; passed BI test cycles are test_passed"

# Each review list pages by (time, id) within the site, or within one sterilizer or device.
INDEXES = {
    "rp_load_site_started": "CREATE INDEX IF NOT EXISTS rp_load_site_started ON rp_load (site, started_at, id)",
    "rp_load_sterilizer_started": (
        "CREATE INDEX IF NOT EXISTS rp_load_sterilizer_started ON rp_load (sterilizer, started_at, id)"
    ),
    "rp_load_site_status": (
        "CREATE INDEX IF NOT EXISTS rp_load_site_status ON rp_load (site, status, started_at, id)"
    ),
    "rp_step_site_at": "CREATE INDEX IF NOT EXISTS rp_step_site_at ON rp_step (site, at, id)",
    "rp_step_device_at": "CREATE INDEX IF NOT EXISTS rp_step_device_at ON rp_step (device, at, id)",
    "rp_step_site_step_at": "CREATE INDEX IF NOT EXISTS rp_step_site_step_at ON rp_step (site, step, at, id)",
    "rp_step_corrects": "CREATE INDEX IF NOT EXISTS rp_step_corrects ON rp_step (corrects)",
    "rp_use_corrects": "CREATE INDEX IF NOT EXISTS rp_use_corrects ON rp_use (corrects)",
    "rp_hld_record_site_at": "CREATE INDEX IF NOT EXISTS rp_hld_record_site_at ON rp_hld_record (site, at, id)",
    "rp_hld_record_device_at": (
        "CREATE INDEX IF NOT EXISTS rp_hld_record_device_at ON rp_hld_record (device, at, id)"
    ),
    "rp_sterilizer_log_site_at": (
        "CREATE INDEX IF NOT EXISTS rp_sterilizer_log_site_at ON rp_sterilizer_log (site, at, id)"
    ),
    "rp_bowie_dick_site_at": "CREATE INDEX IF NOT EXISTS rp_bowie_dick_site_at ON rp_bowie_dick (site, at, id)",
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reprocessing", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await _RawSQL.raw(sql).run()
        # A BI test cycle is a test of the sterilizer, not a load whose packs can be used.
        await _RawSQL.raw(
            "UPDATE rp_load SET status = 'test_passed' WHERE purpose = 'bi_test' AND status = 'released'"
        ).run()

    async def drop() -> None:
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
