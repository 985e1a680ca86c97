"""Schemathesis against the service's own OpenAPI document, signed in as each role.

Every operation in /schema/openapi.json gets generated requests (valid and invalid), sent to the
real service over TCP with a signed-in session (cookie + CSRF header) and a fresh Idempotency-Key.
Each answer must not be a 5xx, and its content type and body must match what the schema declares.
Generation is derandomized (fixed seed), so a failure reproduces with the same command.

Budget: FUZZ_EXAMPLES examples per operation and role (CLINITRACK_FUZZ_EXAMPLES to raise it locally).
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from server.clock import utcnow
from server.seed import seed

FUZZ_EXAMPLES = int(os.environ.get("CLINITRACK_FUZZ_EXAMPLES", "6"))
DEMO_LOGINS = {
    "assistant": "demo-assistant",
    "manager": "demo-manager-1",
    "inspector": "demo-inspector",
    "admin": "demo-admin-123",
}
# These change the session itself (or the login throttle shared by every role from this address);
# tests/security covers them on purpose.
# /readyz answers 503 on purpose while the database is down or a migration is pending (tests/faults).
SKIPPED_ROUTES = {"/api/auth/login", "/api/auth/logout", "/api/auth/password", "/readyz"}
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def _sign_in(base: str, username: str) -> requests.Session:
    s = requests.Session()
    resp = s.post(f"{base}/api/auth/login", json={"username": username, "password": DEMO_LOGINS[username]})
    assert resp.status_code == 200, resp.text
    s.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
    return s


def _fuzz_operation(op: Any, base: str, session: requests.Session, site_id: int) -> int:
    """Runs one operation's examples; returns how many requests were sent."""
    fixed = {"site_id": site_id} if "{site_id}" in op.path else None
    strategy = st.one_of(
        op.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        op.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
    )
    sent = 0

    @hypothesis.settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal sent
        headers = {"Idempotency-Key": str(uuid.uuid4())} if op.method.upper() != "GET" else None
        response = case.call(base_url=base, session=session, headers=headers, timeout=30)
        sent += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    return sent


@pytest.fixture
async def demo_site() -> int:
    (result,) = await seed("demo", now=utcnow())
    return result.site_id


@pytest.mark.parametrize("role", list(DEMO_LOGINS))
def test_no_server_errors_and_answers_match_the_schema(role: str, service_url: str, demo_site: int) -> None:
    schema = schemathesis.openapi.from_url(f"{service_url}/schema/openapi.json")
    session = _sign_in(service_url, role)
    failures: list[str] = []
    sent = operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIPPED_ROUTES:
            continue
        operations += 1
        op_started = time.monotonic()
        try:
            sent += _fuzz_operation(op, service_url, session, demo_site)
        except (Exception, FailureGroup) as exc:  # collect every operation's failure, not the first only
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
        if os.environ.get("CLINITRACK_FUZZ_VERBOSE"):
            print(f"{time.monotonic() - op_started:6.2f} s {op.method.upper()} {op.path}")  # noqa: T201
    elapsed = time.monotonic() - started
    print(f"fuzz {role}: {operations} operations, {sent} requests in {elapsed:.1f} s")  # noqa: T201
    assert operations >= 150
    assert sent >= operations * 2
    assert not failures, f"{len(failures)} operations failed:\n" + "\n\n".join(failures)
