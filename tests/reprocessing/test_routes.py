"""Reprocessing through HTTP: steps by scan, loads and their rules, release, failed-BI recall,
traceability both ways, roles, exactly-once, bad input, the inspector's CSV and the pack labels."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from server.clock import utcnow
from server.core.rules import Role
from server.core.tables import AuditEvent
from server.reprocessing.tables import Device, HldRecord, Load, Pack, RecallPack, Step, Use
from tests.factories import Session, make_site, make_user
from tests.labels.decode import decode_pdf
from tests.reprocessing.conftest import As

OK_RESULTS = {"physical_met": True, "external_ci": "pass", "internal_ci": "pass"}


async def _clinic() -> dict[str, Any]:
    site = await make_site()
    for name, role in (("mgr", Role.MANAGER), ("asst", Role.ASSISTANT), ("insp", Role.INSPECTOR)):
        await make_user(name, site_id=site, role=role)
    return {"site": site, "base": f"/api/sites/{site}/reprocessing"}


async def _sterilizer(
    mgr: Session, base: str, kind: str = "gravity", name: str = "Statim A"
) -> dict[str, Any]:
    body = {
        "name": name,
        "model": "Statim 5000",
        "serial": f"SN-{name}",
        "kind": kind,
        "cycle_types": ["wrapped", "unwrapped"],
    }
    resp = await mgr.post(f"{base}/sterilizers", body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def _device(mgr: Session, base: str, name: str = "Suture set", **over: Any) -> dict[str, Any]:
    body = {"name": name, "kind": "set", "spaulding": "critical", "mifu": "MIFU-123 rev 4", **over}
    resp = await mgr.post(f"{base}/devices", body)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def _step(s: Session, base: str, code: str, step: str, **over: Any) -> Any:
    return await s.post(f"{base}/steps", {"code": code, "step": step, **over})


async def _packaged(s: Session, base: str, device: dict[str, Any]) -> dict[str, Any]:
    """Point of use → clean → inspect → package: the new pack."""
    code = device["label_code"]
    for step, extra in (
        ("point_of_use", {}),
        ("clean", {"method": "ultrasonic"}),
        ("inspect", {"result": "pass"}),
        ("package", {"initials": "ab"}),
    ):
        resp = await _step(s, base, code, step, **extra)
        assert resp.status_code == 201, resp.text
    return dict(resp.json()["pack"])


async def _load(s: Session, base: str, sterilizer: dict[str, Any], packs: list[str], **over: Any) -> Any:
    body = {
        "sterilizer_id": sterilizer["id"],
        "cycle_type": "wrapped",
        "initials": "AB",
        "packs": packs,
        **over,
    }
    return await s.post(f"{base}/loads", body)


async def _run(
    asst: Session,
    mgr: Session,
    base: str,
    st: dict[str, Any],
    packs: list[str],
    *,
    bi: str | None,
    **over: Any,
) -> dict[str, Any]:
    """A load with results; the BI read as ``bi`` when the load has one; released when it can be."""
    resp = await _load(asst, base, st, packs, **over)
    assert resp.status_code == 201, resp.text
    load = resp.json()
    results = dict(OK_RESULTS)
    if load["bi_required"]:
        results["bi_lot"] = "BI-7"
    resp = await asst.post(f"{base}/loads/{load['id']}/results", results)
    assert resp.status_code == 201, resp.text
    if bi and load["bi_required"]:
        resp = await asst.post(f"{base}/loads/{load['id']}/bi", {"result": bi})
        assert resp.status_code == 201, resp.text
    if load["purpose"] == "load" and resp.json()["status"] == "open":
        resp = await mgr.post(f"{base}/loads/{load['id']}/release")
        assert resp.status_code == 201, resp.text
    return dict(resp.json())


def utc_today() -> str:
    return (utcnow() - timedelta(days=1)).date().isoformat()  # yesterday in UTC: never ahead of the site


async def _actions() -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.action.like("reprocessing%"))
    return [r["action"] for r in rows]


async def test_a_critical_set_through_every_step_to_a_visit_and_back(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base, kind="pre_vacuum")
    device = await _device(mgr, base)
    assert (device["status"], device["required_process"], device["next_step"]) == (
        "in_use",
        "sterilize",
        "point_of_use",
    )
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    assert pack["label_code"].startswith("P")
    scan = (await asst.get(f"{base}/scan", params={"code": pack["label_code"]})).json()
    assert (scan["kind"], scan["device"]["status"]) == ("pack", "packaged")

    # Pre-vacuum: the day's Bowie-Dick test comes first.
    refused = await _load(asst, base, st, [pack["label_code"]])
    assert refused.status_code == 422
    assert refused.json()["code"] == "bowie_dick_missing"
    assert await Load.count() == 0
    bd = await asst.post(f"{base}/sterilizers/{st['id']}/bowie-dick", {"passed": True, "initials": "AB"})
    assert bd.status_code == 201, bd.text

    load = (await _load(asst, base, st, [pack["label_code"]])).json()
    assert (load["load_number"], load["bi_required"], load["pack_count"]) == (1, True, 1)
    early = await mgr.post(f"{base}/loads/{load['id']}/release")
    assert early.status_code == 422
    assert early.json()["code"] == "physical_missing"
    # Not usable before release.
    assert (await _step(asst, base, pack["label_code"], "store")).status_code == 422

    resp = await asst.post(
        f"{base}/loads/{load['id']}/results", {**OK_RESULTS, "bi_lot": "BI-7", "temperature_c": "134"}
    )
    assert resp.json()["bi_result"] == "pending"
    assert (await asst.post(f"{base}/loads/{load['id']}/release")).status_code == 403
    released = await mgr.post(f"{base}/loads/{load['id']}/release")
    assert released.status_code == 201, released.text
    assert released.json()["status"] == "released"
    # A passing internal CI released the non-implant load; the BI still gets read.
    assert (await asst.post(f"{base}/loads/{load['id']}/bi", {"result": "negative"})).status_code == 201

    by_device = await _step(asst, base, device["label_code"], "store")
    assert by_device.status_code == 422
    assert by_device.json()["code"] == "scan_the_pack"
    assert (await _step(asst, base, pack["label_code"], "store")).status_code == 201
    used = await _step(asst, base, pack["label_code"], "use", visit_code="V-2026-0042")
    assert used.status_code == 201, used.text
    assert used.json()["device"]["status"] == "in_use"

    visit = (await asst.get(f"{base}/visits", params={"visit_code": "V-2026-0042"})).json()
    assert [x["id"] for x in visit["loads"]] == [load["id"]]
    detail = (await asst.get(f"{base}/loads/{load['id']}")).json()
    assert [u["visit_code"] for u in detail["uses"]] == ["V-2026-0042"]
    assert [p["status"] for p in detail["packs"]] == ["used"]
    steps = (await asst.get(f"{base}/devices/{device['id']}")).json()["steps"]
    assert [s["step"] for s in steps] == [
        "point_of_use",
        "clean",
        "inspect",
        "package",
        "sterilize",
        "store",
        "use",
    ]
    insp = await as_("insp")
    records = (await insp.get(f"{base}/steps", params={"device_id": device["id"], "step": "clean"})).json()[
        "steps"
    ]
    assert [(r["step"], r["method"], r["actor_name"]) for r in records] == [("clean", "ultrasonic", "Asst")]
    day = {"from_date": load["day"], "to_date": load["day"]}
    today = (await insp.get(f"{base}/steps", params=day)).json()["steps"]
    assert len(today) == 7
    actions = await _actions()
    assert actions.count("reprocessing.load.release") == 1
    assert actions.count("reprocessing.step.use") == 1


async def test_a_step_out_of_order_is_refused_and_changes_nothing(as_: As) -> None:
    c = await _clinic()
    mgr = await as_("mgr")
    device = await _device(mgr, c["base"])
    asst = await as_("asst")
    before = await _actions()
    resp = await _step(asst, c["base"], device["label_code"], "inspect", result="pass")
    assert resp.status_code == 422
    assert resp.json()["code"] == "step_out_of_order"
    assert "in use" in resp.json()["detail"]
    assert await Step.count() == 0
    assert (await Device.select(Device.status).first())["status"] == "in_use"  # type: ignore[index]
    assert await _actions() == before


async def test_single_use_items_cannot_enter_reprocessing(as_: As) -> None:
    c = await _clinic()
    mgr = await as_("mgr")
    device = await _device(mgr, c["base"], name="Disposable speculum", single_use=True, kind="device")
    resp = await _step(await as_("asst"), c["base"], device["label_code"], "point_of_use")
    assert resp.status_code == 422
    assert resp.json()["code"] == "single_use"


async def test_semi_critical_needs_high_level_disinfection(as_: As) -> None:
    c = await _clinic()
    mgr = await as_("mgr")
    device = await _device(mgr, c["base"], name="Vaginal speculum", spaulding="semi_critical", kind="device")
    asst = await as_("asst")
    code = device["label_code"]
    await _step(asst, c["base"], code, "point_of_use")
    await _step(asst, c["base"], code, "clean", method="manual")
    resp = await _step(asst, c["base"], code, "inspect", result="pass")
    assert resp.json()["device"]["next_step"] == "disinfect"
    weak = await _step(asst, c["base"], code, "disinfect", process="lld")
    assert weak.status_code == 422
    assert weak.json()["code"] == "process_too_weak"
    no_solution = await _step(asst, c["base"], code, "disinfect", process="hld")
    assert no_solution.json()["code"] == "hld_fields_required"  # the rest: test_hld_is_blocked_...


async def test_implant_load_is_held_until_the_bi_reads_negative(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    device = await _device(mgr, base, name="Implant kit")
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    load = (await _load(asst, base, st, [pack["label_code"]], implant=True)).json()
    missing_bi = await asst.post(f"{base}/loads/{load['id']}/results", OK_RESULTS)
    assert missing_bi.status_code == 400
    assert missing_bi.json()["code"] == "bi_missing"
    held = await asst.post(f"{base}/loads/{load['id']}/results", {**OK_RESULTS, "bi_lot": "BI-1"})
    assert held.json()["status"] == "held"
    mgr = await as_("mgr")
    refused = await mgr.post(f"{base}/loads/{load['id']}/release")
    assert refused.status_code == 422
    assert refused.json()["code"] == "implant_held"
    asst = await as_("asst")
    assert (await asst.post(f"{base}/loads/{load['id']}/bi", {"result": "negative"})).json()[
        "status"
    ] == "open"
    mgr = await as_("mgr")
    assert (await mgr.post(f"{base}/loads/{load['id']}/release")).status_code == 201


async def test_a_failed_indicator_opens_a_failure_and_sends_the_packs_back(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    device = await _device(mgr, base)
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    load = (await _load(asst, base, st, [pack["label_code"]])).json()
    resp = await asst.post(
        f"{base}/loads/{load['id']}/results", {**OK_RESULTS, "internal_ci": "fail", "bi_lot": "BI-2"}
    )
    assert resp.json()["status"] == "failed"
    failures = (await asst.get(f"{base}/failures")).json()
    assert [f["kind"] for f in failures] == ["chemical_indicator"]
    assert (await asst.get(f"{base}/devices/{device['id']}")).json()["device"]["status"] == "dirty"


async def test_positive_bi_recalls_back_to_the_last_negative_and_no_further(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    other = await _sterilizer(mgr, base, name="Statim B")
    devices = [await _device(mgr, base, name=f"Set {i}") for i in range(4)]
    asst = await as_("asst")
    packs = [await _packaged(asst, base, d) for d in devices]
    # Load 1 (first wrapped load today: BI, negative), load 2 (no BI), used at a visit;
    # load 3 on another sterilizer; load 4 (unwrapped: BI, reads positive).
    load1 = await _run(asst, mgr, base, st, [packs[0]["label_code"]], bi="negative")
    load2 = await _run(asst, mgr, base, st, [packs[1]["label_code"]], bi=None)
    assert load2["bi_required"] is False
    load3 = await _run(asst, mgr, base, other, [packs[2]["label_code"]], bi="negative")
    for code in (packs[1]["label_code"],):
        assert (await _step(asst, base, code, "store")).status_code == 201
        assert (await _step(asst, base, code, "use", visit_code="VISIT-17")).status_code == 201
    load4 = (await _load(asst, base, st, [packs[3]["label_code"]], cycle_type="unwrapped")).json()
    assert load4["bi_required"] is True
    await asst.post(f"{base}/loads/{load4['id']}/results", {**OK_RESULTS, "bi_lot": "BI-9"})
    positive = await asst.post(f"{base}/loads/{load4['id']}/bi", {"result": "positive"})
    assert positive.status_code == 201, positive.text

    failure = (await asst.get(f"{base}/failures")).json()[0]
    assert failure["kind"] == "bi_positive"
    detail = (await asst.get(f"{base}/failures/{failure['id']}")).json()
    assert detail["loads"] == [load2["id"], load4["id"]]
    recalled = {p["label_code"]: p for p in detail["packs"]}
    assert set(recalled) == {packs[1]["label_code"], packs[3]["label_code"]}
    assert recalled[packs[1]["label_code"]]["visits"] == ["VISIT-17"]
    assert recalled[packs[1]["label_code"]]["status_before"] == "used"
    assert await RecallPack.count() == 2
    statuses = {r["label_code"]: r["status"] for r in await Pack.select(Pack.label_code, Pack.status)}
    assert statuses[packs[0]["label_code"]] == "sterile"  # before the last negative BI: untouched
    assert statuses[packs[2]["label_code"]] == "sterile"  # another sterilizer: untouched
    assert statuses[packs[3]["label_code"]] == "recalled"
    quarantined = (await asst.get(f"{base}/devices", params={"status": "quarantined"})).json()
    assert [d["id"] for d in quarantined] == [devices[3]["id"]]  # the used set is back in use, not on a shelf
    load_ids = {x["id"]: x["status"] for x in (await asst.get(f"{base}/loads")).json()["loads"]}
    assert load_ids[load1["id"]] == "released"
    assert load_ids[load3["id"]] == "released"
    assert load_ids[load2["id"]] == "failed"

    # Out of service: no loads; back only after 3 consecutive negative BI test cycles.
    sterilizer = (await asst.get(f"{base}/sterilizers/{st['id']}")).json()
    assert sterilizer["sterilizer"]["in_service"] is False
    assert (await _load(asst, base, st, [])).json()["code"] == "sterilizer_out_of_service"
    mgr = await as_("mgr")
    back = await mgr.post(f"{base}/sterilizers/{st['id']}/in-service", {"note": "repaired"})
    assert back.json()["code"] == "three_negative_bis_needed"
    asst = await as_("asst")
    for _ in range(3):
        test = await _run(asst, mgr, base, st, [], bi="negative", purpose="bi_test")
        # A passed BI test cycle is closed as a test: never released, nothing in it to use.
        assert test["status"] == "test_passed"
        assert test["released_at"] is None
    mgr = await as_("mgr")
    close_early = await mgr.post(f"{base}/failures/{failure['id']}/close", {"report": "done"})
    assert close_early.json()["code"] == "phu_not_notified"
    assert (
        await mgr.post(f"{base}/failures/{failure['id']}/phu", {"contact": "PHU IPAC line"})
    ).status_code == 201
    back = await mgr.post(f"{base}/sterilizers/{st['id']}/in-service", {"note": "3 negative BIs"})
    assert back.status_code == 201, back.text
    closed = await mgr.post(
        f"{base}/failures/{failure['id']}/close", {"report": "Gasket replaced; loads reviewed."}
    )
    assert closed.json()["closed_at"] is not None
    report = _pdf_text((await (await as_("insp")).get(f"{base}/failures/{failure['id']}/report.pdf")).content)
    for expected in (
        "System failure report",
        "serial SN-Statim A",
        packs[1]["label_code"],
        "VISIT-17",
        "PHU IPAC line",
        "Gasket replaced",
        "negative",
    ):
        assert expected in report, expected


async def test_inspector_reads_and_exports_but_cannot_write(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    device = await _device(mgr, base)
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    load = await _run(asst, mgr, base, st, [pack["label_code"]], bi="negative", comment="=HYPERLINK(1)")
    insp = await as_("insp")
    for url, body in (
        (f"{base}/steps", {"code": device["label_code"], "step": "point_of_use"}),
        (f"{base}/loads", {"sterilizer_id": st["id"], "cycle_type": "wrapped", "initials": "X"}),
        (f"{base}/devices", {"name": "x", "spaulding": "critical"}),
        (f"{base}/loads/{load['id']}/release", None),
    ):
        assert (await insp.post(url, body)).status_code == 403, url
    export = await insp.get(f"{base}/loads/export.csv", params={"sterilizer_id": st["id"]})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text)))
    header, first = rows[0], rows[1]
    row = dict(zip(header, first, strict=True))
    assert row["sterilizer"] == "Statim A"
    assert row["serial"] == "SN-Statim A"
    assert row["load_number"] == "1"
    assert row["contents"] == f"Suture set ({pack['label_code']})"
    assert (row["time_temp_pressure_met"], row["external_ci"], row["internal_ci"]) == ("Y", "pass", "pass")
    assert (row["bi_lot"], row["bi_result"], row["operator_initials"]) == ("BI-7", "negative", "AB")
    assert row["released_by"] == "Mgr"
    assert row["comment"] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    assert rows[-1][0] == "audit_chain"
    assert rows[-1][2].startswith("seq ") and rows[-1][3].startswith("hash ")
    pdf = await insp.get(f"{base}/loads/{load['id']}/labels.pdf")
    assert pdf.status_code == 200
    label_text = _pdf_text(pdf.content)
    assert "Load 1" in label_text and "AB" in label_text and "Sterilizer Statim A" in label_text
    assert [f.text for f in decode_pdf(pdf.content, 300)] == [pack["label_code"]]
    log = await insp.get(f"{base}/loads/export.pdf", params={"sterilizer_id": st["id"]})
    assert log.status_code == 200
    text = _pdf_text(log.content)
    assert "serial SN-Statim A" in text
    assert pack["label_code"] in text
    assert rows[-1][3].split()[1][:20] in text.replace("\n", "").replace("\r", "")


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


async def test_steps_are_exactly_once(as_: As) -> None:
    c = await _clinic()
    mgr = await as_("mgr")
    device = await _device(mgr, c["base"])
    asst = await as_("asst")
    code = device["label_code"]
    for step, extra in (
        ("point_of_use", {}),
        ("clean", {"method": "washer"}),
        ("inspect", {"result": "pass"}),
    ):
        await _step(asst, c["base"], code, step, **extra)
    key = str(uuid.uuid4())
    body = {"code": code, "step": "package", "initials": "AB"}
    first = await asst.post(f"{c['base']}/steps", body, key=key)
    again = await asst.post(f"{c['base']}/steps", body, key=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await Pack.count() == 1
    assert (await _actions()).count("reprocessing.step.package") == 1


async def test_bad_input_is_a_problem_and_changes_nothing(as_: As) -> None:
    c = await _clinic()
    mgr = await as_("mgr")
    device = await _device(mgr, c["base"])
    asst = await as_("asst")
    cases = [
        {"code": device["label_code"], "step": "point_of_use", "colour": "red"},
        {"code": "NOT-A-CODE", "step": "point_of_use"},
        {"code": device["label_code"], "step": "fly"},
        {"code": device["label_code"], "step": "use", "visit_code": "Jane Doe"},
    ]
    for body in cases:
        resp = await asst.post(f"{c['base']}/steps", body)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert await Step.count() == 0
    assert await Use.count() == 0


async def test_the_days_missing_entries(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    assert (await mgr.put(f"{base}/settings", {"bi_first_load_per_cycle_type": False})).status_code == 200
    device = await _device(mgr, base)
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    load = (await _load(asst, base, st, [pack["label_code"]])).json()
    assert load["bi_required"] is False
    day = load["day"]
    found = (await asst.get(f"{base}/missing", params={"day": day})).json()["items"]
    assert {(i["code"], i["load_id"]) for i in found} == {("no_bi", None), ("unreleased_load", load["id"])}


async def test_hld_is_blocked_without_a_passing_test_before_each_use(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    scopes = [
        await _device(mgr, base, name=f"Nasal speculum {i}", spaulding="semi_critical") for i in range(2)
    ]
    asst = await as_("asst")
    for d in scopes:
        for step, extra in (
            ("point_of_use", {}),
            ("clean", {"method": "manual"}),
            ("inspect", {"result": "pass"}),
        ):
            assert (await _step(asst, base, d["label_code"], step, **extra)).status_code == 201
    resp = await asst.post(
        f"{base}/hld/solutions",
        {"product": "Cidex OPA", "lot": "OPA-1", "activated_on": "2026-01-01", "reuse_life_days": 14},
    )
    expired = resp.json()
    resp = await asst.post(
        f"{base}/hld/solutions",
        {"product": "Cidex OPA", "lot": "OPA-2", "activated_on": utc_today(), "reuse_life_days": 14},
    )
    good = resp.json()
    soak = {"process": "hld", "soak_minutes": 12, "temperature_c": "21"}

    async def disinfect(device: dict[str, Any], solution: dict[str, Any]) -> Any:
        return await _step(asst, base, device["label_code"], "disinfect", solution_id=solution["id"], **soak)

    missing_fields = await _step(asst, base, scopes[0]["label_code"], "disinfect", process="hld")
    assert missing_fields.json()["code"] == "hld_fields_required"
    assert (await disinfect(scopes[0], good)).json()["code"] == "mec_test_missing"
    strip = {"strip_lot": "S-1", "strip_expires_on": "2099-01-01"}
    await asst.post(f"{base}/hld/solutions/{good['id']}/mec-tests", {"passed": False, **strip})
    assert (await disinfect(scopes[0], good)).json()["code"] == "mec_test_failed"
    await asst.post(f"{base}/hld/solutions/{expired['id']}/mec-tests", {"passed": True, **strip})
    assert (await disinfect(scopes[0], expired)).json()["code"] == "solution_expired"
    await asst.post(f"{base}/hld/solutions/{good['id']}/mec-tests", {"passed": True, **strip})
    ok = await disinfect(scopes[0], good)
    assert ok.status_code == 201, ok.text
    assert ok.json()["device"]["status"] == "disinfected"
    # One test, one use: the next device needs a new test.
    assert (await disinfect(scopes[1], good)).json()["code"] == "mec_test_missing"
    await asst.post(f"{base}/hld/solutions/{good['id']}/mec-tests", {"passed": True, **strip})
    assert (await disinfect(scopes[1], good)).status_code == 201
    log = (await (await as_("insp")).get(f"{base}/hld/log")).json()["records"]
    assert [(x["device_name"], x["lot"], x["mec_passed"], x["soak_minutes"]) for x in log] == [
        ("Nasal speculum 0", "OPA-2", True, 12),
        ("Nasal speculum 1", "OPA-2", True, 12),
    ]
    assert await HldRecord.count() == 2


async def test_the_scan_endpoint_knows_devices_packs_and_sterilizers(as_: As) -> None:
    c = await _clinic()
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, c["base"])
    device = await _device(mgr, c["base"])
    asst = await as_("asst")
    answer = (await asst.post("/api/scans", {"raw": f"]C1{device['label_code']}"})).json()
    assert (answer["kind"], answer["entity"]["device"]["id"]) == ("device", device["id"])
    assert [a["action"] for a in answer["actions"]] == ["point_of_use"]
    pack = await _packaged(asst, c["base"], device)
    answer = (await asst.post("/api/scans", {"raw": pack["label_code"]})).json()
    assert (answer["kind"], answer["entity"]["pack"]["id"], answer["actions"]) == ("pack", pack["id"], [])
    answer = (await asst.post("/api/scans", {"raw": st["label_code"]})).json()
    assert (answer["kind"], answer["entity"]["sterilizer_id"]) == ("sterilizer", st["id"])


async def test_racing_scans_of_one_step_record_it_once(as_: As) -> None:
    """Two phones record the same step at once: one lands, the other is told it is out of order."""
    c = await _clinic()
    mgr = await as_("mgr")
    device = await _device(mgr, c["base"])
    st = await _sterilizer(mgr, c["base"])
    other = await _sterilizer(mgr, c["base"], name="Statim B")
    asst = await as_("asst")
    answers = await asyncio.gather(
        *(_step(asst, c["base"], device["label_code"], "point_of_use") for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [201] + [422] * 5
    assert await Step.count() == 1
    for step, extra in (("clean", {"method": "washer"}), ("inspect", {"result": "pass"})):
        await _step(asst, c["base"], device["label_code"], step, **extra)
    pack = (await _step(asst, c["base"], device["label_code"], "package", initials="AB")).json()["pack"]
    loads = await asyncio.gather(
        _load(asst, c["base"], st, [pack["label_code"]]), _load(asst, c["base"], other, [pack["label_code"]])
    )
    assert sorted(x.status_code for x in loads) == [201, 422]
    assert await Load.count() == 1
