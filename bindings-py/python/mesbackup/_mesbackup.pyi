"""Type stubs of the native module ``mesbackup._mesbackup`` (import from ``mesbackup`` instead)."""

import datetime
import os
import pathlib
from typing import Any, Callable, Dict, List, Literal, Optional, Tuple, TypedDict, Union, final

_PathLike = Union[str, "os.PathLike[str]"]
_Seconds = Union[float, int, datetime.timedelta]
_Progress = Callable[[int, Optional[int], str], object]

ERROR_KINDS: Tuple[str, ...]
SIDECAR_SUFFIX: str
PARTIAL_SUFFIX: str
__version__: str

@final
class Package:
    """A backup package saved under its final name, with its JSON sidecar beside it."""

    @property
    def path(self) -> pathlib.Path: ...
    @property
    def file_name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def guid(self) -> str: ...
    @property
    def database(self) -> Optional[str]: ...
    @property
    def started_at(self) -> Optional[datetime.datetime]: ...
    @property
    def ready_at(self) -> Optional[datetime.datetime]: ...
    @property
    def finished_at(self) -> datetime.datetime: ...
    @property
    def notes(self) -> List[str]: ...
    @property
    def sidecar(self) -> pathlib.Path: ...
    def __fspath__(self) -> str: ...

@final
class Job:
    """A backup started on the server; its GUID downloads it later."""

    @property
    def guid(self) -> str: ...
    @property
    def database(self) -> str: ...

@final
class PackageName:
    @property
    def system(self) -> Optional[str]: ...
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
    def package(self) -> Optional[PackageName]: ...
    @property
    def reason(self) -> Optional[str]: ...
    @property
    def message(self) -> str: ...
    @property
    def expected(self) -> Optional[str]: ...
    def __bool__(self) -> bool: ...

class KindReport(TypedDict):
    kind: str
    chosen: Optional[str]
    system_specific: bool
    also_present_but_shadowed: Optional[str]
    expected_names: List[str]

class IgnoredFile(TypedDict):
    file: str
    reason: str
    message: str

class NearMissFile(TypedDict):
    file: str
    reason: str
    message: str
    expected: Optional[str]

