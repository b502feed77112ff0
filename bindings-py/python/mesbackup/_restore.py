"""Restore and test-restore into ClickHouse, with any SQL executor.

Thin wrappers: the native module runs client's ``restore::flow`` (verify, plan against the target's
storage policies, disks and databases, extract, ``RESTORE ... ASYNC``, follow ``system.backups``,
compare row counts) and returns plain data, which becomes the frozen dataclasses below.

SQL goes either to ClickHouse's HTTP interface (``clickhouse="http://host:8123"``, credentials from
``user``/``password`` or ``CLICKHOUSE_USER``/``CLICKHOUSE_PASSWORD``) or to ``executor``: any callable
``(sql: str) -> rows`` where rows is JSONEachRow text (``str`` or ``bytes``), a list of dicts, or
``None``. With chdb (ClickHouse in-process)::

    import chdb.session
    sess = chdb.session.Session("/var/lib/mes-restore-check")
    mesbackup.restore("MESCDM.zip", executor=lambda sql: sess.query(sql, "JSONEachRow").bytes(),
                      target="MESCDM_check", server_backup_path="/var/lib/mes-restore-check/backups")

The executor is called on the caller's thread. An exception it raises becomes :class:`ServerError`
(its text in the message); ``KeyboardInterrupt`` stops following the restore and is re-raised.
"""

from __future__ import annotations

import datetime
import os
import pathlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable, Union

from . import _display, _mesbackup
from ._errors import Integrity, InvalidArgument, MesBackupError, _from_core
from ._files import _as_dict

PathLike = Union[str, "os.PathLike[str]"]
#: ``(sql) -> rows``: JSONEachRow text (str or bytes), a list of row dicts, or None.
SqlExecutor = Callable[[str], Any]
#: Receives one dict per step: ``{"step": "verified" | "planned" | "extracted" | "started" |
#: "restoring", ...}`` (the same fields as the CLI's ``restore_progress`` / ``restore_plan`` events).
RestoreStepCallback = Callable[[dict[str, Any]], object]
Seconds = Union[float, int, datetime.timedelta]


def _milliseconds(value: Seconds) -> int:
    """Seconds (a number) or a ``timedelta``, as every duration of the Python API."""
    s = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)
    if not s > 0 or s == float("inf"):
        raise InvalidArgument("timeout must be a positive number of seconds or a timedelta")
    return max(1, round(s * 1000))


@dataclass(frozen=True)
class TableCheck:
    """One table's row count after the restore, against the package."""

    table: str
    expected_rows: int
    #: None when the table could not be counted.
    rows: int | None
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


