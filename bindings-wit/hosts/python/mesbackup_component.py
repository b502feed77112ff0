"""A Python host of the mesbackup component (wit/mesbackup.wit) on wasmtime from PyPI.

The component holds every decision (naming, polling, the job's state machine, verification); this
module only does the I/O the job asks for: HTTP with http.client (never following a redirect), a
temporary file in the output folder that gets its final name only when the job says `commit`, the
clock, and sleeping. It mirrors the reference loop, client/src/driver.rs.

wasmtime-py 50 has no generated bindings for components (its `wasmtime.bindgen` is gone); calls go
through `wasmtime.component`'s dynamic API, which maps WIT values to Python: records to objects with
attributes, enums to strings, options to `None` or the value, variants to `Variant(tag, payload)`
only when their cases' Python classes overlap (otherwise the bare payload).
"""

from __future__ import annotations

import ctypes
import http.client
import os
import secrets as random_source
import socket
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wasmtime import Engine, Store
from wasmtime import _ffi as ffi
from wasmtime.component import Component, Linker, Record, ResultType, Variant
from wasmtime.component import _types as component_types

PACKAGE = "cmf:mesbackup"
VERSION = "0.1.0"
CHUNK = 64 * 1024


# wasmtime-py lowers a `list<u8>` one Python call per byte (0.5-1 MB/s): a 64 KiB chunk costs ~70 ms.
# This fills the C API's value array for a bytes object at C speed instead, from the layout its own
# ctypes declarations give (kind byte, then the union whose `u8` is at offset 0), about 10x faster.
# Everything else, and any non-bytes list, goes through the library's own code.
_STOCK_LIST_TO_C = component_types.ListType.convert_to_c
_VAL = ffi.wasmtime_component_val_t
_VAL_SIZE = ctypes.sizeof(_VAL)


def _bytes_list_to_c(self: Any, store: Any, val: Any, ptr: Any) -> None:
    if not isinstance(val, (bytes, bytearray)) or not self._is_bytes():
        _STOCK_LIST_TO_C(self, store, val, ptr)
        return
    n = len(val)
    values = (_VAL * n)()
    raw_bytes = memoryview(values).cast("B")
    raw_bytes[_VAL.kind.offset :: _VAL_SIZE] = bytes([ffi.WASMTIME_COMPONENT_U8.value]) * n
    raw_bytes[_VAL.of.offset :: _VAL_SIZE] = val
    raw = ffi.wasmtime_component_vallist_t()
    ffi.wasmtime_component_vallist_new(raw, n, values)  # copies: `values` may go
    ptr.contents.kind = ffi.WASMTIME_COMPONENT_LIST
    ptr.contents.of.list = raw


def fast_bytes(enabled: bool) -> None:
    """Lower `bytes` arguments at C speed (the default once this module is imported) or the stock way."""
    component_types.ListType.convert_to_c = _bytes_list_to_c if enabled else _STOCK_LIST_TO_C  # type: ignore[method-assign]


fast_bytes(True)


class Rec(Record):
    """A WIT record whose fields read and write in Python spelling (`env_url` for WIT's `env-url`)."""

    def __getattr__(self, name: str) -> Any:
        kebab = name.replace("_", "-")
        if kebab in self.__dict__:
            return self.__dict__[kebab]
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name.replace("_", "-")] = value


def rec(**fields: Any) -> Rec:
    """A WIT record value."""
    r = Rec()
    for name, value in fields.items():
        setattr(r, name, value)
    return r


def pythonic(value: Any) -> Any:
    """Records in a lifted value become `Rec`s (Python spelling), all the way down."""
    if isinstance(value, Record):
        value.__class__ = Rec
        for v in value.__dict__.values():
            pythonic(v)
    elif isinstance(value, Variant):
        pythonic(value.payload)
    elif isinstance(value, (list, tuple)) and value and not isinstance(value, (bytes, str)):
        for v in value:
            pythonic(v)
    return value


def now_ms() -> int:
    # Unix ms: the job formats the sidecar's times from it and compares HTTP-dates (Retry-After) with it.
    return int(time.time() * 1000)


