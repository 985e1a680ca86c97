"""The pure scan pipeline: GS1 vectors for every normalization case, HIBC, own label codes, errors.

GTINs: 09506000134352 is GS1's own example; every other GTIN here is made up, with its check digit
computed (GS1 mod 10). HIBC check characters were computed with the mod-43 table, whose worked example
(+A123BJC5D6E71 -> G) is tested first.
"""

from __future__ import annotations

import time
from datetime import date

import msgspec
import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core.rules import label_check_char
from server.scans.hibc import hibc_check_char
from server.scans.rules import (
    MAX_SCAN_LENGTH,
    ScanParse,
    expiry_from_month_only,
    parse_expiry_text,
    parse_scan,
)

TODAY = date(2026, 11, 28)
GTIN = "09506000134352"  # GS1's example GTIN
GS = "\x1d"
# The same vaccine pack (GTIN, expiry, lot, serial) as the decoders deliver it.
PLAIN = f"01{GTIN}17261231" + "10LOT42" + GS + "21SN001"
EXPECTED = {"gtin": GTIN, "expiry": date(2026, 12, 31), "lot": "LOT42", "serial": "SN001"}


def scan(raw: str) -> ScanParse:
    return parse_scan(raw, today=TODAY)


def fields(result: ScanParse) -> dict[str, object]:
    return {"gtin": result.gtin, "expiry": result.expiry, "lot": result.lot, "serial": result.serial}


# --- normalization ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "symbology"),
    [
        ("]d2" + PLAIN, "GS1 DataMatrix"),
        ("]C1" + PLAIN, "GS1-128"),
        ("]Q3" + PLAIN, "GS1 QR Code"),
        ("]e0" + PLAIN, "GS1 DataBar"),
        ("]J1" + PLAIN, "GS1 DotCode"),
        (PLAIN, None),
    ],
)
def test_aim_symbology_identifier_is_stripped_and_remembered(raw: str, symbology: str | None) -> None:
    result = scan(raw)
    assert result.kind == "gs1"
    assert result.symbology == symbology
    assert fields(result) == EXPECTED
    assert result.normalized == PLAIN
    assert result.text == PLAIN
    assert result.errors == []


def test_unknown_aim_identifier_is_stripped_and_named() -> None:
    result = scan("]X7" + PLAIN)
    assert result.symbology is not None
    assert "]X7" in result.symbology
    assert fields(result) == EXPECTED


@pytest.mark.parametrize(
    "separator",
    ["\x1e", "\t", "<GS>", "{GS}", "<gs>", "[GS]", "<FNC1>", "\u241d"],
    ids=["RS", "Tab", "<GS>", "{GS}", "<gs>", "[GS]", "<FNC1>", "control-picture"],
)
def test_stand_ins_for_gs_separate_fields(separator: str) -> None:
    result = scan("]d2" + PLAIN.replace(GS, separator))
    assert fields(result) == EXPECTED
    assert result.normalized == PLAIN
    assert not result.ambiguous


def test_leading_gs_is_fnc1_and_dropped() -> None:
    result = scan(GS + PLAIN)
    assert result.kind == "gs1"
    assert fields(result) == EXPECTED
    assert result.normalized == PLAIN


def test_leading_gs_after_aim_identifier() -> None:
    assert fields(scan("]C1" + GS + PLAIN)) == EXPECTED


@pytest.mark.parametrize("wrapping", [("", "\r\n"), ("", "\n"), ("  ", " \t\r\n"), ("\ufeff", "\x00")])
def test_keyboard_wedge_whitespace_around_the_scan(wrapping: tuple[str, str]) -> None:
    before, after = wrapping
    result = scan(before + "]d2" + PLAIN + after)
    assert fields(result) == EXPECTED
    assert result.symbology == "GS1 DataMatrix"
    assert result.raw == before + "]d2" + PLAIN + after  # raw is kept as sent


