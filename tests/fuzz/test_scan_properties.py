"""Property tests on the scan normalizer and parser (server/scans/): whatever a scanner, keyboard wedge,
camera or person sends, the parse returns a result with stable error codes. It never raises, and it never
falls back to its own safety net (``internal_error``), which would hide a bug.

tests/scans/test_rules.py already throws random text at ``parse_scan``; these add structured inputs
that reach deep into the GS1 paths (real AIs, separators in every form, AIM prefixes, envelopes, HRI and
Digital Link) and a round trip: a well-formed pack label always gives back its GTIN, lot and expiry.
"""

from __future__ import annotations

from datetime import date

import msgspec
from biip.checksums import gs1_standard_check_digit
from hypothesis import given, settings
from hypothesis import strategies as st

from server.scans import rules
from server.scans.expiry import gs1_date
from server.scans.normalize import clean
from server.scans.rules import ScanParse, parse_scan

TODAY = date(2026, 6, 15)
KNOWN_CODES = {
    "too_long", "bad_check_digit", "bad_check_character", "impossible_date", "unknown_ai", "truncated",
    "invalid_value", "conflicting_ai",
}  # fmt: skip
# Everything that stands for GS somewhere in the field, and the AIM prefixes scanners put in front.
SEPARATORS = ["\x1d", "\x1e", "\t", "\u241d", "<GS>", "{GS}", "[GS]", "<FNC1>", ""]
AIMS = ["", "]d2", "]C1", "]Q3", "]e0", "]E0", "]I1", "]Q1", "]d1", "]A0", "]L2", "]z9", "]"]
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F)
AIS = ["00", "01", "02", "10", "11", "15", "17", "21", "30", "37", "240", "3103", "7003", "8020", "99", "23"]

digits = st.text("0123456789", min_size=1, max_size=20)
gs1_text = st.text(st.sampled_from("0123456789ABCXYZabcxyz-./_!%&()*+,:;<=>?\"'"), max_size=22)
noise = st.text(st.one_of(CONTROL, st.sampled_from("]dCQe0123456789()%/ \u00a0\ufeff")), max_size=6)


def gtin14(body13: str) -> str:
    return body13 + str(gs1_standard_check_digit(body13))


@st.composite
def element_strings(draw: st.DrawFn) -> str:
    """Element strings built from real and unknown AIs, with any separator, value or noise."""
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        ai = draw(st.sampled_from(AIS))
        value = draw(st.one_of(digits, gs1_text, st.just("")))
        parts.append(ai + value)
    separator = draw(st.sampled_from(SEPARATORS))
    body = separator.join(parts)
    return (
        draw(noise) + draw(st.sampled_from(AIMS)) + draw(st.sampled_from(["", "\x1d"])) + body + draw(noise)
    )


@st.composite
def hri(draw: st.DrawFn) -> str:
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(AIS), st.one_of(digits, gs1_text)), min_size=1, max_size=5)
    )
    return "".join(f"({ai}){value}" for ai, value in pairs)


@st.composite
def digital_links(draw: st.DrawFn) -> str:
    path = "".join(f"/{ai}/{value}" for ai, value in draw(st.lists(
        st.tuples(st.sampled_from(["01", "10", "21", "17", "8004", "zz"]), st.one_of(digits, gs1_text)),
        max_size=4,
    )))  # fmt: skip
    query = draw(st.sampled_from(["", "?17=261231", "?17=2612", "?x=%zz", "?10=%00"]))
    host = draw(st.sampled_from(["https://id.gs1.org", "http://x.ca", "https://[::1", "HTTPS://a"]))
    return host + path + query


envelopes = st.builds(lambda s: "[)>\x1e05\x1d" + s + "\x1e\x04", st.text(max_size=40))
scans = st.one_of(
    element_strings(),
    hri(),
    digital_links(),
    envelopes,
    st.text(st.one_of(CONTROL, st.sampled_from("0123456789+$/*")), max_size=60),  # HIBC-ish and control
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),  # raw bytes as a wedge would type them
)


def _check(raw: str) -> ScanParse:
    # The inner parse, without parse_scan's catch-all: a bug must show here as an exception.
    result = rules._parse(raw, TODAY)
    assert isinstance(result, ScanParse)
    assert set(result.error_codes) <= KNOWN_CODES, result.error_codes
    msgspec.json.encode(result)  # the HTTP answer can always be written
    return result


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(raw=scans)
def test_any_scan_gives_a_result_with_known_error_codes(raw: str) -> None:
    _check(raw)
    assert "internal_error" not in parse_scan(raw, today=TODAY).error_codes


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    body=st.text("0123456789", min_size=13, max_size=13),
    lot=st.text(st.sampled_from("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ-"), min_size=1, max_size=20),
    expiry=st.dates(date(2000, 1, 1), date(2049, 12, 31)),
    aim=st.sampled_from(["]d2", "]C1", "]Q3", ""]),
    separator=st.sampled_from(["\x1d", "\x1e", "<GS>", "{GS}"]),
    form=st.sampled_from(["element", "hri"]),
)
def test_a_well_formed_pack_label_gives_back_its_gtin_lot_and_expiry(
    body: str, lot: str, expiry: date, aim: str, separator: str, form: str
) -> None:
    gtin = gtin14(body)
    yymmdd = expiry.strftime("%y%m%d")
    raw = (
        f"(01){gtin}(17){yymmdd}(10){lot}" if form == "hri" else f"{aim}01{gtin}17{yymmdd}10{lot}{separator}"
    )
    result = _check(raw)
    assert result.kind == "gs1", result
    assert not result.errors
    if result.ambiguous:  # a lot with digits can hide another AI (lot "0300" = lot "0" + count "0")
        assert (gtin, lot, expiry) in [(r.gtin, r.lot, r.expiry) for r in result.readings]
        assert any(c.isdigit() for c in lot)
    else:
        assert (result.gtin, result.lot, result.expiry) == (gtin, lot, expiry)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=st.text("0123456789", min_size=6, max_size=6))
def test_any_six_digits_are_a_date_or_a_value_error(text: str) -> None:
    try:
        parsed = gs1_date(text, TODAY)
    except ValueError:
        return
    assert parsed.strftime("%y%m")[:4] == text[:4]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    core=st.builds(lambda a, b: f"01{a}\x1d10{b}", digits, gs1_text),
    aim=st.sampled_from([a for a in AIMS if len(a) == 3]),
    edge=st.sampled_from([" ", "\t", "\r\n", "\x00", "\ufeff", "\u00a0"]),
)
def test_clean_drops_what_scanners_add_and_keeps_inner_separators(core: str, aim: str, edge: str) -> None:
    scan = clean(edge + aim + core + edge)
    assert scan.text == core.strip(" \t")
    assert scan.aim == aim
