"""``AsyncClient`` and the progress helpers (``Client`` itself is native: ``_mesbackup.Client``)."""

from __future__ import annotations

import asyncio
import datetime
import os
import warnings
from typing import Any, Callable, Optional, Union

from ._errors import InvalidArgument, MesBackupError
from ._mesbackup import Client, Job, Package
from ._progress import Bars

#: ``progress(bytes_done, bytes_total_or_None, phase)``; phase is "starting", "waiting",
#: "downloading", "saving" or "finished".
ProgressCallback = Callable[[int, Optional[int], str], object]

PathLike = Union[str, "os.PathLike[str]"]
#: Durations: seconds (float) or a ``datetime.timedelta``.
Seconds = Union[float, int, datetime.timedelta]

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


async def _drive(op: Any, progress: ProgressCallback | bool | None, per_database: bool = False) -> Any:
    """Awaits an operation's messages; cancelling the awaiting task cancels the job cleanly.
    ``progress=True`` draws tqdm bars (one per database of a system backup)."""
    if progress is True:
        bars = Bars(per_database)
        try:
            return await _drive_with(op, bars.progress, bars.database)
        finally:
            bars.close()
    return await _drive_with(op, progress or None, None)


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
        callback = progress if tag == "progress" else database_progress
        if callback is not None:
            try:
                callback(*value)
            except BaseException:
                await _cancel(op)
                raise


class AsyncClient:
    """``Client`` for asyncio: the same arguments, every method a coroutine.

    Jobs run on mesbackup's own tokio runtime; the event loop is never blocked. ``asyncio.gather``
    over several backups runs them concurrently; cancelling a task cancels its transfer and removes
    its temporary file before the ``CancelledError`` propagates.
    """

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
        self._client = Client(
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

    @property
    def env_url(self) -> str:
        return self._client.env_url

    @property
    def auth_scheme(self) -> str:
        return self._client.auth_scheme

    @property
    def file_mode(self) -> str:
        return self._client.file_mode

    @property
    def dir_mode(self) -> str:
        return self._client.dir_mode

    def __repr__(self) -> str:
        return "Async" + repr(self._client)

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
        op = self._client._backup_op(
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
        op = self._client._backup_system_op(
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
        result: Job = await _drive(self._client._start_op(database), None)
        return result

    async def download(
        self,
        guid: str | Job,
        out_dir: PathLike,
        *,
        file_name: str | None = None,
        overwrite: bool = False,
        progress: ProgressCallback | bool | None = None,
    ) -> Package:
        op = self._client._download_op(guid, out_dir, file_name=file_name, overwrite=overwrite)
        result: Package = await _drive(op, progress)
        return result

    async def download_if_ready(
        self,
        guid: str | Job,
        out_dir: PathLike,
        *,
        file_name: str | None = None,
        overwrite: bool = False,
        progress: ProgressCallback | bool | None = None,
    ) -> Package | None:
        op = self._client._download_op(guid, out_dir, file_name=file_name, overwrite=overwrite, if_ready=True)
        result: Package | None = await _drive(op, progress)
        return result