def test_inner_gs_survives_whitespace_stripping() -> None:
    # Python's str.strip() would also eat a trailing GS; only surrounding whitespace goes.
    result = scan(f"01{GTIN}10LOT42{GS}21SN001\r\n")
    assert (result.lot, result.serial) == ("LOT42", "SN001")


def test_human_readable_text_with_parentheses() -> None:
    hri = f"(01){GTIN}(17)261231(10)LOT42(21)SN001"
    result = scan(hri)
    assert result.kind == "gs1"
    assert fields(result) == EXPECTED
    # Same element string as biip's own HRI parser.
    assert result.normalized == GS1Message.parse_hri(hri).value == PLAIN


def test_human_readable_text_with_spaces() -> None:
    assert fields(scan(f"(01) {GTIN} (17) 261231 (10) LOT42 (21) SN001")) == EXPECTED


def test_digital_link_on_gs1_resolver_with_query_ai() -> None:
    url = f"https://id.gs1.org/01/{GTIN}/10/LOT42?17=261231"
    result = scan(url)
    assert result.kind == "gs1"
    assert (result.gtin, result.lot, result.expiry) == (GTIN, "LOT42", date(2026, 12, 31))
    assert result.normalized == f"01{GTIN}10LOT42{GS}17261231"
    biip_ais = {e.ai.ai: e.value for e in GS1DigitalLinkURI.parse(url).element_strings}
    assert result.ais == biip_ais


def test_digital_link_on_any_host_with_path_prefix_serial_and_other_ais() -> None:
    # Made-up GTIN 07543210000017; 3103 is a net weight AI, kept in ais.
    url = "HTTPS://scan.example.ca/p/01/07543210000017/10/LOT%2F42/21/SN001?17=261200&3103=000500&x=1"
    result = scan(url)
    assert result.kind == "gs1"
    assert (result.gtin, result.lot, result.serial) == ("07543210000017", "LOT/42", "SN001")
    assert result.expiry == date(2026, 12, 31)
    assert result.ais["3103"] == "000500"
    assert "x" not in result.ais


def test_digital_link_with_a_short_gtin_is_padded() -> None:
    # Made-up GTIN-13 7543210001236 in the URI's short form.
    assert scan("https://example.com/01/7543210001236").gtin == "07543210001236"


def test_digital_link_errors_name_the_field() -> None:
    result = scan(f"https://id.gs1.org/01/{GTIN}?17=261332")
    assert result.kind == "gs1"
    assert result.gtin == GTIN
    assert result.error_codes == ["impossible_date"]
    assert scan("https://id.gs1.org/01/09506000134353").error_codes == ["bad_check_digit"]


def test_ordinary_url_is_text() -> None:
    result = scan("https://example.com/about")
    assert result.kind == "text"
    assert result.errors == []


def test_iso_15434_envelope_of_gs1_data() -> None:
    result = scan(f"[)>\x1e05\x1d01{GTIN}\x1d10LOT42\x1e\x04")
    assert (result.kind, result.gtin, result.lot) == ("gs1", GTIN, "LOT42")


# --- GS1 fields ------------------------------------------------------------------------------------


def test_expiry_day_00_is_the_last_day_of_the_month() -> None:
    # biip does this itself; the pipeline agrees, leap years included.
    assert GS1ElementString.parse("17261200").date == date(2026, 12, 31)
    assert scan(f"]d201{GTIN}17261200").expiry == date(2026, 12, 31)
    assert scan(f"]d201{GTIN}17280200").expiry == date(2028, 2, 29)
    assert scan(f"]d201{GTIN}17270200").expiry == date(2027, 2, 28)


def test_two_digit_years_follow_the_gs1_window_around_today() -> None:
    assert scan(f"]d201{GTIN}17760101").expiry == date(2076, 1, 1)
    assert scan(f"]d201{GTIN}17770101").expiry == date(1977, 1, 1)
    assert parse_scan(f"]d201{GTIN}17770101", today=date(2030, 1, 1)).expiry == date(2077, 1, 1)


