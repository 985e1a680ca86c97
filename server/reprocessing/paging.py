"""Keyset pages for the review lists: a cursor is the (time, id) of the last row of a page, so the
next page is an indexed range scan however deep it is (design.md §6), never an OFFSET."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from server.errors import InvalidInput
from server.schemas import MAX_ID

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
EXPORT_PAGE = 500  # rows an export reads at a time: its memory does not grow with the range


def encode(at: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode()


def decode(text: str) -> tuple[datetime, int]:
    try:
        at, _, row_id = base64.urlsafe_b64decode(text.encode()).decode().partition("|")
        moment = datetime.fromisoformat(at)
        number = int(row_id)
        if moment.tzinfo is None or not 0 <= number <= MAX_ID:  # a 500 from the database otherwise
            raise ValueError("no offset or id out of range")
        return moment, number
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "This page link is not valid. Start from the first page.",
            code="bad_cursor",
            fields=[{"field": "cursor", "message": "Not a cursor from this list."}],
        ) from exc


def after(at_column: Any, id_column: Any, cursor: str) -> Any:
    """Rows after the cursor in (time, id) order."""
    at, row_id = decode(cursor)
    return (at_column > at) | ((at_column == at) & (id_column > row_id))


def next_cursor(rows: list[dict[str, Any]], limit: int, at_key: str) -> str | None:
    """The cursor of the page's last row when there is more (the query fetched limit + 1)."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode(last[at_key], int(last["id"]))
