"""Typed shapes of the plain data inside results (``FolderReport.kinds`` and friends), for type
checkers and for readers; at runtime they are ordinary dicts."""

from __future__ import annotations

from typing import TypedDict


class KindReport(TypedDict):
    kind: str
    chosen: str | None
    system_specific: bool
    also_present_but_shadowed: str | None
    expected_names: list[str]


class IgnoredFile(TypedDict):
    file: str
    reason: str
    message: str


class NearMissFile(TypedDict):
    file: str
    reason: str
    message: str
    expected: str | None
