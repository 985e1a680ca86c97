"""HTTP routes for equipment reprocessing."""

from __future__ import annotations

ROUTES: list[type] = []
