"""HTTP routes for room cleaning."""

from __future__ import annotations

ROUTES: list[type] = []
