"""Equipment reprocessing tables (PIDAC CDS 2013, CSA Z314, the PHO sterilization monitoring log).

Every table carries site_id. Steps, Bowie-Dick tests, sterilizer log entries, uses and recall rows
are append-only. A device's ``status``, a pack's ``status`` and a load's result fields are the
current state; each change is also a step row or an audit event.
"""

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from server.core.tables import Site


class ReprocessingSetting(Table, tablename="reprocessing_setting"):
    """Per-site choices for rules whose sources are secondary (without a row: the defaults)."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, unique=True)
    bi_first_load_per_cycle_type = Boolean(default=True)
    bowie_dick_daily = Boolean(default=True)
    release_before_bi = Boolean(default=True)  # non-implant loads on a passing internal CI
    updated_by = Varchar(length=80)
    updated_at = Timestamptz()


class Device(Table, tablename="rp_device"):
    """A reusable device or instrument set, with its Spaulding class and current status."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=16, default="device")  # device | set
    spaulding = Varchar(length=16)  # critical | semi_critical | non_critical
    single_use = Boolean(default=False)
    mifu = Text()  # the manufacturer's instructions: a reference or a link
    status = Varchar(length=20, default="in_use")
    label_code = Varchar(length=16, unique=True)
    active = Boolean(default=True)
    created_at = Timestamptz()


class Sterilizer(Table, tablename="rp_sterilizer"):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    model = Varchar(length=200)
    serial = Varchar(length=100)
    kind = Varchar(length=16)  # pre_vacuum | gravity
    cycle_types = Text()  # comma-separated, e.g. "wrapped,unwrapped"
    licence = Varchar(length=40)  # Health Canada device licence
    in_service = Boolean(default=True)
    out_since = Timestamptz(null=True, default=None)  # when it last went out of service
    label_code = Varchar(length=16, unique=True)
    created_at = Timestamptz()


class SterilizerLogEntry(Table, tablename="rp_sterilizer_log"):
    """The sterilizer log book: maintenance, repair, out of and back in service."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    sterilizer = ForeignKey(references=Sterilizer, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=20)  # maintenance | repair | out_of_service | in_service
    note = Text()
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    at = Timestamptz(index=True)


class BowieDickTest(Table, tablename="rp_bowie_dick"):
    """The daily air-removal test of a pre-vacuum sterilizer (empty chamber)."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    sterilizer = ForeignKey(references=Sterilizer, on_delete=OnDelete.restrict, null=False, index=True)
    day = Date()  # the site's local day
    passed = Boolean(default=False)
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    initials = Varchar(length=8)
    at = Timestamptz()


class Load(Table, tablename="rp_load"):
    """One sterilizer cycle: its contents are the packs pointing at it."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    sterilizer = ForeignKey(references=Sterilizer, on_delete=OnDelete.restrict, null=False, index=True)
    day = Date(index=True)  # the site's local day
    load_number = Integer()  # 1, 2, ... per sterilizer and day
    started_at = Timestamptz(index=True)
    cycle_type = Varchar(length=40)
    purpose = Varchar(length=16, default="load")  # load | bi_test (empty challenge after a failure)
    implant = Boolean(default=False)
    bi_required = Boolean(default=False)
    # open | held | released | failed | test_passed (a BI test cycle: never released for use)
    status = Varchar(length=16, default="open")
    physical_met = Boolean(null=True, default=None)
    temperature_c = Varchar(length=16)
    minutes = Varchar(length=16)
    pressure_kpa = Varchar(length=16)
    printout = Text()
    external_ci = Varchar(length=8)  # "" | pass | fail
    internal_ci = Varchar(length=8)
    bi_lot = Varchar(length=40)
    bi_result = Varchar(length=12)  # "" | pending | negative | positive
    bi_read_at = Timestamptz(null=True, default=None)
    bi_read_by = Varchar(length=80)
    operator = Varchar(length=80)
    operator_name = Varchar(length=200)
    operator_initials = Varchar(length=8)
    results_at = Timestamptz(null=True, default=None)
    releaser = Varchar(length=80)
    releaser_name = Varchar(length=200)
    released_at = Timestamptz(null=True, default=None)
    comment = Text()


class Pack(Table, tablename="rp_pack"):
    """A packaged device or set, with its own label code; joins one load."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    load = ForeignKey(references=Load, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    label_code = Varchar(length=16, unique=True)
    status = Varchar(
        length=16, default="packaged"
    )  # packaged | loaded | sterile | stored | used | recalled | reprocess
    packaged_by = Varchar(length=80)
    initials = Varchar(length=8)
    packaged_at = Timestamptz()


