#!/usr/bin/env python3
"""The CLI side of the module's contract, checked with the real `mesbackup` binary and `mock-mes`.

Usage: cli_contract.py MESBACKUP MOCK_MES

The module never builds a command line anywhere but Get-MesCliArgumentList, and always in the same
shape: `<command> --json [--option value]... -- <operands>`, durations as `<n>ms`, the MES URL in
MES_URL and credentials in MES_TOKEN or MES_USER + MES_PAT. This runs that shape for every public
command (the argument lists below mirror what each command passes to the builder) and checks:
  - every option literal in Get-MesCliArgumentList is an option of some CLI command (from --help);
  - the CLI accepts each command line, exits with the code the module expects, and prints the
    events the module reads (started, saved, summary with results, failed with error and path, names,
    folder_report, staged, verified, inspected, backup_window), each valid against cli/events.schema.json;
  - credentials work from the environment alone, both kinds at once are refused (which is why the
    module removes the other kind from the child's environment), no credential makes the CLI fail
    instead of prompting when its standard input is a pipe, and no secret appears in any output;
  - SIGINT (what the module sends on Ctrl-C on Linux and macOS) cancels cleanly: exit 130, a
    `cancelled` failure carrying the GUID, no partial file left under a final name.
The schema validation of the CLI's output in every scenario is done by suite 20-cli
(cli/tests/scenarios.rs with cli/tests/validate_events.py) and is not repeated here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "powershell/MesBackup/Private/Get-MesCliArgumentList.ps1"
SCHEMA = json.loads((ROOT / "cli/events.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

TOKEN = "admin-token"
USER, PAT = "admin", "admin-pat"
G1 = "00000000-0000-4000-8000-000000000001"
G2 = "00000000-0000-4000-8000-000000000002"

failures: list[str] = []
checks = 0


def check(condition: bool, message: str) -> None:
    global checks
    checks += 1
    if not condition:
        failures.append(message)
        print(f"FAIL {message}")


class Mock:
    def __init__(self, path: str):
        self.proc = subprocess.Popen([path, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
        self.base = self.proc.stdout.readline().strip()
        if not self.base.startswith("http://"):
            raise SystemExit(f"mock-mes printed {self.base!r} instead of its base URL")

    def scenario(self, server: dict) -> None:
        req = urllib.request.Request(self.base + "/_mock/scenario", data=json.dumps(server).encode(), method="PUT")
        urllib.request.urlopen(req).read()

    def log(self) -> list:
        return json.loads(urllib.request.urlopen(self.base + "/_mock/log").read())

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
    env.update(extra)
    return env


def run(cli: str, args: list[str], env: dict, expect_code: int, label: str, cwd: str) -> list[dict]:
    """Runs the CLI as the module does (stdin a pipe, stdout/stderr captured); returns its events."""
    proc = subprocess.run([cli, *args], env=env, cwd=cwd, stdin=subprocess.PIPE, capture_output=True,
                          text=True, timeout=120)
    check(proc.returncode == expect_code,
          f"{label}: exit code {proc.returncode}, the module expects {expect_code}; stderr: {proc.stderr.strip()[:300]}")
    events = []
    for n, line in enumerate(proc.stdout.splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            check(False, f"{label}: stdout line {n} is not JSON: {line[:200]}")
            continue
        errors = list(VALIDATOR.iter_errors(event))
        check(not errors, f"{label}: event {n} does not match the schema: "
              f"{errors[0].message if errors else ''}: {line[:200]}")
        events.append(event)
    for secret in (TOKEN, PAT):
        check(secret not in proc.stdout and secret not in proc.stderr, f"{label}: a secret appears in the output")
    return events


def names_of(events: list[dict]) -> list[str]:
    return [e.get("event") for e in events]


def main() -> int:
    cli, mock_path = sys.argv[1], sys.argv[2]

    # 1. Every option the builder can emit exists in the CLI.
    builder = BUILDER.read_text(encoding="utf-8")
    options = sorted(set(re.findall(r"\$list\.Add\('(--[a-z-]+)'\)", builder)))
    commands = re.search(r"ValidateSet\(([^)]*)\)", builder).group(1)
    commands = re.findall(r"'([a-z-]+)'", commands)
    helps = {}
    for command in commands:
        proc = subprocess.run([cli, command, "--help"], capture_output=True, text=True)
        check(proc.returncode == 0, f"`mesbackup {command} --help` failed: the module uses command {command}")
        helps[command] = proc.stdout
    for option in options:
        if option == "--":
            continue
        check(any(re.search(rf"(^|\s){re.escape(option)}[\s,=]", h) for h in helps.values()),
              f"the module passes {option}, which no CLI command lists in --help")
    print(f"builder: {len(commands)} commands ({', '.join(commands)}) and {len(options)} options checked against --help")

    mock = Mock(mock_path)
    work = tempfile.mkdtemp(prefix="mesbackup-ps-contract-")
    try:
        out = str(Path(work) / "out")
        token_env = clean_env(MES_URL=mock.base, MES_TOKEN=TOKEN)
        basic_env = clean_env(MES_URL=mock.base, MES_USER=USER, MES_PAT=PAT)
        durations = ["--timeout", "60000ms", "--max-poll-delay", "200ms", "--stall-timeout", "30000ms"]

        # Backup-MesClickHouseDatabase -Database MESCDM -Path out -Timeout/-MaxPollDelay/-StallTimeout -RestartBudget 0
        mock.scenario({"pending_polls": 1})
        ev = run(cli, ["backup", "--json", "--out", out, *durations, "--restart-budget", "0",
                       "--sql-backup-finished", "2026-11-25T09:40:00.000Z", "--", "MESCDM"],
                 token_env, 0, "Backup-MesClickHouseDatabase -Database -SqlBackupFinished", work)
        check(names_of(ev)[0] == "started" and "saved" in names_of(ev) and names_of(ev)[-1] == "summary",
              f"Backup -Database: expected started ... saved ... summary, got {names_of(ev)}")
        saved = [e for e in ev if e.get("event") == "saved"]
        check(bool(saved) and Path(saved[0]["package"]["location"]).is_file(), "Backup: saved.package.location is not the file")

        # Test-MesClickHouseBackup: a sound package (with its sidecar), then a damaged one and a missing one
        package = saved[0]["package"]["location"] if saved else str(Path(out) / "MESCDM.zip")
        ev = run(cli, ["verify", "--json", "--", package], clean_env(), 0, "Test-MesClickHouseBackup (sound)", work)
        verified = [e for e in ev if e.get("event") == "verified"]
        check(len(verified) == 1 and verified[0]["path"] == package and verified[0]["report"]["ok"] is True
              and verified[0]["report"]["sha256"] == saved[0]["package"]["sha256"],
              f"verify: expected one ok report for {package} with the saved SHA-256, got {ev}")
        damaged = Path(work) / "damaged.zip"
        data = bytearray(Path(package).read_bytes())
        data[100:107] = b"garbage"
        damaged.write_bytes(bytes(data))
        missing = str(Path(work) / "missing-package.zip")
        ev = run(cli, ["verify", "--json", "--", str(damaged), package, missing], clean_env(), 11,
                 "Test-MesClickHouseBackup (damaged, sound, missing)", work)
        reports = {e["path"]: e["report"] for e in ev if e.get("event") == "verified"}
        fails = {e.get("path"): e["error"]["kind"] for e in ev if e.get("event") == "failed"}
        check(reports.get(str(damaged), {}).get("ok") is False and bool(reports[str(damaged)]["problems"])
              and reports.get(package, {}).get("ok") is True,
              f"verify: expected the damaged package not ok with problems and the sound one ok, got {reports}")
        check(fails == {str(damaged): "integrity", missing: "io"},
              f"verify: expected failed integrity (damaged) and io (missing) with their paths, got {fails}")

        # Get-MesClickHouseBackupInfo
        ev = run(cli, ["inspect", "--json", "--", package], clean_env(), 0, "Get-MesClickHouseBackupInfo", work)
        inspected = [e for e in ev if e.get("event") == "inspected"]
        tables = [t for e in inspected for d in e["inspection"]["databases"] for t in d["tables"]]
        check(len(inspected) == 1 and inspected[0]["verified"] is True and bool(tables)
              and all({"engine", "parts", "rows", "bytes"} <= set(t) for t in tables),
              f"inspect: expected one verified inspection with tables (engine, parts, rows, bytes), got {ev}")
        ev = run(cli, ["inspect", "--json", "--", str(damaged)], clean_env(), 11,
                 "Get-MesClickHouseBackupInfo (damaged)", work)
        check([e.get("event") for e in ev] == ["inspected", "failed"] and ev[0]["verified"] is False
              and ev[1]["error"]["kind"] == "integrity" and ev[1].get("path") == str(damaged),
              f"inspect of a damaged package: expected inspected (not verified), then failed integrity with the path; got {ev}")

        # Get-MesClickHouseBackupWindow (the sidecar recorded --sql-backup-finished)
        ev = run(cli, ["window", "--json", "--", out], clean_env(), 0, "Get-MesClickHouseBackupWindow", work)
        windows = [e for e in ev if e.get("event") == "backup_window"]
        check(len(windows) == 1 and windows[0].get("sql_backup_finished_at") == "2026-11-25T09:40:00.000Z"
              and windows[0].get("reprocess_from") == "2026-11-25T09:40:00.000Z"
              and windows[0].get("started_at") and windows[0].get("finished_at"),
              f"window: expected started/finished and the recorded SQL Server completion as reprocess_from, got {ev}")

        # Backup-MesClickHouseDatabase -System MES -InstallerName -Version 11.3.0 -SystemSpecific -Force
        mock.scenario({})
        ev = run(cli, ["backup", "--json", "--system", "MES", "--version", "11.3.0", "--system-specific",
                       "--installer-names", "--out", out, "--overwrite"], basic_env, 0,
                 "Backup-MesClickHouseDatabase -System -InstallerName", work)
        files = sorted(Path(e["package"]["location"]).name for e in ev if e.get("event") == "saved")
        check(files == sorted(f"MES.Cmf.ClickHouse.FullBackup.{k}.11.3.0.zip" for k in ("Online", "CDM", "ODS", "DWH")),
              f"Backup -System -InstallerName: saved {files}")

        # Start-MesClickHouseBackup -Database MESCDM, MESODS (then Save-MesClickHouseBackup of both GUIDs)
        mock.scenario({"pending_polls": 1})
        ev = run(cli, ["start", "--json", "--", "MESCDM", "MESODS"], basic_env, 0, "Start-MesClickHouseBackup", work)
        started = [e for e in ev if e.get("event") == "started"]
        check(len(started) == 2 and all(e.get("guid") and e.get("database") and "at_ms" in e for e in started),
              f"Start: expected two started events with guid, database, at_ms; got {ev}")
        guids = [e["guid"] for e in started]
        ev = run(cli, ["download", "--json", "--out", out, *durations, "--", *guids], token_env, 0,
                 "Save-MesClickHouseBackup (two GUIDs)", work)
        check(sorted(e["package"]["guid"] for e in ev if e.get("event") == "saved") == sorted(guids),
              f"Save: expected both GUIDs saved, got {names_of(ev)}")

        # Save-MesClickHouseBackup -NoWait on a pending job: exit 75, summary result "pending" with the GUID
        mock.scenario({"pending_polls": 5})
        ev = run(cli, ["start", "--json", "--", "MESDWH"], token_env, 0, "Start (for -NoWait)", work)
        ev = run(cli, ["download", "--json", "--no-wait", "--out", out, "--", G1], token_env, 75,
                 "Save-MesClickHouseBackup -NoWait (pending)", work)
        results = [r for e in ev if e.get("event") == "summary" for r in e.get("results", [])]
        check([(r.get("outcome"), r.get("guid")) for r in results] == [("pending", G1)],
              f"Save -NoWait: expected a pending result for {G1}, got {results}")
        check([r["method"] for r in mock.log()] == ["POST", "GET"], "Save -NoWait sent more than one GET")

        # Save-MesClickHouseBackup -FileName x.zip -Force of an unknown GUID: failed event with kind and GUID
        mock.scenario({})
        ev = run(cli, ["download", "--json", "--out", out, "--file-name", "x.zip", "--overwrite", "--", G2], token_env, 6,
                 "Save-MesClickHouseBackup (unknown GUID)", work)
        failed = [e for e in ev if e.get("event") == "failed"]
        check(bool(failed) and failed[0]["error"]["kind"] == "backup_not_found" and failed[0]["error"].get("guid") == G2,
              f"Save of an unknown GUID: expected failed backup_not_found with the GUID, got {failed}")

        # A rejected credential: failed event carrying the kind, the database, and a summary
        ev = run(cli, ["backup", "--json", "--out", out, "--", "MESCDM"],
                 clean_env(MES_URL=mock.base, MES_TOKEN="wrong-token-1234"), 3, "Backup with a wrong token", work)
        check(any(e.get("event") == "failed" and e["error"]["kind"] == "unauthorized" and e.get("database") == "MESCDM"
                  for e in ev), f"wrong token: expected failed unauthorized for MESCDM, got {ev}")

        # Both credential kinds in the environment are refused: the module must (and does) remove one.
        ev = run(cli, ["start", "--json", "--", "MESCDM"],
                 clean_env(MES_URL=mock.base, MES_TOKEN=TOKEN, MES_USER=USER, MES_PAT=PAT), 2,
                 "MES_TOKEN and MES_USER together", work)
        check(any(e.get("event") == "failed" and e["error"]["kind"] == "invalid_argument" for e in ev),
              "both credential kinds: expected invalid_argument")

        # No credential, standard input a pipe (as the module runs it): an error, never a prompt.
        ev = run(cli, ["start", "--json", "--", "MESCDM"], clean_env(MES_URL=mock.base), 2,
                 "no credentials, stdin a pipe", work)
        check(any(e.get("event") == "failed" and e["error"]["kind"] == "invalid_argument" for e in ev),
              "no credentials: expected invalid_argument")

        # Get-MesClickHouseBackupName -System MES -Version 11.3.0 (no credentials in the environment)
        ev = run(cli, ["names", "--json", "--system", "MES", "--version", "11.3.0"], clean_env(), 0,
                 "Get-MesClickHouseBackupName", work)
        packages = [p for e in ev if e.get("event") == "names" for p in e.get("packages", [])]
        check(len(packages) == 4 and all({"kind", "database", "generic", "system_specific"} <= set(p) for p in packages),
              f"names: expected four packages with kind, database, generic, system_specific; got {packages}")

        # Copy-MesClickHouseBackupToInstaller -Destination d -System MES -Version 11.3.0 -Move -Force
        staging = Path(work) / "custom"
        staging.mkdir()
        sources = sorted(str(p) for p in Path(out).glob("MES.Cmf.*.zip"))
        ev = run(cli, ["stage", "--json", "--into", str(staging), "--system", "MES", "--version", "11.3.0",
                       "--move", "--force", "--", *sources], clean_env(), 0, "Copy-MesClickHouseBackupToInstaller -Move", work)
        staged = [e for e in ev if e.get("event") == "staged"]
        check(len(staged) == 4 and all(Path(e["target"]).is_file() for e in staged),
              f"stage: expected four staged packages, got {names_of(ev)}")
        ev = run(cli, ["stage", "--json", "--into", str(staging), "--system", "MES", "--version", "11.3.0", "--",
                       str(Path(work) / "missing.zip")], clean_env(), 12, "stage of a missing file (io)", work)
        check(any(e.get("event") == "failed" for e in ev), "stage of a missing file: expected a failed event")

        # Test-MesClickHouseBackupFolder: complete (exit 0), then a near miss (exit 20, an answer, not an error)
        ev = run(cli, ["check-folder", "--json", "--system", "MES", "--version", "11.3.0", "--", str(staging)],
                 clean_env(), 0, "Test-MesClickHouseBackupFolder (complete)", work)
        check(any(e.get("event") == "folder_report" and e.get("complete") is True for e in ev), "check-folder: expected complete")
        (staging / "Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip").write_bytes(b"x")
        ev = run(cli, ["check-folder", "--json", "--system", "MES", "--version", "11.3.0", "--", str(staging)],
                 clean_env(), 20, "Test-MesClickHouseBackupFolder (near miss)", work)
        reports = [e for e in ev if e.get("event") == "folder_report"]
        check(bool(reports) and len(reports[0]["report"]["near_misses"]) == 1, "check-folder: expected one near miss")

        # Ctrl-C in PowerShell: the module sends SIGINT (Unix) and the CLI must cancel cleanly.
        if hasattr(signal, "SIGINT") and os.name == "posix":
            mock.scenario({"pending_polls": 1000000})
            cancel_out = Path(work) / "cancel"
            proc = subprocess.Popen([cli, "backup", "--json", "--out", str(cancel_out), "--max-poll-delay", "200ms",
                                     "--", "MESCDM"], env=token_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            first = proc.stdout.readline()
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            try:
                rest, _ = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                rest = ""
            events = [json.loads(line) for line in (first + rest).splitlines() if line.strip()]
            check(proc.returncode == 130, f"SIGINT: exit code {proc.returncode}, expected 130")
            check(any(e.get("event") == "failed" and e["error"]["kind"] == "cancelled" and e["error"].get("guid") == G1
                      for e in events), f"SIGINT: expected a cancelled failure carrying {G1}, got {events}")
            leftovers = [p.name for p in cancel_out.glob("*.zip")] if cancel_out.exists() else []
            check(not leftovers, f"SIGINT: files left under a final name: {leftovers}")
            for e in events:
                check(not list(VALIDATOR.iter_errors(e)), f"SIGINT: event does not match the schema: {e}")
    finally:
        mock.stop()
    print(f"cli contract: {checks - len(failures)} checks passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
