"""Demo reprocessing data: a pre-vacuum sterilizer with today's Bowie-Dick test, devices and sets,
a released load (BI read negative), an implant load held for its BI, a pack waiting for a load and an
HLD solution with a passing concentration test. Through the services (audited); only on a site with
no sterilizer yet, so reruns add nothing."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from server.core.auth import SYSTEM
from server.core.service import site_zone
from server.reprocessing import devices, hld, loads, sterilizers
from server.reprocessing.rules import (
    CleanMethod,
    DeviceKind,
    InspectResult,
    Spaulding,
    StepKind,
    SterilizerKind,
)
from server.reprocessing.schemas import (
    BiIn,
    BowieDickIn,
    DeviceCreate,
    LoadCreate,
    MecTestIn,
    ResultsIn,
    SolutionCreate,
    StepIn,
    SterilizerCreate,
)
from server.reprocessing.tables import Sterilizer


async def load_reprocessing(path: Path, site_id: int, *, now: datetime) -> int:
    if await Sterilizer.exists().where(Sterilizer.site == site_id):
        return 0
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240  (small, read once by the CLI)
    tz = await site_zone(site_id)
    # Everything happens in the last few minutes, but never before today's local midnight: the
    # Bowie-Dick test and the loads must fall on the same local day.
    midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    start = max(now - timedelta(minutes=20), midnight)
    tick = iter(start + timedelta(seconds=5 * i) for i in range(200))
    spec = data["sterilizer"]
    st = await sterilizers.create_sterilizer(
        SYSTEM, site_id, SterilizerCreate(**{**spec, "kind": SterilizerKind(spec["kind"])}), now=next(tick)
    )
    await sterilizers.record_bowie_dick(
        SYSTEM, site_id, st.id, BowieDickIn(passed=True, initials=data["initials"]), now=next(tick)
    )
    packs: dict[str, list[str]] = {}
    for d in data["devices"]:
        made = await devices.create_device(
            SYSTEM,
            site_id,
            DeviceCreate(
                name=d["name"],
                kind=DeviceKind(d["kind"]),
                spaulding=Spaulding(d["spaulding"]),
                single_use=bool(d.get("single_use", False)),
                mifu=d.get("mifu", ""),
            ),
            now=next(tick),
        )
        if "pack" in d:
            code = await _package(site_id, made.label_code, data["initials"], tick)
            packs.setdefault(d["pack"], []).append(code)
    released = await _load(site_id, st.id, packs["released"], data, tick, implant=False)
    await loads.record_bi(SYSTEM, site_id, released, BiIn(result="negative"), now=next(tick))
    await loads.release(SYSTEM, site_id, released, now=next(tick))
    await _load(site_id, st.id, packs["held"], data, tick, implant=True)  # held until its BI reads
    sol = data["hld_solution"]
    today = now.astimezone(tz).date()
    solution = await hld.create_solution(
        SYSTEM,
        site_id,
        SolutionCreate(
            product=sol["product"],
            lot=sol["lot"],
            activated_on=today - timedelta(days=sol["activated_days_ago"]),
            reuse_life_days=sol["reuse_life_days"],
        ),
        now=next(tick),
    )
    await hld.record_mec(
        SYSTEM,
        site_id,
        solution.id,
        MecTestIn(
            passed=True,
            strip_lot=sol["strip_lot"],
            strip_expires_on=today + timedelta(days=sol["strip_expires_in_days"]),
        ),
        now=next(tick),
    )
    return 2 + len(data["devices"]) + 2


async def _package(site_id: int, code: str, initials: str, tick: Any) -> str:
    pack = ""
    for kind, extra in (
        (StepKind.POINT_OF_USE, {}),
        (StepKind.CLEAN, {"method": CleanMethod.ULTRASONIC}),
        (StepKind.INSPECT, {"result": InspectResult.PASS}),
        (StepKind.PACKAGE, {"initials": initials}),
    ):
        done = await devices.record_step(
            SYSTEM, site_id, StepIn(code=code, step=kind, **extra), now=next(tick)
        )
        pack = done.pack.label_code if done.pack else pack
    return pack


async def _load(
    site_id: int, sterilizer_id: int, codes: list[str], data: dict[str, Any], tick: Any, *, implant: bool
) -> int:
    load = await loads.create_load(
        SYSTEM,
        site_id,
        LoadCreate(
            sterilizer_id=sterilizer_id,
            cycle_type="wrapped",
            initials=data["initials"],
            implant=implant,
            packs=codes,
        ),
        now=next(tick),
    )
    results = ResultsIn(
        physical_met=True,
        external_ci="pass",
        internal_ci="pass",
        bi_lot=data["bi_lot"],
        temperature_c="134",
        minutes="4",
        pressure_kpa="216",
    )
    await loads.record_results(SYSTEM, site_id, load.id, results, now=next(tick))
    return load.id
