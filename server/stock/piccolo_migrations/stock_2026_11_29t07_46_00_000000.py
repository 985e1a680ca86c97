from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T07:46:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the alert sweep's stock view: change triggers and indexes (server/stock/rollup.py)"

# Every change to a stock level, a lot or an item's alert settings appends the item to
# stock_change; the sweep folds those items into lot_stock and item_stock. Appending takes no
# lock another transaction waits for (keeping totals on the lot and item rows did: a recall
# holding a lot and a use committing its level into that lot deadlocked).
PG = [
    """
CREATE OR REPLACE FUNCTION stock_change_from_level() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO stock_change (item) SELECT l.item FROM lot l WHERE l.id = NEW.lot;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.lot <> OLD.lot) THEN
    INSERT INTO stock_change (item) SELECT l.item FROM lot l WHERE l.id = OLD.lot;
  END IF;
  RETURN NULL;
END $$
""",
    """
CREATE OR REPLACE FUNCTION stock_change_from_lot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO stock_change (item) VALUES (NEW.item);
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.item <> OLD.item) THEN
    INSERT INTO stock_change (item) VALUES (OLD.item);
  END IF;
  RETURN NULL;
END $$
""",
    """
CREATE OR REPLACE FUNCTION stock_change_from_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stock_change (item) VALUES (NEW.id);
  RETURN NULL;
END $$
""",
    "CREATE TRIGGER stock_level_change AFTER INSERT OR DELETE OR UPDATE OF on_hand, lot ON stock_level "
    "FOR EACH ROW EXECUTE FUNCTION stock_change_from_level()",
    "CREATE TRIGGER lot_change AFTER INSERT OR DELETE OR UPDATE OF item, lot_number, expiry, status ON lot "
    "FOR EACH ROW EXECUTE FUNCTION stock_change_from_lot()",
    "CREATE TRIGGER item_change AFTER INSERT OR UPDATE OF name, kind, active, reorder_point, par_level ON item "
    "FOR EACH ROW EXECUTE FUNCTION stock_change_from_item()",
]

SQLITE = [
    "CREATE TRIGGER stock_level_change_insert AFTER INSERT ON stock_level BEGIN "
    "INSERT INTO stock_change (item) SELECT item FROM lot WHERE id = NEW.lot; END",
    "CREATE TRIGGER stock_level_change_delete AFTER DELETE ON stock_level BEGIN "
    "INSERT INTO stock_change (item) SELECT item FROM lot WHERE id = OLD.lot; END",
    "CREATE TRIGGER stock_level_change_update AFTER UPDATE OF on_hand, lot ON stock_level BEGIN "
    "INSERT INTO stock_change (item) SELECT item FROM lot WHERE id = NEW.lot; "
    "INSERT INTO stock_change (item) SELECT item FROM lot WHERE id = OLD.lot AND OLD.lot <> NEW.lot; END",
    "CREATE TRIGGER lot_change_insert AFTER INSERT ON lot BEGIN "
    "INSERT INTO stock_change (item) VALUES (NEW.item); END",
    "CREATE TRIGGER lot_change_delete AFTER DELETE ON lot BEGIN "
    "INSERT INTO stock_change (item) VALUES (OLD.item); END",
    "CREATE TRIGGER lot_change_update AFTER UPDATE OF item, lot_number, expiry, status ON lot BEGIN "
    "INSERT INTO stock_change (item) VALUES (NEW.item); "
    "INSERT INTO stock_change (item) SELECT OLD.item WHERE OLD.item <> NEW.item; END",
    "CREATE TRIGGER item_change_insert AFTER INSERT ON item BEGIN "
    "INSERT INTO stock_change (item) VALUES (NEW.id); END",
    "CREATE TRIGGER item_change_update AFTER UPDATE OF name, kind, active, reorder_point, par_level ON item "
    "BEGIN INSERT INTO stock_change (item) VALUES (NEW.id); END",
]
TRIGGERS_PG = {"stock_level_change": "stock_level", "lot_change": "lot", "item_change": "item"}
FUNCTIONS_PG = ["stock_change_from_level", "stock_change_from_lot", "stock_change_from_item"]

INDEXES = {
    # The expiring and expired-on-shelf rules read lots by expiry, the waiting ones by status.
    "lot_stock_expiry": "CREATE INDEX IF NOT EXISTS lot_stock_expiry ON lot_stock (expiry)",
    "lot_stock_held": "CREATE INDEX IF NOT EXISTS lot_stock_held ON lot_stock (status) WHERE status <> 'available'",
}


class _RawSQL(Table, tablename="raw_sql_runner"):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="stock", description=DESCRIPTION)

    async def create() -> None:
        sqlite = _RawSQL._meta.db.engine_type == "sqlite"
        for sql in [*(SQLITE if sqlite else PG), *INDEXES.values()]:
            await _RawSQL.raw(sql).run()
        # Every item once: the next fold (the next alert sweep) builds the view from scratch.
        await _RawSQL.raw("INSERT INTO stock_change (item) SELECT id FROM item").run()

    async def drop() -> None:
        sqlite = _RawSQL._meta.db.engine_type == "sqlite"
        for name in INDEXES:
            await _RawSQL.raw(f"DROP INDEX IF EXISTS {name}").run()
        if sqlite:
            for ddl in SQLITE:
                await _RawSQL.raw(f"DROP TRIGGER IF EXISTS {ddl.split()[2]}").run()
        else:
            for trigger, table in TRIGGERS_PG.items():
                await _RawSQL.raw(f"DROP TRIGGER IF EXISTS {trigger} ON {table}").run()
            for function in FUNCTIONS_PG:
                await _RawSQL.raw(f"DROP FUNCTION IF EXISTS {function}()").run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
