"""Exceptions of mesbackup: one class per canonical error kind of mesbackup-core.

Every exception raised for a failed backup is a :class:`MesBackupError` with

- ``kind``: the stable code of the kind (``"unauthorized"``, ``"download_lost"``, ...), the same string
  the CLI's ``--json`` events, the Node and PowerShell front ends carry;
- ``guid``: the backup's GUID when one is known (resume a timed-out backup with ``client.download(e.guid, ...)``);
- ``message``: what happened and what to do next. Messages never contain a secret.

Some classes also derive from the matching built-in exception so generic handlers work:
``InvalidArgument`` is a ``ValueError``, ``Timeout`` a ``TimeoutError``, ``NetworkError`` a
``ConnectionError`` and ``IoError`` an ``OSError``. The class for the ``timeout`` kind is called
``Timeout`` (as in the issue); it does not shadow the built-in ``TimeoutError``, it subclasses it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ERROR_CLASSES",
    "BackupNotFound",
    "Cancelled",
    "DownloadLost",
    "Forbidden",
    "Integrity",
    "InvalidArgument",
    "InvalidDatabase",
    "IoError",
    "MesBackupError",
    "NetworkError",
    "RunLocked",
    "ServerError",
    "Timeout",
    "Unauthorized",
    "UnexpectedResponse",
]


class MesBackupError(Exception):
    """Base class of every mesbackup error."""

    #: The canonical kind code this class stands for.
    code: str = ""

    kind: str
    guid: str | None
    message: str
    #: ``backup_system`` only: per database, the saved ``Package`` or the exception (in system order).
    results: list[object | MesBackupError] | None

    def __init__(self, message: str, *, kind: str | None = None, guid: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind or self.code or "unknown"
        self.guid = guid
        self.results = None
        #: The package concerned (set by ``verify(..., raise_on_error=True)`` / ``inspect``).
        self.path: Any | None = None  # pathlib.Path
        #: The full ``VerifyResult`` of a failed verification.
        self.result: Any | None = None  # VerifyResult

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        guid = f", guid={self.guid!r}" if self.guid else ""
        return f"{type(self).__name__}({self.message!r}, kind={self.kind!r}{guid})"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_from_core, (self.kind, self.message, self.guid))


class InvalidArgument(MesBackupError, ValueError):
    """The caller gave something unusable (bad URL, database name, option)."""

    code = "invalid_argument"


class Unauthorized(MesBackupError):
    """401: the token or personal access token was rejected."""

    code = "unauthorized"


class Forbidden(MesBackupError):
    """403: authenticated, but the user lacks the SysAdministrators role."""

    code = "forbidden"


class InvalidDatabase(MesBackupError):
    """The MES does not know that database (POST answered 400)."""

    code = "invalid_database"


class BackupNotFound(MesBackupError):
    """Unknown GUID, or a backup already downloaded (the server deletes it after one download)."""

    code = "backup_not_found"


class ServerError(MesBackupError):
    """The server reported a failure."""

    code = "server_error"


class UnexpectedResponse(MesBackupError):
    """An answer mesbackup does not understand (status, body or header)."""

    code = "unexpected_response"


class Timeout(MesBackupError, TimeoutError):
    """The backup was still being prepared at the deadline; ``guid`` resumes it."""

    code = "timeout"


class DownloadLost(MesBackupError):
    """The one-shot download stream broke: the server has already deleted the file."""

    code = "download_lost"


class Integrity(MesBackupError):
    """The saved bytes are not a complete, consistent package."""

    code = "integrity"


class IoError(MesBackupError, OSError):
    """Local file system failure (disk full, permission, name clash)."""

    code = "io"


class NetworkError(MesBackupError, ConnectionError):
    """The server could not be reached, or the connection failed."""

    code = "network"


class Cancelled(MesBackupError):
    """The job was cancelled (``KeyboardInterrupt`` and asyncio cancellation are re-raised as such)."""

    code = "cancelled"


class InternalError(MesBackupError):
    """A bug in mesbackup itself (never a server or user problem): please report it."""

    code = "internal"


#: kind code -> exception class; must cover exactly ``mesbackup._mesbackup.ERROR_KINDS`` (tested).
ERROR_CLASSES: dict[str, type[MesBackupError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        Unauthorized,
        Forbidden,
        InvalidDatabase,
        BackupNotFound,
        ServerError,
        UnexpectedResponse,
        Timeout,
        DownloadLost,
        Integrity,
        IoError,
        NetworkError,
        Cancelled,
        InternalError,
    )
}


class RunLocked(MesBackupError):
    """``mesbackup.run``: another run holds an output folder and the config says
    ``on_locked = "exit"`` (the CLI exits 75, PowerShell raises ``run_locked``). Nothing was done;
    the next scheduled run will back up, or set ``on_locked = "wait"``.

    Not a core error kind (``ERROR_KINDS``): a verdict of the run, like the CLI's exit code 75."""

    code = "run_locked"
    #: ``mesbackup run``'s exit code in this case.
    exit_code = 75


#: Kinds the run adds to core's (the same names as PowerShell's module errors).
_RUN_ERROR_CLASSES: dict[str, type[MesBackupError]] = {RunLocked.code: RunLocked}


def _from_core(kind: str, message: str, guid: str | None) -> MesBackupError:
    """Called by the native module: the exception instance for a core error."""
    cls = ERROR_CLASSES.get(kind) or _RUN_ERROR_CLASSES.get(kind, MesBackupError)
    return cls(message, kind=kind, guid=guid)
