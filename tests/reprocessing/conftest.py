"""One cookie jar per user, so a test can switch between the manager, the assistant and the inspector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tests.factories import Session, login

As = Callable[[str], Awaitable[Session]]


@pytest.fixture
async def as_(client: httpx.AsyncClient) -> AsyncIterator[As]:
    opened: dict[str, Session] = {}
    clients: list[httpx.AsyncClient] = []

    async def sign_in(username: str) -> Session:
        if username not in opened:
            c = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
            clients.append(c)
            opened[username] = await login(c, username)
        return opened[username]

    yield sign_in
    for c in clients:
        await c.aclose()
