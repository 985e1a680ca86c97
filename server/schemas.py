"""Shared request/response building blocks."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

# Bounded so an oversized number is a 400, never a database overflow (stack-notes §3).
MAX_ID = 2_147_483_647
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# Path parameters are checked by Litestar's own constraints, not msgspec.Meta.
PathId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Request(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are refused, not ignored."""


class Read(msgspec.Struct, kw_only=True):
    """Base for response bodies."""


class Page(Read):
    next_cursor: str | None = None
