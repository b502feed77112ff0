"""Scenario files (tests/scenarios) through the component driven by the Python host against mock-mes.

The host does HTTP (http.client), files and the clock; the component's job decides everything else.
The checks are the Python runner's (bindings-py/tests/test_scenarios.py): outcome, GUID, message
parts, the exact set of files left in the output folder with sizes and SHA-256, the requests the
mock saw. SUBSET names the scenarios this host runs; NOT_RUN says why each other one is left out,
and a test keeps the two lists covering every file, so a new scenario must be placed in one of them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from mesbackup_component import ComponentError, Driver, MesBackupComponent, rec

from conftest import REPO, Mock

SCENARIOS = REPO / "tests" / "scenarios"

SUBSET = [
    "happy-path-bearer",
    "happy-path-basic",
    "non-ascii-pat",
    "bearer-prefix-tolerated",
    "env-prefix-trailing-slash",
    "installer-name",
    "retry-after-seconds",
    "retry-after-http-date",
    "pending-as-204",
    "transient-503-then-success",
    "post-400-invalid-database",
    "unauthorized-401",
    "unauthorized-wrong-pat",
    "forbidden-403",
    "post-500",
    "persistent-500",
    "get-400-unknown-guid",
    "truncated-stream",
    "reset-mid-stream",
    "restart-budget-after-lost-stream",
    "not-a-zip-200",
    "content-length-over-max-size",
    "chunked-over-max-size",
    "path-traversal-filename",
    "backslash-filename",
    "nul-in-filename",
    "control-chars-in-filename",
    "windows-reserved-filename",
    "filename-star",
    "no-content-disposition",
    "long-name-clash",
    "guid-body-bom",
    "guid-body-braces",
    "guid-body-garbage",
    "guid-body-json",
    "guid-body-whitespace",
    "start-then-download",
    "second-get-after-success",
    "download-if-ready-pending",
    "download-if-ready-ready",
    "post-redirect-refused",
]

NOT_RUN = {
    "four-databases-at-once": "backup_system runs four jobs concurrently: a front-end feature, not the core's",
    "large-download-1gib": "1 GiB through wasmtime-py's element-by-element list<u8> lowering takes many minutes",
    "cross-host-redirect": "following a GET redirect without the credentials is the HTTP layer's, not the job's",
    "oversized-header-not-retried": "http.client's header limits differ from hyper's and Node's",
    "read-only-folder-before-post": "chattr +i needs a file system with attributes; the native runners cover it",
    "read-only-folder-download-by-guid": "chattr +i needs a file system with attributes; the native runners cover it",
    "deadline-exceeded": "timing-bound (a 30 s class wait); the job's deadline rule is unit-tested in core",
    "download-timeout-fires": "timing-bound; the guard is the core's, unit-tested there",
    "low-speed-drip-abandoned": "timing-bound (drip over seconds)",
    "slow-drip-completes": "timing-bound (drip over seconds)",
    "slow-drip-stall": "timing-bound (stall over seconds)",
    "speed-above-limit-completes": "timing-bound",
}


def test_every_scenario_is_placed() -> None:
    files = {p.stem for p in SCENARIOS.glob("*.json")}
    assert set(SUBSET) <= files, set(SUBSET) - files
    assert set(SUBSET) | set(NOT_RUN) == files, files ^ (set(SUBSET) | set(NOT_RUN))
    assert not set(SUBSET) & set(NOT_RUN)


class StepResult:
    def __init__(self, outcome: str, guid: str | None = None, message: str = "") -> None:
        self.outcome = outcome
        self.guid = guid
        self.message = message


def spec_for(comp: MesBackupComponent, step: dict[str, Any], env: str, mode: str, guid: str | None) -> Any:
    """The step's options as a job-spec, with the runners' fast defaults (10 ms polls, 30 s deadline, 10 s stall)."""
    o = step.get("options") or {}
    min_ms = o.get("min_poll_ms", 10)
    policy = comp.call("polling", "default-policy")
    policy.min_delay_ms = min_ms
    policy.max_delay_ms = max(o.get("max_poll_ms", 200), min_ms)
    policy.retry_base_ms = min_ms
    policy.timeout_ms = o.get("timeout_ms", 30_000)
    policy.stall_timeout_ms = o.get("stall_timeout_ms", 10_000)
    policy.request_timeout_ms = 10_000
    limits = comp.call("job", "default-limits")
    for field in ("speed_limit", "speed_time_ms", "download_timeout_ms", "max_size"):
        if o.get(field) is not None:
            setattr(limits, field, o[field])
    return rec(
        mode=mode,
        env_url=env,
        database=step.get("database"),
        guid=guid,
        policy=policy,
        restart_budget=o.get("restart_budget") or 0,
        file_name=o.get("file_name"),
        overwrite=bool(o.get("overwrite")),
        jitter_seed=7,
        sql_backup_finished_at=None,
        download_limits=limits,
    )


def credentials(step: dict[str, Any]) -> Any:
    auth = step.get("auth") or {}
    if auth.get("token") is not None:
        return auth["token"]  # variant `token(string)`: the payload's class picks the case
    if auth.get("user") is not None:
        return (auth["user"], auth.get("pat") or "")
    return None


MODES = {"backup": "backup", "start": "start-only", "download": "download", "download_if_ready": "download-if-ready"}


def run_step(comp: MesBackupComponent, step: dict[str, Any], env: str, previous: str | None, out: Path) -> StepResult:
    guid = previous if step.get("guid") == "$guid" else step.get("guid")
    op = step["op"]
    if op not in MODES:
        return StepResult(f"unknown op {op}")
    try:
        driver = Driver(comp, out, credentials(step))
        outcome = driver.run(spec_for(comp, step, env, MODES[op], guid))
    except ComponentError as e:
        return StepResult(e.kind, e.guid, e.message)
    tag, value = outcome.tag, outcome.payload
    if tag == "failed":
        return StepResult(comp.call("types", "kind-code", value.kind), value.guid, value.message)
    if tag == "pending":
        return StepResult("pending", value)
    return StepResult("ok", value.guid)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
        listing = {p.name: (p.stat().st_size, sha256_file(p)) for p in out.iterdir()}
        if sorted(files) != sorted(listing):
            problems.append(f"files: expected {sorted(files)}, got {sorted(listing)}")
        for name, fe in files.items():
            if name in listing:
                size, sha = listing[name]
                if fe.get("size") is not None and fe["size"] != size:
                    problems.append(f"{name}: size expected {fe['size']}, got {size}")
                if fe.get("sha256") is not None and fe["sha256"] != sha:
                    problems.append(f"{name}: sha256 expected {fe['sha256']}, got {sha}")
    return problems


def same(a: Any, b: Any) -> bool:
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


@pytest.mark.parametrize("name", SUBSET)
def test_scenario(name: str, comp: MesBackupComponent, mock: Mock, tmp_path: Path) -> None:
    scenario = json.loads((SCENARIOS / f"{name}.json").read_text(encoding="utf-8"))
    server = scenario.get("server") or {}
    mock.load(server)
    prefix = server.get("path_prefix", "")
    out = tmp_path / "out"
    out.mkdir()
    problems: list[str] = []
    previous: str | None = None
    for i, step in enumerate(scenario["steps"]):
        assert step.get("out_dir") is None, "this host does not arrange out_dir modes: keep the scenario in NOT_RUN"
        env = f"{mock.base}{prefix}{step.get('env_suffix', '')}"
        for fname, text in (step.get("existing_files") or {}).items():
            (out / fname).write_text(text, encoding="utf-8")
        result = run_step(comp, step, env, previous, out)
        problems += [f"step {i} ({step['op']}): {p}" for p in check_step(step, result, out)]
        if result.guid is not None:
            previous = result.guid
    if scenario.get("expect_requests") is not None:
        problems += check_requests(scenario["expect_requests"], mock.log())
    assert not problems, scenario["description"] + "\n  " + "\n  ".join(problems)
