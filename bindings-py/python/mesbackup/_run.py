"""``mesbackup.run(config)``: every environment of a ``mesbackup.toml``, as ``mesbackup run`` does it.

The native module runs client's run engine (the same code as the CLI: hooks, the four backups,
verify, stage, retention, metrics) and hands back its typed report serialised once; the frozen
dataclasses below are that report. Nothing of the run is decided here.
"""

from __future__ import annotations

import datetime
import os
import pathlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable, Literal, Optional, TypedDict, Union

from . import _display, _mesbackup
from ._client import _drive, _wait
from ._errors import MesBackupError, _from_core
from ._files import BackupWindow, PrunePlan, _dt, _prune_plan, _req
from ._restore import TestRestoreResult, _test_restore_result

PathLike = Union[str, "os.PathLike[str]"]

#: ``progress(name, bytes_done, bytes_total_or_None, phase)`` per database of a run; ``name`` is
#: ``"<environment>/<DATABASE>"`` (``"prod/MESCDM"``), as the CLI's progress lines.
RunProgressCallback = Callable[[str, int, Optional[int], str], object]


class Hooks(TypedDict):
    """The commands run around an environment's backups (argv arrays)."""

    before: list[list[str]]
    after: list[list[str]]
    on_error: list[list[str]]
    timeout_ms: int


class CredentialSource(TypedDict):
    """Where an environment's credentials are (names and paths only, never a secret)."""

    #: ``"token_env"``, ``"token_file"``, ``"user_env+pat_env"``, ``"keyring"``,
    #: ``"mes_variables"`` (no credential key: MES_TOKEN, or MES_USER + MES_PAT) or ``"no_auth"``.
    source: str
    token_env: str | None
    token_file: str | None
    user_env: str | None
    pat_env: str | None
    keyring_service: str | None
    keyring_entry: str | None


class DatabaseStorage(TypedDict):
    """The packages of one database in a folder."""

    database: str
    packages: int
    bytes: int


class FolderStorage(TypedDict):
    """A folder of an environment after the run: its packages and free space."""

    environment: str
    #: ``"out"`` or ``"stage_into"``.
    role: str
    folder: str
    #: Bytes available (None: could not be read).
    free_bytes: int | None
    total_bytes: int | None
    #: Free space is below the environment's ``warn_free_below``.
    low: bool
    databases: list[DatabaseStorage]


class RetentionPolicy(TypedDict):
    keep_last: int
    keep_daily: int
    keep_weekly: int
    keep_monthly: int


class TestRestorePolicy(TypedDict):
    """``[environment.test_restore]``: where and which new packages a run test-restores (names of
    variables only, never ClickHouse's password)."""

    clickhouse_url: str
    allow_insecure_http: bool
    user_env: str
    password_env: str
    backup_path: str
    path_on_server: str | None
    prefix: str
    storage_policy: str | None
    #: The kinds whose packages are tested: ``"Online"``, ``"CDM"``, ``"ODS"``, ``"DWH"``.
    databases: list[str]
    timeout_ms: int


# A class named Test* imported into a test module must not be collected by pytest.
TestRestorePolicy.__test__ = False  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PlannedDatabase:
    """A database of an environment and the file name it is saved under (None: the server's)."""

    database: str
    file_name: str | None

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


def _databases(raw: list[dict[str, Any]]) -> list[PlannedDatabase]:
    return [PlannedDatabase(d["database"], d.get("file_name")) for d in raw]


@dataclass(frozen=True)
class EnvironmentConfig:
    """One ``[[environment]]`` of a config (docs/config.md names every key)."""

    name: str
    url: str
    system: str
    out: pathlib.Path
    version: str | None
    generic_names: bool
    stage_into: pathlib.Path | None
    credentials: CredentialSource
    ca_cert: str | None
    allow_insecure_http: bool
    file_mode: str
    dir_mode: str
    #: How long a backup may take to be prepared.
    timeout: datetime.timedelta
    verify: bool
    retention: RetentionPolicy | None
    hooks: Hooks
    #: Where and which new packages are test-restored after the backups (None: not at all).
    test_restore: TestRestorePolicy | None
    #: The system's four databases and the names they are saved under.
    databases: list[PlannedDatabase]

    @property
    def stages(self) -> bool:
        """Verified packages are staged into ``stage_into`` (it needs ``version`` too)."""
        return self.stage_into is not None and self.version is not None

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