def test_production_date_quantity_and_other_ais() -> None:
    result = scan(f"]C101{GTIN}11260115" + "30" + "12" + GS + "240ABC-1" + GS + "241XYZ" + GS + "710PZN1")
    assert result.production_date == date(2026, 1, 15)
    assert result.quantity == 12
    assert result.ais == {"01": GTIN, "11": "260115", "30": "12", "240": "ABC-1", "241": "XYZ", "710": "PZN1"}


def test_count_of_trade_items_gives_quantity_and_contained_gtin() -> None:
    # A case label: SSCC (made-up, valid check digit), contained GTIN (02) and their count (37).
    result = scan("]C1" + "00" + "007543210000000019" + "02" + GTIN + "37" + "40")
    assert result.kind == "gs1"
    assert result.errors == []
    assert (result.gtin, result.quantity) == (GTIN, 40)


def test_gs1_without_aim_identifier_needs_evidence() -> None:
    # Expiry + lot (a second GS1-128 on some packs): two fields, one of fixed length.
    result = scan("1726123110LOT42")
    assert (result.kind, result.expiry, result.lot) == ("gs1", date(2026, 12, 31), "LOT42")
    # A lot number typed alone that happens to start with "10" stays text...
    assert scan("10ABC").kind == "text"
    # ...unless the scanner said it is GS1.
    gs1 = scan("]C110ABC")
    assert (gs1.kind, gs1.lot) == ("gs1", "ABC")


# --- errors ----------------------------------------------------------------------------------------


def test_bad_gtin_check_digit_is_an_error_never_accepted() -> None:
    result = scan("]d2" + "0109506000134353" + "17261231" + "10LOT42")
    assert result.kind == "gs1"
    assert result.gtin is None
    assert "01" not in result.ais
    assert result.error_codes == ["bad_check_digit"]
    assert "2 expected" in result.errors[0].message
    assert (result.lot, result.expiry) == ("LOT42", date(2026, 12, 31))  # the other fields still help


def test_bad_check_digit_without_aim_identifier_is_still_gs1() -> None:
    result = scan("0109506000134353")
    assert (result.kind, result.error_codes) == ("gs1", ["bad_check_digit"])


@pytest.mark.parametrize("value", ["261332", "260230", "260015", "261200"[:4] + "32"])
def test_impossible_date_is_an_error(value: str) -> None:
    result = scan(f"]d201{GTIN}17{value}10LOT42")
    assert result.error_codes == ["impossible_date"]
    assert result.expiry is None
    # The bad date has a fixed length, so the lot after it is still read.
    assert (result.gtin, result.lot) == (GTIN, "LOT42")


def test_impossible_date_in_human_readable_text() -> None:
    result = scan(f"(01){GTIN}(17)261332")
    assert result.error_codes == ["impossible_date"]
    assert result.normalized == f"01{GTIN}17261332"


def test_unknown_ai() -> None:
    result = scan(f"]d201{GTIN}2312")
    assert result.error_codes == ["unknown_ai"]
    assert result.gtin == GTIN
    assert scan("(23)12345").error_codes == ["unknown_ai"]


@pytest.mark.parametrize("raw", [f"]d201{GTIN}1726", f"]d201{GTIN}1", "]d2010950600013", f"]d201{GTIN}10"])
def test_truncated_data(raw: str) -> None:
    assert scan(raw).error_codes == ["truncated"]


def test_the_same_ai_twice_with_different_values() -> None:
    assert scan(f"]d201{GTIN}10A{GS}10B").error_codes == ["conflicting_ai"]


def test_too_long_input_is_refused_without_parsing() -> None:
    raw = "0" * 10_000
    started = time.perf_counter()
    result = scan(raw)
    assert time.perf_counter() - started < 0.05
    assert result.error_codes == ["too_long"]
    assert result.kind == "text"
    assert len(result.raw) == MAX_SCAN_LENGTH
    assert scan("]C0" + "A" * MAX_SCAN_LENGTH).errors == []  # the identifier does not count


