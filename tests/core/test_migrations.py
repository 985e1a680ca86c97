from __future__ import annotations

from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import Finder

from server.db import pending_migrations


async def test_tables_and_migrations_do_not_drift() -> None:
    """Fails when a table changed without a committed migration (what `--auto` would generate)."""
    drift = {}
    for app_config in Finder().get_app_configs():
        statements = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config=app_config)
        lines = [s for group in statements for s in group.statements]
        if lines:
            drift[app_config.app_name] = lines
    assert drift == {}, f"run `piccolo migrations new <app> --auto` and commit: {drift}"


async def test_the_database_is_current_after_migrate() -> None:
    assert await pending_migrations() == []
