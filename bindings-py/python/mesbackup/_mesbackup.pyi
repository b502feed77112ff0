"""Type stubs of the native module ``mesbackup._mesbackup`` (import from ``mesbackup`` instead)."""

import datetime
import os
from typing import Any, Callable, Literal, final

from typing_extensions import TypeAlias

from ._results import Job

# What the native module exports (pyo3 fills its __all__; stubtest compares the two).
__all__ = [
    "ERROR_KINDS",
    "PARTIAL_SUFFIX",
    "SIDECAR_SUFFIX",
    "NameCheck",
    "PackageName",
    "_ClientCore",
    "_Operation",
    "__version__",
    "_backup_window",
    "_check_folder",
    "_load_run_config",
    "_prune",
    "_restore",
    "_run_op",
    "_stage",
    "_test_restore",
    "_verify_file",
    "explain_package_name",
    "installer_name_for_database",
    "installer_package_name",
    "parse_package_name",
    "system_databases",
]

_PathLike: TypeAlias = str | os.PathLike[str]
_Seconds: TypeAlias = float | int | datetime.timedelta
_Progress: TypeAlias = Callable[[int, int | None, str], object]

ERROR_KINDS: tuple[str, ...]
SIDECAR_SUFFIX: str
PARTIAL_SUFFIX: str
__version__: str

@final
class PackageName:
    @property
    def system(self) -> str | None: ...
    @property
    def kind(self) -> Literal["Online", "CDM", "ODS", "DWH"]: ...
    @property
    def version(self) -> str: ...
    @property
    def file_name(self) -> str: ...

@final
class NameCheck:
    @property
    def file_name(self) -> str: ...
    @property
    def valid(self) -> bool: ...
    @property
    def package(self) -> PackageName | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def expected(self) -> str | None: ...
    def __bool__(self) -> bool: ...

@final
class _Operation:
    def wait(
        self,
        progress: _Progress | None = None,
        database_progress: Callable[[str, int, int | None, str], object] | None = None,
    ) -> Any: ...
    def cancel(self) -> None: ...
    def next(self) -> Any: ...

@final
class _ClientCore:
    """The native core of ``mesbackup.Client`` and ``mesbackup.AsyncClient``: the connection and the
    operations they wait on or await."""

    def __new__(
        cls,
        env_url: str | None = None,
        *,
        token: str | None = None,
        user: str | None = None,
        pat: str | None = None,
        ca_cert: _PathLike | None = None,
        timeout: _Seconds | None = None,
        max_poll_delay: _Seconds | None = None,
        restart_budget: int = 0,
        min_poll_delay: _Seconds | None = None,
        retry_delay: _Seconds | None = None,
        stall_timeout: _Seconds | None = None,
        request_timeout: _Seconds | None = None,
        connect_timeout: _Seconds | None = None,
        allow_insecure_http: bool = False,
        file_mode: str | None = None,
        dir_mode: str | None = None,
        speed_limit: int | None = None,
        speed_time: _Seconds | None = None,
        download_timeout: _Seconds | None = None,
        max_size: int | None = None,
        no_auth: bool = False,
    ) -> _ClientCore: ...
    @staticmethod
    def _for_environment(config: _PathLike, name: str) -> _ClientCore: ...
    @property
    def env_url(self) -> str: ...
    @property
    def auth_scheme(self) -> Literal["bearer", "basic", "none"]: ...
    @property
    def file_mode(self) -> str: ...
    @property
    def dir_mode(self) -> str: ...
    def _backup_op(
        self,
        database: str,
        out_dir: _PathLike,
        *,
        version: str | None = None,
        generic_names: bool = False,
        file_name: str | None = None,
        overwrite: bool = False,
        sql_backup_finished: datetime.datetime | str | None = None,
    ) -> _Operation: ...
    def _start_op(self, database: str) -> _Operation: ...
    def _download_op(
        self,
        guid: str | Job,
        out_dir: _PathLike,
        *,
        file_name: str | None = None,
        overwrite: bool = False,
        if_ready: bool = False,
        database: str | None = None,
        sql_backup_finished: datetime.datetime | str | None = None,
    ) -> _Operation: ...
    def _backup_system_op(
        self,
        system: str,
        out_dir: _PathLike,
        *,
        version: str | None = None,
        generic_names: bool = False,
        return_exceptions: bool = False,
        overwrite: bool = False,
        sql_backup_finished: datetime.datetime | str | None = None,
    ) -> _Operation: ...

def installer_package_name(kind: str, version: str, system: str | None = None) -> str: ...
def installer_name_for_database(
    database: str,
    version: str,
    *,
    system: str | None = None,
    generic_names: bool = False,
    generic: bool | None = None,
) -> str: ...
def system_databases(system: str) -> list[str]: ...
def parse_package_name(file_name: str) -> PackageName: ...
def explain_package_name(file_name: str) -> NameCheck: ...
def _check_folder(folder: _PathLike, system: str, version: str) -> dict[str, Any]: ...

# Plain-data natives behind mesbackup.verify / inspect / backup_window / stage / prune (see _files.py).
def _verify_file(path: _PathLike) -> Any: ...
def _backup_window(folder: _PathLike) -> Any: ...
def _stage(
    package: _PathLike,
    into: _PathLike,
    system: str,
    version: str,
    system_specific: bool,
    move: bool,
    force: bool,
    file_mode: str | None = None,
) -> Any: ...
def _prune(folder: _PathLike, keep: int, execute: bool) -> Any: ...

# Natives behind mesbackup.run / run_async / RunConfig.load (see _run.py).
def _run_op(
    config: _PathLike,
    *,
    only: list[str] | None = None,
    dry_run: bool = False,
    metrics_file: _PathLike | None = None,
) -> _Operation: ...
def _load_run_config(path: _PathLike) -> dict[str, Any]: ...
def _restore(
    package: _PathLike,
    *,
    executor: Callable[[str], Any] | None = None,
    clickhouse: str | None = None,
    user: str | None = None,
    password: str | None = None,
    allow_insecure_http: bool = False,
    target_name: str | None = None,
    storage_policy: str | None = None,
    into_existing: bool = False,
    dry_run: bool = False,
    server_backup_path: _PathLike | None = None,
    path_on_server: str | None = None,
    file_mode: str | None = None,
    dir_mode: str | None = None,
    timeout_ms: int = 3600000,
    on_step: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]: ...
def _test_restore(
    package: _PathLike,
    *,
    server_backup_path: _PathLike,
    executor: Callable[[str], Any] | None = None,
    clickhouse: str | None = None,
    user: str | None = None,
    password: str | None = None,
    allow_insecure_http: bool = False,
    prefix: str = ...,  # "mesbackup_testrestore_" (a default pyo3 cannot show in the signature)
    keep: bool = False,
    storage_policy: str | None = None,
    path_on_server: str | None = None,
    file_mode: str | None = None,
    dir_mode: str | None = None,
    timeout_ms: int = 3600000,
    on_step: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]: ...
