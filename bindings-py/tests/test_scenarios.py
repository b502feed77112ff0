"""Every tests/scenarios/*.json through the Python API against mock-mes, asserting exactly what the
Rust runner (tests/runner-rust) asserts: outcome, GUID, the exact set of files left in the output
folder (hidden ones included) with sizes and SHA-256, the requests the mock saw, and peak memory."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mesbackup

from conftest import SCENARIOS, Mock

FILES = sorted(SCENARIOS.glob("*.json"))


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 30


class StepResult:
    def __init__(self, outcome: str, guid: str | None = None, message: str = "") -> None:
        self.outcome = outcome
        self.guid = guid
        self.message = message
        self.rss_growth_mib: int | None = None


def failed(e: mesbackup.MesBackupError) -> StepResult:
    return StepResult(e.kind, e.guid, e.message)


def client_for(step: dict[str, Any], env: str) -> mesbackup.Client:
    auth = step.get("auth") or {}
    o = step.get("options") or {}
    min_ms = o.get("min_poll_ms", 10)
    return mesbackup.Client(
        env,
        token=auth.get("token"),
        user=auth.get("user"),
        pat=auth.get("pat"),
        no_auth=not auth,
        min_poll_delay=min_ms / 1000,
        max_poll_delay=max(o.get("max_poll_ms", 200), min_ms) / 1000,
        retry_delay=min_ms / 1000,
        timeout=o.get("timeout_ms", 30_000) / 1000,
        stall_timeout=o.get("stall_timeout_ms", 10_000) / 1000,
        request_timeout=10.0,
        restart_budget=o.get("restart_budget") or 0,
        speed_limit=o.get("speed_limit"),
        speed_time=o["speed_time_ms"] / 1000 if o.get("speed_time_ms") is not None else None,
        download_timeout=o["download_timeout_ms"] / 1000 if o.get("download_timeout_ms") is not None else None,
        max_size=o.get("max_size"),
    )


# Peak resident memory of this process (Linux): reset the high-water mark, read VmHWM.
def rss_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_peak_kib() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_step(step: dict[str, Any], env: str, previous_guid: str | None, out: Path) -> StepResult:
    try:
        client = client_for(step, env)
    except mesbackup.MesBackupError as e:
        return failed(e)
    guid = step.get("guid")
    if guid == "$guid":
        guid = previous_guid
    o = step.get("options") or {}
    op = step["op"]
    before = rss_peak_kib() if rss_reset() else None
    try:
        if op == "backup_system":
            results = client.backup_system(step.get("system") or "MES", out, return_exceptions=True)
            # The first failure decides the step's outcome; all four must succeed for "ok".
            errors = [r for r in results if isinstance(r, mesbackup.MesBackupError)]
            assert all(isinstance(r, (mesbackup.Package, mesbackup.MesBackupError)) for r in results)
            result = failed(errors[0]) if errors else StepResult("ok")
        elif op == "backup":
            pkg = client.backup(step["database"], out, file_name=o.get("file_name"), overwrite=bool(o.get("overwrite")))
            result = StepResult("ok", pkg.guid)
        elif op == "start":
            job = client.start(step["database"])
            result = StepResult("ok", job.guid)
        elif op == "download":
            pkg = client.download(guid or "", out, file_name=o.get("file_name"), overwrite=bool(o.get("overwrite")))
            result = StepResult("ok", pkg.guid)
        elif op == "download_if_ready":
            maybe = client.download_if_ready(
                guid or "", out, file_name=o.get("file_name"), overwrite=bool(o.get("overwrite"))
            )
            result = StepResult("pending", guid) if maybe is None else StepResult("ok", maybe.guid)
        else:
            result = StepResult(f"unknown op {op}")
    except mesbackup.MesBackupError as e:
        result = failed(e)
    after = rss_peak_kib()
    if before is not None and after is not None:
        result.rss_growth_mib = max(0, after - before) // 1024
    return result


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


def dir_listing(out: Path) -> dict[str, tuple[int, str]]:
    return {e.name: (e.stat().st_size, sha256_file(e)) for e in out.iterdir()}


def check_step(step: dict[str, Any], result: StepResult, out: Path) -> list[str]:
    problems = []
    e = step["expect"]
    if result.outcome != e["outcome"]:
        problems.append(f"outcome: expected {e['outcome']}, got {result.outcome} ({result.message})")
    if e.get("guid") is not None and result.guid != e["guid"]:
        problems.append(f"guid: expected {e['guid']}, got {result.guid!r}")
    for part in e.get("message_contains") or []:
        if part not in result.message:
            problems.append(f"message: expected it to contain {part!r}, got {result.message!r}")
    files = e.get("files")
    if files is not None:
        listing = dir_listing(out)
        if sorted(files) != sorted(listing):
            problems.append(f"files: expected {sorted(files)}, got {sorted(listing)}")
        for name, fe in files.items():
            if name in listing:
                size, sha = listing[name]
                if fe.get("size") is not None and fe["size"] != size:
                    problems.append(f"{name}: size expected {fe['size']}, got {size}")
                if fe.get("sha256") is not None and fe["sha256"] != sha:
                    problems.append(f"{name}: sha256 expected {fe['sha256']}, got {sha}")
    limit = e.get("max_rss_growth_mib")
    if limit is not None and result.rss_growth_mib is not None and result.rss_growth_mib > limit:
        problems.append(f"memory: peak grew by {result.rss_growth_mib} MiB, limit {limit} MiB")
    return problems


def same(a: Any, b: Any) -> bool:
    """JSON equality as serde_json::Value compares (true is not 1)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def check_requests(expect: dict[str, Any], log: list[dict[str, Any]]) -> list[str]:
    problems = []
    summary = [f"{r.get('method')} {r.get('path')} {r.get('status')} {r.get('host')}" for r in log]
    exact = expect.get("exact")
    if exact is not None:
        if len(exact) != len(log):
            problems.append(f"requests: expected {len(exact)} entries, got {len(log)}: {summary}")
        for i, (want, got) in enumerate(zip(exact, log)):
            for field, value in want.items():
                if not same(got.get(field), value):
                    problems.append(f"request #{i} {field}: expected {value!r}, got {got.get(field)!r} ({summary})")
    for key, want in (expect.get("counts") or {}).items():
        count = sum(1 for r in log if f"{r.get('method') or ''} {json.dumps(r.get('status'))}" == key)
        if count != want:
            problems.append(f'requests "{key}": expected {want}, got {count} ({summary})')
    gap = expect.get("min_gap_ms_between_gets")
    if gap is not None:
        times = [r["at_ms"] for r in log if r.get("method") == "GET" and isinstance(r.get("at_ms"), int)]
        for a, b in zip(times, times[1:]):
            if b - a < gap:
                problems.append(f"GETs {b - a} ms apart, expected at least {gap} ms")
    return problems


