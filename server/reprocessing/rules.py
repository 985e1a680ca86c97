"""Reprocessing rules, pure (no I/O). Sources: ../shared/domain.md §1.

- Spaulding (PIDAC table): critical → clean + sterilize; semi-critical → clean + high-level
  disinfection at least (sterilization preferred); non-critical → clean + low-level disinfection.
- Steps in order (CDA 13 steps, CSA Z314 14.1.1): point-of-use → clean → inspect and check
  function → package → sterilize (or disinfect) → store → use. Single-use items are never reprocessed.
- BI (PIDAC via secondary sources, a site setting): the first load of each cycle type each day on
  each sterilizer, and every load with implants. Implant loads are held until the BI reads negative;
  a passing internal (Type 5/6) CI lets a non-implant load be released before the BI reads (CDA;
  a site setting).
- Bowie-Dick daily on pre-vacuum sterilizers before the first load (ADA+C; a site setting).
- Positive BI (Ontario PHU procedure): recall every load since the last negative BI on that
  sterilizer; back in service after 3 consecutive negative BIs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime


class Spaulding(enum.StrEnum):
    CRITICAL = "critical"
    SEMI_CRITICAL = "semi_critical"
    NON_CRITICAL = "non_critical"


class Process(enum.StrEnum):
    STERILIZE = "sterilize"
    HLD = "hld"
    LLD = "lld"


# Strongest first: a stronger process always satisfies a weaker requirement.
PROCESS_RANK = {Process.STERILIZE: 3, Process.HLD: 2, Process.LLD: 1}
REQUIRED_PROCESS = {
    Spaulding.CRITICAL: Process.STERILIZE,
    Spaulding.SEMI_CRITICAL: Process.HLD,
    Spaulding.NON_CRITICAL: Process.LLD,
}


class DeviceKind(enum.StrEnum):
    DEVICE = "device"
    SET = "set"


class Status(enum.StrEnum):
    IN_USE = "in_use"
    DIRTY = "dirty"
    CLEANED = "cleaned"
    INSPECTED = "inspected"
    PACKAGED = "packaged"
    STERILIZED = "sterilized"
    DISINFECTED = "disinfected"
    STORED = "stored"
    QUARANTINED = "quarantined"
    OUT_OF_SERVICE = "out_of_service"


class StepKind(enum.StrEnum):
    POINT_OF_USE = "point_of_use"
    CLEAN = "clean"
    INSPECT = "inspect"
    PACKAGE = "package"
    STERILIZE = "sterilize"  # done by the load's release, never scanned directly
    DISINFECT = "disinfect"
    STORE = "store"
    USE = "use"
    QUARANTINE = "quarantine"
    OUT_OF_SERVICE = "out_of_service"
    RETURN = "return"  # from quarantine or out of service: back to be reprocessed


class CleanMethod(enum.StrEnum):
    MANUAL = "manual"
    ULTRASONIC = "ultrasonic"
    WASHER = "washer"


class InspectResult(enum.StrEnum):
    PASS = "pass"  # noqa: S105  (an inspection result, not a password)
    RECLEAN = "reclean"  # soil left: back to dirty
    DAMAGED = "damaged"  # fails the function check: out of service


class SterilizerKind(enum.StrEnum):
    PRE_VACUUM = "pre_vacuum"
    GRAVITY = "gravity"


class LoadStatus(enum.StrEnum):
    OPEN = "open"  # packs being added, or results awaited
    HELD = "held"  # results pass, waiting for the BI
    RELEASED = "released"
    FAILED = "failed"
    # A BI test cycle (empty chamber, to bring a sterilizer back after a failure) that read
    # negative: it counts toward the 3 negatives, and holds nothing anyone could use.
    TEST_PASSED = "test_passed"


class BiResult(enum.StrEnum):
    NONE = ""
    PENDING = "pending"
    NEGATIVE = "negative"
    POSITIVE = "positive"


STATUS_WORDS = {
    Status.IN_USE: "in use",
    Status.DIRTY: "dirty (waiting to be cleaned)",
    Status.CLEANED: "cleaned (waiting for inspection)",
    Status.INSPECTED: "inspected (waiting to be packaged or disinfected)",
    Status.PACKAGED: "packaged (waiting for a sterilizer load to be released)",
    Status.STERILIZED: "sterilized (waiting to be stored)",
    Status.DISINFECTED: "disinfected (waiting to be stored)",
    Status.STORED: "stored (ready to use)",
    Status.QUARANTINED: "quarantined",
    Status.OUT_OF_SERVICE: "out of service",
}

# Where each step may start and where it goes.
_FROM: dict[StepKind, frozenset[Status]] = {
    StepKind.POINT_OF_USE: frozenset({Status.IN_USE}),
    StepKind.CLEAN: frozenset({Status.DIRTY}),
    StepKind.INSPECT: frozenset({Status.CLEANED}),
    StepKind.PACKAGE: frozenset({Status.INSPECTED}),
    StepKind.STERILIZE: frozenset({Status.PACKAGED}),
    StepKind.DISINFECT: frozenset({Status.INSPECTED}),
    StepKind.STORE: frozenset({Status.STERILIZED, Status.DISINFECTED}),
    StepKind.USE: frozenset({Status.STORED}),
    StepKind.QUARANTINE: frozenset(set(Status) - {Status.QUARANTINED, Status.OUT_OF_SERVICE}),
    StepKind.OUT_OF_SERVICE: frozenset(set(Status) - {Status.OUT_OF_SERVICE}),
    StepKind.RETURN: frozenset({Status.QUARANTINED, Status.OUT_OF_SERVICE}),
}
_TO: dict[StepKind, Status] = {
    StepKind.POINT_OF_USE: Status.DIRTY,
    StepKind.CLEAN: Status.CLEANED,
    StepKind.INSPECT: Status.INSPECTED,
    StepKind.PACKAGE: Status.PACKAGED,
    StepKind.STERILIZE: Status.STERILIZED,
    StepKind.DISINFECT: Status.DISINFECTED,
    StepKind.STORE: Status.STORED,
    StepKind.USE: Status.IN_USE,
    StepKind.QUARANTINE: Status.QUARANTINED,
    StepKind.OUT_OF_SERVICE: Status.OUT_OF_SERVICE,
    StepKind.RETURN: Status.DIRTY,
}
# The step that normally comes next from each status (what a scan offers).
NEXT_STEP: dict[Status, StepKind | None] = {
    Status.IN_USE: StepKind.POINT_OF_USE,
    Status.DIRTY: StepKind.CLEAN,
    Status.CLEANED: StepKind.INSPECT,
    Status.INSPECTED: None,  # package or disinfect, by the device's class
    Status.PACKAGED: None,  # the pack joins a load; the load's release sterilizes it
    Status.STERILIZED: StepKind.STORE,
    Status.DISINFECTED: StepKind.STORE,
    Status.STORED: StepKind.USE,
    Status.QUARANTINED: StepKind.RETURN,
    Status.OUT_OF_SERVICE: StepKind.RETURN,
}


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str


def required_process(spaulding: Spaulding) -> Process:
    return REQUIRED_PROCESS[spaulding]


def process_allowed(spaulding: Spaulding, process: Process) -> bool:
    """A process at least as strong as the class requires (sterilizing a semi-critical item is fine)."""
    return PROCESS_RANK[process] >= PROCESS_RANK[REQUIRED_PROCESS[spaulding]]


def next_step(status: Status, spaulding: Spaulding) -> StepKind | None:
    if status is Status.INSPECTED:
        return StepKind.PACKAGE if spaulding is Spaulding.CRITICAL else StepKind.DISINFECT
    return NEXT_STEP[status]


def step_outcome(
    step: StepKind,
    status: Status,
    *,
    spaulding: Spaulding,
    single_use: bool,
    inspect_result: InspectResult | None = None,
    process: Process | None = None,
) -> Status | Refusal:
    """The device's status after ``step``, or why the step is refused (in plain words)."""
    if single_use and step not in (StepKind.OUT_OF_SERVICE, StepKind.QUARANTINE):
        return Refusal(
            "single_use", "This item is single-use: it cannot be reprocessed. Discard it after use."
        )
    if status not in _FROM[step]:
        expected = next_step(status, spaulding)
        hint = f" Next: {expected.value.replace('_', ' ')}." if expected else ""
        return Refusal(
            "step_out_of_order",
            f"This item is {STATUS_WORDS[status]}: it cannot be given the "
            f"{step.value.replace('_', ' ')} step now.{hint}",
        )
    if step is StepKind.INSPECT:
        if inspect_result is InspectResult.RECLEAN:
            return Status.DIRTY
        if inspect_result is InspectResult.DAMAGED:
            return Status.OUT_OF_SERVICE
    if step is StepKind.DISINFECT:
        if process is None or process is Process.STERILIZE:
            return Refusal("process_required", "Say which disinfection was done: high-level or low-level.")
        if not process_allowed(spaulding, process):
            return Refusal(
                "process_too_weak",
                f"A {spaulding.value.replace('_', '-')} item needs "
                f"{_process_words(required_process(spaulding))}; {_process_words(process)} is not enough.",
            )
    if step is StepKind.PACKAGE and spaulding is Spaulding.NON_CRITICAL:
        return Refusal(
            "not_for_sterilization",
            "Non-critical items are cleaned and given low-level disinfection, not packaged for a sterilizer.",
        )
    return _TO[step]


