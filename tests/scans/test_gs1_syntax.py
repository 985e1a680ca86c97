"""server/scans/gs1_syntax.py gives biip's answers without importing biip (its company-prefix table
costs every worker 15 MiB). Each function is compared with the biip call it replaces on a generated
corpus (fixed seeds, tens of thousands of inputs: valid, nearly valid and broken) and on Hypothesis
inputs: same value, or the same kind of refusal."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from biip import ParseError as BiipParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gtin import Gtin
from biip.symbology import SymbologyIdentifier
from biip.upc import Upc
from hypothesis import given, settings
from hypothesis import strategies as st

from server.scans import gs1_syntax as ours
from server.scans.gs1_syntax import ParseError

AIS = sorted(_GS1_APPLICATION_IDENTIFIERS)
COMMON = [
    "00", "01", "02", "10", "11", "13", "15", "17", "21", "30", "37", "240", "3103", "3922", "3931",
    "4324", "7003", "7006", "8008", "8020", "90", "91", "99", "22", "235", "253", "414", "8006",
]  # fmt: skip
DIGITS = "0123456789"
ODD = "\x1d٣²ABCxyz-./_!%&()*+,:;<=>?\"' é\x00"


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("error", kind): biip's and our ParseError count as the same kind."""
    try:
        return "ok", call()
    except (BiipParseError, ParseError):
        return "error", "ParseError"
    except Exception as exc:
        return "error", type(exc).__name__


def element(e: Any) -> tuple[str, str, int]:
    return e.ai.ai, e.value, len(e)


def same_element_string(text: str) -> None:
    assert outcome(lambda: element(ours.extract_element(text))) == outcome(
        lambda: element(GS1ElementString.extract(text))
    ), text
    assert outcome(lambda: element(ours.parse_element(text))) == outcome(
        lambda: element(GS1ElementString.parse(text))
    ), text


def same_codes(text: str) -> None:
    assert outcome(lambda: ours.gtin_14(text)) == outcome(lambda: Gtin.parse(text).as_gtin_14()), text
    assert outcome(lambda: ours.upc_gtin_14(text)) == outcome(lambda: Upc.parse(text).as_gtin_14()), text


def same_digital_link(url: str) -> None:
    mine = outcome(lambda: [element(e) for e in ours.digital_link_elements(url)])
    theirs = outcome(lambda: [element(e) for e in GS1DigitalLinkURI.parse(url).element_strings])
    assert mine == theirs, url


def test_the_ai_table_is_biips() -> None:
    for ai, theirs in _GS1_APPLICATION_IDENTIFIERS.items():
        mine = ours.known_ai(ai)
        assert mine is not None
        fields = ("ai", "description", "data_title", "separator_required", "format", "pattern")
        assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
    assert len(ours._table()) == len(_GS1_APPLICATION_IDENTIFIERS)


def _value(rng: random.Random, ai: str) -> str:
    kind = rng.random()
    if ai in ("11", "13", "15", "17", "7003", "7006", "4324", "8008") or kind < 0.15:
        yy, mm, dd = (
            rng.randrange(100),
            rng.choice([0, 1, 2, 6, 12, 13, 99]),
            rng.choice([0, 1, 28, 29, 30, 31, 32]),
        )
        extra = rng.choice(["", "", f"{rng.randrange(100):02}{rng.randrange(100):02}", "9999", "2561", "12"])
        return f"{yy:02}{mm:02}{dd:02}{extra}"
    if kind < 0.6:
        n = rng.choice([1, 4, 6, 8, 12, 13, 14, 17, 18, 20, 21, 30])
        body = "".join(rng.choice(DIGITS) for _ in range(n))
        if n in (13, 17) and rng.random() < 0.7:
            body += str(gs1_standard_check_digit(body))
        return body
    return "".join(rng.choice(DIGITS + ODD) for _ in range(rng.randrange(0, 25)))