@dataclass(frozen=True)
class RunConfig:
    """A ``mesbackup.toml``, read and checked as ``mesbackup run`` does (:meth:`load`)."""

    path: pathlib.Path
    concurrency: int
    on_locked: Literal["wait", "exit"]
    environments: list[EnvironmentConfig]

    @classmethod
    def load(cls, path: PathLike) -> RunConfig:
        """Reads and checks the file: an unknown key, an inline secret or a bad value raises
        :class:`InvalidArgument` naming the file, the line and the key. Credentials are not resolved
        here (:meth:`Client.for_environment` resolves one environment's)."""
        d = _mesbackup._load_run_config(os.fspath(path))
        return cls(
            path=pathlib.Path(d["path"]),
            concurrency=int(d["concurrency"]),
            on_locked=d["on_locked"],
            environments=[
                EnvironmentConfig(
                    name=e["name"],
                    url=e["url"],
                    system=e["system"],
                    out=pathlib.Path(e["out"]),
                    version=e.get("version"),
                    generic_names=bool(e["generic_names"]),
                    stage_into=pathlib.Path(e["stage_into"]) if e.get("stage_into") else None,
                    credentials=e["credentials"],
                    ca_cert=e.get("ca_cert"),
                    allow_insecure_http=bool(e["allow_insecure_http"]),
                    file_mode=e["file_mode"],
                    dir_mode=e["dir_mode"],
                    timeout=datetime.timedelta(milliseconds=int(e["timeout_ms"])),
                    verify=bool(e["verify"]),
                    retention=e.get("retention"),
                    hooks=e["hooks"],
                    test_restore=e.get("test_restore"),
                    databases=_databases(e["databases"]),
                )
                for e in d["environments"]
            ],
        )

    def environment(self, name: str) -> EnvironmentConfig:
        """The environment called ``name`` (``KeyError`` listing the known names otherwise)."""
        for e in self.environments:
            if e.name == name:
                return e
        known = ", ".join(e.name for e in self.environments)
        raise KeyError(f"{self.path}: no environment named {name!r} (known: {known})")

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


@dataclass(frozen=True)
class HookReport:
    """How one hook command ended."""

    #: ``"before"``, ``"after"`` or ``"on_error"``.
    phase: str
    #: The program (argv[0]).
    program: str
    ok: bool
    #: The exit status, when it exited.
    exit_code: int | None
    duration: datetime.timedelta
    #: Why it failed, when it did.
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


@dataclass(frozen=True)
class DatabaseReport:
    """One database of an environment in a run."""

    database: str
    #: ``"saved"``, ``"failed"`` or ``"not_started"`` (a before hook or the folder failed).
    outcome: Literal["saved", "failed", "not_started"]
    path: pathlib.Path | None
    size: int | None
    sha256: str | None
    #: Verified after the download (None when verify is off or nothing was saved).
    verified: bool | None
    #: Where it was staged, when the environment stages.
    staged_as: pathlib.Path | None
    #: The test restore of this package, when ``[environment.test_restore]`` covers its database
    #: and the package was saved and sound (its ``error`` says why a test failed).
    test_restore: TestRestoreResult | None
    #: Why it failed (the exception the single backup would have raised).
    error: MesBackupError | None

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


@dataclass(frozen=True)
class RetentionReport:
    """What retention did in an environment's folder."""

    policy: RetentionPolicy
    #: Packages and sidecars deleted.
    deleted: list[pathlib.Path]
    #: Packages left in the folder.
    kept: int

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


@dataclass(frozen=True)
class EnvironmentReport:
    """One environment in a run. Truthy when every step succeeded."""

    name: str
    system: str
    out: pathlib.Path
    ok: bool
    #: The first step that failed: ``"folder"``, ``"before_hook"``, ``"backup"``, ``"verify"``,
    #: ``"stage"``, ``"retention"`` or ``"after_hook"``.
    failed_step: str | None
    #: What went wrong first.
    message: str | None
    #: This environment's exit code as ``mesbackup run`` gives it: 0, the error kind's code (7 server
    #: error, 13 network, ...) or 21 for a failed hook.
    exit_code: int
    #: The end of the before hooks, recorded in every sidecar as the SQL Server backup completion.
    sql_backup_finished_at: datetime.datetime | None
    #: The range to re-run data processing over after restoring this run's packages (``packages``
    #: is empty here; ``mesbackup.backup_window(out)`` lists them).
    backup_window: BackupWindow | None
    databases: list[DatabaseReport]
    hooks: list[HookReport]
    #: None when no retention is configured, or it was not reached.
    retention: RetentionReport | None
    duration: datetime.timedelta

    def __bool__(self) -> bool:
        return self.ok

    def database(self, name: str) -> DatabaseReport | None:
        return next((d for d in self.databases if d.database == name), None)

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr(
            "EnvironmentReport", name=self.name, ok=self.ok, exit_code=self.exit_code, failed_step=self.failed_step
        )


