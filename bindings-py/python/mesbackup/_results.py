"""The results of backups and folder checks: frozen dataclasses, built from the typed Rust values
the native module serialises once (``_from_data``), like every other result of the package."""

from __future__ import annotations

import datetime
import os
import pathlib
from dataclasses import dataclass
from typing import Any

from . import _display
from ._types import IgnoredFile, KindReport, NearMissFile


def _utc_ms(ms: int | None) -> datetime.datetime | None:
    if ms is None:
        return None
    utc = datetime.timezone.utc
    return datetime.datetime.fromtimestamp(ms // 1000, utc) + datetime.timedelta(milliseconds=ms % 1000)


@dataclass(frozen=True)
class Package:
    """A backup package saved under its final name, with its JSON sidecar beside it. ``os.fspath``
    of it is its path."""

    #: Where the package is.
    path: pathlib.Path
    file_name: str
    #: The database backed up (None when the download was resumed from a bare GUID).
    database: str | None
    size: int
    #: SHA-256 of the package (lowercase hex).
    sha256: str
    #: GUID of the server backup it came from.
    guid: str
    #: When the MES accepted the backup request (None when the download was resumed from a GUID).
    started_at: datetime.datetime | None
    #: When the package's download began.
    ready_at: datetime.datetime | None
    #: When the package got its final name.
    finished_at: datetime.datetime
    #: Things the administrator should know (fallback name, name clash resolved, restarts).
    notes: list[str]
    #: The JSON sidecar beside the package (database, GUID, backup window, size, SHA-256).
    sidecar: pathlib.Path

    @classmethod
    def _from_data(cls, d: dict[str, Any]) -> Package:
        path = pathlib.Path(d["location"])
        finished = _utc_ms(d["finished_at_ms"])
        assert finished is not None
        return cls(
            path=path,
            file_name=d["file_name"],
            database=d["database"],
            size=d["size"],
            sha256=d["sha256"],
            guid=d["guid"],
            started_at=_utc_ms(d["started_at_ms"]),
            ready_at=_utc_ms(d["ready_at_ms"]),
            finished_at=finished,
            notes=list(d["notes"]),
            sidecar=path.parent / d["sidecar_file_name"],
        )

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __repr__(self) -> str:
        return _display.short_repr(
            "Package", file_name=self.file_name, database=self.database, size=self.size, guid=self.guid
        )

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)

    def _repr_html_(self) -> str:
        return _display.package_html(self)


@dataclass(frozen=True)
class Job:
    """A backup started on the server (``Client.start``); download it later with its GUID.
    ``str(job)`` is the GUID."""

    guid: str
    database: str

    @classmethod
    def _from_data(cls, d: dict[str, Any]) -> Job:
        return cls(guid=d["guid"], database=d["database"])

    def __str__(self) -> str:
        return self.guid

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


@dataclass(frozen=True)
class FolderReport:
    """What the MES installer would restore from a custom packages folder (the CLI's
    ``check-folder``). Truthy when every database would be restored."""

    system: str
    version: str
    #: Whether every database would be restored.
    complete: bool
    #: Kinds ("Online", "CDM", "ODS", "DWH") the installer would create empty.
    missing: list[str]
    #: Per kind: the file the installer would pick, the names it looks for, a shadowed generic file.
    kinds: list[KindReport]
    #: Valid package names for another version or system.
    ignored: list[IgnoredFile]
    #: Files meant as packages but named wrongly, with the reason and the name to rename them to.
    near_misses: list[NearMissFile]

    @classmethod
    def _from_data(cls, d: dict[str, Any]) -> FolderReport:
        return cls(
            system=d["system"],
            version=d["version"],
            complete=d["complete"],
            missing=list(d["missing"]),
            kinds=d["kinds"],
            ignored=d["ignored"],
            near_misses=d["near_misses"],
        )

    def __bool__(self) -> bool:
        return self.complete

    def __repr__(self) -> str:
        return _display.short_repr(
            "FolderReport",
            system=self.system,
            version=self.version,
            complete=self.complete,
            missing=self.missing,
            near_misses=len(self.near_misses),
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain data (the same JSON the CLI prints)."""
        return _display.as_dict(self)

    def _repr_html_(self) -> str:
        return _display.folder_html(self)
