"""Cold chain routes (filled in below as the feature grows)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
