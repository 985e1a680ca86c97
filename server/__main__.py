"""The ``clinitrack`` command: serve, migrate, seed, createuser, audit verify."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click

from server.config import ConfigError, Settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def _run(coro_fn: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async command with the database pool open, turning domain errors into plain messages."""

    @wraps(coro_fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        settings = _settings()

        async def main() -> T:
            from server.db import close_pool, start_pool

            await start_pool(2)
            try:
                return await coro_fn(*args, **kwargs)
            finally:
                await close_pool()

        from server.errors import DomainError, storage_fault

        try:
            return asyncio.run(main())
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
        except BrokenPipeError:
            raise  # the reader of our output went away (e.g. `| head`): not a database problem
        except OSError as exc:
            raise click.ClickException(f"cannot reach the database: {exc}") from None
        except Exception as exc:
            fault = storage_fault(exc)  # read-only or full disk, the database going away
            if fault is None:
                raise
            raise click.ClickException(f"{fault.detail} ({exc})") from None
        finally:
            del settings

    return wrapper


@click.group(help="clinitrack: inventory and infection-control tracking for outpatient clinics.")
def cli() -> None:
    _settings()


@cli.command(help="Apply database migrations (safe to repeat).")
@_run
async def migrate() -> None:
    from server.db import pending_migrations, run_migrations

    before = await pending_migrations()
    await run_migrations()
    ran = "all" if before and ":" not in before[0] else str(len(before))
    click.echo(f"migrations: {ran} applied; the database is current")


async def _require_migrated() -> None:
    from server.db import pending_migrations

    if await pending_migrations():
        raise click.ClickException("the database is not set up yet: run 'clinitrack migrate' first")


@cli.command(help="Start the web service (runs migrations first).")
@click.option("--host", default=None, help="Bind address (default CLINITRACK_HOST).")
@click.option("--port", type=int, default=None, help="Port (default CLINITRACK_PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (default CLINITRACK_WORKERS).")
@click.option("--no-migrate", is_flag=True, help="Do not run migrations before starting.")
def serve(host: str | None, port: int | None, workers: int | None, no_migrate: bool) -> None:
    import uvicorn

    settings = _settings()
    if workers and workers > 1 and not settings.is_postgres:
        raise click.ClickException("--workers: several workers need PostgreSQL (CLINITRACK_DATABASE_URL)")
    if not no_migrate:
        migrate.callback()  # type: ignore[misc]
    host, port = host or settings.host, port or settings.port
    # glibc gives each thread that allocates its own malloc arena and keeps what it freed there; the
    # PDF and label renderers run in threads. Two arenas per worker bound that (README, "RSS per
    # worker"). Workers are started fresh (spawn) and read it from the environment; a value set by
    # the operator wins.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    click.echo(f"clinitrack is listening on http://{host}:{port}/  (Ctrl+C stops it)")
    uvicorn.run(
        "server.asgi:app",
        host=host,
        port=port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
        proxy_headers=True,
        server_header=False,
    )


@cli.group(help="Load data sets from seeds/.")
def seed() -> None:
    pass


@seed.command(name="demo", help="Load the demo clinic (idempotent) and print its logins.")
@_run
async def seed_demo() -> None:
    from server.alerts.sweep import sweep
    from server.clock import utcnow
    from server.seed import seed as load

    await _require_migrated()
    for result in await load("demo", now=utcnow()):
        click.echo(f"{result.site_name} (site {result.site_id}): {result.created} records added")
        for login in result.logins:
            click.echo(f"  {login.role:<10} username {login.username:<10} password {login.password}")
    # The bell shows what needs attention from the first sign-in, not after the first scheduled sweep.
    opened = sum(outcome.open for outcome in await sweep(utcnow()))
    click.echo(f"{opened} alerts open")


@cli.group(help="Generated data sets for benchmarks.")
def demo() -> None:
    pass


@demo.command(name="generate", help="Bulk-load a reproducible synthetic data set into an empty database.")
@click.option("--scale", type=click.Choice(["tiny", "clinic", "region"]), default="clinic", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed and base: same data.")
@click.option("--base", default=None, help="The data's end (UTC date or ISO time); default today 00:00 UTC.")
@click.option("--sites", type=int, default=None, help="Override the scale's number of sites.")
@click.option("--jobs", type=int, default=None, help="Loader processes on PostgreSQL (default: CPUs, max 4).")
@_run
async def demo_generate(scale: str, seed: int, base: str | None, sites: int | None, jobs: int | None) -> None:
    import time
    from datetime import UTC, datetime

    from server.generate.load import GenerateError, default_jobs, generate
    from server.generate.plan import PASSWORD

    await _require_migrated()
    try:
        at = datetime.fromisoformat(base) if base else datetime.now(UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    except ValueError:
        raise click.ClickException(f"--base: {base!r} is not a date or ISO time") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    started = time.monotonic()
    click.echo(f"generating the {scale} data set, seed {seed}, ending {at.isoformat()}")
    try:
        totals = await generate(scale, seed, at, sites=sites, jobs=jobs or default_jobs(), say=click.echo)
    except GenerateError as exc:
        raise click.ClickException(str(exc)) from None
    for table, n in totals.rows.items():
        click.echo(f"  {table:<22} {n:>12,}")
    total = sum(totals.rows.values())
    click.echo(f"{total:,} rows in {time.monotonic() - started:.1f} s; "
               f"logins s001-manager, s001-inspector, ... password {PASSWORD}")


@demo.command(
    name="check",
    help="Check the stock ledger: levels = sum of movements, never negative; the alert view of stock.",
)
@_run
async def demo_check() -> None:
    import time

    from server.generate import checks
    from server.stock import rollup

    await _require_migrated()
    started = time.monotonic()
    mismatches, negative = await checks.level_mismatches(), await checks.negative_balances()
    lots, items = await rollup.mismatches()
    click.echo(
        f"{mismatches} stock levels differ from their movements; {negative} movements leave a negative "
        f"balance; {lots} lot and {items} item rows of the alert view of stock differ from the ledger "
        f"({time.monotonic() - started:.1f} s)"
    )
    if mismatches or negative or lots or items:
        sys.exit(1)


@cli.command(help="Create an account; the password is asked for, or read from stdin with --password-stdin.")
@click.argument("username")
@click.option("--display-name", default=None, help="Name shown in the app (default: the username).")
@click.option("--superuser", is_flag=True, help="System administrator: manages every site and account.")
@click.option("--site", "site_id", type=int, default=None, help="Also give a role at this site id.")
@click.option("--role", type=click.Choice(["assistant", "manager", "inspector", "admin"]), default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def createuser(
    username: str,
    display_name: str | None,
    superuser: bool,
    site_id: int | None,
    role: str | None,
    password_stdin: bool,
) -> None:
    if (site_id is None) != (role is None):
        raise click.UsageError("--site and --role go together")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    @_run
    async def create() -> None:
        from server.clock import utcnow
        from server.core import service
        from server.core.auth import SYSTEM
        from server.core.rules import Role
        from server.core.schemas import MemberAdd, UserCreate

        await _require_migrated()
        user = await service.create_user(
            SYSTEM,
            UserCreate(
                username=username,
                display_name=display_name or username,
                password=password,
                is_superuser=superuser,
            ),
            now=utcnow(),
        )
        click.echo(f"created {user.username} (id {user.id}{', system administrator' if superuser else ''})")
        if site_id is not None and role is not None:
            await service.add_member(
                SYSTEM, site_id, MemberAdd(username=user.username, role=Role(role)), now=utcnow()
            )
            click.echo(f"gave {user.username} the {role} role at site {site_id}")

    create()


@cli.group(help="The tamper-evident audit chain.")
def audit() -> None:
    pass


@audit.command(name="verify", help="Recompute every hash chain; exit 1 at the first broken event.")
@click.option("--site", "site_id", type=int, default=None, help="Only this site's chain.")
@_run
async def audit_verify(site_id: int | None) -> None:
    from server.core import audit as chain

    await _require_migrated()
    statuses = await chain.verify_all([site_id] if site_id is not None else None)
    total = sum(s.events for s in statuses)
    broken = [s for s in statuses if not s.ok]
    for s in broken:
        click.echo(f"BROKEN {s.chain} at seq {s.first_broken_seq}: {s.reason}")
    if broken:
        sys.exit(1)
    click.echo(f"OK {total} events in {len(statuses)} chain(s)")


@cli.group(help="Scheduled jobs (housekeeping, sweeps).")
def jobs() -> None:
    pass


@jobs.command(
    name="run-once",
    help="Run each job for the current slot now, for cron instead of the in-process scheduler.",
)
@click.argument("names", nargs=-1)
@_run
async def jobs_run_once(names: tuple[str, ...]) -> None:
    from server.scheduler import JOBS, run_slot

    await _require_migrated()
    known = {job.name: job for job in JOBS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.ClickException(f"no such job: {', '.join(unknown)} (jobs: {', '.join(known)})")
    for job in [known[n] for n in names] if names else JOBS:
        done = await run_slot(job)
        click.echo(f"{job.name}: {done if done is not None else 'this slot already ran'}")


@cli.group(help="Alerts: the sweep and the mail and webhook delivery.")
def alerts() -> None:
    pass


@alerts.command(
    name="run-once",
    help="Sweep the alert rules and send what is due, once: the scheduler's alert jobs, for cron.",
)
@click.option("--full", is_flag=True, help="Re-read every site for every rule (default: what changed).")
@_run
async def alerts_run_once(full: bool) -> None:
    from server.alerts.sweep import sweep
    from server.clock import utcnow
    from server.scheduler import JOBS, run_slot

    await _require_migrated()
    if full:
        for outcome in await sweep(utcnow()):
            click.echo(f"{outcome.rule}: {outcome.open} open, {outcome.resolved} cleared")
    for job in JOBS:
        if job.name == "alert_delivery" or (job.name == "alert_sweep" and not full):
            done = await run_slot(job)
            click.echo(f"{job.name}: {done if done is not None else 'this slot already ran'}")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:  # raised while Piccolo loads its configuration
        click.echo(f"Error: configuration error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
