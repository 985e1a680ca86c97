"""The one error the label package raises for bad input: a stable code and a plain message."""

from __future__ import annotations


class LabelError(ValueError):
    def __init__(self, message: str, *, code: str = "label_invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