def _process_words(process: Process) -> str:
    return {
        Process.STERILIZE: "sterilization",
        Process.HLD: "high-level disinfection",
        Process.LLD: "low-level disinfection",
    }[process]


# --- loads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadFacts:
    """What the release rules look at for one load."""

    implant: bool
    bi_required: bool
    physical_met: bool | None
    external_ci: str  # "" | pass | fail
    internal_ci: str
    bi_result: BiResult
    has_packs: bool = True


def bi_required(
    *,
    implant: bool,
    cycle_type: str,
    earlier_cycle_types_today: Sequence[str],
    first_load_per_cycle_type: bool = True,
) -> bool:
    """A BI goes in every implant load and (site setting, on by default) in the first load of each
    cycle type on this sterilizer today."""
    if implant:
        return True
    return first_load_per_cycle_type and cycle_type not in earlier_cycle_types_today


def bowie_dick_missing(
    kind: SterilizerKind, *, passed_today: bool, required: bool = True, purpose: str = "load"
) -> bool:
    """A pre-vacuum sterilizer needs a passing Bowie-Dick test today before its first load."""
    return required and purpose == "load" and kind is SterilizerKind.PRE_VACUUM and not passed_today


def failures(facts: LoadFacts) -> list[str]:
    """The "no" or "fail" answers on a load: each one opens a failure record."""
    found = []
    if facts.physical_met is False:
        found.append("physical")
    if "fail" in (facts.external_ci, facts.internal_ci):
        found.append("chemical_indicator")
    if facts.bi_result is BiResult.POSITIVE:
        found.append("bi_positive")
    return found


