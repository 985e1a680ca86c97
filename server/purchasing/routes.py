"""HTTP routes for reordering: suggestions, suppliers, purchase orders and receiving against them."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
