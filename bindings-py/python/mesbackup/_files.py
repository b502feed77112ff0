"""Packages on disk: verify, inspect, backup window, staging and pruning.

Thin wrappers: the native module runs client's ``verify_file`` / ``folder`` functions (GIL released)
and returns plain data, which becomes the frozen dataclasses below.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Union

from . import _display, _mesbackup
from ._errors import Integrity, InvalidArgument
from ._results import FolderReport

PathLike = Union[str, "os.PathLike[str]"]


def _deprecated(old: str, instead: str) -> None:
    """A deprecated spelling was used (kept one release): warn at the caller's line."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release: {instead}", DeprecationWarning, stacklevel=3
    )


def _dt(text: str | None) -> datetime.datetime | None:
    if text is None:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


_as_dict = _display.as_dict


@dataclass(frozen=True)
class Problem:
    """One problem found in a package; ``file`` names the file or zip entry, when there is one."""

    kind: str
    message: str
    file: str | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify`. Truthy when the package is sound."""

    path: pathlib.Path
    ok: bool
    problems: list[Problem]
    #: SHA-256 of the package (lowercase hex).
    sha256: str | None
    #: A sidecar was found beside the package and its SHA-256 matched.
    sidecar_matched: bool
    #: A sidecar was found beside the package (its SHA-256 was compared).
    has_sidecar: bool
    size: int
    #: Files whose size and checksum were compared with the backup manifest.
    files_checked: int
    #: Part files compared with their part's ``checksums.txt``.
    part_files_checked: int
    parts_checked: int
    #: Things not checked, and why.
    notes: list[str]
    #: The canonical error message when the package is damaged (path first), else None.
    error: str | None

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr("VerifyResult", path=str(self.path), ok=self.ok, problems=len(self.problems))

    def _repr_html_(self) -> str:
        return _display.verify_html(self)


@dataclass(frozen=True)
class TableInfo:
    database: str
    name: str
    #: "table", "view", "materialized_view", "dictionary"...
    kind: str
    #: The engine's name (``ReplacingMergeTree``).
    engine: str | None
    #: The engine as written (``ReplacingMergeTree(ModifiedOn)``).
    engine_full: str | None
    order_by: str | None
    partition_by: str | None
    storage_policy: str | None
    disk: str | None
    #: The policy the table needs on the restore target.
    required_policy: str | None
    parts: int
    rows: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class DatabaseInfo:
    name: str
    engine: str | None
    tables: list[TableInfo]
    parts: int
    rows: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class PackageInfo:
    """What :func:`inspect` found in a package (and whether it verified)."""

    path: pathlib.Path
    backup_root: str | None
    timestamp: str | None
    databases: list[DatabaseInfo]
    #: Every table of every database.
    tables: list[TableInfo]
    #: Storage policies the target needs at restore time.
    storage_policies: list[str]
    #: Disks the target needs at restore time.
    disks: list[str]
    parts: int
    rows: int
    bytes: int
    notes: list[str]
    #: The package verified (same pass); see ``verification`` for its problems.
    verified: bool
    verification: VerifyResult

    def table(self, name: str, database: str | None = None) -> TableInfo | None:
        for t in self.tables:
            if t.name == name and (database is None or t.database == database):
                return t
        return None

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr(
            "PackageInfo",
            path=str(self.path),
            databases=[d.name for d in self.databases],
            tables=len(self.tables),
            rows=self.rows,
            verified=self.verified,
        )

    def _repr_html_(self) -> str:
        return _display.package_info_html(self)


def _verify_result(raw: dict[str, Any]) -> VerifyResult:
    report = raw["report"]
    problems = [Problem(p["kind"], p["message"], p["file"], p["detail"]) for p in raw["problems"]]
    return VerifyResult(
        path=pathlib.Path(raw["path"]),
        ok=not problems,
        problems=problems,
        sha256=report.get("sha256"),
        sidecar_matched=bool(raw["sidecar_matched"]),
        has_sidecar=bool(raw["has_sidecar"]),
        size=int(raw["size"]),
        files_checked=int(report["files_checked"]),
        part_files_checked=int(report["part_files_checked"]),
        parts_checked=int(report["parts_checked"]),
        notes=list(report["notes"]),
        error=raw["error"],
    )


def _raise_if_damaged(result: VerifyResult) -> None:
    if not result.ok:
        err = Integrity(result.error or f"{result.path}: the package is damaged", kind="integrity")
        err.path = result.path
        err.result = result
        raise err


def verify(path: PathLike, *, raise_on_error: bool = False) -> VerifyResult:
    """Verifies a package on disk in one pass: every zip entry's CRC, every file against the
    ClickHouse backup manifest, part files against their ``checksums.txt``, and the SHA-256 against
    the sidecar beside it when there is one. A damaged package is a result with ``ok=False`` (and
    ``problems`` naming the files); with ``raise_on_error=True`` it raises :class:`Integrity`
    (``.path``, ``.result``). Unreadable files raise :class:`IoError`."""
    result = _verify_result(_mesbackup._verify_file(os.fspath(path)))
    if raise_on_error:
        _raise_if_damaged(result)
    return result


def _table(t: dict[str, Any]) -> TableInfo:
    return TableInfo(
        database=t["database"],
        name=t["name"],
        kind=t["kind"],
        engine=t.get("engine_name"),
        engine_full=t.get("engine"),
        order_by=t.get("order_by"),
        partition_by=t.get("partition_by"),
        storage_policy=t.get("storage_policy"),
        disk=t.get("disk"),
        required_policy=t.get("required_policy"),
        parts=int(t["parts"]),
        rows=int(t["rows"]),
        bytes=int(t["bytes"]),
    )


def inspect(path: PathLike, *, raise_on_error: bool = False) -> PackageInfo:
    """Databases, tables (engine, parts, rows, bytes), and the storage policies and disks a restore
    needs, read in the same single pass as :func:`verify` (``verified`` tells whether it passed)."""
    raw = _mesbackup._verify_file(os.fspath(path))
    result = _verify_result(raw)
    if raise_on_error:
        _raise_if_damaged(result)
    i = raw["inspection"]
    databases = [
        DatabaseInfo(
            name=d["name"],
            engine=d.get("engine"),
            tables=[_table(t) for t in d["tables"]],
            parts=int(d["parts"]),
            rows=int(d["rows"]),
            bytes=int(d["bytes"]),
        )
        for d in i["databases"]
    ]
    return PackageInfo(
        path=result.path,
        backup_root=i.get("backup_root"),
        timestamp=i.get("timestamp"),
        databases=databases,
        tables=[t for d in databases for t in d.tables],
        storage_policies=list(i["storage_policies"]),
        disks=list(i["disks"]),
        parts=int(i["parts"]),
        rows=int(i["rows"]),
        bytes=int(i["bytes"]),
        notes=list(i["notes"]),
        verified=result.ok,
        verification=result,
    )


@dataclass(frozen=True)
class WindowPackage:
    file: str
    database: str | None
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


@dataclass(frozen=True)
class BackupWindow:
    """The range to re-run MES data processing over after restoring the packages of a folder."""

    #: Earliest ClickHouse backup start.
    started_at: datetime.datetime
    #: Latest ClickHouse backup finish.
    finished_at: datetime.datetime
    #: Latest SQL Server backup completion recorded in the sidecars, if any.
    sql_backup_finished_at: datetime.datetime | None
    #: Where data processing should start.
    reprocess_from: datetime.datetime
    packages: list[WindowPackage]

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr(
            "BackupWindow",
            started_at=self.started_at.isoformat(),
            finished_at=self.finished_at.isoformat(),
            reprocess_from=self.reprocess_from.isoformat(),
            packages=len(self.packages),
        )

    def _repr_html_(self) -> str:
        return _display.window_html(self)

    def plot(self, ax: Any = None) -> Any:
        """The packages as bars on a time axis with the re-run point marked; returns the matplotlib
        ``Axes`` (drawn into ``ax`` when given). Needs matplotlib: ``pip install 'mesbackup[plot]'``."""
        return _display.plot_window(self, ax)


def _req(text: str | None) -> datetime.datetime:
    value = _dt(text)
    assert value is not None
    return value


def backup_window(folder: PathLike) -> BackupWindow | None:
    """Earliest start to latest finish over the sidecars in ``folder`` (plus the SQL Server backup
    completion when recorded); None when no sidecar records both a start and a finish."""
    raw = _mesbackup._backup_window(os.fspath(folder))
    if raw is None:
        return None
    w = raw["window"]
    return BackupWindow(
        started_at=_req(w["started_at"]),
        finished_at=_req(w["finished_at"]),
        sql_backup_finished_at=_dt(w.get("sql_backup_finished_at")),
        reprocess_from=_req(w["reprocess_from"]),
        packages=[
            WindowPackage(p["file"], p.get("database"), _dt(p.get("started_at")), _dt(p.get("finished_at")))
            for p in raw["packages"]
        ],
    )


@dataclass(frozen=True)
class StagedPackage:
    """A package placed in an installer's custom packages folder under its installer name.

    The fields of the CLI's ``staged`` event, except that the staged file is ``path`` (the CLI's
    ``target``), as every result object here names its file."""

    source: pathlib.Path
    path: pathlib.Path
    file_name: str
    kind: Literal["Online", "CDM", "ODS", "DWH"]
    size: int
    #: Computed while copying (None when a move was a rename).
    sha256: str | None
    #: ``"copy"`` (the source stays) or ``"move"``.
    mode: Literal["copy", "move"]
    #: An existing file of that name was replaced (``overwrite=True``).
    replaced: bool
    #: The sidecar written beside the target, when the source had one.
    sidecar: pathlib.Path | None

    @property
    def moved(self) -> bool:
        """Deprecated: use ``mode == "move"``. Kept for one release."""
        _deprecated("StagedPackage.moved", 'use mode == "move"')
        return self.mode == "move"

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


def stage(
    package: PathLike,
    into: PathLike,
    system: str,
    version: str,
    *,
    generic_names: bool = False,
    move: bool = False,
    overwrite: bool = False,
    file_mode: str | None = None,
    system_specific: bool | None = None,
    force: bool | None = None,
) -> StagedPackage:
    """Copies (or moves) ``package`` into the installer's custom packages folder ``into`` under the
    installer name for ``system`` and ``version``: the system-specific name, which the installer
    prefers, or the generic one with ``generic_names=True``. Atomic; never replaces a file unless
    ``overwrite``; a copy is checked against the source's sidecar (:class:`Integrity` on mismatch).

    ``system_specific=`` (now the default) and ``force=`` (``overwrite=``) are deprecated spellings,
    accepted for one release with a ``DeprecationWarning``.

    The staged package and its sidecar get exactly ``file_mode`` (octal text, default ``"0600"``:
    only you; ``"0640"`` lets your group, e.g. the installer's service account, read them). On
    Windows they inherit the folder's ACL instead."""
    if system_specific is not None:
        _deprecated("system_specific=", "the system-specific names are the default (generic_names=True for the others)")
        if system_specific and generic_names:
            raise InvalidArgument("give generic_names only (system_specific is its deprecated opposite)")
        generic_names = generic_names or not system_specific
    if force is not None:
        _deprecated("force=", "use overwrite=")
        overwrite = overwrite or force
    raw = _mesbackup._stage(
        os.fspath(package), os.fspath(into), system, version, not generic_names, move, overwrite, file_mode
    )
    sidecar = raw.get("sidecar")
    return StagedPackage(
        source=pathlib.Path(raw["source"]),
        path=pathlib.Path(raw["target"]),
        file_name=raw["file_name"],
        kind=raw["kind"],
        size=int(raw["size"]),
        sha256=raw.get("sha256"),
        mode=raw["mode"],
        replaced=bool(raw["replaced"]),
        sidecar=pathlib.Path(sidecar) if sidecar else None,
    )


@dataclass(frozen=True)
class PruneEntry:
    package: pathlib.Path
    sidecar: pathlib.Path
    database: str | None
    finished_at: datetime.datetime | None
    size: int
    keep: bool


@dataclass(frozen=True)
class PrunePlan:
    """Per database, newest first: which packages stay and which go."""

    keep: int
    entries: list[PruneEntry]
    #: Paths deleted (empty for :func:`plan_prune`).
    deleted: list[pathlib.Path]

    @property
    def to_delete(self) -> list[PruneEntry]:
        return [e for e in self.entries if not e.keep]

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr(
            "PrunePlan",
            keep=self.keep,
            entries=len(self.entries),
            to_delete=len(self.to_delete),
            deleted=len(self.deleted),
        )

    def _repr_html_(self) -> str:
        return _display.prune_html(self)


def check_folder(folder: PathLike, system: str, version: str) -> FolderReport:
    """Checks a custom packages folder on disk: which file the installer would restore for each
    database of ``system`` at ``version``, and which files it would silently ignore."""
    return FolderReport._from_data(_mesbackup._check_folder(os.fspath(folder), system, version))


def _prune_plan(raw: dict[str, Any]) -> PrunePlan:
    return PrunePlan(
        keep=int(raw["keep"]),
        entries=[
            PruneEntry(
                pathlib.Path(e["package"]),
                pathlib.Path(e["sidecar"]),
                e.get("database"),
                _dt(e.get("finished_at")),
                int(e["size"]),
                bool(e["keep"]),
            )
            for e in raw["entries"]
        ],
        deleted=[pathlib.Path(p) for p in raw["deleted"]],
    )


def plan_prune(folder: PathLike, keep: int) -> PrunePlan:
    """Retention by sidecar times: per database the ``keep`` newest backups stay. Deletes nothing."""
    return _prune_plan(_mesbackup._prune(os.fspath(folder), keep, False))


def prune(folder: PathLike, keep: int) -> PrunePlan:
    """Deletes what :func:`plan_prune` marks for deletion (package, then its sidecar)."""
    return _prune_plan(_mesbackup._prune(os.fspath(folder), keep, True))
