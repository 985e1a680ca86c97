"""Missing separators. Without a GS after a variable-length field, biip reads that field to the end of the
data (or to its maximum length); if its tail also reads as other fields, the scan means more than one thing.
This lists the readings instead of picking one."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from server.scans.gs1 import Gs1Outcome, check_element, fixed_length
from server.scans.gs1_syntax import ApplicationIdentifier, ParseError, extract_ai

Pairs = tuple[tuple[str, str], ...]

MAX_READINGS = 6
# A split that invents a field is offered only with AIs that appear on pharmacy and medical-supply
# labels: with all 500 AIs, every lot containing "22", "90" or "91" would be flagged.
ALTERNATIVE_AIS = frozenset({"10", "11", "17", "21", "30", "37", "240", "241", "7003"})
# Bounds the search on hostile input (e.g. "10" repeated); a real pack label needs a few dozen steps.
_STEP_BUDGET = 4000
_MAX_VALUE_LENGTH = 90

# A reading is built as a linked list (pair, rest) so that sharing tails costs nothing.
_Cons = tuple[tuple[str, str], "_Cons"] | None


@dataclass
class _Search:
    data: str
    allowed: frozenset[str]
    today: date
    steps: int = 0


def readings(data: str, greedy: Pairs, today: date) -> list[Pairs]:
    """The readings of ``data`` (GS1 element strings with no GS), biip's greedy one first.

    Each AI appears at most once per reading; the list has one entry when the data is unambiguous.
    """
    search = _Search(data=data, allowed=ALTERNATIVE_AIS | {ai for ai, _ in greedy}, today=today)
    found = [greedy]
    for cons in _split(search, 0, frozenset(), {}):
        pairs = _flatten(cons)
        if pairs not in found:
            found.append(pairs)
        if len(found) >= MAX_READINGS:
            break
    return found


_Memo = dict[tuple[int, frozenset[str]], list[_Cons]]


def _split(search: _Search, start: int, used: frozenset[str], memo: _Memo) -> list[_Cons]:
    if start == len(search.data):
        return [None]
    key = (start, used)
    if key in memo:
        return memo[key]
    memo[key] = []
    ai = _ai_at(search.data[start : start + 4])
    if ai is None or ai.ai in used or ai.ai not in search.allowed:
        return []
    value_start = start + len(ai.ai)
    out: list[_Cons] = []
    for end in _value_ends(ai, search.data, value_start):
        search.steps += 1
        if search.steps > _STEP_BUDGET or len(out) >= MAX_READINGS:
            break
        value = search.data[value_start:end]
        if not _valid(ai, value, search.today):
            continue
        out.extend(((ai.ai, value), tail) for tail in _split(search, end, used | {ai.ai}, memo))
    memo[key] = out[:MAX_READINGS]
    return memo[key]


def _value_ends(ai: ApplicationIdentifier, data: str, value_start: int) -> range:
    length = fixed_length(ai)
    if length is not None:
        end = value_start + length
        return range(end, end + 1) if end <= len(data) else range(0)
    return range(value_start + 1, min(len(data), value_start + _MAX_VALUE_LENGTH) + 1)


def _valid(ai: ApplicationIdentifier, value: str, today: date) -> bool:
    if re.fullmatch(ai.pattern, ai.ai + value) is None:
        return False
    outcome = Gs1Outcome()
    check_element(ai.ai, value, today, outcome)
    return not outcome.errors


@functools.lru_cache(maxsize=256)
def _ai_at(prefix: str) -> ApplicationIdentifier | None:
    try:
        return extract_ai(prefix)
    except ParseError:
        return None


def _flatten(cons: _Cons) -> Pairs:
    pairs = []
    while cons is not None:
        pair, cons = cons
        pairs.append(pair)
    return tuple(pairs)
