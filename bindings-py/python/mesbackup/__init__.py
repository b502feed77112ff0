"""mesbackup: back up the ClickHouse databases of a Critical Manufacturing MES.

A thin layer over the Rust crates ``mesbackup-core`` and ``mesbackup-client``: every front end
(CLI, Python, Node, browser, PowerShell) runs the same job logic and passes the same scenarios.

    >>> import mesbackup
    >>> client = mesbackup.Client("https://mes.example.com", token="...")   # or MES_URL / MES_TOKEN
    >>> pkg = client.backup("MESCDM", "/backups", version="11.3.0")   # under the installer's name
    >>> pkg.path, pkg.size, pkg.sha256, pkg.started_at

``progress=True`` draws tqdm bars (a widget in Jupyter, a text bar in a terminal; one bar per
database in ``backup_system``; needs ``pip install 'mesbackup[progress]'``, else ``ImportError``);
a callable ``progress(bytes_done, bytes_total_or_None, phase)`` is called instead.
Results display themselves in Jupyter; ``mesbackup.to_records(results)`` feeds ``pandas.DataFrame``.

``AsyncClient`` has the same methods as coroutines. Ctrl-C (KeyboardInterrupt) or cancelling the
asyncio task stops a backup and leaves no partial file.

Signals: the library installs no signal handler of its own. Python's SIGINT handler raises
KeyboardInterrupt; a handler you install for SIGTERM (or SIGHUP) runs as usual, and the exception it
raises (``SystemExit``, your own) cancels the transfer the same way: within about half a second the
job stops, its temporary file is removed, and your exception propagates. Without such a handler,
SIGTERM ends the process at once (the operating system's default), and the next run into that
folder removes the temporary file it left.

Nightly runs: ``mesbackup.run("mesbackup.toml")`` runs every environment of a config exactly as
``mesbackup run`` does and returns a ``RunReport`` (``dry_run=True``: a ``RunPlan``);
``RunConfig.load(path)`` reads a config and ``Client.for_environment(config, name)`` gives one
environment's client, with its credentials resolved as the config names them.

Files: packages, sidecars and temporary files are written with exactly ``file_mode`` (default
``"0600"``), folders mesbackup creates get ``dir_mode`` (default ``"0700"``); pass e.g.
``file_mode="0640", dir_mode="0750"`` to let your group read them. On Windows files and folders
inherit the folder's ACL instead.
"""

from ._client import AsyncClient, Client, ProgressCallback, tqdm_progress
from ._display import to_records
from ._errors import (
    ERROR_CLASSES,
    BackupNotFound,
    Cancelled,
    DownloadLost,
    Forbidden,
    Integrity,
    InternalError,
    InvalidArgument,
    InvalidDatabase,
    IoError,
    MesBackupError,
    NetworkError,
    RunLocked,
    ServerError,
    Timeout,
    Unauthorized,
    UnexpectedResponse,
)
from ._files import (
    BackupWindow,
    DatabaseInfo,
    PackageInfo,
    Problem,
    PruneEntry,
    PrunePlan,
    StagedPackage,
    TableInfo,
    VerifyResult,
    WindowPackage,
    backup_window,
    check_folder,
    inspect,
    plan_prune,
    prune,
    stage,
    verify,
)
from ._mesbackup import (
    ERROR_KINDS,
    PARTIAL_SUFFIX,
    SIDECAR_SUFFIX,
    NameCheck,
    PackageName,
    __version__,
    explain_package_name,
    installer_name_for_database,
    installer_package_name,
    parse_package_name,
    system_databases,
)
from ._restore import (
    RestoreResult,
    RestoreStepCallback,
    SqlExecutor,
    TableCheck,
    TestRestoreResult,
    restore,
    test_restore,
)
from ._results import FolderReport, Job, Package
from ._run import (
    CredentialSource,
    DatabaseReport,
    EnvironmentConfig,
    EnvironmentPlan,
    EnvironmentReport,
    HookReport,
    Hooks,
    PlannedDatabase,
    RetentionPolicy,
    RetentionReport,
    RunConfig,
    RunPlan,
    RunProgressCallback,
    RunReport,
    TestRestorePolicy,
    run,
    run_async,
)

__all__ = [
    "ERROR_CLASSES",
    "ERROR_KINDS",
    "PARTIAL_SUFFIX",
    "SIDECAR_SUFFIX",
    "AsyncClient",
    "BackupNotFound",
    "BackupWindow",
    "Cancelled",
    "Client",
    "CredentialSource",
    "DatabaseInfo",
    "DatabaseReport",
    "DownloadLost",
    "EnvironmentConfig",
    "EnvironmentPlan",
    "EnvironmentReport",
    "FolderReport",
    "Forbidden",
    "HookReport",
    "Hooks",
    "Integrity",
    "InternalError",
    "InvalidArgument",
    "InvalidDatabase",
    "IoError",
    "Job",
    "MesBackupError",
    "NameCheck",
    "NetworkError",
    "Package",
    "PackageInfo",
    "PackageName",
    "PlannedDatabase",
    "Problem",
    "ProgressCallback",
    "PruneEntry",
    "PrunePlan",
    "RestoreResult",
    "RestoreStepCallback",
    "RetentionPolicy",
    "RetentionReport",
    "RunConfig",
    "RunLocked",
    "RunPlan",
    "RunProgressCallback",
    "RunReport",
    "ServerError",
    "SqlExecutor",
    "StagedPackage",
    "TableCheck",
    "TableInfo",
    "TestRestorePolicy",
    "TestRestoreResult",
    "Timeout",
    "Unauthorized",
    "UnexpectedResponse",
    "VerifyResult",
    "WindowPackage",
    "__version__",
    "backup_window",
    "check_folder",
    "explain_package_name",
    "inspect",
    "installer_name_for_database",
    "installer_package_name",
    "parse_package_name",
    "plan_prune",
    "prune",
    "restore",
    "run",
    "run_async",
    "stage",
    "system_databases",
    "test_restore",
    "to_records",
    "tqdm_progress",
    "verify",
]
