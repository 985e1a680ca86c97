"""The loads CSV written by the database (COPY on PostgreSQL, raw pages on SQLite) is byte for byte
the file the per-row Python rendering wrote before it: awkward text (formula starts, commas,
quotes, newlines, lone CRs, backslashes, accents), NULLs, packs, BI tests, corrections, local times
across DST changes, and every filter. Closing the stream early stops the export and frees its
connection."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from server import sql
from server.core.service import site_zone
from server.csvcell import cell
from server.reprocessing import export_pg, review
from server.reprocessing.export_sql import csv_text
from server.reprocessing.review import LoadFilter
from server.reprocessing.rules import LoadStatus
from server.reprocessing.schemas import LoadRead
from server.reprocessing.tables import Device, Load, LoadCorrection, Pack, Sterilizer
from tests.factories import make_site
from tests.reprocessing.conftest import As
from tests.reprocessing.test_routes import _clinic, _sterilizer

AWKWARD = [
    "=SUM(A1:A9)",
    "+1 555",
    "-3",
    "@cmd",
    "\tlead tab",
    "\rlead cr",
    "a,b",
    'say "hi"',
    "two\nlines",
    "lone\rcr",
    "crlf\r\nend",
    "Crème brûlée à l'été",
    "",
    " lead space",
    "back\\slash",
    "\\.",
    "tab\tinside",
    '"',
    ",",
    "'quoted",
    "dent 🦷",
    "\x0b\x0c\x08ctrl",
    "a\\nb",
    '=\n,"',
]


def reference_row(load: LoadRead, st: dict[str, Any], contents: Any, fixes: Any, tz: Any) -> list[Any]:
    """The export's row as the per-row renderer built it before the database wrote the file."""

    def yn(value: bool | None) -> str:
        return "" if value is None else ("Y" if value else "N")

    def minute(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""

    return [
        st["name"],
        st["model"],
        st["serial"],
        load.day.isoformat(),
        load.started_at.astimezone(tz).strftime("%H:%M"),
        load.load_number,
        load.cycle_type,
        "; ".join(contents.get(load.id, [])) or ("BI test" if load.purpose == "bi_test" else ""),
        yn(load.implant),
        yn(load.physical_met),
        load.temperature_c,
        load.minutes,
        load.pressure_kpa,
        load.external_ci,
        load.internal_ci,
        load.bi_lot,
        load.bi_result.value,
        minute(load.bi_read_at),
        load.operator_initials,
        load.releaser_name,
        minute(load.released_at),
        load.status.value,
        load.comment,
        " | ".join(fixes.get(load.id, [])),
    ]


async def reference_csv(site_id: int, f: LoadFilter) -> bytes:
    tz = await site_zone(site_id)
    sterilizers = {r["id"]: r for r in await Sterilizer.select().where(Sterilizer.site == site_id)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(review.CSV_HEADER)
    async for loads in review.each_load_page(site_id, f):
        ids = [load.id for load in loads]
        contents = await review.load_contents(ids)
        fixes = await review.correction_lines(ids, tz)
        for load in loads:
            row = reference_row(load, sterilizers[load.sterilizer_id], contents, fixes, tz)
            writer.writerow([cell(v) for v in row])
    writer.writerow([])
    writer.writerow(["audit_chain", *await review.chain_range(site_id, f, tz)])
    return out.getvalue().encode()


async def exported(site_id: int, f: LoadFilter) -> bytes:
    return b"".join(
        c if isinstance(c, bytes) else c.encode() for c in [x async for x in review.export_csv(site_id, f)]
    )


def test_csv_text_is_cell_written_by_the_csv_module() -> None:
    for text in [*AWKWARD, None, 134, -2, 134.0]:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(["x", cell(text)])
        assert out.getvalue() == f"x,{csv_text(text)}\n", repr(text)


def _awkward(i: int, n: int) -> str:
    return AWKWARD[i % len(AWKWARD)][:n]


async def _awkward_loads(site: int, sterilizers: list[int], devices: list[int]) -> list[int]:
    """Loads around the two DST changes of 2026 in Toronto, every text column awkward in turn."""
    times = [
        datetime(2026, 3, 8, 6, 30, tzinfo=UTC),  # 01:30 EST
        datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 EDT
        datetime(2026, 3, 8, 7, 30, 30, 123456, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # 01:30 EST, again
        datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2027, 1, 1, 4, 59, tzinfo=UTC),  # still 2026 in Toronto
    ]
    statuses = ["released", "failed", "open", "held", "test_passed"]
    bi = ["", "pending", "negative", "positive"]
    rows = []
    for i in range(len(AWKWARD) * 2):
        at = times[i % len(times)] + timedelta(days=i // len(times) * 3)
        rows.append(
            Load(
                site=site,
                sterilizer=sterilizers[i % len(sterilizers)],
                day=(at - timedelta(hours=5)).date(),
                load_number=-1 if i == 3 else i + 1,
                started_at=at,
                cycle_type=_awkward(i, 40),
                purpose="bi_test" if i % 5 == 2 else "load",
                implant=i % 2 == 0,
                physical_met=[None, True, False][i % 3],
                status=statuses[i % len(statuses)],
                temperature_c=_awkward(i + 1, 16),
                minutes=_awkward(i + 2, 16),
                pressure_kpa=_awkward(i + 3, 16),
                external_ci=_awkward(i + 4, 8),
                internal_ci=_awkward(i + 5, 8),
                bi_lot=_awkward(i + 6, 40),
                bi_result=bi[i % len(bi)],
                bi_read_at=None if i % 4 == 0 else at + timedelta(hours=30, minutes=i),
                operator_initials=_awkward(i + 7, 8),
                releaser_name=_awkward(i + 8, 200),
                released_at=None if i % 3 == 0 else at + timedelta(hours=2, seconds=59),
                comment=_awkward(i + 9, 1000) + (" and more" if i % 2 else ""),
            )
        )
    await Load.insert(*rows)
    ids = [r["id"] for r in await Load.select(Load.id).where(Load.site == site).order_by(Load.id)]
    packs = [
        Pack(
            site=site, device=devices[k % len(devices)], load=ids[j], label_code=f"P{j:03d}{k}", initials="ab"
        )
        for j in range(0, len(ids), 2)
        for k in (2, 0, 1)[: 1 + j % 3]
    ]
    await Pack.insert(*packs)
    for j in (1, 4, 4, 9):
        await LoadCorrection.insert(
            LoadCorrection(
                site=site,
                load=ids[j],
                before=json.dumps({"bi_result": "negative", "minutes": "", "physical_met": True}),
                after=json.dumps({"bi_result": "positive", "minutes": _awkward(j, 16), "physical_met": True}),
                status_before="released",
                status_after="failed",
                reason=_awkward(j + 1, 200) or '=why, "so"',
                actor="user:1",
                actor_name=_awkward(j + 2, 200),
                at=datetime(2026, 3, 8, 6, 45, tzinfo=UTC) + timedelta(hours=j),
            )
        )
    return ids


async def test_the_export_is_the_per_row_rendering_byte_for_byte(as_: As) -> None:
    c = await _clinic()
    site, base = c["site"], c["base"]
    mgr = await as_("mgr")
    a = await _sterilizer(mgr, base)
    b = await _sterilizer(mgr, base, name="Statim B")
    await Sterilizer.update({Sterilizer.name: '=HYPERLINK("x")', Sterilizer.model: "Model,\nTwo"}).where(
        Sterilizer.id == b["id"]
    )
    for i, name in enumerate(["Forceps", "=cmd|' /C calc'!A0", 'Set, "large"\nline', "Écarteur"]):
        await Device.insert(
            Device(site=site, name=name, kind="set", spaulding="critical", label_code=f"D{i}")
        )
    device_ids = [
        r["id"] for r in await Device.select(Device.id).where(Device.site == site).order_by(Device.id)
    ]
    await _awkward_loads(site, [a["id"], b["id"]], device_ids)

    filters = [
        LoadFilter(),
        LoadFilter(sterilizer_id=b["id"]),
        LoadFilter(from_day=date(2026, 3, 8), to_day=date(2026, 3, 14)),
        LoadFilter(from_day=date(2026, 11, 1)),
        LoadFilter(to_day=date(2026, 3, 7)),
        LoadFilter(status=LoadStatus.FAILED, sterilizer_id=a["id"]),
        LoadFilter(from_day=date(2030, 1, 1)),  # nothing
    ]
    for f in filters:
        expected = await reference_csv(site, f)
        assert await exported(site, f) == expected, f
    whole = await reference_csv(site, LoadFilter())
    # The awkward cases are in it: a formula made text, a lone CR left unquoted as Python's csv does.
    assert b",'=SUM(A1:A9)," in whole and b",lone\rcr," in whole and b"Cr\xc3\xa8me" in whole

    # Over HTTP: the same bytes, with the route's filters.
    insp = await as_("insp")
    resp = await insp.get(
        f"{base}/loads/export.csv", params={"sterilizer_id": b["id"], "from_date": "2026-03-08"}
    )
    assert resp.status_code == 200
    assert resp.content == await reference_csv(
        site, LoadFilter(sterilizer_id=b["id"], from_day=date(2026, 3, 8))
    )


async def test_an_offset_change_inside_an_hour_and_pages_of_equal_times(client: httpx.AsyncClient) -> None:
    """St. John's changes offset at 05:30 UTC; 2,100 loads with shared start times cross the
    SQLite export's pages (2,000) on a tie."""
    site = await make_site("Newfoundland", timezone="America/St_Johns")
    st = await Sterilizer.insert(Sterilizer(site=site, name="N1", label_code="S-N1")).returning(Sterilizer.id)
    start = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    rows = [
        Load(
            site=site,
            sterilizer=st[0]["id"],
            day=date(2026, 3, 8),
            load_number=i,
            started_at=start + timedelta(minutes=(i // 7) * 5),
            released_at=start + timedelta(minutes=i),
            status="released",
        )
        for i in range(2100)
    ]
    for i in range(0, len(rows), 500):
        await Load.insert(*rows[i : i + 500])
    got = await exported(site, LoadFilter())
    assert got == await reference_csv(site, LoadFilter())
    # 05:00 and 05:25 UTC are 01:30 and 01:55 NST; 05:30 UTC is 03:00 NDT.
    for line in (
        b"\nN1,,,2026-03-08,01:30,0,",
        b"\nN1,,,2026-03-08,01:55,35,",
        b"\nN1,,,2026-03-08,03:00,42,",
    ):
        assert line in got
    assert len(got.splitlines()) == 2100 + 3


async def test_closing_the_stream_early_stops_the_export(client: httpx.AsyncClient, engine_name: str) -> None:
    c = await _clinic()
    st = (
        await Sterilizer.insert(Sterilizer(site=c["site"], name="Big", label_code="S-BIG")).returning(
            Sterilizer.id
        )
    )[0]
    start = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    rows = [
        Load(
            site=c["site"],
            sterilizer=st["id"],
            day=start.date(),
            load_number=i,
            started_at=start,
            comment="x" * 200,
        )
        for i in range(30_000)
    ]
    for i in range(0, len(rows), 1000):
        await Load.insert(*rows[i : i + 1000])
    stream = review.export_csv(c["site"], LoadFilter())
    first = [await anext(stream) for _ in range(3)]
    assert len(first) == 3
    if engine_name == "postgres":
        assert len(export_pg._running) == 1  # still copying: 30,000 lines do not fit in the queue
    await stream.aclose()
    if engine_name == "postgres":
        await asyncio.gather(*export_pg._running, return_exceptions=True)
        assert export_pg._running == set()
        for _ in range(100):  # the server notices the closed connection at its next write
            copying = await sql.fetch(
                "SELECT count(*) AS n FROM pg_stat_activity "
                "WHERE query LIKE 'COPY (SELECT%' AND pid <> pg_backend_pid()"
            )
            if copying[0]["n"] == 0:
                break
            await asyncio.sleep(0.05)
        assert copying[0]["n"] == 0
    # The connection went back to the pool: the next export runs to its end.
    assert (await exported(c["site"], LoadFilter())).count(b"\n") == 30_000 + 3


@pytest.mark.parametrize("n", [0, 1])
async def test_an_empty_or_one_load_export(client: httpx.AsyncClient, n: int) -> None:
    c = await _clinic()
    st = (
        await Sterilizer.insert(Sterilizer(site=c["site"], name="One", label_code="S-ONE")).returning(
            Sterilizer.id
        )
    )[0]
    if n:
        await Load.insert(
            Load(
                site=c["site"],
                sterilizer=st["id"],
                day=date(2026, 1, 5),
                started_at=datetime(2026, 1, 5, 14, tzinfo=UTC),
            )
        )
    assert await exported(c["site"], LoadFilter()) == await reference_csv(c["site"], LoadFilter())
