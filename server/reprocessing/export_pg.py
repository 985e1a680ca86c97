"""The loads CSV on PostgreSQL: the database writes every line (``COPY (SELECT ...) TO STDOUT``) and
the worker only passes the bytes on, so a million rows cost no Python per row and memory stays flat.

The SELECT builds each whole CSV line as one text column (server.reprocessing.export_sql's cells),
copied in PostgreSQL's text format: its only change to a line is the backslash escaping of control
characters and backslashes, which ``codecs.escape_decode`` undoes exactly (every backslash in the
copy starts one of PostgreSQL's escapes, all of which Python reads the same way).

The COPY runs in its own task on a pooled connection and hands chunks over through a small queue:
when the client reads slowly the queue fills, the task stops reading and PostgreSQL waits on the
socket. When the response ends early (client gone) the task is cancelled, which cancels the COPY on
the server and returns the connection to the pool.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from server.db import engine
from server.reprocessing.export_sql import (
    POSTGRES,
    RESULT_COLUMNS,
    bi_test_default,
    int_cell,
    joined,
    text_cell,
    yes_no,
)

QUEUE_CHUNKS = 8  # chunks of up to ~64 KB each (what asyncpg read at once): memory stays flat
_running: set[asyncio.Task[None]] = set()  # a task must be referenced until it is done

# Each load's packs, in pack id order: the subquery's ORDER BY feeds the aggregate in that order (a
# subquery with ORDER BY is never merged into its parent), which costs less than a sort inside
# string_agg for every load (8.3 s against 11.4 s for a million loads of two packs). Aggregating
# all the export's packs first and joining them by load id ran longer and sent no byte until done.
_CONTENTS = (
    "LEFT JOIN LATERAL (SELECT string_agg(x, '; ') AS names FROM"
    " (SELECT d.name || ' (' || p.label_code || ')' AS x FROM rp_pack p JOIN rp_device d ON d.id = p.device"
    " WHERE p.load = l.id ORDER BY p.id) o) c ON true"
)
# The sterilizer's three cells once per sterilizer (OFFSET 0 keeps PostgreSQL from inlining the
# subquery, which would build them again for every load).
_STERILIZER = (
    "JOIN (SELECT id, "  # noqa: S608  (our own SQL)
    + joined([text_cell("name", POSTGRES), text_cell("model", POSTGRES), text_cell("serial", POSTGRES)])
    + " AS cells FROM rp_sterilizer OFFSET 0) s ON s.id = l.sterilizer"
)


def _local(column: str, tz: str, pattern: str) -> str:
    return f"COALESCE(to_char({column} AT TIME ZONE {tz}, '{pattern}'), '')"


def line_query(where: str, n_args: int, *, with_fixes: bool) -> str:
    """The SELECT of the CSV lines, with ``$n`` placeholders: the WHERE's ``{}`` ones (``n_args`` of
    them) first, then the zone's name and, ``with_fixes``, the arrays of load ids and their
    corrections cells."""
    tz = f"${n_args + 1}::text"
    cells = [
        "s.cells",
        "COALESCE(to_char(l.day, 'YYYY-MM-DD'), '')",
        _local("l.started_at", tz, "HH24:MI"),
        int_cell("l.load_number"),
        text_cell("l.cycle_type", POSTGRES),
        text_cell(f"COALESCE(c.names, {bi_test_default('l.purpose')})", POSTGRES),
        yes_no("l.implant"),
        yes_no("l.physical_met"),
        *(text_cell(f"l.{name}", POSTGRES) for name in RESULT_COLUMNS),
        _local("l.bi_read_at", tz, "YYYY-MM-DD HH24:MI"),
        text_cell("l.operator_initials", POSTGRES),
        text_cell("l.releaser_name", POSTGRES),
        _local("l.released_at", tz, "YYYY-MM-DD HH24:MI"),
        text_cell("l.status", POSTGRES),
        text_cell("l.comment", POSTGRES),
        "COALESCE(fx.cell, '')" if with_fixes else "''",
    ]
    fixes = (
        f" LEFT JOIN unnest(${n_args + 2}::integer[], ${n_args + 3}::text[]) AS fx(load_id, cell)"
        " ON fx.load_id = l.id"
        if with_fixes
        else ""
    )
    where_n = where.format(*(f"${i}" for i in range(1, n_args + 1)))
    return (
        f"SELECT {joined(cells)} FROM rp_load l {_STERILIZER} "  # noqa: S608  (our own SQL)
        f"{_CONTENTS}{fixes} WHERE {where_n} ORDER BY l.started_at, l.id"
    )


@asynccontextmanager
async def _connection() -> AsyncIterator[asyncpg.Connection]:
    db = engine()
    if not isinstance(db, PostgresEngine):
        raise TypeError("the COPY export needs PostgreSQL")
    if db.pool is not None:
        async with db.pool.acquire() as conn:
            try:
                yield conn
            except BaseException:
                # A COPY cut short (client gone) leaves the connection mid-protocol, and the pool's
                # reset is a no-op (server.db): close it rather than hand it to the next query.
                conn.terminate()
                raise
        return
    conn = await db.get_new_connection()  # no pool: the CLI and scripts
    try:
        yield conn
    except BaseException:
        conn.terminate()
        raise
    await conn.close()


def _unescape(chunk: bytes) -> bytes:
    return codecs.escape_decode(chunk)[0] if b"\\" in chunk else bytes(chunk)


async def copy_lines(
    where: str, args: list[Any], tz_name: str, fixes: dict[int, str]
) -> AsyncGenerator[bytes, None]:
    """The export's CSV lines, in chunks of whole lines, straight from PostgreSQL."""
    values: list[Any] = [*args, tz_name]
    if fixes:
        values += [list(fixes), list(fixes.values())]
    query = line_query(where, len(args), with_fixes=bool(fixes))
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
    task = asyncio.create_task(_pump(query, values, queue.put))
    _running.add(task)
    task.add_done_callback(_running.discard)
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # A no-op once the COPY has ended; otherwise the reader left early: stop the COPY.
        task.cancel()


async def _pump(
    query: str, values: list[Any], put: Callable[[bytes | BaseException | None], Awaitable[None]]
) -> None:
    async def sink(chunk: bytes) -> None:
        await put(_unescape(chunk))

    try:
        async with _connection() as conn:
            await conn.copy_from_query(query, *values, output=sink, format="text")
    except Exception as exc:  # handed to the reader, which raises it in the response's task
        await put(exc)
    else:
        await put(None)