def element_corpus(seed: int, size: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(size):
        parts = []
        for _ in range(rng.randint(1, 4)):
            ai = rng.choice(COMMON) if rng.random() < 0.7 else rng.choice(AIS)
            parts.append(ai + _value(rng, ai) + rng.choice(["", "", "\x1d"]))
        text = "".join(parts)
        if rng.random() < 0.2:
            text = text[: rng.randrange(len(text) + 1)]
        out.append(text)
    return out


def test_element_strings_match_biip_on_a_generated_corpus() -> None:
    for text in element_corpus(seed=1, size=30_000):
        same_element_string(text)


def code_corpus(seed: int, size: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(size):
        n = rng.choice([5, 6, 7, 8, 8, 8, 11, 12, 12, 13, 13, 14, 14, 15])
        body = "".join(rng.choice(DIGITS) for _ in range(n - 1))
        if rng.random() < 0.3:
            body = "0" * rng.randrange(n) + body[rng.randrange(n) :]
            body = body[: n - 1].rjust(n - 1, "0")
        check = str(gs1_standard_check_digit(body)) if body and rng.random() < 0.7 else rng.choice(DIGITS)
        text = body + check
        roll = rng.random()
        if roll < 0.05:
            text = text.replace("3", "٣")
        elif roll < 0.1:
            text = f" {text}\t"
        elif roll < 0.12:
            text = text[:-1] + "x"
        out.append(text)
    # Every UPC-E with a right check digit, for each last digit (the expansion's five cases).
    for system in "01":
        for last in DIGITS:
            body = f"{system}{rng.randrange(100000):05}{last}"
            upc_a = ours._upc_e_to_upc_a(body + "0")[:-1]
            out.append(body + str(gs1_standard_check_digit(upc_a)))
    return out


def test_gtin_and_upc_match_biip_on_a_generated_corpus() -> None:
    for text in code_corpus(seed=2, size=30_000):
        same_codes(text)


def test_check_digit_matches_biip() -> None:
    rng = random.Random(3)
    for _ in range(5_000):
        digits = "".join(rng.choice(DIGITS) for _ in range(rng.randrange(1, 20)))
        assert ours.check_digit(digits) == gs1_standard_check_digit(digits)
    for bad in ("", "12a", " 1"):
        assert outcome(lambda bad=bad: ours.check_digit(bad)) == outcome(
            lambda bad=bad: gs1_standard_check_digit(bad)
        )


def test_symbology_names_match_biip() -> None:
    for letter in [chr(c) for c in range(0x21, 0x7F)]:
        for digit in DIGITS:
            aim = f"]{letter}{digit}"
            mine = outcome(lambda aim=aim: ours.iso_symbology(aim))
            assert mine == outcome(lambda aim=aim: SymbologyIdentifier.extract(aim).iso_symbology.name), aim


def _gtin(rng: random.Random) -> str:
    body = "".join(rng.choice(DIGITS) for _ in range(rng.choice([7, 11, 12, 13])))
    return body + str(gs1_standard_check_digit(body))


def link_corpus(seed: int, size: int) -> list[str]:
    """Half well-formed links (GTIN, qualifiers in order, dates in the query), half anything."""
    rng = random.Random(seed)
    keys = [
        "01",
        "8006",
        "8013",
        "8010",
        "414",
        "415",
        "417",
        "8017",
        "8018",
        "255",
        "00",
        "253",
        "401",
        "8004",
    ]
    qualifiers = ["22", "10", "21", "235", "8011", "254", "7040", "8020", "8019", "17", "99"]
    lots = DIGITS + "ABCxyz-./_%&"
    out = []
    for _ in range(size):
        if rng.random() < 0.5:
            path = ["01", _gtin(rng)]
            for q in ("22", "10", "21", "235"):
                if rng.random() < 0.4:
                    path += [q, "".join(rng.choice(lots) for _ in range(rng.randint(1, 22)))]
            if rng.random() < 0.1:
                rng.shuffle(path)
        else:
            key = rng.choice(keys)
            path = [key, _value(rng, key)]
            for _ in range(rng.randint(0, 3)):
                q = rng.choice(qualifiers)
                path += [q, _value(rng, q)]
            if rng.random() < 0.1:
                path.append(rng.choice(["10", "x"]))
        scheme = rng.choice(["https"] * 6 + ["http", "ftp", ""])
        host = rng.choice(["id.gs1.org", "id.gs1.org", "example.com/some/prefix", "[x", "a.b"])
        segments = "/".join(quote(part, safe="") if rng.random() < 0.9 else part for part in path)
        query = "&".join(
            f"{rng.choice(['17', '17', '10', '3103', 'linkType', '99', '11', '15'])}="
            f"{quote(_value(rng, '17'), safe='')}"
            for _ in range(rng.choice([0, 0, 1, 2, 3]))
        )
        url = f"{scheme}://{host}/{segments}" if scheme else f"{host}/{segments}"
        out.append(url + (f"?{query}" if query else ""))
    return out


def test_digital_links_match_biip_on_a_generated_corpus() -> None:
    for url in link_corpus(seed=4, size=20_000):
        same_digital_link(url)


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from(DIGITS * 4 + ODD), max_size=40))
def test_any_text_reads_as_biip_reads_it(text: str) -> None:
    same_element_string(text)
    same_codes(text)
    same_digital_link("https://id.gs1.org/" + text)


def test_the_scan_pipeline_does_not_import_biip() -> None:
    code = (
        "import sys; from server.scans.rules import parse_scan; import server.labels.service; "
        "parse_scan('0109506000134352172612311012'); "
        "parse_scan('https://id.gs1.org/01/09506000134352/10/AB?17=261231'); "
        "heavy = ('biip', 'reportlab', 'zxingcpp', 'barcode', 'PIL'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
