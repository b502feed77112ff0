"""The component's verify, naming, polling and job surfaces from Python, each compared with the native
front end (the `mesbackup` CLI's --json answers) on the same inputs, and with the fixtures' expectations."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mesbackup_component import ComponentError, MesBackupComponent, fast_bytes, now_ms, rec, verify_file

from conftest import REPO, cli_json

FIXTURES = REPO / "tests" / "fixtures" / "clickhouse"
PACKAGES = ["mesfix_stored.zip", "mesfix_deflated.zip"]


def report_dict(r: Any) -> dict[str, Any]:
    """The component's verify-report in the CLI's JSON shape (problems in their full serde form)."""
    m = r.manifest
    return {
        "ok": r.ok,
        "bytes": r.bytes,
        "entries": r.entries,
        "backup_root": r.backup_root,
        "manifest": None
        if m is None
        else {k: getattr(m, k) for k in ("path", "version", "timestamp", "uuid", "files", "bytes")},
        "files_checked": r.files_checked,
        "part_files_checked": r.part_files_checked,
        "parts_checked": r.parts_checked,
        "sha256": r.sha256,
        "problems": [json.loads(p.json) for p in r.problems],
        "notes": list(r.notes),
    }


def native_report(cli: Path, path: Path) -> dict[str, Any]:
    events = [e for e in cli_json(cli, "verify", str(path)) if e.get("event") == "verified"]
    assert len(events) == 1, events
    report: dict[str, Any] = events[0]["report"]
    return report


@pytest.mark.parametrize("name", PACKAGES)
def test_real_engine_fixtures_verify_as_the_cli_does(name: str, comp: MesBackupComponent, cli: Path) -> None:
    result = verify_file(comp, FIXTURES / name)
    r = result.report
    assert r.ok and r.problems == [] and r.error is None
    assert r.files_checked > 0 and r.parts_checked > 0 and len(r.sha256) == 64
    assert report_dict(r) == native_report(cli, FIXTURES / name)


def plain(value: Any) -> Any:
    """A lifted WIT value as JSON-like data with the core's serde field names (snake_case)."""
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k.replace("-", "_"): plain(v) for k, v in vars(value).items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


@pytest.mark.parametrize("name", PACKAGES)
def test_real_engine_fixtures_inspect_as_the_cli_does(name: str, comp: MesBackupComponent, cli: Path) -> None:
    exp = json.loads((FIXTURES / "expected.json").read_text())
    info = verify_file(comp, FIXTURES / name).inspection
    assert [d.name for d in info.databases] == [exp["database"]]
    assert info.databases[0].engine == exp["engine"]
    assert info.backup_root == exp["packages"][name]["backup_root"]
    tables = {t.name: t for t in info.databases[0].tables}
    assert set(tables) == set(exp["tables"])
    for tname, t in exp["tables"].items():
        got = tables[tname]
        assert (got.engine_name, got.parts, got.rows) == (t["engine"], t.get("parts", 0), t.get("rows", 0)), tname
    assert info.rows == sum(t.get("rows", 0) for t in exp["tables"].values())
    assert set(exp["explicit_storage_policies"]) <= set(info.storage_policies)
    (event,) = [e for e in cli_json(cli, "inspect", str(FIXTURES / name)) if e.get("event") == "inspected"]
    assert plain(info) == event["inspection"]