@dataclass(frozen=True)
class RunReport:
    """The outcome of :func:`run`: per environment in file order. Truthy when every environment
    succeeded. A failed environment is here (``ok=False``, its ``exit_code``), never an exception."""

    ok: bool
    #: What ``mesbackup run`` exits with: the worst environment's code (docs/config.md, "Exit
    #: code"), else 0.
    exit_code: int
    finished_at: datetime.datetime
    duration: datetime.timedelta
    environments: list[EnvironmentReport]
    #: Pings to the ``[ping]`` monitor that failed (they never fail the run).
    ping_errors: list[str]
    #: The storage report: every folder's packages and free space after the run.
    storage: list[FolderStorage]

    @classmethod
    def _from_data(cls, d: dict[str, Any]) -> RunReport:
        return cls(
            ok=bool(d["ok"]),
            exit_code=int(d["exit_code"]),
            finished_at=_req(d["finished_at"]),
            duration=datetime.timedelta(milliseconds=int(d["duration_ms"])),
            environments=[_environment_report(e) for e in d["environments"]],
            ping_errors=[str(m) for m in d.get("ping_errors", [])],
            storage=list(d.get("storage", [])),
        )

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failed(self) -> list[EnvironmentReport]:
        """The environments that failed, in file order."""
        return [e for e in self.environments if not e.ok]

    def environment(self, name: str) -> EnvironmentReport:
        for e in self.environments:
            if e.name == name:
                return e
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr(
            "RunReport",
            ok=self.ok,
            exit_code=self.exit_code,
            environments=len(self.environments),
            failed=[e.name for e in self.failed],
        )

    def _repr_html_(self) -> str:
        return _display.run_html(self)


def _environment_report(e: dict[str, Any]) -> EnvironmentReport:
    w = e.get("backup_window")
    r = e.get("retention")
    return EnvironmentReport(
        name=e["name"],
        system=e["system"],
        out=pathlib.Path(e["out"]),
        ok=e["result"] == "ok",
        failed_step=e.get("failed_step"),
        message=e.get("message"),
        exit_code=int(e["exit_code"]),
        sql_backup_finished_at=_dt(e.get("sql_backup_finished_at")),
        backup_window=None
        if w is None
        else BackupWindow(
            started_at=_req(w["started_at"]),
            finished_at=_req(w["finished_at"]),
            sql_backup_finished_at=_dt(w.get("sql_backup_finished_at")),
            reprocess_from=_req(w["reprocess_from"]),
            packages=[],
        ),
        databases=[
            DatabaseReport(
                database=d["database"],
                outcome=d["outcome"],
                path=pathlib.Path(d["file"]) if d.get("file") else None,
                size=d.get("size"),
                sha256=d.get("sha256"),
                verified=d.get("verified"),
                staged_as=pathlib.Path(d["staged_as"]) if d.get("staged_as") else None,
                test_restore=None if d.get("test_restore") is None else _test_restore_result(d["test_restore"]),
                error=None
                if d.get("error") is None
                else _from_core(d["error"]["kind"], d["error"]["message"], d["error"].get("guid")),
            )
            for d in e["databases"]
        ],
        hooks=[
            HookReport(
                phase=h["phase"],
                program=h["program"],
                ok=bool(h["ok"]),
                exit_code=h.get("exit_code"),
                duration=datetime.timedelta(milliseconds=int(h["duration_ms"])),
                message=h.get("message"),
            )
            for h in e["hooks"]
        ],
        retention=None
        if r is None
        else RetentionReport(policy=r["policy"], deleted=[pathlib.Path(p) for p in r["deleted"]], kept=int(r["kept"])),
        duration=datetime.timedelta(milliseconds=int(e["duration_ms"])),
    )


