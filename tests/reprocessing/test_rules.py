"""Reprocessing rules: lifecycle order, Spaulding, BI and Bowie-Dick, release, recall boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.reprocessing.rules import (
    BiResult,
    InspectResult,
    LoadFacts,
    LoadRun,
    LoadStatus,
    MecFacts,
    Process,
    Refusal,
    Spaulding,
    Status,
    StepKind,
    SterilizerKind,
    bi_required,
    bowie_dick_missing,
    corrected_status,
    failures,
    hld_problems,
    load_status,
    may_return_to_service,
    next_step,
    process_allowed,
    recall_loads,
    release_problems,
    required_process,
    step_outcome,
)

CRIT = Spaulding.CRITICAL


def test_spaulding_to_required_process() -> None:
    assert required_process(Spaulding.CRITICAL) is Process.STERILIZE
    assert required_process(Spaulding.SEMI_CRITICAL) is Process.HLD
    assert required_process(Spaulding.NON_CRITICAL) is Process.LLD
    assert process_allowed(Spaulding.SEMI_CRITICAL, Process.STERILIZE)
    assert not process_allowed(Spaulding.SEMI_CRITICAL, Process.LLD)
    assert not process_allowed(Spaulding.CRITICAL, Process.HLD)


def test_the_whole_cycle_of_a_critical_device_in_order() -> None:
    status = Status.IN_USE
    for step in (
        StepKind.POINT_OF_USE,
        StepKind.CLEAN,
        StepKind.INSPECT,
        StepKind.PACKAGE,
        StepKind.STERILIZE,
        StepKind.STORE,
        StepKind.USE,
    ):
        assert next_step(status, CRIT) in (step, None)
        out = step_outcome(step, status, spaulding=CRIT, single_use=False, inspect_result=InspectResult.PASS)
        assert isinstance(out, Status), (step, out)
        status = out
    assert status is Status.IN_USE


@pytest.mark.parametrize(
    ("step", "status"),
    [
        (StepKind.CLEAN, Status.IN_USE),
        (StepKind.INSPECT, Status.DIRTY),
        (StepKind.PACKAGE, Status.CLEANED),
        (StepKind.STORE, Status.PACKAGED),
        (StepKind.USE, Status.PACKAGED),
        (StepKind.USE, Status.STERILIZED),
        (StepKind.USE, Status.QUARANTINED),
        (StepKind.POINT_OF_USE, Status.STORED),
        (StepKind.RETURN, Status.STORED),
    ],
)
def test_a_step_out_of_order_is_refused_with_the_reason(step: StepKind, status: Status) -> None:
    out = step_outcome(step, status, spaulding=CRIT, single_use=False, inspect_result=InspectResult.PASS)
    assert isinstance(out, Refusal)
    assert out.code == "step_out_of_order"
    assert "cannot be given" in out.reason


def test_single_use_cannot_enter_reprocessing() -> None:
    out = step_outcome(StepKind.POINT_OF_USE, Status.IN_USE, spaulding=CRIT, single_use=True)
    assert isinstance(out, Refusal)
    assert out.code == "single_use"
    assert step_outcome(StepKind.OUT_OF_SERVICE, Status.IN_USE, spaulding=CRIT, single_use=True) is (
        Status.OUT_OF_SERVICE
    )


def test_inspection_outcomes() -> None:
    def inspect(result: InspectResult) -> Status | Refusal:
        return step_outcome(
            StepKind.INSPECT, Status.CLEANED, spaulding=CRIT, single_use=False, inspect_result=result
        )

    assert inspect(InspectResult.PASS) is Status.INSPECTED
    assert inspect(InspectResult.RECLEAN) is Status.DIRTY
    assert inspect(InspectResult.DAMAGED) is Status.OUT_OF_SERVICE


def test_disinfection_must_meet_the_class() -> None:
    def disinfect(cls: Spaulding, process: Process | None) -> Status | Refusal:
        return step_outcome(
            StepKind.DISINFECT, Status.INSPECTED, spaulding=cls, single_use=False, process=process
        )

    assert disinfect(Spaulding.SEMI_CRITICAL, Process.HLD) is Status.DISINFECTED
    assert disinfect(Spaulding.NON_CRITICAL, Process.LLD) is Status.DISINFECTED
    weak = disinfect(Spaulding.SEMI_CRITICAL, Process.LLD)
    assert isinstance(weak, Refusal)
    assert weak.code == "process_too_weak"
    assert "high-level disinfection" in weak.reason
    crit = disinfect(Spaulding.CRITICAL, Process.HLD)
    assert isinstance(crit, Refusal)
    assert crit.code == "process_too_weak"
    assert isinstance(disinfect(Spaulding.SEMI_CRITICAL, None), Refusal)
    assert next_step(Status.INSPECTED, Spaulding.SEMI_CRITICAL) is StepKind.DISINFECT
    assert next_step(Status.INSPECTED, CRIT) is StepKind.PACKAGE


def test_non_critical_items_are_not_packaged() -> None:
    out = step_outcome(StepKind.PACKAGE, Status.INSPECTED, spaulding=Spaulding.NON_CRITICAL, single_use=False)
    assert isinstance(out, Refusal)
    assert out.code == "not_for_sterilization"


@pytest.mark.parametrize(
    ("implant", "cycle", "earlier", "setting", "expected"),
    [
        (False, "wrapped", [], True, True),  # first load of the day
        (False, "wrapped", ["wrapped"], True, False),  # second load, same cycle type
        (False, "unwrapped", ["wrapped"], True, True),  # first of another cycle type
        (True, "wrapped", ["wrapped"], True, True),  # every implant load
        (False, "wrapped", [], False, False),  # the site turned the daily rule off
        (True, "wrapped", [], False, True),  # implants are never optional
    ],
)
def test_bi_required(implant: bool, cycle: str, earlier: list[str], setting: bool, expected: bool) -> None:
    assert (
        bi_required(
            implant=implant,
            cycle_type=cycle,
            earlier_cycle_types_today=earlier,
            first_load_per_cycle_type=setting,
        )
        is expected
    )


def test_bowie_dick_before_the_first_pre_vacuum_load() -> None:
    assert bowie_dick_missing(SterilizerKind.PRE_VACUUM, passed_today=False)
    assert not bowie_dick_missing(SterilizerKind.PRE_VACUUM, passed_today=True)
    assert not bowie_dick_missing(SterilizerKind.GRAVITY, passed_today=False)
    assert not bowie_dick_missing(SterilizerKind.PRE_VACUUM, passed_today=False, required=False)
    assert not bowie_dick_missing(SterilizerKind.PRE_VACUUM, passed_today=False, purpose="bi_test")


def _facts(**over: object) -> LoadFacts:
    base: dict[str, object] = {
        "implant": False,
        "bi_required": False,
        "physical_met": True,
        "external_ci": "pass",
        "internal_ci": "pass",
        "bi_result": BiResult.NONE,
    }
    base.update(over)
    return LoadFacts(**base)  # type: ignore[arg-type]


# The load rules as a table: facts -> (codes refusing release, status, failures opened).
LOAD_TABLE = [
    ({}, [], LoadStatus.OPEN, []),
    ({"physical_met": None}, ["physical_missing"], LoadStatus.OPEN, []),
    ({"physical_met": False}, ["physical_failed"], LoadStatus.FAILED, ["physical"]),
    ({"external_ci": ""}, ["external_ci_missing"], LoadStatus.OPEN, []),
    ({"internal_ci": "fail"}, ["internal_ci_failed"], LoadStatus.FAILED, ["chemical_indicator"]),
    ({"bi_required": True}, ["bi_missing"], LoadStatus.OPEN, []),
    ({"bi_required": True, "bi_result": BiResult.PENDING}, [], LoadStatus.OPEN, []),
    ({"bi_required": True, "bi_result": BiResult.NEGATIVE}, [], LoadStatus.OPEN, []),
    (
        {"bi_required": True, "implant": True, "bi_result": BiResult.PENDING},
        ["implant_held"],
        LoadStatus.HELD,
        [],
    ),
    ({"bi_required": True, "implant": True, "bi_result": BiResult.NEGATIVE}, [], LoadStatus.OPEN, []),
    (
        {"bi_required": True, "bi_result": BiResult.POSITIVE},
        ["bi_positive"],
        LoadStatus.FAILED,
        ["bi_positive"],
    ),
    ({"has_packs": False}, ["empty_load"], LoadStatus.OPEN, []),
]


@pytest.mark.parametrize(("over", "codes", "status", "opened"), LOAD_TABLE)
def test_load_rules(over: dict[str, object], codes: list[str], status: LoadStatus, opened: list[str]) -> None:
    facts = _facts(**over)
    assert [p.code for p in release_problems(facts)] == codes
    assert load_status(facts) is status
    assert failures(facts) == opened


# Corrected results: (status before, corrected facts, purpose) -> status after, or the refusal's code.
CORRECTION_TABLE = [
    (LoadStatus.OPEN, {}, "load", LoadStatus.OPEN),
    (LoadStatus.OPEN, {"internal_ci": "fail"}, "load", LoadStatus.FAILED),
    (
        LoadStatus.HELD,
        {"bi_required": True, "implant": True, "bi_result": BiResult.NEGATIVE},
        "load",
        LoadStatus.OPEN,
    ),
    (LoadStatus.RELEASED, {}, "load", LoadStatus.RELEASED),
    (LoadStatus.RELEASED, {"bi_required": True, "bi_result": BiResult.POSITIVE}, "load", LoadStatus.FAILED),
    (LoadStatus.RELEASED, {"physical_met": False}, "load", LoadStatus.FAILED),
    # Released, but these values could not have been: refused, not silently re-held.
    (
        LoadStatus.RELEASED,
        {"bi_required": True, "implant": True, "bi_result": BiResult.PENDING},
        "load",
        "correction_unreleasable",
    ),
    # A correction never un-fails a failed load.
    (LoadStatus.FAILED, {}, "load", LoadStatus.FAILED),
    (LoadStatus.FAILED, {"bi_required": True, "bi_result": BiResult.NEGATIVE}, "load", LoadStatus.FAILED),
    # BI test cycles stay tests: passed on a negative BI, failed on a positive one, never released.
    (
        LoadStatus.TEST_PASSED,
        {"bi_required": True, "bi_result": BiResult.POSITIVE},
        "bi_test",
        LoadStatus.FAILED,
    ),
    (
        LoadStatus.OPEN,
        {"bi_required": True, "bi_result": BiResult.NEGATIVE},
        "bi_test",
        LoadStatus.TEST_PASSED,
    ),
    (
        LoadStatus.TEST_PASSED,
        {"bi_required": True, "bi_result": BiResult.PENDING},
        "bi_test",
        LoadStatus.OPEN,
    ),
]


@pytest.mark.parametrize(("before", "over", "purpose", "after"), CORRECTION_TABLE)
def test_corrected_results_run_the_load_rules_again(
    before: LoadStatus, over: dict[str, object], purpose: str, after: LoadStatus | str
) -> None:
    out = corrected_status(before, _facts(**over), purpose=purpose)
    assert (out if isinstance(out, LoadStatus) else out.code) == after


def test_a_site_may_hold_every_bi_load_until_it_reads() -> None:
    facts = _facts(bi_required=True, bi_result=BiResult.PENDING)
    assert [p.code for p in release_problems(facts, release_before_bi=False)] == ["bi_pending"]
    assert load_status(facts, release_before_bi=False) is LoadStatus.HELD


T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _runs(*results: BiResult) -> list[LoadRun]:
    return [LoadRun(i + 1, T0 + timedelta(hours=i), r) for i, r in enumerate(results)]


N, P, X, W = BiResult.NEGATIVE, BiResult.POSITIVE, BiResult.NONE, BiResult.PENDING


def test_recall_goes_back_to_the_last_negative_bi() -> None:
    runs = _runs(N, X, N, X, P, X, W)
    # Load 3 read negative: loads 4 (no BI), 5 (failed) and everything after are recalled.
    assert recall_loads(runs, 5) == [4, 5, 6, 7]


def test_recall_without_an_earlier_negative_takes_everything() -> None:
    assert recall_loads(_runs(X, W, P), 3) == [1, 2, 3]


def test_recall_ignores_negatives_after_the_failed_load() -> None:
    # Load 4 read negative before load 2's BI turned positive: load 4 is still after the failure.
    assert recall_loads(_runs(N, P, X, N), 2) == [2, 3, 4]


def test_back_in_service_after_three_consecutive_negatives() -> None:
    assert not may_return_to_service([N, N])
    assert not may_return_to_service([N, N, P])
    assert not may_return_to_service([N, P, N, N])
    assert may_return_to_service([P, N, N, N])
    assert may_return_to_service([N, W, N, N])  # a pending one does not break the run


TODAY = date(2026, 6, 1)
TESTED = datetime(2026, 6, 1, 13, tzinfo=UTC)


def _mec(passed: bool = True, strip: date = date(2027, 1, 1), at: datetime = TESTED) -> MecFacts:
    return MecFacts(passed=passed, strip_expires_on=strip, tested_at=at)


@pytest.mark.parametrize(
    ("kw", "codes"),
    [
        ({}, []),
        ({"expires_on": date(2026, 5, 31)}, ["solution_expired"]),
        ({"expires_on": TODAY}, []),  # the last day of its reuse life is still good
        ({"discarded": True}, ["solution_discarded"]),
        ({"last_test": None}, ["mec_test_missing"]),
        ({"last_use_at": TESTED + timedelta(minutes=5)}, ["mec_test_missing"]),  # test before each use
        ({"last_use_at": TESTED - timedelta(minutes=5)}, []),
        ({"last_test": _mec(passed=False)}, ["mec_test_failed"]),
        ({"last_test": _mec(strip=date(2026, 5, 1))}, ["mec_strip_expired"]),
    ],
)
def test_hld_blocks(kw: dict[str, object], codes: list[str]) -> None:
    args: dict[str, object] = {
        "expires_on": date(2026, 6, 14),
        "discarded": False,
        "today": TODAY,
        "last_test": _mec(),
        "last_use_at": None,
    }
    args.update(kw)
    assert [p.code for p in hld_problems(**args)] == codes  # type: ignore[arg-type]
