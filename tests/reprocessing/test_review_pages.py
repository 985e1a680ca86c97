"""The inspector's review lists page by keyset (cursor), filter by sterilizer, days, device and status,
and the CSV export reads every page (no cap) with the audit-chain range at its foot."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.core.audit import chain_for
from server.core.tables import AuditEvent
from server.reprocessing import paging
from server.reprocessing.tables import Load
from tests.reprocessing.conftest import As
from tests.reprocessing.test_routes import _clinic, _device, _packaged, _sterilizer

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in Toronto: every load on its local day


async def _loads(
    site: int, sterilizer: int, n: int, *, start: datetime = START, status: str = "released"
) -> None:
    """n loads, one every 20 minutes, numbered per local day as the service numbers them."""
    rows, numbers = [], {}
    for i in range(n):
        at = start + timedelta(minutes=20 * i)
        day = (at - timedelta(hours=5)).date()
        numbers[day] = numbers.get(day, 0) + 1
        rows.append(
            Load(
                site=site,
                sterilizer=sterilizer,
                day=day,
                load_number=numbers[day],
                started_at=at,
                cycle_type="wrapped",
                status=status,
                physical_met=True,
                external_ci="pass",
                internal_ci="pass",
                operator_initials="AB",
            )
        )
    for i in range(0, len(rows), 500):  # asyncpg takes at most 32,767 arguments a statement
        await Load.insert(*rows[i : i + 500])


async def _all(s: Any, url: str, key: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    found: list[dict[str, Any]] = []
    cursor, pages = "", 0
    while True:
        resp = await s.get(url, params={**params, "cursor": cursor})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        found += body[key]
        pages += 1
        if not body["next_cursor"]:
            return found, pages
        cursor = body["next_cursor"]


async def test_loads_page_by_cursor_with_filters(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    a = await _sterilizer(mgr, base)
    b = await _sterilizer(mgr, base, name="Statim B")
    await _loads(c["site"], a["id"], 7)
    await _loads(c["site"], b["id"], 4, status="failed")
    insp = await as_("insp")
    everything, pages = await _all(insp, f"{base}/loads", "loads", limit=3)
    assert (len(everything), pages) == (11, 4)
    keys = [(x["started_at"], x["id"]) for x in everything]
    assert keys == sorted(keys) and len(set(keys)) == 11  # oldest first, no row twice, none left out
    mine, _ = await _all(insp, f"{base}/loads", "loads", limit=2, sterilizer_id=a["id"])
    assert [x["load_number"] for x in mine] == [1, 2, 3, 4, 5, 6, 7]
    failed, _ = await _all(insp, f"{base}/loads", "loads", limit=2, status="failed")
    assert {x["sterilizer_id"] for x in failed} == {b["id"]} and len(failed) == 4
    day = await insp.get(f"{base}/loads", params={"from_date": "2026-03-03", "to_date": "2026-03-03"})
    assert day.json() == {"loads": [], "next_cursor": None}
    for cursor in ("not-a-cursor", paging.encode(START, 2**40), "MjAyNi0wMS0wMXwx"):  # no offset
        bad = await insp.get(f"{base}/loads", params={"cursor": cursor})
        assert bad.status_code == 400 and bad.json()["code"] == "bad_cursor", cursor
    assert (await insp.get(f"{base}/loads", params={"limit": 501})).status_code == 400


async def test_the_csv_export_reads_every_page(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    # Past one export page (500) and past the old 5,000-row cap's spirit: every load is in the file.
    await _loads(c["site"], st["id"], 1203, start=datetime(2026, 1, 5, 14, 0, tzinfo=UTC))
    insp = await as_("insp")
    resp = await insp.get(f"{base}/loads/export.csv")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.text)))
    assert rows[0][0] == "sterilizer" and rows[0][-1] == "corrections"
    body = rows[1:-2]
    assert len(body) == 1203
    assert rows[-2] == [] and rows[-1][0] == "audit_chain"
    # The chain's range ends at its newest event, with that event's hash (what `audit verify` checks).
    last = (
        await AuditEvent.select()
        .where(AuditEvent.chain == chain_for(c["site"]))
        .order_by(AuditEvent.seq, ascending=False)
        .first()
    )
    assert last is not None
    assert rows[-1][2] == f"seq 1-{last['seq']}" and last["seq"] > 1
    assert rows[-1][3] == f"hash {last['hash']}"
    days = [date.fromisoformat(r[3]) for r in body]
    assert days == sorted(days)


async def test_step_records_and_logs_page_and_filter(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base, kind="pre_vacuum")
    devices = [await _device(mgr, base, name=f"Set {i}") for i in range(2)]
    asst = await as_("asst")
    for d in devices:
        await _packaged(asst, base, d)
    for passed in (False, True):
        await asst.post(f"{base}/sterilizers/{st['id']}/bowie-dick", {"passed": passed, "initials": "AB"})
    mgr = await as_("mgr")
    await mgr.post(f"{base}/sterilizers/{st['id']}/log", {"kind": "maintenance", "note": "Gasket changed"})
    insp = await as_("insp")
    steps, pages = await _all(insp, f"{base}/steps", "steps", limit=3)
    assert (len(steps), pages) == (8, 3)
    assert {s["device_name"] for s in steps} == {"Set 0", "Set 1"}
    one, _ = await _all(insp, f"{base}/steps", "steps", device_id=devices[1]["id"], limit=2)
    assert [s["step"] for s in one] == ["point_of_use", "clean", "inspect", "package"]
    packaged, _ = await _all(insp, f"{base}/steps", "steps", status="packaged")
    assert [s["device_id"] for s in packaged] == [d["id"] for d in devices]
    tests, _ = await _all(insp, f"{base}/sterilizers/bowie-dick", "tests", sterilizer_id=st["id"], limit=1)
    assert [t["passed"] for t in tests] == [False, True]
    failed, _ = await _all(insp, f"{base}/sterilizers/bowie-dick", "tests", passed="false")
    assert len(failed) == 1
    log, _ = await _all(insp, f"{base}/sterilizers/log", "entries", sterilizer_id=st["id"])
    assert [(e["kind"], e["note"], e["sterilizer_name"]) for e in log] == [
        ("maintenance", "Gasket changed", "Statim A")
    ]
    hld, _ = await _all(insp, f"{base}/hld/log", "records", device_id=devices[0]["id"])
    assert hld == []