def test_flipped_byte_is_named_like_the_cli_names_it(comp: MesBackupComponent, cli: Path, tmp_path: Path) -> None:
    src = FIXTURES / "mesfix_stored.zip"
    with zipfile.ZipFile(src) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(".bin") and i.file_size > 16)
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(src.read_bytes())
    data[offset + info.file_size // 2] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    r = verify_file(comp, bad).report
    assert not r.ok and r.error is not None and r.error.kind == "integrity"
    assert any(p.file is not None and info.filename.endswith(p.file.split(" ")[0]) for p in r.problems), r.problems
    assert report_dict(r) == native_report(cli, bad)


def test_expected_sha256_mismatch(comp: MesBackupComponent) -> None:
    r = verify_file(comp, FIXTURES / "mesfix_deflated.zip", expected_sha256="0" * 64).report
    assert not r.ok and [p.kind for p in r.problems] == ["sha256_mismatch"]
    with pytest.raises(ComponentError) as e:
        comp.call("verify", "[static]verifier.create", "xyz")
    assert e.value.kind == "invalid_argument"


def test_truncated_package(comp: MesBackupComponent, tmp_path: Path) -> None:
    data = (FIXTURES / "mesfix_deflated.zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) * 2 // 3])
    r = verify_file(comp, cut).report
    assert not r.ok and any(p.kind in ("truncated", "corrupt", "missing") for p in r.problems), r.problems


def test_hostile_packages_are_never_ok(comp: MesBackupComponent, cli: Path, tmp_path: Path) -> None:
    out = tmp_path / "hostile"
    gen = REPO / "tests" / "fixtures" / "hostile" / "make_hostile.py"
    subprocess.run([sys.executable, str(gen), str(out), str(tmp_path / "escape")], check=True, capture_output=True)
    cases = json.loads((out / "cases.json").read_text())
    assert len(cases) >= 10
    for c in cases:
        r = verify_file(comp, c["file"]).report
        assert not r.ok, c["case"]
        assert c["problem"] in [p.kind for p in r.problems], c["case"]
        assert report_dict(r) == native_report(cli, Path(c["file"])), c["case"]
        assert not any(Path(p).exists() for p in c["canaries"])


def test_names_as_the_cli_gives_them(comp: MesBackupComponent, cli: Path) -> None:
    (event,) = cli_json(cli, "names", "--system", "MES", "--version", "11.3.0")
    dbs = comp.call("naming", "system-databases", "MES")
    assert [d.database for d in dbs] == [p["database"] for p in event["packages"]]
    for d, p in zip(dbs, event["packages"]):
        assert comp.call("naming", "installer-name-for-database", d.database, "11.3.0", False) == p["system_specific"]
        assert comp.call("naming", "installer-name-for-database", d.database, "11.3.0", True) == p["generic"]
        assert comp.call("naming", "installer-package-name", d.kind, "11.3.0", None) == p["generic"]
    parsed = comp.call("naming", "parse-database-name", "MESCDM", None)
    assert (parsed.system, parsed.kind) == ("MES", "cdm")
    with pytest.raises(ComponentError) as e:
        comp.call("naming", "system-databases", "bad name!")
    assert e.value.kind == "invalid_argument" and "bad name!" in e.value.message


def test_package_names_are_explained(comp: MesBackupComponent) -> None:
    ok = comp.call("naming", "parse-package-name", "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip")
    assert (ok.system, ok.kind, ok.version) == ("MES", "cdm", "11.3.0")
    with pytest.raises(ComponentError) as e:
        comp.call("naming", "parse-package-name", "Cmf.ClickHouse.FullBackup.ODS.11.3.0 (1).zip")
    assert "Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip" in e.value.message


def test_folder_check_as_the_cli_does(comp: MesBackupComponent, cli: Path, tmp_path: Path) -> None:
    names = [
        "MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.ODS.11.3.0 (1).zip",
        "Cmf.ClickHouse.FullBackup.DWH.11.2.0.zip",
        "mes.cmf.clickhouse.fullbackup.online.11.3.0.zip",
        "notes.txt",
    ]
    for n in names:
        (tmp_path / n).write_bytes(b"")
    (event,) = cli_json(cli, "check-folder", str(tmp_path), "--system", "MES", "--version", "11.3.0")
    native = event["report"]
    r = comp.call("naming", "check-folder", names, "MES", "11.3.0")
    kind = {"online": "Online", "cdm": "CDM", "ods": "ODS", "dwh": "DWH"}
    assert r.complete == event["complete"]
    assert [kind[k] for k in r.missing] == native["missing"]
    assert [
        {
            "kind": kind[k.kind],
            "chosen": k.chosen,
            "system_specific": k.system_specific,
            "also_present_but_shadowed": k.also_present_but_shadowed,
            "expected_names": list(k.expected_names),
        }
        for k in r.kinds
    ] == native["kinds"]
    assert [{"file": i.file, "reason": i.reason, "message": i.message} for i in r.ignored] == native["ignored"]
    assert [
        {"file": n.file, "reason": n.reason, "message": n.message, "expected": n.expected} for n in r.near_misses
    ] == native["near_misses"]
    assert r.near_misses and r.ignored, "the listing exercises both"


def test_every_error_kind_has_its_code(comp: MesBackupComponent) -> None:
    codes = [
        "invalid_argument",
        "unauthorized",
        "forbidden",
        "invalid_database",
        "backup_not_found",
        "server_error",
        "unexpected_response",
        "timeout",
        "download_lost",
        "integrity",
        "io",
        "network",
        "cancelled",
        "internal",
    ]
    assert [comp.call("types", "kind-code", c.replace("_", "-")) for c in codes] == codes
    assert comp.call("types", "tool-version").startswith("mesbackup/")


def test_polling_policy(comp: MesBackupComponent) -> None:
    p = comp.call("polling", "default-policy")
    assert (p.min_delay_ms, p.max_delay_ms) == (1000, 1_800_000)
    # 10 % of the time waited, jitter only shortening it, Retry-After honoured up to the maximum.
    hour = 3_600_000
    delays = [comp.call("polling", "pending-delay", p, hour, seed, None) for seed in (0, 1 << 62, (1 << 64) - 1)]
    assert all(hour // 10 * 0.79 <= d <= hour // 10 for d in delays), delays
    assert comp.call("polling", "pending-delay", p, 0, 0, 5000) >= 5000
    assert comp.call("polling", "parse-retry-after", "2", 0) == 2000
    p.min_delay_ms = 0
    with pytest.raises(ComponentError):
        comp.call("polling", "validate", p)


def job_spec(comp: MesBackupComponent, mode: str, database: str | None, guid: str | None) -> Any:
    return rec(
        mode=mode,
        env_url="https://mes.example.com",
        database=database,
        guid=guid,
        policy=None,
        restart_budget=0,
        file_name=None,
        overwrite=False,
        jitter_seed=1,
        sql_backup_finished_at=None,
        download_limits=None,
    )


def test_job_runs_on_a_virtual_clock_and_resumes_from_its_saved_state(comp: MesBackupComponent) -> None:
    """No server: the host plays the MES, time is a parameter, the job is saved and resumed mid-wait."""
    job = comp.call("job", "[static]backup-job.create", job_spec(comp, "backup", "MESCDM", None), 0)

    def m(name: str, *args: Any) -> Any:
        return comp.method("job", "backup-job", name, job, *args)

    assert m("poll-action").tag == "prepare"
    m("handle-prepare", None, 0)
    send = m("poll-action")
    assert send.tag == "send" and send.payload.method == "post"
    assert send.payload.url == "https://mes.example.com/environment/clickhouse/backup/MESCDM"
    m("handle-response", rec(status=202, headers=[]), 10)
    assert m("poll-action").tag == "read-body"
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    m("handle-body", guid.encode(), 20)
    events = []
    while (e := m("poll-event")) is not None:
        events.append((e.name, json.loads(e.json)))
    assert events[0][0] == "started" and events[0][1]["guid"] == guid
    sleep = m("poll-action")
    assert sleep.tag == "sleep" and sleep.payload >= 20
    saved = m("save")
    resumed = comp.call("job", "[static]backup-job.resume", saved)
    assert comp.method("job", "backup-job", "guid", resumed) == guid
    assert comp.method("job", "backup-job", "phase", resumed) == "waiting"
    spec = comp.method("job", "backup-job", "resume-spec", resumed)
    assert spec.mode == "download" and spec.guid == guid
    comp.method("job", "backup-job", "cancel", resumed, now_ms())
    outcome = comp.method("job", "backup-job", "outcome", resumed)
    assert outcome.tag == "failed" and outcome.payload.kind == "cancelled" and outcome.payload.guid == guid
    with pytest.raises(ComponentError) as e:
        comp.call("job", "[static]backup-job.resume", "{}")
    assert e.value.kind == "invalid_argument"


def test_job_spec_is_checked(comp: MesBackupComponent) -> None:
    with pytest.raises(ComponentError) as e:
        comp.call("job", "[static]backup-job.create", job_spec(comp, "download", None, None), 0)
    assert e.value.kind == "invalid_argument" and "GUID" in e.value.message
    with pytest.raises(ComponentError) as e:
        comp.call("job", "[static]backup-job.create", job_spec(comp, "backup", "bad db", None), 0)
    assert e.value.kind == "invalid_argument"


def test_credentials_rules_are_the_cores(comp: MesBackupComponent) -> None:
    a = comp.call("job", "authorize", ("jörg", "pässwörd-✓-ü"))
    assert a.header.startswith("Basic ") and "pässwörd-✓-ü" in a.secrets
    assert comp.call("job", "authorize", "Bearer tok-123456").header == "Bearer tok-123456"
    assert comp.call("job", "authorize", None).header is None
    with pytest.raises(ComponentError) as e:
        comp.call("job", "check-transport", "http://mes.example.com", "tok-123456", False)
    assert e.value.kind == "invalid_argument" and "tok-123456" not in e.value.message
    comp.call("job", "check-transport", "http://127.0.0.1:1", "tok-123456", False)
    assert comp.call("job", "redact", "echo tok-123456!", ["tok-123456"]) == "echo <redacted>!"


def test_fast_bytes_lowering_feeds_the_same_bytes(comp: MesBackupComponent, tmp_path: Path) -> None:
    """The host's fast list<u8> lowering gives the component exactly what wasmtime-py's own does."""
    odd = tmp_path / "odd.bin"
    odd.write_bytes(bytes(range(256)) * 300 + b"\x00\xff")  # every byte value, a length that is no multiple
    results = {}
    for enabled in (False, True):
        fast_bytes(enabled)
        try:
            results[enabled] = [
                plain(verify_file(comp, path).report) for path in (FIXTURES / "mesfix_deflated.zip", odd)
            ]
        finally:
            fast_bytes(True)
    assert results[True] == results[False]
    assert results[True][0]["ok"] and results[True][1]["bytes"] == 256 * 300 + 2
    assert results[True][1]["sha256"] == hashlib.sha256(odd.read_bytes()).hexdigest()