def test_empty_input() -> None:
    for raw in ("", "   ", "\r\n", "]d2"):
        result = scan(raw)
        assert result.kind == "empty"
        assert result.errors == []


# --- missing separators ----------------------------------------------------------------------------


def test_missing_separator_after_lot_is_ambiguous() -> None:
    result = scan(f"01{GTIN}" + "10LOT42" + "21SN001")
    assert result.ambiguous
    assert result.kind == "gs1"
    # Never silently picked: only the agreed GTIN is at the top.
    assert (result.gtin, result.lot, result.serial) == (GTIN, None, None)
    assert result.ais == {"01": GTIN}
    readings = [(r.lot, r.serial) for r in result.readings]
    assert readings == [("LOT4221SN001", None), ("LOT42", "SN001")]


def test_correctly_separated_message_is_not_ambiguous() -> None:
    result = scan(f"01{GTIN}" + "10LOT42" + GS + "21SN001")
    assert not result.ambiguous
    assert result.readings == []
    assert (result.lot, result.serial) == ("LOT42", "SN001")


def test_variable_field_last_without_lookalike_is_not_ambiguous() -> None:
    result = scan(f"]d201{GTIN}17261231" + "10LOT42")
    assert not result.ambiguous
    assert result.lot == "LOT42"


def test_missing_separators_after_serial_list_every_reading() -> None:
    result = scan(f"01{GTIN}" + "21SN001" + "17261231" + "10LOT")
    assert result.ambiguous
    assert result.expiry is None  # one reading has no expiry
    readings = {(r.serial, r.expiry, r.lot) for r in result.readings}
    assert readings == {
        ("SN0011726123110LOT", None, None),
        ("SN001", date(2026, 12, 31), "LOT"),
        ("SN00117261231", None, "LOT"),
    }


def test_readings_only_invent_fields_found_on_medical_labels() -> None:
    # "LOT4" + AI 22 "1SN001" is valid GS1 but not offered; "22" in a lot is common.
    readings = scan(f"01{GTIN}10LOT4221SN001").readings
    assert all("22" not in r.ais for r in readings)
    assert not scan(f"01{GTIN}10ABC22X91Y").ambiguous


def test_ambiguity_search_is_bounded_on_hostile_input() -> None:
    hostile = [
        f"]C101{GTIN}10" + "10" * 247,
        f"]C101{GTIN}"
        + "".join(ai + ("30" * 50)[:n] for ai, n in [("10", 20), ("21", 20), ("91", 90), ("92", 90)]),
        f"]C101{GTIN}"
        + "".join(ai + ("9110" * 30)[:n] for ai, n in [("10", 20), ("240", 30), ("91", 90), ("93", 90)]),
    ]
    for raw in hostile:
        started = time.perf_counter()
        result = scan(raw[:MAX_SCAN_LENGTH])
        assert time.perf_counter() - started < 0.5
        assert len(result.readings) <= 6


# --- plain GTINs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "gtin"),
    [
        ("7543210001236", "07543210001236"),  # made-up GTIN-13 (EAN-13)
        ("]E07543210001236", "07543210001236"),
        ("062000123455", "00062000123455"),  # made-up GTIN-12 (UPC-A)
        ("75432102", "00000075432102"),  # made-up GTIN-8 (EAN-8)
        ("]E475432102", "00000075432102"),
        ("10754321000016", "10754321000016"),  # made-up GTIN-14 (ITF-14)
        ("]E001234565", "00012345000065"),  # UPC-E 01234565 is UPC-A 012345000065
        (GTIN, GTIN),
    ],
)
def test_plain_gtin_scanned_alone(raw: str, gtin: str) -> None:
    result = scan(raw)
    assert (result.kind, result.gtin, result.errors) == ("gtin", gtin, [])