class Step(Table, tablename="rp_step"):
    """One reprocessing step done on a device (append-only)."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    pack = ForeignKey(references=Pack, on_delete=OnDelete.restrict, null=True, default=None)
    load = ForeignKey(references=Load, on_delete=OnDelete.restrict, null=True, default=None)
    step = Varchar(length=20)
    from_status = Varchar(length=20)
    to_status = Varchar(length=20)
    method = Varchar(length=20)
    note = Text()
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    at = Timestamptz(index=True)
    # A correction is a new step row naming the one it corrects, with a reason (design.md §3); it
    # changes no status. NO ACTION: a corrected step cannot be deleted alone.
    corrects: ForeignKey["Step"] = ForeignKey(
        references="self", on_delete=OnDelete.no_action, null=True, default=None
    )
    reason = Text()


class Use(Table, tablename="rp_use"):
    """A device or pack used at a visit: only the clinic's opaque visit code, no patient data."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    pack = ForeignKey(references=Pack, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    load = ForeignKey(references=Load, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    visit_code = Varchar(length=64, index=True)
    actor = Varchar(length=80)
    at = Timestamptz()
    # A wrong visit code is corrected by a new use naming this one (made by a step correction).
    corrects: ForeignKey["Use"] = ForeignKey(
        references="self", on_delete=OnDelete.no_action, null=True, default=None
    )


class LoadCorrection(Table, tablename="rp_load_correction"):
    """A correction of a load's results (append-only): the values before and after, the status
    before and after (the load rules run again on the corrected values), who and why."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    load = ForeignKey(references=Load, on_delete=OnDelete.restrict, null=False, index=True)
    before = Text()  # JSON: the result fields as they were
    after = Text()  # JSON: the result fields as corrected
    status_before = Varchar(length=16)
    status_after = Varchar(length=16)
    failures = Varchar(length=100)  # failure kinds the correction opened, comma-separated
    reason = Text()
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    at = Timestamptz()


class Failure(Table, tablename="rp_failure"):
    """A "no" or "fail" on a load or test: the system-failure record, and the recall it started."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    sterilizer = ForeignKey(references=Sterilizer, on_delete=OnDelete.restrict, null=False, index=True)
    load = ForeignKey(references=Load, on_delete=OnDelete.restrict, null=True, default=None)
    kind = Varchar(length=20)  # bi_positive | physical | chemical_indicator | bowie_dick
    detail = Text()
    opened_at = Timestamptz()
    opened_by = Varchar(length=80)
    phu_notified_at = Timestamptz(null=True, default=None)
    phu_notified_by = Varchar(length=80)
    phu_contact = Text()
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Varchar(length=80)
    report = Text()


class RecallPack(Table, tablename="rp_recall_pack"):
    """A pack recalled by a failure: where it was (its status before) when the recall began."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    failure = ForeignKey(references=Failure, on_delete=OnDelete.restrict, null=False, index=True)
    pack = ForeignKey(references=Pack, on_delete=OnDelete.restrict, null=False)
    load = ForeignKey(references=Load, on_delete=OnDelete.restrict, null=False)
    status_before = Varchar(length=16)


class HldSolution(Table, tablename="rp_hld_solution"):
    """A high-level disinfectant batch: product, lot, activated or opened on, reuse-life expiry."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    product = Varchar(length=200)
    lot = Varchar(length=40)
    activated_on = Date()
    expires_on = Date()  # reuse-life expiry: topping off does not extend it
    discarded_at = Timestamptz(null=True, default=None)
    created_by = Varchar(length=80)
    created_at = Timestamptz()


class MecTest(Table, tablename="rp_mec_test"):
    """A minimum effective concentration test of a solution, with the product's strip."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    solution = ForeignKey(references=HldSolution, on_delete=OnDelete.restrict, null=False, index=True)
    passed = Boolean(default=False)
    strip_lot = Varchar(length=40)
    strip_expires_on = Date()
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    tested_at = Timestamptz()


class HldRecord(Table, tablename="rp_hld_record"):
    """One high-level disinfection of a device (the HLD log line)."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=False, index=True)
    step = ForeignKey(references=Step, on_delete=OnDelete.restrict, null=False)
    solution = ForeignKey(references=HldSolution, on_delete=OnDelete.restrict, null=False, index=True)
    mec_test = ForeignKey(references=MecTest, on_delete=OnDelete.restrict, null=False)
    soak_minutes = Integer()
    temperature_c = Varchar(length=16)
    actor = Varchar(length=80)
    actor_name = Varchar(length=200)
    at = Timestamptz(index=True)
