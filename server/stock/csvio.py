"""Catalog CSV: the pure part (parse and validate every row, render an export). No I/O."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import msgspec

from server.stock.schemas import CodeIn, ItemCreate, ItemRead

COLUMNS = [
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
    "unit_cost",
    "codes",
]
REQUIRED = {"kind", "name"}
INTEGERS = {"doses_per_unit", "par_level", "reorder_point", "reorder_qty", "beyond_use_days"}
TRUE = {"1", "true", "yes", "y", "oui", "o"}
FALSE = {"", "0", "false", "no", "n", "non"}


@dataclass
class ParsedCsv:
    items: list[ItemCreate] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)


def _codes(text: str) -> list[dict[str, object]]:
    """`09506000134352:10; 0123456789012` = a GTIN for packs of 10, and one for single units."""
    codes = []
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        code, _, qty = part.partition(":")
        codes.append({"code": code.strip(), "pack_qty": int(qty) if qty.strip().isdigit() else 1})
    return codes


def _row_to_item(row: dict[str, str]) -> ItemCreate:
    values: dict[str, object] = {}
    for column in COLUMNS:
        raw = (row.get(column) or "").strip()
        if column == "codes":
            values["codes"] = _codes(raw)
        elif column == "publicly_funded":
            if raw.lower() not in TRUE | FALSE:
                raise ValueError(f"publicly_funded: {raw!r} is not yes or no")
            values[column] = raw.lower() in TRUE
        elif column == "unit_cost":
            if raw:
                try:
                    values[column] = float(Decimal(raw.replace("$", "").replace(",", ".").strip()))
                except InvalidOperation:
                    raise ValueError(f"unit_cost: {raw!r} is not an amount in dollars") from None
        elif column in INTEGERS:
            if raw:
                if not raw.lstrip("-").isdigit():
                    raise ValueError(f"{column}: {raw!r} is not a whole number")
                values[column] = int(raw)
        elif raw:
            values[column] = raw
    return msgspec.convert(values, ItemCreate)


def parse_items_csv(text: str) -> ParsedCsv:
    result = ParsedCsv()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = REQUIRED - set(header)
    unknown = set(header) - set(COLUMNS)
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing columns: {', '.join(sorted(missing))}")
        if unknown:
            problems.append(f"unknown columns: {', '.join(sorted(unknown))}")
        result.errors.append({"row": 1, "message": "; ".join(problems)})
        return result
    names: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        row = {k.strip(): v for k, v in row.items() if k}
        try:
            item = _row_to_item(row)
        except (ValueError, msgspec.ValidationError) as exc:
            result.errors.append({"row": number, "message": str(exc)})
            continue
        key = item.name.strip().lower()
        if key in names:
            result.errors.append(
                {"row": number, "message": f"the name {item.name!r} is also on row {names[key]}"}
            )
            continue
        names[key] = number
        result.items.append(item)
    if not result.items and not result.errors:
        result.errors.append({"row": 1, "message": "the file has no rows"})
    return result


def items_to_csv(items: Iterable[ItemRead]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        data = msgspec.to_builtins(item)
        row = {c: data.get(c) for c in COLUMNS if c != "codes"}
        row["publicly_funded"] = "yes" if item.publicly_funded else "no"
        row["unit_cost"] = "" if item.unit_cost is None else f"{Decimal(str(item.unit_cost)):.4f}"
        row["codes"] = "; ".join(f"{c.code}:{c.pack_qty}" if c.pack_qty != 1 else c.code for c in item.codes)
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


__all__ = ["COLUMNS", "CodeIn", "ParsedCsv", "items_to_csv", "parse_items_csv"]