def test_plain_gtin_with_bad_check_digit() -> None:
    # From an EAN symbol it can only be a GTIN; typed, it may be a lot number, so it stays text.
    ean = scan("]E07543210001237")
    assert (ean.kind, ean.gtin, ean.error_codes) == ("gtin", None, ["bad_check_digit"])
    typed = scan("7543210001237")
    assert (typed.kind, typed.gtin, typed.error_codes) == ("text", None, ["bad_check_digit"])
    assert typed.text == "7543210001237"


# --- HIBC ------------------------------------------------------------------------------------------


def test_hibc_check_character_worked_example() -> None:
    # The mod-43 example printed in scanner manuals: + A 1 2 3 B J C 5 D 6 E 7 1 -> sum 145 -> G.
    assert hibc_check_char("+A123BJC5D6E71") == "G"


def test_hibc_primary_only() -> None:
    result = scan("+A123BJC5D6E71G")
    assert result.kind == "hibc"
    assert result.hibc is not None
    assert (result.hibc.lic, result.hibc.product, result.hibc.unit) == ("A123", "BJC5D6E7", 1)
    assert result.errors == []
    assert result.gtin is None


def test_hibc_printed_caption_asterisks_and_code39_aim() -> None:
    result = scan("]A0*+A123BJC5D6E71G*")
    assert (result.kind, result.errors) == ("hibc", [])


def test_hibc_primary_with_bad_check_character() -> None:
    result = scan("+A123BJC5D6E71H")
    assert result.kind == "hibc"
    assert result.error_codes == ["bad_check_character"]


@pytest.mark.parametrize(
    ("raw", "lot", "serial", "expiry", "quantity"),
    [
        ("+Z99912345671/$$3261231LOT424", "LOT42", None, date(2026, 12, 31), None),
        ("+Z99912345671/$$1226LOT42/", "LOT42", None, date(2026, 12, 31), None),  # MMYY; check char "/"
        ("+Z99912345671/$$+3261231SN001H", None, "SN001", date(2026, 12, 31), None),
        ("+Z99912345671/26365LOT7H", "LOT7", None, date(2026, 12, 31), None),  # YYJJJ
        ("+Z99912345671/$$8243261231LOT9L", "LOT9", None, date(2026, 12, 31), 24),
        ("+Z99912345671/$LOT42X", "LOT42", None, None, None),
        (
            "+Z99912345671/$$3261231LOT42/S77DEFG457/16D20250102H",
            "LOT42",
            "77DEFG457",
            date(2026, 12, 31),
            None,
        ),
    ],
)
def test_hibc_primary_and_secondary_in_one_symbol(
    raw: str, lot: str | None, serial: str | None, expiry: date | None, quantity: int | None
) -> None:
    result = scan(raw)
    assert result.kind == "hibc"
    assert result.errors == []
    assert result.hibc is not None
    assert (result.hibc.lic, result.hibc.product, result.hibc.unit) == ("Z999", "1234567", 1)
    assert (result.lot, result.serial, result.expiry, result.quantity) == (lot, serial, expiry, quantity)
    assert (result.hibc.lot, result.hibc.serial, result.hibc.expiry) == (lot, serial, expiry)


def test_hibc_supplemental_production_date() -> None:
    result = scan("+Z99912345671/$$3261231LOT42/S77DEFG457/16D20250102H")
    assert result.production_date == date(2025, 1, 2)


def test_hibc_secondary_alone_carries_the_link_to_its_primary() -> None:
    primary = scan("+Z999123456713")
    secondary = scan("+$$3261231LOT4235")
    assert (primary.errors, secondary.errors) == ([], [])
    assert secondary.hibc is not None
    assert secondary.hibc.link == hibc_check_char("+Z99912345671") == "3"
    assert (secondary.lot, secondary.expiry, secondary.hibc.lic) == ("LOT42", date(2026, 12, 31), None)


def test_hibc_impossible_date_and_bad_check_character() -> None:
    assert scan("+Z99912345671/$$3261332LOT426").error_codes == ["impossible_date"]
    assert scan("+Z99912345671/$$3261231LOT425").error_codes == ["bad_check_character"]