@final
class FolderReport:
    @property
    def system(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def complete(self) -> bool: ...
    @property
    def missing(self) -> List[str]: ...
    @property
    def kinds(self) -> List[KindReport]: ...
    @property
    def ignored(self) -> List[IgnoredFile]: ...
    @property
    def near_misses(self) -> List[NearMissFile]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __bool__(self) -> bool: ...

@final
class _Operation:
    def wait(self, progress: Optional[_Progress] = None) -> Any: ...
    def cancel(self) -> None: ...
    def next(self) -> Any: ...

class Client:
    """A connection to one MES environment. Every method blocks (GIL released) until its job ends;
    Ctrl-C cancels it and leaves no partial file. The library installs no signal handler: an
    exception raised by one of yours (SIGTERM raising ``SystemExit``, say) cancels the job the same
    way, within about half a second. Files are written with ``file_mode`` (default ``"0600"``),
    created folders get ``dir_mode`` (default ``"0700"``); on Windows both inherit the folder's ACL.

    Every download is bounded (each limit, when hit, is a ``DownloadLost`` naming it): ``speed_limit``
    bytes per second averaged over ``speed_time`` (default 1024 over 120 s; 0 disables, as curl's
    ``--speed-limit``/``--speed-time``), ``download_timeout`` from the first byte (default none),
    ``max_size`` bytes (default 1 TiB; a larger ``Content-Length`` is refused before anything is
    written), and ``stall_timeout`` without any byte (default 120 s).

    Credentials, the first found (the rule of every front end): ``token``; ``user`` and ``pat``;
    ``MES_TOKEN``; ``MES_USER`` and ``MES_PAT``. A token and a user/PAT from the same place are
    refused; none at all is ``InvalidArgument`` naming every way, unless ``no_auth=True`` (a test
    server)."""

    def __init__(
        self,
        env_url: Optional[str] = None,
        *,
        token: Optional[str] = None,
        user: Optional[str] = None,
        pat: Optional[str] = None,
        ca_cert: Optional[_PathLike] = None,
        timeout: Optional[_Seconds] = None,
        max_poll_delay: Optional[_Seconds] = None,
        restart_budget: int = 0,
        min_poll_delay: Optional[_Seconds] = None,
        retry_delay: Optional[_Seconds] = None,
        stall_timeout: Optional[_Seconds] = None,
        request_timeout: Optional[_Seconds] = None,
        connect_timeout: Optional[_Seconds] = None,
        allow_insecure_http: bool = False,
        file_mode: Optional[str] = None,
        dir_mode: Optional[str] = None,
        speed_limit: Optional[int] = None,
        speed_time: Optional[_Seconds] = None,
        download_timeout: Optional[_Seconds] = None,
        max_size: Optional[int] = None,
        no_auth: bool = False,
    ) -> None: ...
    @property
    def env_url(self) -> str: ...
    @property
    def auth_scheme(self) -> Literal["bearer", "basic", "none"]: ...
    @property
    def file_mode(self) -> str: ...
    @property
    def dir_mode(self) -> str: ...
    def backup(
        self,
        database: str,
        out_dir: _PathLike,
        *,
        version: Optional[str] = None,
        generic_names: bool = False,
        file_name: Optional[str] = None,
        overwrite: bool = False,
        progress: Optional[_Progress] = None,
        sql_backup_finished: Union[datetime.datetime, str, None] = None,
        installer_name: Optional[str] = None,
    ) -> Package: ...
    def backup_system(
        self,
        system: str,
        out_dir: _PathLike,
        *,
        version: Optional[str] = None,
        generic_names: bool = False,
        return_exceptions: bool = False,
        progress: Optional[_Progress] = None,
        overwrite: bool = False,
        sql_backup_finished: Union[datetime.datetime, str, None] = None,
        installer_name: Optional[str] = None,
    ) -> List[Any]: ...
    def start(self, database: str) -> Job: ...
    def download(
        self,
        guid: Union[str, Job],
        out_dir: _PathLike,
        *,
        file_name: Optional[str] = None,
        overwrite: bool = False,
        progress: Optional[_Progress] = None,
    ) -> Package: ...
    def download_if_ready(
        self,
        guid: Union[str, Job],
        out_dir: _PathLike,
        *,
        file_name: Optional[str] = None,
        overwrite: bool = False,
        progress: Optional[_Progress] = None,
    ) -> Optional[Package]: ...
    def _backup_op(
        self,
        database: str,
        out_dir: _PathLike,
        *,
        version: Optional[str] = None,
        generic_names: bool = False,
        file_name: Optional[str] = None,
        overwrite: bool = False,
        sql_backup_finished: Union[datetime.datetime, str, None] = None,
    ) -> _Operation: ...
    def _start_op(self, database: str) -> _Operation: ...
    def _download_op(
        self,
        guid: Union[str, Job],
        out_dir: _PathLike,
        *,
        file_name: Optional[str] = None,
        overwrite: bool = False,
        if_ready: bool = False,
    ) -> _Operation: ...
    def _backup_system_op(
        self,
        system: str,
        out_dir: _PathLike,
        *,
        version: Optional[str] = None,
        generic_names: bool = False,
        return_exceptions: bool = False,
        overwrite: bool = False,
        sql_backup_finished: Union[datetime.datetime, str, None] = None,
    ) -> _Operation: ...

def installer_package_name(kind: str, version: str, system: Optional[str] = None) -> str: ...
def installer_name_for_database(
    database: str,
    version: str,
    *,
    system: Optional[str] = None,
    generic_names: bool = False,
    generic: Optional[bool] = None,
) -> str: ...
def system_databases(system: str) -> List[str]: ...
def parse_package_name(file_name: str) -> PackageName: ...
def explain_package_name(file_name: str) -> NameCheck: ...
def check_folder(folder: _PathLike, system: str, version: str) -> FolderReport: ...

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
    file_mode: Optional[str] = None,
) -> Any: ...
def _prune(folder: _PathLike, keep: int, execute: bool) -> Any: ...
def _restore(
    package: _PathLike,
    *,
    executor: Optional[Callable[[str], Any]] = None,
    clickhouse: Optional[str] = None,
    user: Optional[str] = None,
    password: Optional[str] = None,
    allow_insecure_http: bool = False,
    target_name: Optional[str] = None,
    storage_policy: Optional[str] = None,
    into_existing: bool = False,
    dry_run: bool = False,
    server_backup_path: Optional[_PathLike] = None,
    path_on_server: Optional[str] = None,
    file_mode: Optional[str] = None,
    dir_mode: Optional[str] = None,
    timeout_ms: int = 3600000,
    on_step: Optional[Callable[[Dict[str, Any]], object]] = None,
) -> Dict[str, Any]: ...
def _test_restore(
    package: _PathLike,
    *,
    server_backup_path: _PathLike,
    executor: Optional[Callable[[str], Any]] = None,
    clickhouse: Optional[str] = None,
    user: Optional[str] = None,
    password: Optional[str] = None,
    allow_insecure_http: bool = False,
    prefix: str = "mesbackup_testrestore_",
    keep: bool = False,
    storage_policy: Optional[str] = None,
    path_on_server: Optional[str] = None,
    file_mode: Optional[str] = None,
    dir_mode: Optional[str] = None,
    timeout_ms: int = 3600000,
    on_step: Optional[Callable[[Dict[str, Any]], object]] = None,
) -> Dict[str, Any]: ...