def _tables(raw: list[dict[str, Any]] | None) -> list[TableCheck]:
    return [TableCheck(t["table"], int(t["expected_rows"]), t["rows"], bool(t["ok"])) for t in raw or []]


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore` did. Truthy when every table's row count matches the package."""

    database: str
    target_database: str
    dry_run: bool
    #: ClickHouse's id of the RESTORE operation (None on a dry run).
    operation_id: str | None
    tables: list[TableCheck]
    rows: int
    elapsed_ms: int
    ok: bool

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr(
            "RestoreResult",
            database=self.database,
            target_database=self.target_database,
            ok=self.ok,
            tables=len(self.tables),
            rows=self.rows,
        )

    def _repr_html_(self) -> str:
        return _display.restore_html(self)


def restore(
    package: PathLike,
    *,
    clickhouse: str | None = None,
    executor: SqlExecutor | None = None,
    user: str | None = None,
    password: str | None = None,
    allow_insecure_http: bool = False,
    target: str | None = None,
    storage_policy: str | None = None,
    into_existing: bool = False,
    dry_run: bool = False,
    server_backup_path: PathLike | None = None,
    path_on_server: str | None = None,
    file_mode: str | None = None,
    dir_mode: str | None = None,
    timeout: Seconds = 3600,
    on_step: RestoreStepCallback | None = None,
) -> RestoreResult:
    """Restores one package: verifies it, asks the target for its storage policies, disks and
    databases and checks core's restore plan (a missing policy or disk, a non-empty target database
    or a name clash raise :class:`InvalidArgument` naming them, before anything runs); unless
    ``dry_run``, extracts the backup to ``server_backup_path`` (a folder the server may read, under
    its ``backups.allowed_path``), runs ``RESTORE DATABASE ... AS target ... ASYNC``, follows it until
    RESTORED (RESTORE_FAILED raises :class:`ServerError` with ClickHouse's message), and compares each
    table's row count with the package (a difference raises :class:`Integrity` with ``.result``).
    ``storage_policy`` restores every table with that policy instead of its own. ``path_on_server``
    is the same folder as ``server_backup_path`` as the server sees it, when that path differs there
    (ClickHouse in a container, or on another host sharing the folder).

    Safe by default: an existing target database is refused unless ``into_existing`` (it must be
    empty; a restore never drops anything); extraction refuses any entry that could leave its folder
    and writes files ``0600`` in folders ``0700`` (``file_mode="0640", dir_mode="0750"`` lets
    ClickHouse's group read them; ignored on Windows, where files inherit the folder's ACL);
    ``clickhouse`` must be https, or on this machine, unless ``allow_insecure_http``; credentials in
    the URL are refused, redirects are not followed, and the whole restore ends within ``timeout``."""
    raw = _mesbackup._restore(
        os.fspath(package),
        executor=executor,
        clickhouse=clickhouse,
        user=user,
        password=password,
        allow_insecure_http=allow_insecure_http,
        target_name=target,
        storage_policy=storage_policy,
        into_existing=into_existing,
        dry_run=dry_run,
        server_backup_path=None if server_backup_path is None else os.fspath(server_backup_path),
        path_on_server=path_on_server,
        file_mode=file_mode,
        dir_mode=dir_mode,
        timeout_ms=_milliseconds(timeout),
        on_step=on_step,
    )
    result = RestoreResult(
        database=raw["database"],
        target_database=raw["target_database"],
        dry_run=bool(raw["dry_run"]),
        operation_id=raw.get("operation_id"),
        tables=_tables(raw.get("tables")),
        rows=int(raw["rows"]),
        elapsed_ms=int(raw["elapsed_ms"]),
        ok=bool(raw["ok"]),
    )
    if not result.ok:
        err = Integrity(raw.get("error") or "row counts differ from the package", kind="integrity")
        err.path = pathlib.Path(os.fspath(package))
        err.result = result
        raise err
    return result


@dataclass(frozen=True)
class TestRestoreResult:
    """One package of :func:`test_restore`. Truthy when it verified, restored and every row count
    matched. Fields after ``ok`` are None when their step did not run."""

    __test__ = False  # not a pytest test class

    path: pathlib.Path
    ok: bool
    verified: bool | None
    verify_ms: int | None
    database: str | None
    target_database: str | None
    #: The plan's problems (kind, name, tables, message) when the restore would fail.
    problems: list[dict[str, Any]] | None
    restore_ms: int | None
    #: Whether the throwaway database was dropped (None with ``keep=True``).
    dropped: bool | None
    tables_checked: int | None
    rows_checked: int | None
    tables: list[TableCheck] | None
    #: Why it failed: the exception of the error's kind (not raised).
    error: MesBackupError | None
    elapsed_ms: int

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        d = _as_dict(self)
        d["error"] = None if self.error is None else {"kind": self.error.kind, "message": self.error.message}
        return d

    def __repr__(self) -> str:
        error = None if self.error is None else self.error.kind
        return _display.short_repr(
            "TestRestoreResult", path=str(self.path), ok=self.ok, database=self.database, error=error
        )

    def _repr_html_(self) -> str:
        return _display.test_restore_html(self)


def _test_restore_result(raw: dict[str, Any]) -> TestRestoreResult:
    """A test restore's plain data (client's ``TestRestoreResult``: from ``_test_restore`` or a run's
    summary) as the typed result."""
    err = raw.get("error")
    return TestRestoreResult(
        path=pathlib.Path(raw["path"]),
        ok=bool(raw["ok"]),
        verified=raw.get("verified"),
        verify_ms=raw.get("verify_ms"),
        database=raw.get("database"),
        target_database=raw.get("target_database"),
        problems=raw.get("problems"),
        restore_ms=raw.get("restore_ms"),
        dropped=raw.get("dropped"),
        tables_checked=raw.get("tables_checked"),
        rows_checked=raw.get("rows_checked"),
        tables=None if raw.get("tables") is None else _tables(raw["tables"]),
        error=None if err is None else _from_core(err["kind"], err["message"], None),
        elapsed_ms=int(raw["elapsed_ms"]),
    )


def test_restore(
    packages: PathLike | Iterable[PathLike],
    *,
    server_backup_path: PathLike,
    clickhouse: str | None = None,
    executor: SqlExecutor | None = None,
    user: str | None = None,
    password: str | None = None,
    allow_insecure_http: bool = False,
    prefix: str = "mesbackup_testrestore_",
    keep: bool = False,
    storage_policy: str | None = None,
    path_on_server: str | None = None,
    file_mode: str | None = None,
    dir_mode: str | None = None,
    timeout: Seconds = 3600,
    on_step: RestoreStepCallback | None = None,
    on_result: Callable[[TestRestoreResult], object] | None = None,
) -> list[TestRestoreResult]:
    """What dbatools' ``Test-DbaLastBackup`` is to SQL Server: for each package, verify, restore
    into a throwaway database ``<prefix><database>_<random>`` (fresh for every package and call; an
    empty ``prefix`` or a name that already exists is refused), compare every table's row count
    with the package, and drop it (unless ``keep``), only if it is still the database this call
    restored (same UUID). Failures are results (``ok=False``, ``error``), not exceptions;
    ``on_result`` receives each result as soon as its package is done."""
    if isinstance(packages, (str, os.PathLike)):
        packages = [packages]
    results: list[TestRestoreResult] = []
    for package in packages:
        raw = _mesbackup._test_restore(
            os.fspath(package),
            server_backup_path=os.fspath(server_backup_path),
            executor=executor,
            clickhouse=clickhouse,
            user=user,
            password=password,
            allow_insecure_http=allow_insecure_http,
            prefix=prefix,
            keep=keep,
            storage_policy=storage_policy,
            path_on_server=path_on_server,
            file_mode=file_mode,
            dir_mode=dir_mode,
            timeout_ms=_milliseconds(timeout),
            on_step=on_step,
        )
        result = _test_restore_result(raw)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


# A function named test_* imported into a test module must not be collected by pytest.
test_restore.__test__ = False  # type: ignore[attr-defined]