def release_problems(facts: LoadFacts, *, release_before_bi: bool = True) -> list[Refusal]:
    """Why a load cannot be released yet (empty: it can)."""
    problems = []
    if not facts.has_packs:
        problems.append(Refusal("empty_load", "This load has no packs."))
    if facts.physical_met is None:
        problems.append(
            Refusal("physical_missing", "Record whether time, temperature and pressure were met.")
        )
    elif not facts.physical_met:
        problems.append(Refusal("physical_failed", "Time, temperature or pressure was not met."))
    for name, value in (("external", facts.external_ci), ("internal", facts.internal_ci)):
        if value == "":
            problems.append(Refusal(f"{name}_ci_missing", f"Record the {name} chemical indicator result."))
        elif value != "pass":
            problems.append(Refusal(f"{name}_ci_failed", f"The {name} chemical indicator failed."))
    if facts.bi_result is BiResult.POSITIVE:
        problems.append(Refusal("bi_positive", "The biological indicator is positive: this load failed."))
    elif facts.bi_required and facts.bi_result is not BiResult.NEGATIVE:
        if facts.bi_result is BiResult.NONE:
            problems.append(Refusal("bi_missing", "This load needs a biological indicator (BI)."))
        elif facts.implant:
            problems.append(
                Refusal("implant_held", "A load with implants is held until its BI reads negative.")
            )
        elif not release_before_bi:
            problems.append(Refusal("bi_pending", "This site releases loads only after the BI reads."))
    return problems


