"""Lets the plain `piccolo` CLI (run from the repository root) find clinitrack's engine and apps."""

from server.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
