"""``Client`` and ``AsyncClient``: Python classes over the native ``_mesbackup._ClientCore`` (as polars'
``DataFrame`` wraps ``PyDataFrame``), which holds the connection and runs the operations they wait on
or await; and the progress helpers."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import warnings
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

if TYPE_CHECKING:
    from typing_extensions import Self

from ._errors import InvalidArgument, MesBackupError
from ._mesbackup import _ClientCore
from ._progress import Bars
from ._results import Job, Package

#: ``progress(bytes_done, bytes_total_or_None, phase)``; phase is "starting", "waiting",
#: "downloading", "saving" or "finished".
ProgressCallback = Callable[[int, Optional[int], str], object]

PathLike = Union[str, "os.PathLike[str]"]
#: Durations: seconds (float) or a ``datetime.timedelta``.
Seconds = Union[float, int, datetime.timedelta]

# Steps of a run (hooks, verify, retention, waiting for a lock), as the native side logs them.
_log = logging.getLogger("mesbackup")

# How long a cancelled coroutine waits for the job to remove its temporary file.
_CLEANUP_TIMEOUT_S = 10.0


def tqdm_progress(bar: Any) -> ProgressCallback:
    """A progress callback driving a ``tqdm`` bar (or anything with ``n``, ``total``, ``update``)::

    client.backup("MES", out, progress=mesbackup.tqdm_progress(tqdm(unit="B", unit_scale=True)))
    """

    def update(done: int, total: int | None, phase: str) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(phase, refresh=False)
        bar.update(done - bar.n)

    return update


def _installer_version(version: str | None, installer_name: str | None) -> str | None:
    """``version=``, or its deprecated spelling ``installer_name=`` (kept one release)."""
    if installer_name is None:
        return version
    if version is not None:
        raise InvalidArgument("give version only (installer_name is its deprecated spelling)")
    warnings.warn(
        "installer_name= is deprecated and will be removed in the next release: use version= (the MES version "
        "of the installer names)",
        DeprecationWarning,
        stacklevel=3,
    )
    return installer_name


async def _settle(op: Any) -> None:
    """After a cancel: wait until the job has ended (and removed any temporary file)."""
    while True:
        try:
            tag, _ = await op.next()
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 (however it ends, the job has ended)
            return
        if tag == "done":
            return


async def _cancel(op: Any) -> None:
    op.cancel()
    try:
        await asyncio.wait_for(_settle(op), _CLEANUP_TIMEOUT_S)
    except (Exception, asyncio.CancelledError):  # noqa: BLE001, S110 (best effort: the caller re-raises its own error)
        pass


async def _drive(
    op: Any, progress: ProgressCallback | bool | None, per_database: bool = False, database_progress: Any = None
) -> Any:
    """Awaits an operation's messages; cancelling the awaiting task cancels the job cleanly.
    ``progress=True`` draws tqdm bars (one per database of a system backup)."""
    if progress is True:
        bars = Bars(per_database)
        try:
            return await _drive_with(op, bars.progress, bars.database)
        finally:
            bars.close()
    return await _drive_with(op, progress or None, database_progress)


async def _drive_with(op: Any, progress: ProgressCallback | None, database_progress: Any) -> Any:
    while True:
        try:
            tag, value = await op.next()
        except MesBackupError:
            raise  # the job ended with this error
        except BaseException:
            await _cancel(op)
            raise
        if tag == "done":
            return value
        if tag == "log":
            level, text = value
            getattr(_log, level)("%s", text)
            continue
        callback = progress if tag == "progress" else database_progress
        if callback is not None:
            try:
                callback(*value)
            except BaseException:
                await _cancel(op)
                raise


def _wait(op: Any, progress: ProgressCallback | bool | None, per_database: bool = False) -> Any:
    """Blocks on an operation (GIL released; Ctrl-C cancels it cleanly), with tqdm bars for ``True``."""
    if progress is True:
        bars = Bars(per_database)
        try:
            return op.wait(bars.progress, bars.database)
        finally:
            bars.close()
    return op.wait(progress or None)


class _ClientBase:
    """What ``Client`` and ``AsyncClient`` share: the connection (the native core) and its settings."""

    __slots__ = ("_core",)

    def __init__(
        self,
        env_url: str | None = None,
        *,
        token: str | None = None,
        user: str | None = None,
        pat: str | None = None,
        ca_cert: PathLike | None = None,
        timeout: Seconds | None = None,
        max_poll_delay: Seconds | None = None,
        restart_budget: int = 0,
        min_poll_delay: Seconds | None = None,
        retry_delay: Seconds | None = None,
        stall_timeout: Seconds | None = None,
        request_timeout: Seconds | None = None,
        connect_timeout: Seconds | None = None,
        allow_insecure_http: bool = False,
        file_mode: str | None = None,
        dir_mode: str | None = None,
        speed_limit: int | None = None,
        speed_time: Seconds | None = None,
        download_timeout: Seconds | None = None,
        max_size: int | None = None,
        no_auth: bool = False,
    ) -> None:
        self._core = _ClientCore(
            env_url,
            token=token,
            user=user,
            pat=pat,
            ca_cert=ca_cert,
            timeout=timeout,
            max_poll_delay=max_poll_delay,
            restart_budget=restart_budget,
            min_poll_delay=min_poll_delay,
            retry_delay=retry_delay,
            stall_timeout=stall_timeout,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            allow_insecure_http=allow_insecure_http,
            file_mode=file_mode,
            dir_mode=dir_mode,
            speed_limit=speed_limit,
            speed_time=speed_time,
            download_timeout=download_timeout,
            max_size=max_size,
            no_auth=no_auth,
        )

    @classmethod
    def for_environment(cls, config: Any, name: str) -> Self:
        """The client ``mesbackup run`` would use for environment ``name`` of a config (a
        ``RunConfig`` or the path of a ``mesbackup.toml``): its URL, CA file, timeout, file modes and
        credentials resolved exactly as the run resolves them (``token_env``, ``token_file``,
        ``user_env`` + ``pat_env``). An unset variable or an unreadable token file raises
        ``InvalidArgument`` naming the environment and the key."""
        path = getattr(config, "path", config)
        client = cls.__new__(cls)
        client._core = _ClientCore._for_environment(os.fspath(path), name)
        return client

    @property
    def env_url(self) -> str:
        return self._core.env_url

    @property
    def auth_scheme(self) -> str:
        return self._core.auth_scheme

    @property
    def file_mode(self) -> str:
        return self._core.file_mode

    @property
    def dir_mode(self) -> str:
        return self._core.dir_mode

    def __repr__(self) -> str:
        return repr(self._core)


class Client(_ClientBase):
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

    __slots__ = ()

    def backup(
        self,
        database: str,
        out_dir: PathLike,
        *,
        version: str | None = None,
        generic_names: bool = False,
        file_name: str | None = None,
        overwrite: bool = False,
        progress: ProgressCallback | bool | None = None,
        sql_backup_finished: datetime.datetime | str | None = None,
        installer_name: str | None = None,
    ) -> Package:
        """Backs up one database into ``out_dir`` and returns the saved ``Package``. With ``version``,
        the package is saved under the installer's name for that MES version: the system-specific
        one, which the installer prefers, or the generic one with ``generic_names=True``.
        ``progress``: ``True`` for a tqdm bar, or ``progress(bytes_done, bytes_total, phase)``."""
        op = self._core._backup_op(
            database,
            out_dir,
            version=_installer_version(version, installer_name),
            generic_names=generic_names,
            file_name=file_name,
            overwrite=overwrite,
            sql_backup_finished=sql_backup_finished,
        )
        result: Package = _wait(op, progress)
        return result

    def backup_system(
        self,
        system: str,
        out_dir: PathLike,
        *,
        version: str | None = None,
        generic_names: bool = False,
        return_exceptions: bool = False,
        progress: ProgressCallback | bool | None = None,
        overwrite: bool = False,
        sql_backup_finished: datetime.datetime | str | None = None,
        installer_name: str | None = None,
    ) -> list[Any]:
        """Backs up the four databases of ``system`` concurrently; returns their packages in the
        order online, CDM, ODS, DWH. A failure raises the first error once all four have ended
        (``.results`` holds what was saved), or with ``return_exceptions=True`` takes its place in
        the list. ``progress=True`` draws one tqdm bar per database; a callback gets the sums."""
        op = self._core._backup_system_op(
            system,
            out_dir,
            version=_installer_version(version, installer_name),
            generic_names=generic_names,
            return_exceptions=return_exceptions,
            overwrite=overwrite,
            sql_backup_finished=sql_backup_finished,
        )
        result: list[Any] = _wait(op, progress, per_database=True)
        return result

    def start(self, database: str) -> Job:
        """Starts a backup and returns at once with its ``Job`` (GUID); download it later."""
        result: Job = self._core._start_op(database).wait()
        return result

    def download(
        self,
        guid: str | Job,
        out_dir: PathLike,
        *,
        file_name: str | None = None,
        overwrite: bool = False,
        database: str | None = None,
        sql_backup_finished: datetime.datetime | str | None = None,
        progress: ProgressCallback | bool | None = None,
    ) -> Package:
        """Waits for a backup started earlier and downloads it. ``database`` (taken from a ``Job``
        when not given) and ``sql_backup_finished`` are recorded in the sidecar, as ``backup`` records
        them: retention and ``backup_window`` group packages by database. The download never POSTs."""
        op = self._core._download_op(
            guid,
            out_dir,
            file_name=file_name,
            overwrite=overwrite,
            database=database,
            sql_backup_finished=sql_backup_finished,
        )
        result: Package = _wait(op, progress)
        return result

    def download_if_ready(
        self,
        guid: str | Job,
        out_dir: PathLike,
        *,
        file_name: str | None = None,
        overwrite: bool = False,
        database: str | None = None,
        sql_backup_finished: datetime.datetime | str | None = None,
        progress: ProgressCallback | bool | None = None,
    ) -> Package | None:
        """Exactly one GET: the saved ``Package`` if the backup is ready, else None."""
        op = self._core._download_op(
            guid,
            out_dir,
            file_name=file_name,
            overwrite=overwrite,
            if_ready=True,
            database=database,
            sql_backup_finished=sql_backup_finished,
        )
        result: Package | None = _wait(op, progress)
        return result


class AsyncClient(_ClientBase):
    """``Client`` for asyncio: the same arguments, every method a coroutine.

    Jobs run on mesbackup's own tokio runtime; the event loop is never blocked. ``asyncio.gather``
    over several backups runs them concurrently; cancelling a task cancels its transfer and removes
    its temporary file before the ``CancelledError`` propagates.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Async" + repr(self._core)

    async def backup(
        self,
        database: str,
        out_dir: PathLike,
        *,
        version: str | None = None,
        generic_names: bool = False,
        file_name: str | None = None,
        overwrite: bool = False,
        progress: ProgressCallback | bool | None = None,
        sql_backup_finished: datetime.datetime | str | None = None,
        installer_name: str | None = None,
    ) -> Package:
        op = self._core._backup_op(
            database,
            out_dir,
            version=_installer_version(version, installer_name),
            generic_names=generic_names,
            file_name=file_name,
            overwrite=overwrite,
            sql_backup_finished=sql_backup_finished,
        )
        result: Package = await _drive(op, progress)
        return result

    async def backup_system(
        self,
        system: str,
        out_dir: PathLike,
        *,
        version: str | None = None,
        generic_names: bool = False,
        return_exceptions: bool = False,
        progress: ProgressCallback | bool | None = None,
        overwrite: bool = False,
        sql_backup_finished: datetime.datetime | str | None = None,
        installer_name: str | None = None,
    ) -> list[Any]:
        op = self._core._backup_system_op(
            system,
            out_dir,
            version=_installer_version(version, installer_name),
            generic_names=generic_names,
            return_exceptions=return_exceptions,
            overwrite=overwrite,
            sql_backup_finished=sql_backup_finished,
        )
        result: list[Any] = await _drive(op, progress, per_database=True)
        return result

    async def start(self, database: str) -> Job:
        result: Job = await _drive(self._core._start_op(database), None)
        return result

    async def download(
        self,
        guid: str | Job,
        out_dir: PathLike,
        *,
        file_name: str | None = None,
        overwrite: bool = False,
        database: str | None = None,
        sql_backup_finished: datetime.datetime | str | None = None,
        progress: ProgressCallback | bool | None = None,
    ) -> Package:
        op = self._core._download_op(
            guid,
            out_dir,
            file_name=file_name,
            overwrite=overwrite,
            database=database,
            sql_backup_finished=sql_backup_finished,
        )
        result: Package = await _drive(op, progress)
        return result

    async def download_if_ready(
        self,
        guid: str | Job,
        out_dir: PathLike,
        *,
        file_name: str | None = None,
        overwrite: bool = False,
        database: str | None = None,
        sql_backup_finished: datetime.datetime | str | None = None,
        progress: ProgressCallback | bool | None = None,
    ) -> Package | None:
        op = self._core._download_op(
            guid,
            out_dir,
            file_name=file_name,
            overwrite=overwrite,
            if_ready=True,
            database=database,
            sql_backup_finished=sql_backup_finished,
        )
        result: Package | None = await _drive(op, progress)
        return result
