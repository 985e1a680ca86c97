"""One site's rows for every generated table, from ``random.Random`` seeded by (seed, site, table).

Pure: no database. Ids come from fixed per-site blocks (plan.caps), so the same seed, scale and
base time give the same rows whatever the order the sites are loaded in. Stock is built so that
every level is the sum of its movements and never goes negative: a lot's uses are drawn first,
then its receipt is what was used plus what is left.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from server.cleaning.rules import DEFAULT_PLANS, PlanKind
from server.core.audit import GENESIS, canonical_json, chain_for, event_hash
from server.core.rules import LABEL_ALPHABET, LABEL_PREFIXES, label_check_char
from server.generate.plan import ROOMS, USERS, Scale, caps

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "site": ("id", "name", "province", "timezone", "active", "created_at"),
    "app_user": (
        "id",
        "username",
        "display_name",
        "password_hash",
        "is_superuser",
        "active",
        "locale",
        "created_at",
        "password_changed_at",
    ),
    "membership": ("id", "user", "site", "role", "created_at"),
    "location": ("id", "site", "name", "kind", "label_code", "active", "created_at"),
    "fridge_setting": ("id", "site", "location", "low_tenths", "high_tenths", "updated_by", "updated_at"),
    "item": (
        "id",
        "site",
        "kind",
        "name",
        "din",
        "manufacturer",
        "unit",
        "doses_per_unit",
        "storage",
        "par_level",
        "reorder_point",
        "reorder_qty",
        "default_supplier",
        "publicly_funded",
        "beyond_use_days",
        "active",
        "created_at",
    ),
    "item_code": ("id", "site", "item", "code", "kind", "pack_qty", "created_at"),
    "lot": ("id", "site", "item", "lot_number", "expiry", "serial", "status", "status_reason", "created_at"),
    "stock_level": ("id", "site", "lot", "location", "on_hand"),
    "movement": (
        "id",
        "site",
        "kind",
        "lot",
        "location",
        "quantity",
        "reason",
        "note",
        "reference",
        "group_key",
        "actor",
        "at",
    ),
    "temperature_reading": (
        "id",
        "site",
        "location",
        "taken_at",
        "current_tenths",
        "min_tenths",
        "max_tenths",
        "reset",
        "source",
        "taken_by",
        "initials",
        "note",
        "incident",
        "recorded_at",
        "corrects",
        "reason",
    ),
    "rp_sterilizer": (
        "id",
        "site",
        "name",
        "model",
        "serial",
        "kind",
        "cycle_types",
        "licence",
        "in_service",
        "out_since",
        "label_code",
        "created_at",
    ),
    "rp_device": (
        "id",
        "site",
        "name",
        "kind",
        "spaulding",
        "single_use",
        "mifu",
        "status",
        "label_code",
        "active",
        "created_at",
    ),
    "rp_load": (
        "id",
        "site",
        "sterilizer",
        "day",
        "load_number",
        "started_at",
        "cycle_type",
        "purpose",
        "implant",
        "bi_required",
        "status",
        "physical_met",
        "temperature_c",
        "minutes",
        "pressure_kpa",
        "printout",
        "external_ci",
        "internal_ci",
        "bi_lot",
        "bi_result",
        "bi_read_at",
        "bi_read_by",
        "operator",
        "operator_name",
        "operator_initials",
        "results_at",
        "releaser",
        "releaser_name",
        "released_at",
        "comment",
    ),
    "rp_pack": (
        "id",
        "site",
        "device",
        "load",
        "label_code",
        "status",
        "packaged_by",
        "initials",
        "packaged_at",
    ),
    "rp_step": (
        "id",
        "site",
        "device",
        "pack",
        "load",
        "step",
        "from_status",
        "to_status",
        "method",
        "note",
        "actor",
        "actor_name",
        "at",
    ),
    "rp_use": ("id", "site", "device", "pack", "load", "visit_code", "actor", "at"),
    "cleaning_plan": (
        "id",
        "site",
        "room",
        "kind",
        "name",
        "due_time",
        "weekday",
        "due_within_minutes",
        "version",
        "active",
        "created_at",
        "retired_at",
    ),
    "cleaning_plan_version": (
        "id",
        "site",
        "plan",
        "version",
        "items",
        "product",
        "din",
        "contact_seconds",
        "created_by",
        "created_at",
    ),
    "cleaning_log": (
        "id",
        "site",
        "room",
        "plan",
        "plan_version",
        "kind",
        "product",
        "din",
        "contact_seconds",
        "started_at",
        "ended_at",
        "actor",
        "actor_name",
        "visit_code",
        "note",
        "items_done",
        "items_skipped",
        "recorded_at",
    ),
    "cleaning_log_item": ("id", "site", "log", "position", "text", "done", "skip_reason"),
    "audit_event": (
        "id",
        "chain",
        "seq",
        "at",
        "actor",
        "site_id",
        "action",
        "entity",
        "entity_id",
        "payload",
        "prev_hash",
        "hash",
    ),
}
# Load order: a table comes after the tables it references.
TABLES = tuple(COLUMNS)
# Rows only a site's worker writes (app_user and site too: their ids are blocks of the site index).
ZONES = (
    ("ON", "America/Toronto"),
    ("QC", "America/Toronto"),
    ("BC", "America/Vancouver"),
    ("AB", "America/Edmonton"),
    ("MB", "America/Winnipeg"),
    ("NS", "America/Halifax"),
)
PRODUCTS = (
    "Gauze sponge",
    "Nitrile glove",
    "Syringe",
    "Needle",
    "Alcohol swab",
    "Bandage",
    "Suture kit",
    "Specimen cup",
    "Tongue depressor",
    "Cotton tip applicator",
    "Exam table paper",
    "Face mask",
    "Sharps container",
    "Saline ampoule",
    "Lidocaine",
    "Amoxicillin",
    "Ibuprofen",
    "Epinephrine",
)
VACCINES = ("Influenza", "Tdap", "MMR", "Hepatitis B", "HPV", "Pneumococcal", "Varicella", "Zoster")
SIZES = ("S", "M", "L", "5 mL", "10 mL", "25 G", "27 G", "2x2", "4x4", "100 ct")
DEVICES = ("Speculum", "Forceps", "Scissors", "Needle driver", "Curette", "Biopsy punch set", "Tenaculum")
DISINFECTANT = ("Hydrogen peroxide 0.5% wipes", "02243815", 60)
SINE = [round(6 * math.sin(2 * math.pi * k / 96)) for k in range(96)]
DEFAULT_BASE = time(0, 0)


def rng(seed: int, site_index: int, table: str) -> random.Random:
    return random.Random(f"{seed}:{site_index}:{table}")  # noqa: S311  (demo data, not secrets)


def label_code(kind: str, n: int) -> str:
    digits = ""
    for _ in range(6):
        n, r = divmod(n, 36)
        digits = LABEL_ALPHABET[r] + digits
    body = LABEL_PREFIXES[kind] + digits
    return body + label_check_char(body)


def gtin14(company: int, j: int) -> str:
    body = f"0{company:07d}{j:05d}"
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def first_id(scale: Scale, table: str, site_index: int) -> int:
    return site_index * caps(scale)[table] + 1


class SiteRows:
    """Builds one site's rows table by table; ``tables()`` yields them in load order."""

    def __init__(self, scale: Scale, seed: int, site_index: int, base: datetime, password_hash: str):
        self.scale, self.seed, self.si, self.base = scale, seed, site_index, base.astimezone(UTC)
        self.password_hash = password_hash
        self.site_id = site_index + 1
        self.start = self.base - timedelta(days=365)
        self.province, zone = ZONES[site_index % len(ZONES)]
        self.tz = ZoneInfo(zone)
        self.zone = zone
        self.ids = {t: first_id(scale, t, site_index) for t in COLUMNS if t != "site"}
        self.users = [self.ids["app_user"] + k for k in range(len(USERS))]
        self.actors = [f"user:{u}" for u in self.users]
        self.names = [f"{role.capitalize()} {self.site_id}" for role in USERS]
        loc = self.ids["location"]
        self.fridges = [loc + k for k in range(scale.fridges)]
        self.supply = loc + scale.fridges
        self.cabinet = self.supply + 1
        self.rooms = [self.cabinet + 1 + k for k in range(ROOMS)]

    def tables(self) -> Iterator[tuple[str, list[Row]]]:
        yield "site", self.site()
        yield "app_user", self.app_users()
        yield "membership", self.memberships()
        yield "location", self.locations()
        yield "fridge_setting", self.fridge_settings()
        items = self.items()
        yield "item", items
        yield "item_code", self.item_codes(items)
        lots, levels, moves = self.stock(items)
        yield "lot", lots
        yield "stock_level", levels
        yield "movement", moves
        yield "temperature_reading", self.readings()
        rp = self.reprocessing()
        for table in ("rp_sterilizer", "rp_device", "rp_load", "rp_pack", "rp_step", "rp_use"):
            yield table, rp[table]
        cl = self.cleaning()
        for table in ("cleaning_plan", "cleaning_plan_version", "cleaning_log", "cleaning_log_item"):
            yield table, cl[table]

    # --- core ---------------------------------------------------------------------------------
    def site(self) -> list[Row]:
        return [(self.site_id, f"Clinic {self.site_id:03d}", self.province, self.zone, True, self.start)]

    def app_users(self) -> list[Row]:
        return [
            (
                uid,
                f"s{self.site_id:03d}-{role}",
                self.names[k],
                self.password_hash,
                False,
                True,
                "fr" if self.province == "QC" else "en",
                self.start,
                self.start,
            )
            for k, (uid, role) in enumerate(zip(self.users, USERS, strict=True))
        ]

    def memberships(self) -> list[Row]:
        roles = ("manager", "assistant", "assistant", "inspector")
        return [
            (self.ids["membership"] + k, uid, self.site_id, roles[k], self.start)
            for k, uid in enumerate(self.users)
        ]

    def locations(self) -> list[Row]:
        specs = [(f"Vaccine fridge {k + 1}", "fridge") for k in range(self.scale.fridges)]
        specs += [("Supply room", "supply_room"), ("Cabinet A", "cabinet")]
        specs += [(f"Exam room {k + 1}", "room") for k in range(ROOMS - 1)] + [("Reprocessing room", "room")]
        first = self.ids["location"]
        return [
            (first + k, self.site_id, name, kind, label_code("location", first + k), True, self.start)
            for k, (name, kind) in enumerate(specs)
        ]

    def fridge_settings(self) -> list[Row]:
        return [
            (self.ids["fridge_setting"] + k, self.site_id, loc, 20, 80, self.actors[0], self.start)
            for k, loc in enumerate(self.fridges)
        ]

    # --- stock --------------------------------------------------------------------------------
    def items(self) -> list[Row]:
        # The catalog is the region's: item j is the same product at every site.
        r = rng(self.seed, -1, "catalog")
        company = r.randrange(1_000_000, 9_999_999)
        first, rows = self.ids["item"], []
        for j in range(self.scale.items):
            vaccine, medication = j % 10 == 0, j % 10 in (1, 2)
            if vaccine:
                name = f"{VACCINES[j // 10 % len(VACCINES)]} vaccine {j:04d}"
            else:
                name = f"{PRODUCTS[r.randrange(len(PRODUCTS))]} {SIZES[r.randrange(len(SIZES))]} {j:04d}"
            point = r.randrange(2, 20)
            rows.append(
                (
                    first + j,
                    self.site_id,
                    "vaccine" if vaccine else "medication" if medication else "supply",
                    name,
                    f"{2_000_000 + j:08d}" if vaccine or medication else "",
                    "Maker Inc.",
                    "unit",
                    1 if vaccine else None,
                    "fridge" if vaccine else "room",
                    point * 3,
                    point,
                    point * 4,
                    "Region supply",
                    vaccine,
                    None,
                    True,
                    self.start,
                    company,
                )
            )
        return rows

    def item_codes(self, items: list[Row]) -> list[Row]:
        return [
            (self.ids["item_code"] + j, self.site_id, row[0], gtin14(row[-1], j), "gtin", 1, self.start)
            for j, row in enumerate(items)
        ]

    def stock(self, items: list[Row]) -> tuple[list[Row], list[Row], list[Row]]:
        r = rng(self.seed, self.si, "stock")
        n_items, n_lots = len(items), self.scale.lots
        span = (self.base - self.start).total_seconds()
        base_day = self.base.date()
        lot0, level0 = self.ids["lot"], self.ids["stock_level"]
        received = [self.start + timedelta(seconds=r.random() * span * 0.9) for _ in range(n_lots)]
        used = [0] * n_lots
        uses: list[tuple[datetime, int, int]] = []
        for _ in range(self.scale.movements - n_lots):
            k = r.randrange(n_lots)
            qty = 1 if r.random() < 0.8 else r.randrange(2, 6)
            lo = received[k].timestamp()
            at = datetime.fromtimestamp(lo + r.random() * (self.base.timestamp() - lo), UTC)
            used[k] += qty
            uses.append((at, k, qty))
        lots, levels, events = [], [], []
        for k in range(n_lots):
            item = items[k % n_items]
            # Most stock expires months away; about 3 % of lots are near or past their date.
            near = r.random() < 0.03
            expiry = base_day + timedelta(days=r.randrange(-20, 60) if near else r.randrange(60, 900))
            roll = r.random()
            left = r.randrange(10, 80) if roll < 0.85 else r.randrange(1, 6) if roll < 0.95 else 0
            if expiry < base_day and r.random() < 0.9:
                left = 0  # most expired stock was used or thrown out in time
            if k % n_items % 25 == 3:  # one item in 25 runs low (one in 50 runs out): stock alerts
                left = 0 if k % n_items % 50 == 3 else min(left, 1)
            place = (
                self.fridges[k % len(self.fridges)]
                if item[8] == "fridge"
                else (self.supply if k % 3 else self.cabinet)
            )
            status = "available" if left else "depleted"
            if left and r.random() < 0.001:
                status = "quarantined"
            lots.append((lot0 + k, self.site_id, item[0], f"L{k:06d}", expiry, "", status, "", received[k]))
            levels.append((level0 + k, self.site_id, lot0 + k, place, left))
            events.append((received[k], k, used[k] + left, place))
        moves_in = [(at, k, qty, levels[k][3]) for at, k, qty in uses]
        timeline = sorted(
            [(at, k, qty, place, "receive") for at, k, qty, place in events]
            + [(at, k, -qty, place, "use") for at, k, qty, place in moves_in],
            key=lambda e: (e[0], e[4] != "receive", e[1]),
        )
        first, actors = self.ids["movement"], self.actors
        moves = [
            (
                first + n,
                self.site_id,
                kind,
                lot0 + k,
                place,
                qty,
                "",
                "",
                "",
                UUID(int=r.getrandbits(128), version=4),
                actors[n % 3],
                at,
            )
            for n, (at, k, qty, place, kind) in enumerate(timeline)
        ]
        return lots, levels, moves

    # --- cold chain ---------------------------------------------------------------------------
    def readings(self) -> list[Row]:
        r = rng(self.seed, self.si, "readings")
        step = timedelta(minutes=self.scale.reading_minutes)
        slots = self.scale.reading_days * 24 * 60 // self.scale.reading_minutes
        t0 = self.base - step * slots
        per_hour = 60 // self.scale.reading_minutes or 1
        rows, n = [], self.ids["temperature_reading"]
        actor = self.actors[0]
        for loc in self.fridges:
            rand = r.random
            for k in range(slots):
                at = t0 + step * (k + 1)
                tenths = 45 + SINE[(k * 4 // per_hour) % 96] + int(rand() * 7) - 3
                rows.append(
                    (
                        n,
                        self.site_id,
                        loc,
                        at,
                        tenths,
                        None,
                        None,
                        False,
                        "logger",
                        actor,
                        "",
                        "",
                        None,
                        at,
                        None,
                        "",
                    )
                )
                n += 1
        return rows

    # --- reprocessing -------------------------------------------------------------------------
    def reprocessing(self) -> dict[str, list[Row]]:
        r = rng(self.seed, self.si, "reprocessing")
        site, ids = self.site_id, self.ids
        sterilizer = ids["rp_sterilizer"]
        out: dict[str, list[Row]] = {
            t: [] for t in ("rp_sterilizer", "rp_device", "rp_load", "rp_pack", "rp_step", "rp_use")
        }
        out["rp_sterilizer"].append(
            (
                sterilizer,
                site,
                "Autoclave 1",
                "Statim 5000",
                f"SN{site:06d}",
                "pre_vacuum",
                "Wrapped,Unwrapped",
                "",
                True,
                None,
                label_code("sterilizer", sterilizer),
                self.start,
            )
        )
        n_dev = self.scale.devices
        status = ["in_use"] * n_dev
        last_pack: list[int | None] = [None] * n_dev
        last_load: list[int | None] = [None] * n_dev
        step_id, pack_id, use_id, load_id = ids["rp_step"], ids["rp_pack"], ids["rp_use"], ids["rp_load"]
        op, op_name = self.actors[1], self.names[1]
        mgr, mgr_name = self.actors[0], self.names[0]

        def step(
            dev: int, kind: str, to: str, at: datetime, pack: int | None, load: int | None, method: str = ""
        ) -> None:
            nonlocal step_id
            out["rp_step"].append(
                (
                    step_id,
                    site,
                    ids["rp_device"] + dev,
                    pack,
                    load,
                    kind,
                    status[dev],
                    to,
                    method,
                    "",
                    op,
                    op_name,
                    at,
                )
            )
            status[dev] = to
            step_id += 1

        def use(dev: int, at: datetime) -> None:
            nonlocal use_id
            step(dev, "use", "in_use", at, last_pack[dev], last_load[dev])
            out["rp_use"].append(
                (
                    use_id,
                    site,
                    ids["rp_device"] + dev,
                    last_pack[dev],
                    last_load[dev],
                    f"V{r.getrandbits(40):010X}",
                    op,
                    at,
                )
            )
            use_id += 1

        n_loads = (self.scale.cycles + 3) // 4
        gap = (self.base - self.start - timedelta(days=2)) / max(n_loads, 1)
        cycle = 0
        numbers: dict[date, int] = {}
        for g in range(n_loads):
            day_start = self.start + gap * g + timedelta(hours=13)  # about 9:00 in eastern Canada
            packs_here = min(4, self.scale.cycles - cycle)
            released = day_start + timedelta(hours=6)
            for p in range(packs_here):
                dev = cycle % n_dev
                t = day_start + timedelta(minutes=30 * p)
                if status[dev] == "stored":
                    use(dev, t - timedelta(minutes=20))
                step(dev, "point_of_use", "dirty", t, None, None)
                step(dev, "clean", "cleaned", t + timedelta(minutes=20), None, None, "manual")
                step(dev, "inspect", "inspected", t + timedelta(minutes=30), None, None)
                step(dev, "package", "packaged", t + timedelta(minutes=40), pack_id, None)
                step(dev, "sterilize", "sterilized", released, pack_id, load_id)
                step(dev, "store", "stored", released + timedelta(minutes=15), pack_id, load_id)
                out["rp_pack"].append(
                    (
                        pack_id,
                        site,
                        ids["rp_device"] + dev,
                        load_id,
                        label_code("pack", pack_id),
                        "stored",
                        op,
                        "OP",
                        t + timedelta(minutes=40),
                    )
                )
                if last_pack[dev] is not None:
                    self._mark_used(out["rp_pack"], last_pack[dev])
                last_pack[dev], last_load[dev] = pack_id, load_id
                pack_id += 1
                cycle += 1
            started = day_start + timedelta(hours=4)
            numbers[started.date()] = numbers.get(started.date(), 0) + 1  # busy clinics run 2 a day
            out["rp_load"].append(
                (
                    load_id,
                    site,
                    sterilizer,
                    started.date(),
                    numbers[started.date()],
                    started,
                    "Wrapped",
                    "load",
                    False,
                    False,
                    "released",
                    True,
                    "134",
                    "4",
                    "206",
                    "",
                    "pass",
                    "pass",
                    "",
                    "",
                    None,
                    "",
                    op,
                    op_name,
                    "OP",
                    released - timedelta(minutes=10),
                    mgr,
                    mgr_name,
                    released,
                    "",
                )
            )
            load_id += 1
        # Alerts-worthy: the first device and about one in ten more were used this morning, still dirty.
        for dev in range(n_dev):
            if dev == 0 or r.random() < 0.1:
                at = self.base - timedelta(hours=6 + r.random() * 6)
                if status[dev] == "stored":
                    use(dev, at - timedelta(minutes=30))
                step(dev, "point_of_use", "dirty", at, None, None)
        out["rp_device"] = [
            (
                ids["rp_device"] + d,
                site,
                f"{DEVICES[d % len(DEVICES)]} #{d + 1}",
                "set" if d % 5 == 4 else "device",
                "critical",
                False,
                "",
                status[d],
                label_code("device", ids["rp_device"] + d),
                True,
                self.start,
            )
            for d in range(n_dev)
        ]
        return out

    @staticmethod
    def _mark_used(packs: list[Row], pack_id: int | None) -> None:
        # Packs are few per site: a backwards scan finds the device's previous pack at once.
        for i in range(len(packs) - 1, -1, -1):
            if packs[i][0] == pack_id:
                packs[i] = (*packs[i][:5], "used", *packs[i][6:])
                return

    # --- cleaning -----------------------------------------------------------------------------
    def cleaning(self) -> dict[str, list[Row]]:
        r = rng(self.seed, self.si, "cleaning")
        site, ids = self.site_id, self.ids
        product, din, contact = DISINFECTANT
        plans, versions, logs, items = [], [], [], []
        plan_id, version_id = ids["cleaning_plan"], ids["cleaning_plan_version"]
        daily: list[tuple[int, int, int, tuple[str, ...]]] = []
        for room in self.rooms:
            for kind, name, checklist in DEFAULT_PLANS:
                due = "18:00" if kind is PlanKind.DAILY else ""
                plans.append(
                    (plan_id, site, room, kind.value, name, due, None, None, 1, True, self.start, None)
                )
                versions.append(
                    (
                        version_id,
                        site,
                        plan_id,
                        1,
                        json.dumps(list(checklist), ensure_ascii=False),
                        product,
                        din,
                        contact,
                        self.actors[0],
                        self.start,
                    )
                )
                if kind is PlanKind.DAILY:
                    daily.append((room, plan_id, version_id, checklist))
                plan_id, version_id = plan_id + 1, version_id + 1
        log_id, item_id = ids["cleaning_log"], ids["cleaning_log_item"]
        today = self.base.astimezone(self.tz).date()
        for back in range(self.scale.cleaning_days, 0, -1):  # today's is not done yet: overdue at 18:00
            day: date = today - timedelta(days=back)
            for room, plan, version, checklist in daily:
                if r.random() < 0.03:
                    continue  # a missed day, as real logs have
                ended = datetime.combine(day, time(17, 0), tzinfo=self.tz) + timedelta(
                    minutes=r.randrange(50)
                )
                started = ended - timedelta(minutes=8)
                who = 1 + (back % 2)
                logs.append(
                    (
                        log_id,
                        site,
                        room,
                        plan,
                        version,
                        "daily",
                        product,
                        din,
                        contact,
                        started,
                        ended,
                        self.actors[who],
                        self.names[who],
                        "",
                        "",
                        len(checklist),
                        0,
                        ended,
                    )
                )
                for pos, text in enumerate(checklist):
                    items.append((item_id, site, log_id, pos, text, True, ""))
                    item_id += 1
                log_id += 1
        return {
            "cleaning_plan": plans,
            "cleaning_plan_version": versions,
            "cleaning_log": logs,
            "cleaning_log_item": items,
        }


def audit_rows(
    chain: str,
    site_id: int | None,
    first: int,
    summary: list[tuple[str, int, int, int]],
    *,
    seed: int,
    scale: str,
    at: datetime,
) -> tuple[list[Row], str]:
    """The chain's events for a generated load: one per table, naming its rows (count, id range).

    Generated rows are history nobody typed, so they are audited the way a logger import is: one
    event for the batch, hashed and linked like any other, which `clinitrack audit verify` checks.
    """
    rows, prev = [], GENESIS
    for seq, (table, count, lo, hi) in enumerate(summary, start=1):
        payload = canonical_json(
            {"generated": True, "rows": count, "first_id": lo, "last_id": hi, "seed": seed, "scale": scale}
        )
        fields = {
            "chain": chain,
            "seq": seq,
            "at": at,
            "actor": "system",
            "site_id": site_id,
            "action": "demo.generate",
            "entity": table,
            "entity_id": f"{lo}-{hi}",
            "payload": payload,
        }
        digest = event_hash(prev, fields)
        rows.append(
            (
                first + seq - 1,
                chain,
                seq,
                at,
                "system",
                site_id,
                "demo.generate",
                table,
                f"{lo}-{hi}",
                payload,
                prev,
                digest,
            )
        )
        prev = digest
    return rows, prev


def site_rows(
    scale: Scale, seed: int, site_index: int, base: datetime, password_hash: str
) -> Iterator[tuple[str, list[Row]]]:
    """Every table's rows for one site, then its audit events (the chain ``site:<id>``)."""
    builder = SiteRows(scale, seed, site_index, base, password_hash)
    summary: list[tuple[str, int, int, int]] = []
    for table, rows in builder.tables():
        if table == "item":
            rows = [row[:-1] for row in rows]  # drop the catalog's company prefix, kept for the codes
        if rows:
            summary.append((table, len(rows), rows[0][0], rows[-1][0]))
        yield table, rows
    events, _ = audit_rows(
        chain_for(builder.site_id),
        builder.site_id,
        builder.ids["audit_event"],
        summary,
        seed=seed,
        scale=scale.name,
        at=builder.base,
    )
    yield "audit_event", events