@contextlib.contextmanager
def out_dir_mode(step: dict[str, Any], out: Path) -> Iterator[None]:
    """`"out_dir": "read_only"`: the folder takes no new file during the step (chattr +i: the suites
    run as root, where permissions do not stop writes). Never skipped: failing to set it fails."""
    mode = step.get("out_dir")
    if mode is None:
        yield
        return
    assert mode == "read_only", f"unknown out_dir {mode!r}"
    done = subprocess.run(["chattr", "+i", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, (
        f"cannot make {out} read-only with chattr +i (needs Linux, root and a file system with attributes): "
        f"{done.stderr.strip()}"
    )
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=False)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(path: Path, mock: Mock, tmp_path: Path) -> None:
    scenario = json.loads(path.read_text(encoding="utf-8"))
    server = scenario.get("server") or {}
    mock.load(server)
    prefix = server.get("path_prefix", "")
    out = tmp_path / "out"
    out.mkdir()
    problems: list[str] = []
    previous_guid: str | None = None
    for i, step in enumerate(scenario["steps"]):
        env = f"{mock.base}{prefix}{step.get('env_suffix', '')}"
        for name, text in (step.get("existing_files") or {}).items():
            (out / name).write_text(text, encoding="utf-8")
        with out_dir_mode(step, out):
            result = run_step(step, env, previous_guid, out)
        problems += [f"step {i} ({step['op']}): {p}" for p in check_step(step, result, out)]
        if result.guid is not None:
            previous_guid = result.guid
    if scenario.get("expect_requests") is not None:
        problems += check_requests(scenario["expect_requests"], mock.log())
    assert not problems, scenario["description"] + "\n  " + "\n  ".join(problems)
