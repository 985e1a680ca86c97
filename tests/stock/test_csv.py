from __future__ import annotations

from server.core.rules import Role
from server.stock.csvio import parse_items_csv
from server.stock.tables import Item, ItemCode
from tests.factories import Client, login, make_site, make_user
from tests.stock.factories import make_item

GOOD = """kind,name,din,unit,storage,par_level,reorder_point,reorder_qty,publicly_funded,beyond_use_days,codes
vaccine,Influenza vaccine (QIV),02432730,dose,fridge,40,15,30,yes,,09506000134352:10
supply,Nitrile gloves M,,box,room,10,4,10,no,,0061414100000:1; 0061414100017:10
medication,Tuberculin PPD,,vial,fridge,2,1,2,no,28,
"""


def test_a_good_file_parses_every_row() -> None:
    parsed = parse_items_csv(GOOD)
    assert parsed.errors == []
    assert [i.name for i in parsed.items] == ["Influenza vaccine (QIV)", "Nitrile gloves M", "Tuberculin PPD"]
    assert [(c.code, c.pack_qty) for c in parsed.items[1].codes] == [
        ("0061414100000", 1),
        ("0061414100017", 10),
    ]
    assert parsed.items[0].publicly_funded is True and parsed.items[2].beyond_use_days == 28


def test_every_bad_row_is_listed_with_its_number() -> None:
    bad = (
        GOOD
        + "gadget,Thing,,,room,,,,no,,\n"
        + "supply,Nitrile gloves M,,,room,,,,no,,\n"
        + "supply,Swabs,,,room,lots,,,no,,\n"
    )
    parsed = parse_items_csv(bad)
    assert [e["row"] for e in parsed.errors] == [5, 6, 7]
    assert "also on row 3" in str(parsed.errors[1]["message"])
    assert "lots" in str(parsed.errors[2]["message"])


def test_a_bad_header_is_one_clear_error() -> None:
    parsed = parse_items_csv("type,label\nvaccine,x\n")
    assert parsed.items == []
    assert parsed.errors == [
        {"row": 1, "message": "missing columns: kind, name; unknown columns: label, type"}
    ]


async def test_dry_run_then_import_then_export_round_trips(client: Client) -> None:
    site = await make_site()
    await make_item(site, "Nitrile gloves M", gtin=None)
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    s = await login(client, "mgr")
    dry = await s.post(f"/api/sites/{site}/items/import", {"csv": GOOD})
    assert dry.status_code == 201, dry.text
    assert dry.json()["created"] == ["Influenza vaccine (QIV)", "Tuberculin PPD"]
    assert dry.json()["updated"] == ["Nitrile gloves M"]
    assert await Item.count() == 1
    done = await s.post(f"/api/sites/{site}/items/import", {"csv": GOOD, "dry_run": False})
    assert done.status_code == 201
    assert await Item.count() == 3 and await ItemCode.count() == 3
    exported = await s.get(f"/api/sites/{site}/items/export")
    assert exported.headers["content-type"].startswith("text/csv")
    again = parse_items_csv(exported.text)
    assert again.errors == []
    assert {i.name for i in again.items} == {"Influenza vaccine (QIV)", "Nitrile gloves M", "Tuberculin PPD"}


async def test_a_file_with_a_bad_row_imports_nothing(client: Client) -> None:
    site = await make_site()
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    s = await login(client, "mgr")
    resp = await s.post(
        f"/api/sites/{site}/items/import", {"csv": GOOD + "supply,Swabs,,,room,-3,,,no,,\n", "dry_run": False}
    )
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "csv_rows_invalid"
    assert body["errors"][0]["field"] == "row 5"
    assert await Item.count() == 0


def test_unit_cost_is_optional_in_dollars_and_checked() -> None:
    text = "kind,name,unit_cost\nvaccine,Flu,18.50\nsupply,Gloves,$0.0437\nsupply,Swabs,\nsupply,Tape,cheap\n"
    parsed = parse_items_csv(text)
    assert [(i.name, i.unit_cost) for i in parsed.items] == [
        ("Flu", 18.5),
        ("Gloves", 0.0437),
        ("Swabs", None),
    ]
    assert [e["row"] for e in parsed.errors] == [5]
    assert "unit_cost" in str(parsed.errors[0]["message"])
    assert parse_items_csv("kind,name,unit_cost\nsupply,Gloves,-1\n").errors != []
