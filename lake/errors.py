"""Errors of the lake package: one base class so callers can catch everything the lake refuses."""

from __future__ import annotations


class LakeError(ValueError):
    """Bad lake input or a storage failure, with a message fit to show a user."""


class AlreadyExists(LakeError):
    """A create-only write found the key already present."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} already exists")
        self.key = key


class NotFound(LakeError):
    """The key is not in the store."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} not found")
        self.key = key


class SpoolError(LakeError):
    """A spool file the writer cannot land, naming the file and the line."""