class ComponentError(Exception):
    """An `error` the component returned: `.kind` is the canonical code (`invalid_argument`...)."""

    def __init__(self, kind: str, message: str, guid: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.guid = guid


class MesBackupComponent:
    """One instance of the component, with its functions by WIT name: `call("naming", "system-databases", "MES")`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.engine = Engine()
        self.component = Component.from_file(self.engine, str(path))
        self.store = Store(self.engine)
        # The world imports nothing: an empty linker instantiates it.
        self.instance = Linker(self.engine).instantiate(self.store, self.component)
        self._funcs: dict[tuple[str, str], tuple[Any, bool]] = {}

    def _func(self, interface: str, name: str) -> tuple[Any, bool]:
        key = (interface, name)
        if key not in self._funcs:
            iface = self.instance.get_export_index(self.store, f"{PACKAGE}/{interface}@{VERSION}")
            index = self.instance.get_export_index(self.store, name, iface) if iface is not None else None
            func = self.instance.get_func(self.store, index) if index is not None else None
            if func is None:
                raise LookupError(f"the component exports no {interface}#{name}")
            self._funcs[key] = (func, isinstance(func.type(self.store).result, ResultType))
        return self._funcs[key]

    def call(self, interface: str, name: str, *args: Any) -> Any:
        """Calls an export; a `result` comes back as its ok value, its `error` raised as ComponentError."""
        func, returns_result = self._func(interface, name)
        value = pythonic(func(self.store, *args))
        if not returns_result:
            return value
        if isinstance(value, Variant) and value.tag in ("ok", "err"):
            if value.tag == "err":
                raise self.error(value.payload)
            return value.payload
        # Untagged: every ok type of this WIT that is untagged is not a record, every err is one.
        if isinstance(value, Record):
            raise self.error(value)
        return value

    def error(self, e: Any) -> ComponentError:
        if not hasattr(e, "kind"):  # a near-miss (parse-package-name): not an `error`
            return ComponentError("invalid_argument", e.message)
        return ComponentError(self.call("types", "kind-code", e.kind), e.message, e.guid)

    def method(self, interface: str, resource: str, name: str, handle: Any, *args: Any) -> Any:
        return self.call(interface, f"[method]{resource}.{name}", handle, *args)


# ---- verify ------------------------------------------------------------------------------------


def verify_file(comp: MesBackupComponent, path: str | os.PathLike[str], expected_sha256: str | None = None) -> Any:
    """Feeds the file to the component's verifier in 64 KiB chunks; returns its verify-result."""
    v = comp.call("verify", "[static]verifier.create", expected_sha256)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            comp.method("verify", "verifier", "feed", v, chunk)
    return comp.method("verify", "verifier", "finish", v)


# ---- the job driver ----------------------------------------------------------------------------


class Job:
    """The component's backup-job resource."""

    def __init__(self, comp: MesBackupComponent, handle: Any) -> None:
        self.comp = comp
        self.handle = handle

    def __getattr__(self, name: str) -> Callable[..., Any]:
        wit = name.replace("_", "-")
        return lambda *args: self.comp.method("job", "backup-job", wit, self.handle, *args)


class FileSink:
    """The package's temporary file in the output folder (hidden, 0600, never a final name until commit)."""

    def __init__(self, out: Path, file_name: str) -> None:
        self.out = out
        # The job's file names are checked safe base names; the tag keeps two runs apart.
        self.temp = out / f".{file_name}.{random_source.token_hex(4)}.mesbackup-partial"
        # Open for the whole download (closed by finish or discard), so no context manager.
        self.file = open(os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")  # noqa: SIM115

    def finish(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def commit(self, file_name: str, overwrite: bool, sidecar_name: str, sidecar_json: str) -> str:
        final = self.out / file_name
        if overwrite:
            os.replace(self.temp, final)
        else:
            os.link(self.temp, final)  # FileExistsError when the name is taken: never replaces
            os.unlink(self.temp)
        side_temp = self.out / f".{sidecar_name}.{random_source.token_hex(4)}.mesbackup-partial"
        fd = os.open(side_temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(sidecar_json)
        os.replace(side_temp, self.out / sidecar_name)
        return str(final)

    def discard(self, keep_as: str | None) -> None:
        if not self.file.closed:
            self.file.close()
        if not self.temp.exists():
            return
        if keep_as:
            try:
                os.link(self.temp, self.out / keep_as)
            except OSError:
                pass
        os.unlink(self.temp)


def io_error(e: BaseException) -> Record:
    return rec(kind="io", message=str(e), guid=None)


def transport(phase: str, e: BaseException | str) -> Record:
    return rec(phase=phase, detail=str(e) or type(e).__name__)


class Driver:
    """Runs one job: performs its actions over HTTP and the file system, reports back, returns its outcome."""

    def __init__(
        self,
        comp: MesBackupComponent,
        out: Path,
        credentials: Any = None,
        on_event: Callable[[str, str], None] | None = None,
    ) -> None:
        self.comp = comp
        self.out = Path(out)
        self.credentials = credentials
        auth = comp.call("job", "authorize", credentials)
        self.authorization: str | None = auth.header
        self.secrets: list[str] = list(auth.secrets)
        self.on_event = on_event or (lambda name, json: None)
        self.conn: http.client.HTTPConnection | None = None
        self.response: http.client.HTTPResponse | None = None
        self.sink: FileSink | None = None

    def redact(self, text: str) -> str:
        return self.comp.call("job", "redact", text, self.secrets) if self.secrets else text

    def run(self, spec: Record) -> Any:
        self.comp.call("job", "check-transport", spec.env_url, self.credentials, False)
        job = Job(self.comp, self.comp.call("job", "[static]backup-job.create", spec, now_ms()))
        try:
            while True:
                while (event := job.poll_event()) is not None:
                    self.on_event(event.name, event.json)
                action = job.poll_action()
                if action is None:
                    return job.outcome()
                try:
                    self.perform(job, action)
                except KeyboardInterrupt:
                    job.cancel(now_ms())
        finally:
            self.close()
            if self.sink is not None:
                self.sink.discard(None)

    def close(self) -> None:
        # Closing drops an unread body: the server then sees the client go away (a small answer's rest).
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.response = None

    def perform(self, job: Job, action: Any) -> None:
        tag, arg = action.tag, action.payload
        if tag == "prepare":
            job.handle_prepare(self.prepare(), now_ms())
        elif tag == "send":
            self.send(job, arg)
        elif tag == "read-body":
            self.read_body(job, arg)
        elif tag == "receive":
            self.receive(job, arg)
        elif tag == "commit":
            job.handle_commit(self.commit(arg), now_ms())
        elif tag == "discard":
            if self.sink is not None:
                self.sink.discard(arg)
                self.sink = None
        elif tag == "sleep":
            time.sleep(max(0, arg - now_ms()) / 1000)
            job.handle_timeout(max(now_ms(), arg))
        else:
            raise AssertionError(f"unknown action {tag}")

    def prepare(self) -> Record | None:
        """The folder exists and takes a new file (a probe file, created and removed)."""
        try:
            probe = self.out / f".mesbackup-probe.{random_source.token_hex(4)}"
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            os.unlink(probe)
            return None
        except OSError as e:
            return io_error(e)

    def send(self, job: Job, request: Any) -> None:
        self.close()
        url = urllib.parse.urlsplit(request.url)
        timeout = request.timeout_ms / 1000
        conn_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        conn = conn_class(url.hostname or "", url.port, timeout=timeout)
        self.conn = conn
        try:
            conn.connect()
        except OSError as e:
            self.close()
            return job.handle_transport_error(transport("connect", e), now_ms())
        headers = {"Authorization": self.authorization} if self.authorization else {}
        path = url.path + (f"?{url.query}" if url.query else "")
        method = "POST" if request.method == "post" else "GET"
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
        except http.client.HTTPException as e:
            self.close()
            return job.handle_transport_error(transport("malformed", e), now_ms())
        except OSError as e:
            self.close()
            return job.handle_transport_error(transport("response", e), now_ms())
        self.response = response
        head = rec(status=response.status, headers=[(k, self.redact(v)) for k, v in response.getheaders()])
        job.handle_response(head, now_ms())

    def read_body(self, job: Job, limit: int) -> None:
        if self.response is None:
            return job.handle_body(b"", now_ms())
        try:
            body = self.response.read(limit)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return job.handle_transport_error(transport("body", e), now_ms())
        self.close()
        if self.secrets:
            text = body.decode("utf-8", "replace")
            clean = self.redact(text)
            if clean != text:
                body = clean.encode()
        job.handle_body(body, now_ms())

    def receive(self, job: Job, arg: Any) -> None:
        response, conn = self.response, self.conn
        if response is None or conn is None:
            return job.handle_received(Variant("transport", transport("body", "no response to read")), now_ms())
        try:
            self.sink = FileSink(self.out, arg.file_name)
        except OSError as e:
            self.close()
            return job.handle_received(Variant("sink", io_error(e)), now_ms())
        probe = self.comp.call("job", "[constructor]body-probe")
        received = 0
        while True:
            deadline = job.poll_timeout()
            # One read at a time, bounded by the job's nearest deadline (stall, low speed, total).
            if conn.sock is not None and deadline is not None:
                conn.sock.settimeout(max(0.001, (deadline - now_ms()) / 1000))
            try:
                chunk = response.read1(CHUNK)
            except (socket.timeout, TimeoutError):
                job.handle_timeout(now_ms())
                if not job.is_receiving():
                    return self.close()
                continue
            except (OSError, http.client.HTTPException) as e:
                self.close()
                return job.handle_received(Variant("transport", transport("body", e)), now_ms())
            if not chunk:
                break
            try:
                self.sink.file.write(chunk)
            except OSError as e:
                self.close()
                return job.handle_received(Variant("sink", io_error(e)), now_ms())
            self.comp.method("job", "body-probe", "update", probe, chunk)
            received += len(chunk)
            job.handle_progress(received, now_ms())
            if not job.is_receiving():
                return self.close()
        self.close()
        try:
            self.sink.finish()
        except OSError as e:
            return job.handle_received(Variant("sink", io_error(e)), now_ms())
        job.handle_received(self.comp.method("job", "body-probe", "finish", probe), now_ms())

    def commit(self, arg: Any) -> Any:
        if self.sink is None:
            return rec(kind="io", message="internal error: no open sink", guid=None)
        try:
            return self.sink.commit(arg.file_name, arg.overwrite, arg.sidecar_file_name, arg.sidecar_json)
        except FileExistsError:
            return None  # commit-failure `exists`: the job picks another name
        except OSError as e:
            return io_error(e)
