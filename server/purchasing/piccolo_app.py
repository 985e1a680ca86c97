from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="purchasing",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=table_finder(modules=["server.purchasing.tables"], exclude_imported=True),
    migration_dependencies=["server.core.piccolo_app", "server.stock.piccolo_app"],
    commands=[],
)