@dataclass(frozen=True)
class EnvironmentPlan:
    """What a run would do for one environment (``run(..., dry_run=True)``)."""

    name: str
    url: str
    system: str
    out: pathlib.Path
    stage_into: pathlib.Path | None
    databases: list[PlannedDatabase]
    hooks: Hooks
    verify: bool
    #: Where and which new packages would be test-restored (None: not at all).
    test_restore: TestRestorePolicy | None
    #: Retention over the folder as it is now (``to_delete`` is what it would delete); None without
    #: a retention policy.
    retention: PrunePlan | None

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)


@dataclass(frozen=True)
class RunPlan:
    """The plan of a run: nothing was sent, created or deleted."""

    environments: list[EnvironmentPlan]

    @classmethod
    def _from_data(cls, d: dict[str, Any]) -> RunPlan:
        return cls(
            environments=[
                EnvironmentPlan(
                    name=p["name"],
                    url=p["url"],
                    system=p["system"],
                    out=pathlib.Path(p["out"]),
                    stage_into=pathlib.Path(p["stage_into"]) if p.get("stage_into") else None,
                    databases=_databases(p["databases"]),
                    hooks=p["hooks"],
                    verify=bool(p["verify"]),
                    test_restore=p.get("test_restore"),
                    retention=None if p.get("retention") is None else _prune_plan({"deleted": [], **p["retention"]}),
                )
                for p in d["environments"]
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return _display.as_dict(self)

    def __repr__(self) -> str:
        return _display.short_repr("RunPlan", environments=[p.name for p in self.environments])

    def _repr_html_(self) -> str:
        return _display.plan_html(self)


def _only(only: str | Iterable[str] | None) -> list[str] | None:
    if only is None:
        return None
    if isinstance(only, str):
        return [only]
    return list(only)


def _op(config: PathLike, only: str | Iterable[str] | None, dry_run: bool, metrics_file: PathLike | None) -> Any:
    return _mesbackup._run_op(
        os.fspath(config),
        only=_only(only),
        dry_run=dry_run,
        metrics_file=None if metrics_file is None else os.fspath(metrics_file),
    )


def run(
    config: PathLike,
    *,
    only: str | Iterable[str] | None = None,
    dry_run: bool = False,
    metrics_file: PathLike | None = None,
    progress: RunProgressCallback | bool | None = None,
) -> RunReport | RunPlan:
    """Runs every environment of the ``mesbackup.toml`` at ``config`` (or those named by ``only``)
    exactly as ``mesbackup run --config config`` does: before hooks, the four backups, verify,
    stage, retention, test restores, after/on_error hooks, ``concurrency`` environments at once.
    Blocks with the GIL released; Ctrl-C (KeyboardInterrupt) cancels the run as SIGINT cancels the
    CLI's (running hooks killed, temporary files removed, on_error hooks run) and is then re-raised.

    Returns a :class:`RunReport` (``dry_run=True``: a :class:`RunPlan`, and nothing is sent). A failed
    environment does not raise: it is in the report, with the exit code the CLI would give.
    Raises :class:`InvalidArgument` for a bad config (naming the file, line and key), a missing
    credential variable or an unknown ``only`` name, before anything is sent; :class:`RunLocked`
    when another run holds an output folder and the config says ``on_locked = "exit"``.

    ``metrics_file``: Prometheus text metrics written atomically (as ``--metrics-file``).
    ``progress``: ``True`` draws a tqdm bar per environment and database, or a callable
    ``progress(name, bytes_done, bytes_total, phase)``. Steps (hooks, verify, retention, waiting for
    a lock) go to the ``mesbackup`` logger."""
    op = _op(config, only, dry_run, metrics_file)
    if progress is True:
        result: RunReport | RunPlan = _wait(op, True, per_database=True)
    else:
        result = op.wait(None, progress or None)
    return result


async def run_async(
    config: PathLike,
    *,
    only: str | Iterable[str] | None = None,
    dry_run: bool = False,
    metrics_file: PathLike | None = None,
    progress: RunProgressCallback | bool | None = None,
) -> RunReport | RunPlan:
    """:func:`run` as a coroutine, for asyncio programs; cancelling the awaiting task cancels the
    run as Ctrl-C does."""
    op = _op(config, only, dry_run, metrics_file)
    if progress is True or progress is None or progress is False:
        result: RunReport | RunPlan = await _drive(op, progress, per_database=True)
    else:
        result = await _drive(op, None, per_database=True, database_progress=progress)
    return result
