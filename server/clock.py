"""The one place that reads the wall clock; services take ``now`` as a parameter."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