# --- own label codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "prefix"), [("LJUKLN5F", "L"), ("ljukln5f", "L"), ("]C0KABC123D", "K")])
def test_own_label_code(raw: str, prefix: str) -> None:
    result = scan(raw)
    assert result.kind == "label"
    assert result.label_code == raw.removeprefix("]C0").upper()
    assert result.label_prefix == prefix
    assert label_check_char(result.label_code[:-1]) == result.label_code[-1]


def test_label_code_with_wrong_check_character_is_text() -> None:
    # Eight letters and digits are also a common lot-number shape, so no label and no error.
    result = scan("LJUKLN5G")
    assert (result.kind, result.label_code, result.errors) == ("text", None, [])


def test_anything_else_is_text_for_the_resolver() -> None:
    for raw in ("LOT42", "U7301AA", "A-1234/B", "Lot 42 é"):
        result = scan(f" {raw}\r\n")
        assert (result.kind, result.text, result.errors) == ("text", raw, [])


# --- serialization and expiry helpers --------------------------------------------------------------


def test_result_serializes_expiry_as_iso_date() -> None:
    encoded = msgspec.json.decode(msgspec.json.encode(scan("]d2" + PLAIN)))
    assert encoded["expiry"] == "2026-12-31"
    assert encoded["kind"] == "gs1"
    assert encoded["hibc"] is None


def test_expiry_from_month_only() -> None:
    assert expiry_from_month_only(2026, 12) == date(2026, 12, 31)
    assert expiry_from_month_only(2028, 2) == date(2028, 2, 29)
    with pytest.raises(ValueError, match="month"):
        expiry_from_month_only(2026, 13)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12", date(2026, 12, 31)),
        ("2026/02", date(2026, 2, 28)),
        ("2026-12-15", date(2026, 12, 15)),
        ("12/2026", date(2026, 12, 31)),
        ("12-2026", date(2026, 12, 31)),
        ("11/27", date(2027, 11, 30)),
        ("EXP 2026-12", date(2026, 12, 31)),
        ("Exp: 12/2026", date(2026, 12, 31)),
        ("DEC 2026", date(2026, 12, 31)),
        ("déc. 2026", date(2026, 12, 31)),
        ("15 févr 2027", date(2027, 2, 15)),
        ("2026 DEC 15", date(2026, 12, 15)),
        ("12/06/2026", None),  # day-first or month-first: refused
        ("13/2026", None),
        ("2026-02-30", None),
        ("soon", None),
        ("", None),
        ("1" * 100, None),
    ],
)
def test_parse_expiry_text(text: str, expected: date | None) -> None:
    assert parse_expiry_text(text, today=TODAY) == expected


# --- never raises ----------------------------------------------------------------------------------

_PREFIXES = st.sampled_from(
    ["", "]d2", "]C1", "]Q3", "]e0", "]E0", "+", "+A123", "(01)", "https://x.ca/01/", GS]
)
_SCAN_ALPHABET = st.sampled_from([*"0123456789ABCLOTZ$+/()%.-]dC\x1d\x1e\t <>{}GS?=&", "é", "😀", "\x00"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.text(max_size=80),
        st.text(min_size=400, max_size=3000),
        st.builds(lambda p, t: p + t, _PREFIXES, st.text(_SCAN_ALPHABET, max_size=120)),
        st.builds(lambda p, t: p + t, _PREFIXES, st.text(_SCAN_ALPHABET, min_size=400, max_size=600)),
    )
)
def test_parse_scan_never_raises_and_stays_fast(raw: str) -> None:
    started = time.perf_counter()
    result = parse_scan(raw, today=TODAY)
    assert time.perf_counter() - started < 0.5
    assert isinstance(result, ScanParse)
    assert "internal_error" not in result.error_codes
    assert result.kind in ("gs1", "hibc", "label", "gtin", "text", "empty")
    assert len(result.raw) <= max(len(raw), MAX_SCAN_LENGTH)
    msgspec.json.encode(result)