def load_status(facts: LoadFacts, *, release_before_bi: bool = True) -> LoadStatus:
    """Open (results missing), failed (any "no" or "fail"), held (passes, waiting for the BI) — never
    released: a person releases the load."""
    if failures(facts):
        return LoadStatus.FAILED
    problems = release_problems(facts, release_before_bi=release_before_bi)
    if problems and all(p.code in ("implant_held", "bi_pending") for p in problems):
        return LoadStatus.HELD
    return LoadStatus.OPEN


def corrected_status(
    before: LoadStatus, facts: LoadFacts, *, purpose: str = "load", release_before_bi: bool = True
) -> LoadStatus | Refusal:
    """A load's status once its results are corrected (design.md §3: the load rules run again on the
    corrected values). A failed load stays failed: a correction never quietly un-fails it (its
    failure record is closed by a manager with a report). A "no" or "fail" fails any load, released
    or not (the caller recalls what was released). A released load stays released only if the
    corrected values would have let it be released."""
    if before is LoadStatus.FAILED or failures(facts):
        return LoadStatus.FAILED
    if purpose == "bi_test":
        return LoadStatus.TEST_PASSED if facts.bi_result is BiResult.NEGATIVE else LoadStatus.OPEN
    if before is LoadStatus.RELEASED:
        problems = release_problems(facts, release_before_bi=release_before_bi)
        if problems:
            return Refusal(
                "correction_unreleasable",
                "This load was released; with these values it could not have been: "
                + " ".join(p.reason for p in problems),
            )
        return LoadStatus.RELEASED
    return load_status(facts, release_before_bi=release_before_bi)


@dataclass(frozen=True)
class LoadRun:
    id: int
    started_at: datetime
    bi_result: BiResult


def recall_loads(runs: Sequence[LoadRun], failed_id: int) -> list[int]:
    """Every load on the sterilizer since the last negative BI before the failed load: the failed
    load, the loads after it and the ones between (by start time)."""
    ordered = sorted(runs, key=lambda r: (r.started_at, r.id))
    failed = next(r for r in ordered if r.id == failed_id)
    start = None
    for run in ordered:
        if (run.started_at, run.id) >= (failed.started_at, failed.id):
            break
        if run.bi_result is BiResult.NEGATIVE:
            start = (run.started_at, run.id)
    return [r.id for r in ordered if start is None or (r.started_at, r.id) > start]


CONSECUTIVE_NEGATIVES = 3


def may_return_to_service(bi_results_since_out: Sequence[BiResult]) -> bool:
    """Back in service after a failed BI: the last 3 BIs since it went out all read negative."""
    read = [r for r in bi_results_since_out if r in (BiResult.NEGATIVE, BiResult.POSITIVE)]
    tail = read[-CONSECUTIVE_NEGATIVES:]
    return len(tail) == CONSECUTIVE_NEGATIVES and all(r is BiResult.NEGATIVE for r in tail)


# --- high-level disinfection -----------------------------------------------------------------------


@dataclass(frozen=True)
class MecFacts:
    passed: bool
    strip_expires_on: date
    tested_at: datetime


def hld_problems(
    *,
    expires_on: date,
    discarded: bool,
    today: date,
    last_test: MecFacts | None,
    last_use_at: datetime | None,
) -> list[Refusal]:
    """Why a solution cannot be used now: discarded or past its reuse life, or no passing minimum
    effective concentration test (with an unexpired strip) since the solution was last used."""
    problems = []
    if discarded:
        problems.append(Refusal("solution_discarded", "This solution was discarded."))
    elif today > expires_on:
        problems.append(Refusal("solution_expired", "This solution is past its reuse life: discard it."))
    if last_test is None or (last_use_at is not None and last_test.tested_at <= last_use_at):
        problems.append(
            Refusal("mec_test_missing", "Test the minimum effective concentration before each use.")
        )
    elif not last_test.passed:
        problems.append(Refusal("mec_test_failed", "The last concentration test failed: do not use it."))
    elif today > last_test.strip_expires_on:
        problems.append(
            Refusal("mec_strip_expired", "The test strips were expired: test again with good strips.")
        )
    return problems
