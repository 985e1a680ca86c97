"""Corrections through HTTP (design.md §3): a wrong step record or wrong load results get a new entry
naming the original, with a reason, by someone allowed; the original stays visible; the load rules
run again (a positive BI found later recalls, a failed load stays failed); audited, exactly once."""

from __future__ import annotations

import csv
import io
import uuid

from server.core.rules import Role
from server.core.tables import AuditEvent
from server.reprocessing.tables import Load, LoadCorrection, RecallPack, Step, Use
from tests.factories import make_user
from tests.reprocessing.conftest import As
from tests.reprocessing.test_routes import (
    OK_RESULTS,
    _clinic,
    _device,
    _load,
    _packaged,
    _run,
    _step,
    _sterilizer,
)

FIX = {**OK_RESULTS, "bi_lot": "BI-7", "reason": "The BI was read again: the first entry was wrong."}


async def _count(action: str) -> int:
    return await AuditEvent.count().where(AuditEvent.action == action)


async def test_a_bi_corrected_to_positive_takes_the_failed_bi_path(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    other = await _sterilizer(mgr, base, name="Statim B")
    devices = [await _device(mgr, base, name=f"Set {i}") for i in range(3)]
    asst = await as_("asst")
    packs = [await _packaged(asst, base, d) for d in devices]
    first = await _run(asst, mgr, base, st, [packs[0]["label_code"]], bi="negative")
    second = await _run(asst, mgr, base, st, [packs[1]["label_code"]], bi=None, cycle_type="unwrapped")
    elsewhere = await _run(asst, mgr, base, other, [packs[2]["label_code"]], bi="negative")
    assert (first["status"], second["status"], second["bi_required"]) == ("released", "released", True)
    await asst.post(f"{base}/loads/{second['id']}/bi", {"result": "negative"})

    # Assistants and inspectors cannot correct a load's results; nothing changes.
    body = {**FIX, "bi_result": "positive"}
    assert (await asst.post(f"{base}/loads/{second['id']}/correct", body)).status_code == 403
    insp = await as_("insp")
    assert (await insp.post(f"{base}/loads/{second['id']}/correct", body)).status_code == 403
    assert await LoadCorrection.count() == 0

    mgr = await as_("mgr")
    key = str(uuid.uuid4())
    resp = await mgr.post(f"{base}/loads/{second['id']}/correct", body, key=key)
    assert resp.status_code == 201, resp.text
    again = await mgr.post(f"{base}/loads/{second['id']}/correct", body, key=key)
    assert again.json() == resp.json()  # exactly once
    detail = resp.json()
    assert detail["load"]["status"] == "failed"
    assert detail["load"]["bi_result"] == "positive"
    assert detail["load"]["corrections"] == 1
    [fix] = detail["corrections"]
    assert (fix["before"]["bi_result"], fix["after"]["bi_result"]) == ("negative", "positive")
    assert (fix["status_before"], fix["status_after"], fix["failures"]) == (
        "released",
        "failed",
        ["bi_positive"],
    )
    assert fix["reason"] == FIX["reason"]
    assert await LoadCorrection.count() == 1
    assert await _count("reprocessing.load.correction") == 1

    # The failed-BI path: out of service, recalled back to the last negative BI (the first load's),
    # the other sterilizer untouched.
    sterilizer = (await insp.get(f"{base}/sterilizers/{st['id']}")).json()["sterilizer"]
    assert sterilizer["in_service"] is False
    failure = detail["failure_id"]
    recalled = (await insp.get(f"{base}/failures/{failure}")).json()
    assert [p["label_code"] for p in recalled["packs"]] == [packs[1]["label_code"]]
    assert await RecallPack.count() == 1
    statuses = {r["id"]: r["status"] for r in await Load.select(Load.id, Load.status)}
    assert statuses == {first["id"]: "released", second["id"]: "failed", elsewhere["id"]: "released"}

    # A correction cannot quietly un-fail the load: back to negative, it stays failed.
    back = await mgr.post(f"{base}/loads/{second['id']}/correct", {**FIX, "bi_result": "negative"})
    assert back.status_code == 201, back.text
    assert back.json()["load"]["status"] == "failed"
    assert [f["status_after"] for f in back.json()["corrections"]] == ["failed", "failed"]

    # The inspector's CSV shows what was first recorded and the correction's reason.
    export = await insp.get(f"{base}/loads/export.csv", params={"sterilizer_id": st["id"]})
    table = list(csv.reader(io.StringIO(export.text)))
    header = table[0]
    by_number = {row[header.index("load_number")]: dict(zip(header, row, strict=True)) for row in table[1:3]}
    corrected = by_number["2"]["corrections"]
    assert "bi_result negative → positive" in corrected and FIX["reason"] in corrected
    assert "bi_result positive → negative" in corrected
    assert by_number["1"]["corrections"] == ""

    # The failures list filters by sterilizer, days and open or closed.
    async def kinds(**params: object) -> list[str]:
        return [f["kind"] for f in (await insp.get(f"{base}/failures", params=params)).json()]

    assert await kinds(sterilizer_id=st["id"], open_only="true") == ["bi_positive"]
    assert await kinds(sterilizer_id=other["id"]) == []
    assert await kinds(open_only="false") == []
    assert await kinds(from_date="2020-01-01", to_date="2020-01-31") == []


async def test_a_failing_correction_before_release_sends_the_packs_back(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    device = await _device(mgr, base)
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    load = (await _load(asst, base, st, [pack["label_code"]])).json()
    results = await asst.post(f"{base}/loads/{load['id']}/results", {**OK_RESULTS, "bi_lot": "BI-7"})
    assert results.json()["status"] == "open"
    mgr = await as_("mgr")
    fix = {**FIX, "internal_ci": "fail", "reason": "Misread the internal strip"}
    resp = await mgr.post(f"{base}/loads/{load['id']}/correct", fix)
    assert resp.status_code == 201, resp.text
    assert resp.json()["load"]["status"] == "failed"
    assert [p["status"] for p in resp.json()["packs"]] == ["reprocess"]
    device_now = (await mgr.get(f"{base}/devices/{device['id']}")).json()["device"]
    assert device_now["status"] == "dirty"
    failures = (await mgr.get(f"{base}/failures")).json()
    assert [f["kind"] for f in failures] == ["chemical_indicator"]


async def test_bad_load_corrections_change_nothing(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    device = await _device(mgr, base)
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    load = (await _load(asst, base, st, [pack["label_code"]])).json()
    mgr = await as_("mgr")
    url = f"{base}/loads/{load['id']}/correct"
    assert (await mgr.post(url, FIX)).json()["code"] == "no_results_yet"
    await asst.post(f"{base}/loads/{load['id']}/results", {**OK_RESULTS, "bi_lot": "BI-7"})
    cases = [
        ({**FIX, "bi_lot": "BI-7"}, 400, "nothing_changed"),
        ({**FIX, "reason": ""}, 400, None),
        ({**FIX, "bi_lot": ""}, 400, "bi_missing"),
        ({**FIX, "bi_result": "maybe"}, 400, None),
        ({**FIX, "colour": "red"}, 400, None),
    ]
    for body, status, code in cases:
        resp = await mgr.post(url, body)
        assert resp.status_code == status, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        if code:
            assert resp.json()["code"] == code
    assert (await mgr.post(f"{base}/loads/999999/correct", FIX)).status_code == 404
    assert await LoadCorrection.count() == 0
    assert await _count("reprocessing.load.correction") == 0


async def test_a_step_record_is_corrected_by_a_new_entry(as_: As) -> None:
    c = await _clinic()
    base = c["base"]
    mgr = await as_("mgr")
    st = await _sterilizer(mgr, base)
    device = await _device(mgr, base)
    asst = await as_("asst")
    pack = await _packaged(asst, base, device)
    await _run(asst, mgr, base, st, [pack["label_code"]], bi="negative")
    asst = await as_("asst")
    assert (await _step(asst, base, pack["label_code"], "store")).status_code == 201
    used = await _step(asst, base, pack["label_code"], "use", visit_code="V-100")
    assert used.status_code == 201, used.text
    steps = (await asst.get(f"{base}/steps", params={"device_id": device["id"]})).json()["steps"]
    clean = next(s for s in steps if s["step"] == "clean")
    use = next(s for s in steps if s["step"] == "use")
    sterilize = next(s for s in steps if s["step"] == "sterilize")

    # The cleaning method: by the person who recorded it, with a reason; exactly once.
    body = {"method": "washer", "reason": "It went through the washer, not the ultrasonic."}
    key = str(uuid.uuid4())
    fixed = await asst.post(f"{base}/steps/{clean['id']}/correct", body, key=key)
    assert fixed.status_code == 201, fixed.text
    assert (await asst.post(f"{base}/steps/{clean['id']}/correct", body, key=key)).json() == fixed.json()
    assert (fixed.json()["corrects"], fixed.json()["method"], fixed.json()["reason"]) == (
        clean["id"],
        "washer",
        body["reason"],
    )
    # The original stays, marked corrected, and the item's status did not move.
    listed = (await asst.get(f"{base}/steps", params={"device_id": device["id"], "step": "clean"})).json()
    assert [(s["method"], s["corrects"], s["corrected_by"]) for s in listed["steps"]] == [
        ("ultrasonic", None, fixed.json()["id"]),
        ("washer", clean["id"], None),
    ]
    detail = (await asst.get(f"{base}/devices/{device['id']}")).json()
    assert detail["device"]["status"] == "in_use"
    again = await asst.post(f"{base}/steps/{clean['id']}/correct", {**body, "method": "manual"})
    assert again.json()["code"] == "already_corrected"

    # A wrong visit code: the use is corrected, and traceability follows the correction.
    visit_fix = {"visit_code": "V-101", "reason": "Typed the wrong visit"}
    await make_user("other", site_id=c["site"], role=Role.ASSISTANT)
    other = await as_("other")
    assert (await other.post(f"{base}/steps/{use['id']}/correct", visit_fix)).status_code == 403
    mgr = await as_("mgr")
    resp = await mgr.post(f"{base}/steps/{use['id']}/correct", visit_fix)
    assert resp.status_code == 201, resp.text
    wrong = (await mgr.get(f"{base}/visits", params={"visit_code": "V-100"})).json()
    assert wrong["loads"] == [] and [u["corrected"] for u in wrong["uses"]] == [True]
    right = (await mgr.get(f"{base}/visits", params={"visit_code": "V-101"})).json()
    assert len(right["loads"]) == 1 and right["uses"][0]["corrects"] == wrong["uses"][0]["id"]
    assert await Use.count() == 2

    # Refused: a step made by a load, a field that is not the step's, nothing different, inspectors.
    refused = await mgr.post(f"{base}/steps/{sterilize['id']}/correct", {"note": "x", "reason": "why not"})
    assert refused.json()["code"] == "step_not_correctable"
    store = next(s for s in steps if s["step"] == "store")
    wrong_field = await mgr.post(f"{base}/steps/{store['id']}/correct", {"method": "washer", "reason": "abc"})
    assert wrong_field.json()["code"] == "method_not_for_step"
    same = await mgr.post(f"{base}/steps/{store['id']}/correct", {"note": "", "reason": "abc"})
    assert same.json()["code"] == "nothing_changed"
    insp = await as_("insp")
    assert (
        await insp.post(f"{base}/steps/{use['id']}/correct", {"note": "x", "reason": "abc"})
    ).status_code == 403
    assert await Step.count().where(Step.corrects.is_not_null()) == 2
    assert await _count("reprocessing.step.correction") == 2
