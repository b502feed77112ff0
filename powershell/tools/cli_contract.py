#!/usr/bin/env python3
"""The CLI side of the module's contract, checked with the real `mesbackup` binary and `mock-mes`.

Usage: cli_contract.py MESBACKUP MOCK_MES CHDB_PYTHON

CHDB_PYTHON is a Python with chdb-core (scripts/lib.sh: ensure_chdb_venv); it runs
tests/chdb-http/server.py, a thin ClickHouse HTTP front over a real in-process ClickHouse engine, for
the restore commands.

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
  - run (Invoke-MesBackupRun), with a config of two environments on two mock-mes (one failing every
    POST) whose token is named by token_env and inherited from the environment: --dry-run (-WhatIf,
    -DryRun) prints one run_plan and sends nothing, --only selects, an unset variable is refused
    (exit 2, a failed invalid_argument naming it, nothing sent), a real run ends with run_summary
    (one environment saved and verified, the other failed at backup with server_error, exit 7) and
    writes --metrics-file; on Unix a failing before hook gives exit 21 and sends nothing, and a folder
    held by another run with on_locked = "exit" gives exit 75 and a failed event without a summary;
  - SIGINT (what the module sends on Ctrl-C on Linux and macOS) cancels cleanly: exit 130, a
    `cancelled` failure carrying the GUID, no partial file left under a final name;
  - restore and test-restore, against a real engine with the committed fixture
    tests/fixtures/clickhouse/mesfix_stored.zip: Restore-MesClickHouseDatabase -WhatIf (--dry-run:
    exit 0, restore_plan without problems, nothing restored), a real restore (restore_progress steps,
    restored ok with the row counts of expected.json, nothing left in the server backup path), -WhatIf
    onto the now non-empty target (exit 2, the problem named in restore_plan, a failed
    invalid_argument), Test-MesClickHouseRestore (one test_restore per package in order: the fixture
    ok and dropped, a missing package ok=false with kind io, exit 12); ClickHouse credentials from
    CLICKHOUSE_USER/CLICKHOUSE_PASSWORD alone reach the server (as X-ClickHouse-User/-Key, checked
    with a recording front) and never appear in any output.
The schema validation of the CLI's output in every scenario is done by suite 20-cli
(cli/tests/scenarios.rs with cli/tests/validate_events.py) and is not repeated here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "powershell/MesBackup/Private/Get-MesCliArgumentList.ps1"
SCHEMA = json.loads((ROOT / "cli/events.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

FIXTURE = ROOT / "tests/fixtures/clickhouse/mesfix_stored.zip"
EXPECTED = json.loads((ROOT / "tests/fixtures/clickhouse/expected.json").read_text(encoding="utf-8"))
CH_USER, CH_PASSWORD = "ps_contract", "ch-secret-4711"

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


class ChdbFront:
    """tests/chdb-http/server.py: ClickHouse's HTTP interface over a chdb session (a real engine)."""

    def __init__(self, python: str, work: Path):
        self.allowed = work / "ch-allowed"
        (work / "ch-front").mkdir(parents=True)
        self.allowed.mkdir(parents=True)
        self.err = open(work / "ch-front.err", "w+")  # noqa: SIM115 (the front owns it; stop() closes it)
        self.proc = subprocess.Popen(
            [
                python,
                str(ROOT / "tests/chdb-http/server.py"),
                "--dir",
                str(work / "ch-front"),
                "--allowed-path",
                str(self.allowed),
            ],
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("PORT "):
            self.err.seek(0)
            raise SystemExit(f"the chdb front printed {line!r} instead of its port: {self.err.read()[-2000:]}")
        self.url = f"http://127.0.0.1:{line.split()[1]}/"

    def query(self, sql: str) -> list[dict]:
        req = urllib.request.Request(self.url + "?default_format=JSONEachRow", data=sql.encode())
        body = urllib.request.urlopen(req, timeout=60).read().decode()
        return [json.loads(line) for line in body.splitlines() if line.strip()]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.err.close()


class RecordingFront:
    """Records the headers of each request and answers like a ClickHouse that rejects the user."""

    def __init__(self):
        self.headers: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                body = b"Code: 516. DB::Exception: ps_contract: Authentication failed. (AUTHENTICATION_FAILED)\n"
                self.send_response(401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MES_", "CLICKHOUSE_"))}
    env.update(extra)
    return env


def run(cli: str, args: list[str], env: dict, expect_code: int, label: str, cwd: str) -> list[dict]:
    """Runs the CLI as the module does (stdin a pipe, stdout/stderr captured); returns its events."""
    proc = subprocess.run(
        [cli, *args], env=env, cwd=cwd, stdin=subprocess.PIPE, capture_output=True, text=True, check=False, timeout=120
    )
    check(
        proc.returncode == expect_code,
        f"{label}: exit code {proc.returncode}, the module expects {expect_code}; stderr: {proc.stderr.strip()[:300]}",
    )
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
        check(
            not errors,
            f"{label}: event {n} does not match the schema: {errors[0].message if errors else ''}: {line[:200]}",
        )
        events.append(event)
    for secret in (TOKEN, PAT, CH_PASSWORD):
        check(secret not in proc.stdout and secret not in proc.stderr, f"{label}: a secret appears in the output")
    return events


def names_of(events: list[dict]) -> list[str]:
    return [e.get("event") for e in events]


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    cli, mock_path, chdb_python = (str(Path(a).absolute()) for a in sys.argv[1:4])

    # 1. Every option the builder can emit exists in the CLI.
    builder = BUILDER.read_text(encoding="utf-8")
    options = sorted(set(re.findall(r"\$list\.Add\('(--[a-z-]+)'\)", builder)))
    commands = re.search(r"ValidateSet\(([^)]*)\)", builder).group(1)
    commands = re.findall(r"'([a-z-]+)'", commands)
    helps = {}
    for command in commands:
        # credential-set/-delete/-test: the builder emits `credential set|delete|test`.
        words = command.split("-", 1) if command.startswith("credential-") else [command]
        proc = subprocess.run([cli, *words, "--help"], capture_output=True, text=True, check=False)
        check(proc.returncode == 0, f"`mesbackup {command} --help` failed: the module uses command {command}")
        helps[command] = proc.stdout
    for option in options:
        if option == "--":
            continue
        check(
            any(re.search(rf"(^|\s){re.escape(option)}[\s,=]", h) for h in helps.values()),
            f"the module passes {option}, which no CLI command lists in --help",
        )
    print(
        f"builder: {len(commands)} commands ({', '.join(commands)}) and {len(options)} options checked against --help"
    )

    mock = Mock(mock_path)
    work = tempfile.mkdtemp(prefix="mesbackup-ps-contract-")
    try:
        out = str(Path(work) / "out")
        token_env = clean_env(MES_URL=mock.base, MES_TOKEN=TOKEN)
        basic_env = clean_env(MES_URL=mock.base, MES_USER=USER, MES_PAT=PAT)
        # -Timeout 1 min -MinPollDelay 10 ms -MaxPollDelay 200 ms -RetryDelay 10 ms -RequestTimeout 30 s -StallTimeout 30 s
        durations = [
            "--timeout",
            "60000ms",
            "--min-poll-delay",
            "10ms",
            "--max-poll-delay",
            "200ms",
            "--retry-delay",
            "10ms",
            "--request-timeout",
            "30000ms",
            "--stall-timeout",
            "30000ms",
        ]
        # -SpeedLimit 1KB -SpeedTime 2 min -DownloadTimeout 10 min -MaxSize 1TB, as the module passes them
        limits = [
            "--speed-limit",
            "1024",
            "--speed-time",
            "120000ms",
            "--download-timeout",
            "600000ms",
            "--max-size",
            "1099511627776",
        ]

        # Set-/Remove-MesBackupCredential's command line shape, read-only here (storing needs the
        # kernel keyring, which cli/tests/credential.rs and tests/windows exercise): an absent entry.
        events = run(
            cli,
            ["credential", "test", "--service", "mesbackup-contract", "--entry", f"absent-{os.getpid()}", "--json"],
            clean_env(),
            22,
            "credential test (absent entry)",
            work,
        )
        check(
            names_of(events) == ["credential"] and events[0].get("present") is False,
            f"credential test: expected one credential event with present false, got {events}",
        )

        # Backup-MesClickHouseDatabase -Database MESCDM -Path out -Timeout/-Min-/-MaxPollDelay/-RetryDelay/
        #   -RequestTimeout/-StallTimeout -RestartBudget 0
        #   -SpeedLimit/-SpeedTime/-DownloadTimeout/-MaxSize
        mock.scenario({"pending_polls": 1})
        ev = run(
            cli,
            [
                "backup",
                "--json",
                "--out",
                out,
                *durations,
                *limits,
                "--restart-budget",
                "0",
                "--sql-backup-finished",
                "2026-11-25T09:40:00.000Z",
                "--",
                "MESCDM",
            ],
            token_env,
            0,
            "Backup-MesClickHouseDatabase -Database -SqlBackupFinished",
            work,
        )
        check(
            names_of(ev)[0] == "started" and "saved" in names_of(ev) and names_of(ev)[-1] == "summary",
            f"Backup -Database: expected started ... saved ... summary, got {names_of(ev)}",
        )
        saved = [e for e in ev if e.get("event") == "saved"]
        check(
            bool(saved) and Path(saved[0]["package"]["location"]).is_file(),
            "Backup: saved.package.location is not the file",
        )

        # Test-MesClickHouseBackup: a sound package (with its sidecar), then a damaged one and a missing one
        package = saved[0]["package"]["location"] if saved else str(Path(out) / "MESCDM.zip")
        ev = run(cli, ["verify", "--json", "--", package], clean_env(), 0, "Test-MesClickHouseBackup (sound)", work)
        verified = [e for e in ev if e.get("event") == "verified"]
        check(
            len(verified) == 1
            and verified[0]["path"] == package
            and verified[0]["report"]["ok"] is True
            and verified[0]["report"]["sha256"] == saved[0]["package"]["sha256"],
            f"verify: expected one ok report for {package} with the saved SHA-256, got {ev}",
        )
        damaged = Path(work) / "damaged.zip"
        data = bytearray(Path(package).read_bytes())
        data[100:107] = b"garbage"
        damaged.write_bytes(bytes(data))
        missing = str(Path(work) / "missing-package.zip")
        ev = run(
            cli,
            ["verify", "--json", "--", str(damaged), package, missing],
            clean_env(),
            11,
            "Test-MesClickHouseBackup (damaged, sound, missing)",
            work,
        )
        reports = {e["path"]: e["report"] for e in ev if e.get("event") == "verified"}
        fails = {e.get("path"): e["error"]["kind"] for e in ev if e.get("event") == "failed"}
        check(
            reports.get(str(damaged), {}).get("ok") is False
            and bool(reports[str(damaged)]["problems"])
            and reports.get(package, {}).get("ok") is True,
            f"verify: expected the damaged package not ok with problems and the sound one ok, got {reports}",
        )
        check(
            fails == {str(damaged): "integrity", missing: "io"},
            f"verify: expected failed integrity (damaged) and io (missing) with their paths, got {fails}",
        )

        # Get-MesClickHouseBackupInfo
        ev = run(cli, ["inspect", "--json", "--", package], clean_env(), 0, "Get-MesClickHouseBackupInfo", work)
        inspected = [e for e in ev if e.get("event") == "inspected"]
        tables = [t for e in inspected for d in e["inspection"]["databases"] for t in d["tables"]]
        check(
            len(inspected) == 1
            and inspected[0]["verified"] is True
            and bool(tables)
            and all({"engine", "parts", "rows", "bytes"} <= set(t) for t in tables),
            f"inspect: expected one verified inspection with tables (engine, parts, rows, bytes), got {ev}",
        )
        ev = run(
            cli,
            ["inspect", "--json", "--", str(damaged)],
            clean_env(),
            11,
            "Get-MesClickHouseBackupInfo (damaged)",
            work,
        )
        check(
            [e.get("event") for e in ev] == ["inspected", "failed"]
            and ev[0]["verified"] is False
            and ev[1]["error"]["kind"] == "integrity"
            and ev[1].get("path") == str(damaged),
            f"inspect of a damaged package: expected inspected (not verified), then failed integrity with the path; got {ev}",
        )

        # Get-MesClickHouseBackupWindow (the sidecar recorded --sql-backup-finished)
        ev = run(cli, ["window", "--json", "--", out], clean_env(), 0, "Get-MesClickHouseBackupWindow", work)
        windows = [e for e in ev if e.get("event") == "backup_window"]
        check(
            len(windows) == 1
            and windows[0].get("sql_backup_finished_at") == "2026-11-25T09:40:00.000Z"
            and windows[0].get("reprocess_from") == "2026-11-25T09:40:00.000Z"
            and windows[0].get("started_at")
            and windows[0].get("finished_at"),
            f"window: expected started/finished and the recorded SQL Server completion as reprocess_from, got {ev}",
        )

        # Backup-MesClickHouseDatabase -System MES -Version 11.3.0 -Overwrite -FileMode 0640 -DirMode 0750
        #   (-Version alone: the system-specific installer names)
        mock.scenario({})
        ev = run(
            cli,
            [
                "backup",
                "--json",
                "--system",
                "MES",
                "--version",
                "11.3.0",
                "--out",
                out,
                "--overwrite",
                "--file-mode",
                "0640",
                "--dir-mode",
                "0750",
            ],
            basic_env,
            0,
            "Backup-MesClickHouseDatabase -System -Version -FileMode -DirMode",
            work,
        )
        files = sorted(Path(e["package"]["location"]).name for e in ev if e.get("event") == "saved")
        check(
            files == sorted(f"MES.Cmf.ClickHouse.FullBackup.{k}.11.3.0.zip" for k in ("Online", "CDM", "ODS", "DWH")),
            f"Backup -System -Version: saved {files}",
        )
        modes = {f: oct(stat.S_IMODE((Path(out) / f).stat().st_mode)) for f in files}
        check(set(modes.values()) == {"0o640"}, f"Backup -FileMode 0640: the packages have modes {modes}")

        # Start-MesClickHouseBackup -Database MESCDM, MESODS (then Save-MesClickHouseBackup of both GUIDs)
        mock.scenario({"pending_polls": 1})
        ev = run(cli, ["start", "--json", "--", "MESCDM", "MESODS"], basic_env, 0, "Start-MesClickHouseBackup", work)
        started = [e for e in ev if e.get("event") == "started"]
        check(
            len(started) == 2 and all(e.get("guid") and e.get("database") and "at_ms" in e for e in started),
            f"Start: expected two started events with guid, database, at_ms; got {ev}",
        )
        guids = [e["guid"] for e in started]
        ev = run(
            cli,
            ["download", "--json", "--out", out, *durations, *limits, "--", *guids],
            token_env,
            0,
            "Save-MesClickHouseBackup (two GUIDs)",
            work,
        )
        check(
            sorted(e["package"]["guid"] for e in ev if e.get("event") == "saved") == sorted(guids),
            f"Save: expected both GUIDs saved, got {names_of(ev)}",
        )

        # Save-MesClickHouseBackup -NoWait on a pending job: exit 75, summary result "pending" with the GUID
        mock.scenario({"pending_polls": 5})
        ev = run(cli, ["start", "--json", "--", "MESDWH"], token_env, 0, "Start (for -NoWait)", work)
        ev = run(
            cli,
            ["download", "--json", "--no-wait", "--out", out, "--", G1],
            token_env,
            75,
            "Save-MesClickHouseBackup -NoWait (pending)",
            work,
        )
        results = [r for e in ev if e.get("event") == "summary" for r in e.get("results", [])]
        check(
            [(r.get("outcome"), r.get("guid")) for r in results] == [("pending", G1)],
            f"Save -NoWait: expected a pending result for {G1}, got {results}",
        )
        check([r["method"] for r in mock.log()] == ["POST", "GET"], "Save -NoWait sent more than one GET")

        # Save-MesClickHouseBackup -FileName x.zip -Overwrite of an unknown GUID: failed event with kind and GUID
        mock.scenario({})
        ev = run(
            cli,
            ["download", "--json", "--out", out, "--file-name", "x.zip", "--overwrite", "--", G2],
            token_env,
            6,
            "Save-MesClickHouseBackup (unknown GUID)",
            work,
        )
        failed = [e for e in ev if e.get("event") == "failed"]
        check(
            bool(failed) and failed[0]["error"]["kind"] == "backup_not_found" and failed[0]["error"].get("guid") == G2,
            f"Save of an unknown GUID: expected failed backup_not_found with the GUID, got {failed}",
        )

        # -MaxSize under the package: the module reads a failed download_lost that names the option
        mock.scenario({})
        ev = run(
            cli,
            ["backup", "--json", "--out", out, "--max-size", "1000", "--", "MESCDM"],
            token_env,
            10,
            "Backup-MesClickHouseDatabase -MaxSize 1000",
            work,
        )
        lost = [e for e in ev if e.get("event") == "failed" and e["error"]["kind"] == "download_lost"]
        check(
            bool(lost) and "--max-size" in lost[0]["error"]["message"] and lost[0]["error"].get("guid") == G1,
            f"-MaxSize: expected a failed download_lost naming --max-size with the GUID, got {ev}",
        )

        # A rejected credential: failed event carrying the kind, the database, and a summary
        ev = run(
            cli,
            ["backup", "--json", "--out", out, "--", "MESCDM"],
            clean_env(MES_URL=mock.base, MES_TOKEN="wrong-token-1234"),
            3,
            "Backup with a wrong token",
            work,
        )
        check(
            any(
                e.get("event") == "failed" and e["error"]["kind"] == "unauthorized" and e.get("database") == "MESCDM"
                for e in ev
            ),
            f"wrong token: expected failed unauthorized for MESCDM, got {ev}",
        )

        # Both credential kinds in the environment are refused: the module must (and does) remove one.
        ev = run(
            cli,
            ["start", "--json", "--", "MESCDM"],
            clean_env(MES_URL=mock.base, MES_TOKEN=TOKEN, MES_USER=USER, MES_PAT=PAT),
            2,
            "MES_TOKEN and MES_USER together",
            work,
        )
        check(
            any(e.get("event") == "failed" and e["error"]["kind"] == "invalid_argument" for e in ev),
            "both credential kinds: expected invalid_argument",
        )

        # No credential, standard input a pipe (as the module runs it): an error, never a prompt; and the
        # module's own check before it starts the CLI (Assert-MesConnection) says the same sentence.
        ev = run(
            cli,
            ["start", "--json", "--", "MESCDM"],
            clean_env(MES_URL=mock.base),
            2,
            "no credentials, stdin a pipe",
            work,
        )
        failed = [e for e in ev if e.get("event") == "failed" and e["error"]["kind"] == "invalid_argument"]
        check(bool(failed), "no credentials: expected invalid_argument")
        module_text = re.search(
            r"-Message '(no MES credentials:[^']*)'",
            (ROOT / "powershell/MesBackup/Private/Set-MesCliEnvironment.ps1").read_text(encoding="utf-8"),
        )
        check(
            bool(failed) and module_text is not None and failed[0]["error"]["message"] == module_text.group(1),
            "no credentials: the module's message differs from the CLI's (core's mes::NO_CREDENTIALS): "
            f"{module_text and module_text.group(1)!r} vs {failed and failed[0]['error']['message']!r}",
        )

        # Get-MesClickHouseBackupName -System MES -Version 11.3.0 (no credentials in the environment)
        ev = run(
            cli,
            ["names", "--json", "--system", "MES", "--version", "11.3.0"],
            clean_env(),
            0,
            "Get-MesClickHouseBackupName",
            work,
        )
        packages = [p for e in ev if e.get("event") == "names" for p in e.get("packages", [])]
        check(
            len(packages) == 4 and all({"kind", "database", "generic", "system_specific"} <= set(p) for p in packages),
            f"names: expected four packages with kind, database, generic, system_specific; got {packages}",
        )

        # Copy-MesClickHouseBackupToInstaller -Destination d -System MES -Version 11.3.0 -Move -Overwrite
        staging = Path(work) / "custom"
        staging.mkdir()
        sources = sorted(str(p) for p in Path(out).glob("MES.Cmf.*.zip"))
        ev = run(
            cli,
            [
                "stage",
                "--json",
                "--into",
                str(staging),
                "--system",
                "MES",
                "--version",
                "11.3.0",
                "--move",
                "--overwrite",
                "--file-mode",
                "0644",
                "--",
                *sources,
            ],
            clean_env(),
            0,
            "Copy-MesClickHouseBackupToInstaller -Move -FileMode",
            work,
        )
        staged = [e for e in ev if e.get("event") == "staged"]
        check(
            len(staged) == 4 and all(Path(e["target"]).is_file() for e in staged),
            f"stage: expected four staged packages, got {names_of(ev)}",
        )
        modes = {e["target"]: oct(stat.S_IMODE(Path(e["target"]).stat().st_mode)) for e in staged}
        check(set(modes.values()) == {"0o644"}, f"stage -FileMode 0644: the staged packages have modes {modes}")
        ev = run(
            cli,
            [
                "stage",
                "--json",
                "--into",
                str(staging),
                "--system",
                "MES",
                "--version",
                "11.3.0",
                "--",
                str(Path(work) / "missing.zip"),
            ],
            clean_env(),
            12,
            "stage of a missing file (io)",
            work,
        )
        check(any(e.get("event") == "failed" for e in ev), "stage of a missing file: expected a failed event")

        # Test-MesClickHouseBackupFolder: complete (exit 0), then a near miss (exit 20, an answer, not an error)
        ev = run(
            cli,
            ["check-folder", "--json", "--system", "MES", "--version", "11.3.0", "--", str(staging)],
            clean_env(),
            0,
            "Test-MesClickHouseBackupFolder (complete)",
            work,
        )
        check(
            any(e.get("event") == "folder_report" and e.get("complete") is True for e in ev),
            "check-folder: expected complete",
        )
        (staging / "Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip").write_bytes(b"x")
        ev = run(
            cli,
            ["check-folder", "--json", "--system", "MES", "--version", "11.3.0", "--", str(staging)],
            clean_env(),
            20,
            "Test-MesClickHouseBackupFolder (near miss)",
            work,
        )
        reports = [e for e in ev if e.get("event") == "folder_report"]
        check(bool(reports) and len(reports[0]["report"]["near_misses"]) == 1, "check-folder: expected one near miss")

        run_contract(cli, mock_path, Path(work))

        # Ctrl-C in PowerShell: the module sends SIGINT (Unix) and the CLI must cancel cleanly.
        if hasattr(signal, "SIGINT") and os.name == "posix":
            mock.scenario({"pending_polls": 1000000})
            cancel_out = Path(work) / "cancel"
            proc = subprocess.Popen(
                [cli, "backup", "--json", "--out", str(cancel_out), "--max-poll-delay", "200ms", "--", "MESCDM"],
                env=token_env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
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
            check(
                any(
                    e.get("event") == "failed" and e["error"]["kind"] == "cancelled" and e["error"].get("guid") == G1
                    for e in events
                ),
                f"SIGINT: expected a cancelled failure carrying {G1}, got {events}",
            )
            leftovers = [p.name for p in cancel_out.glob("*.zip")] if cancel_out.exists() else []
            check(not leftovers, f"SIGINT: files left under a final name: {leftovers}")
            for e in events:
                check(not list(VALIDATOR.iter_errors(e)), f"SIGINT: event does not match the schema: {e}")
    finally:
        mock.stop()
    restore_contract(cli, chdb_python)
    print(f"cli contract: {checks - len(failures)} checks passed, {len(failures)} failed")
    return 1 if failures else 0


RUN_TOKEN_VAR = "NIGHTLY_MES_TOKEN"


def run_environment(name: str, url: str, out: Path, extra: str = "") -> str:
    # TOML literal strings ('...'): paths as they are, also on Windows.
    return (
        f'[[environment]]\nname = "{name}"\nurl = "{url}"\nsystem = "MES"\nout = \'{out}\'\n'
        f'token_env = "{RUN_TOKEN_VAR}"\n{extra}\n'
    )


def run_contract(cli: str, mock_path: str, work: Path) -> None:
    """Invoke-MesBackupRun's command lines (Get-MesCliArgumentList -Command run: `run --json
    [--dry-run] --config FILE [--only NAME]... [--metrics-file PATH]`, the token named by the config's
    token_env and inherited from the session) against two mock-mes, one failing every POST."""
    healthy, broken = Mock(mock_path), Mock(mock_path)
    try:
        broken.scenario({"faults": [{"method": "POST", "nth": "all", "status": 500, "body": "ClickHouse is down"}]})
        base = work / "run"
        base.mkdir()
        config = base / "mesbackup.toml"
        config.write_text(
            run_environment("production", healthy.base, base / "production")
            + run_environment("training", broken.base, base / "training"),
            encoding="utf-8",
        )
        env = clean_env(**{RUN_TOKEN_VAR: TOKEN})

        # Invoke-MesBackupRun -Config ... -WhatIf (and -DryRun): the plan, nothing sent or created.
        ev = run(
            cli,
            ["run", "--json", "--dry-run", "--config", str(config)],
            env,
            0,
            "Invoke-MesBackupRun -WhatIf",
            str(base),
        )
        check(names_of(ev) == ["run_plan"], f"run --dry-run: expected one run_plan, got {names_of(ev)}")
        plans = ev[0]["environments"] if ev else []
        check(
            [p["name"] for p in plans] == ["production", "training"]
            and all(len(p["databases"]) == 4 and p["retention"] is None for p in plans),
            f"run --dry-run: expected the plans of production and training with four databases each, got {plans}",
        )
        ev = run(
            cli,
            ["run", "--json", "--dry-run", "--config", str(config), "--only", "training"],
            env,
            0,
            "Invoke-MesBackupRun -DryRun -Only training",
            str(base),
        )
        check(
            [p["name"] for p in (ev[0]["environments"] if ev else [])] == ["training"],
            f"run --dry-run --only training: expected only training, got {ev}",
        )
        check(
            not healthy.log() and not broken.log() and not (base / "production").exists(),
            "run --dry-run sent a request or created the output folder",
        )

        # A credential variable the config names but the session lacks: refused before anything is sent
        # (the module: a terminating invalid_argument from the first failed event, no run_summary).
        ev = run(
            cli,
            ["run", "--json", "--config", str(config)],
            clean_env(),
            2,
            "Invoke-MesBackupRun (variable unset)",
            str(base),
        )
        failed = [e for e in ev if e.get("event") == "failed"]
        check(
            len(failed) == 1
            and failed[0]["error"]["kind"] == "invalid_argument"
            and RUN_TOKEN_VAR in failed[0]["error"]["message"]
            and "run_summary" not in names_of(ev),
            f"run without {RUN_TOKEN_VAR}: expected one invalid_argument naming it and no summary, got {ev}",
        )
        check(not healthy.log() and not broken.log(), "run without its credential variable sent a request")

        # Invoke-MesBackupRun -Config ... -Only production -Only training -MetricsFile ...: one environment
        # fails (server_error, exit 7), the other is saved and verified; run_summary is the last event.
        metrics = base / "mesbackup.prom"
        ev = run(
            cli,
            [
                "run",
                "--json",
                "--config",
                str(config),
                "--only",
                "production",
                "--only",
                "training",
                "--metrics-file",
                str(metrics),
            ],
            env,
            7,
            "Invoke-MesBackupRun -Only -MetricsFile (one environment failing)",
            str(base),
        )
        check(
            bool(ev) and ev[-1].get("event") == "run_summary",
            f"run: the last event is not run_summary: {names_of(ev)[-3:]}",
        )
        summary = ev[-1] if ev and ev[-1].get("event") == "run_summary" else {"environments": []}
        reports = {e["name"]: e for e in summary["environments"]}
        prod, train = reports.get("production", {}), reports.get("training", {})
        check(
            summary.get("ok") is False
            and summary.get("exit_code") == 7
            and list(reports) == ["production", "training"],
            f"run_summary: expected ok false, exit_code 7, production then training; got {summary}",
        )
        check(
            prod.get("result") == "ok"
            and len(prod.get("databases", [])) == 4
            and all(
                d["outcome"] == "saved" and d["verified"] is True and Path(d["file"]).is_file()
                for d in prod["databases"]
            ),
            f"run_summary production: expected four saved, verified packages, got {prod}",
        )
        check(
            train.get("result") == "failed"
            and train.get("failed_step") == "backup"
            and train.get("exit_code") == 7
            and any(d.get("error", {}).get("kind") == "server_error" for d in train.get("databases", [])),
            f"run_summary training: expected failed at backup with server_error, exit code 7; got {train}",
        )
        check(
            all(
                e.get("environment") in ("production", "training") for e in ev if e.get("event") in ("started", "saved")
            ),
            "run: job events without their environment",
        )
        check(
            metrics.is_file() and "mesbackup_run_success 0" in metrics.read_text(),
            "run --metrics-file: no metrics, or a wrong mesbackup_run_success",
        )

        if os.name == "posix":
            # A failing before hook: exit code 21, which the module reports as hook_failed.
            hook_config = base / "hook.toml"
            hook_config.write_text(
                run_environment(
                    "production", healthy.base, base / "hooked", '[environment.hooks]\nbefore = [["false"]]'
                ),
                encoding="utf-8",
            )
            sent_before = len(healthy.log())
            ev = run(
                cli,
                ["run", "--json", "--config", str(hook_config)],
                env,
                21,
                "Invoke-MesBackupRun (before hook fails)",
                str(base),
            )
            envs = ev[-1]["environments"] if ev and ev[-1].get("event") == "run_summary" else []
            check(
                len(envs) == 1 and envs[0]["failed_step"] == "before_hook" and envs[0]["exit_code"] == 21,
                f"run with a failing before hook: expected failed_step before_hook, exit code 21; got {envs}",
            )
            check(len(healthy.log()) == sent_before, "run with a failing before hook sent a request")

            # on_locked = "exit" while another run holds the folder: exit 75 and a failed event, no summary
            # (the module: a terminating run_locked error).
            import fcntl

            locked_config = base / "locked.toml"
            locked_out = base / "locked"
            locked_out.mkdir()
            locked_config.write_text(
                'on_locked = "exit"\n' + run_environment("production", healthy.base, locked_out), encoding="utf-8"
            )
            with open(locked_out / ".mesbackup-run.lock", "a+") as held:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                ev = run(
                    cli,
                    ["run", "--json", "--config", str(locked_config)],
                    env,
                    75,
                    "Invoke-MesBackupRun (folder held)",
                    str(base),
                )
            check(
                "run_summary" not in names_of(ev) and any(e.get("event") == "failed" for e in ev),
                f"run on a held folder with on_locked exit: expected a failed event and no summary, got {ev}",
            )
        else:
            print("run hooks and the folder lock: not checked here (sh hooks and flock are Unix-only)")
        print(
            "run: --dry-run, --only, an unset credential variable, a failing environment, metrics, hook and lock exits checked"
        )
    finally:
        healthy.stop()
        broken.stop()


def restore_contract(cli: str, chdb_python: str) -> None:
    """Restore-MesClickHouseDatabase and Test-MesClickHouseRestore against a real engine."""
    work = Path(tempfile.mkdtemp(prefix="mesbackup-ps-restore-"))
    front = ChdbFront(chdb_python, work)
    fixture = str(FIXTURE)
    want = {t: v["rows"] for t, v in EXPECTED["tables"].items() if "rows" in v}
    ch_env = clean_env(CLICKHOUSE_USER=CH_USER, CLICKHOUSE_PASSWORD=CH_PASSWORD)
    try:
        # Restore-MesClickHouseDatabase -Path p -ClickHouseUrl u -DatabaseName MESFIX_ps -WhatIf
        ev = run(
            cli,
            ["restore", "--json", "--clickhouse", front.url, "--as", "MESFIX_ps", "--dry-run", "--", fixture],
            ch_env,
            0,
            "Restore-MesClickHouseDatabase -WhatIf (dry run)",
            str(work),
        )
        plans = [e for e in ev if e.get("event") == "restore_plan"]
        check(
            len(plans) == 1
            and plans[0]["dry_run"] is True
            and plans[0]["plan"]["problems"] == []
            and plans[0]["plan"]["source_database"] == "MESFIX"
            and plans[0]["plan"]["target_database"] == "MESFIX_ps"
            and plans[0]["path"] == fixture
            and dict(plans[0]["plan"]["tables"]) == want,
            f"restore --dry-run: expected one restore_plan for {fixture} without problems, MESFIX as MESFIX_ps, "
            f"the tables of expected.json; got {ev}",
        )
        check(names_of(ev) == ["restore_plan"], f"restore --dry-run: expected only the plan, got {names_of(ev)}")
        dbs = [r["name"] for r in front.query("SELECT name FROM system.databases")]
        check("MESFIX_ps" not in dbs, "restore --dry-run created the database")

        # Restore-MesClickHouseDatabase -Path p -ClickHouseUrl u -DatabaseName MESFIX_ps -ServerBackupPath d
        #   -Timeout (New-TimeSpan -Minutes 10) -Confirm:$false
        ev = run(
            cli,
            [
                "restore",
                "--json",
                "--timeout",
                "600000ms",
                "--clickhouse",
                front.url,
                "--as",
                "MESFIX_ps",
                "--server-backup-path",
                str(front.allowed),
                "--",
                fixture,
            ],
            ch_env,
            0,
            "Restore-MesClickHouseDatabase",
            str(work),
        )
        steps = [e["step"] for e in ev if e.get("event") == "restore_progress"]
        check(
            steps[:2] == ["extracted", "started"]
            and "restoring" in steps
            and all(e.get("path") == fixture for e in ev if e.get("event") == "restore_progress"),
            f"restore: expected restore_progress extracted, started, restoring... with the path; got {steps}",
        )
        restoring = [e for e in ev if e.get("event") == "restore_progress" and e["step"] == "restoring"]
        check(
            bool(restoring) and all({"files_read", "num_files", "status"} <= set(e) for e in restoring),
            f"restore: restoring steps without files_read/num_files/status (Write-Progress needs them): {restoring}",
        )
        done = [e for e in ev if e.get("event") == "restored"]
        check(
            len(done) == 1
            and done[0]["ok"] is True
            and done[0]["path"] == fixture
            and done[0]["database"] == "MESFIX"
            and done[0]["target_database"] == "MESFIX_ps"
            and bool(done[0]["operation_id"])
            and done[0]["rows"] == sum(want.values())
            and {t["table"]: (t["expected_rows"], t["rows"], t["ok"]) for t in done[0]["tables"]}
            == {t: (n, n, True) for t, n in want.items()},
            f"restore: expected restored ok, MESFIX as MESFIX_ps, the row counts of expected.json; got {done}",
        )
        check(names_of(ev)[-1] == "restored" and "failed" not in names_of(ev), f"restore: events {names_of(ev)}")
        counts = {t: int(front.query(f"SELECT count() AS c FROM `MESFIX_ps`.`{t}`")[0]["c"]) for t in want}
        check(counts == want, f"restore: the engine counts {counts}, expected.json says {want}")
        check(
            not any(front.allowed.iterdir()), f"restore: left {list(front.allowed.iterdir())} in the server backup path"
        )

        # -WhatIf again: the target is no longer empty; the plan names it and the command fails with invalid_argument
        ev = run(
            cli,
            ["restore", "--json", "--clickhouse", front.url, "--as", "MESFIX_ps", "--dry-run", "--", fixture],
            ch_env,
            2,
            "Restore-MesClickHouseDatabase -WhatIf (non-empty target)",
            str(work),
        )
        plans = [e for e in ev if e.get("event") == "restore_plan"]
        problems = [p for e in plans for p in e["plan"]["problems"]]
        check(
            names_of(ev) == ["restore_plan", "failed"]
            and [(p["kind"], p["name"]) for p in problems] == [("non_empty_target", "MESFIX_ps")]
            and ev[-1]["error"]["kind"] == "invalid_argument",
            f"restore onto a non-empty target: expected restore_plan naming non_empty_target MESFIX_ps, then failed "
            f"invalid_argument; got {ev}",
        )

        # Restore-MesClickHouseDatabase without -WhatIf onto the non-empty target: refused, nothing extracted
        ev = run(
            cli,
            [
                "restore",
                "--json",
                "--clickhouse",
                front.url,
                "--as",
                "MESFIX_ps",
                "--server-backup-path",
                str(front.allowed),
                "--",
                fixture,
            ],
            ch_env,
            2,
            "Restore-MesClickHouseDatabase (non-empty target)",
            str(work),
        )
        check(
            names_of(ev) == ["restore_plan", "failed"]
            and ev[-1]["error"]["kind"] == "invalid_argument"
            and not any(front.allowed.iterdir()),
            f"restore onto a non-empty target: expected the plan and failed invalid_argument, nothing extracted; got {ev}",
        )

        # Test-MesClickHouseRestore -Path missing, fixture -ClickHouseUrl u -ServerBackupPath d -Prefix psc_
        #   -Timeout (New-TimeSpan -Minutes 10)
        missing = str(work / "missing-package.zip")
        proc = subprocess.Popen(
            [
                cli,
                "test-restore",
                "--json",
                "--clickhouse",
                front.url,
                "--server-backup-path",
                str(front.allowed),
                "--prefix",
                "psc_",
                "--timeout",
                "600000ms",
                "--",
                missing,
                fixture,
            ],
            env=ch_env,
            cwd=str(work),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The module emits each result as its event arrives: the first (the missing package, at once)
        # must come while the tool is still restoring the fixture.
        first_result_while_running = None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if '"test_restore"' in line and first_result_while_running is None:
                first_result_while_running = proc.poll() is None
        proc.wait(timeout=120)
        stderr = proc.stderr.read()
        check(
            proc.returncode == 12,
            f"test-restore (missing, ok): exit {proc.returncode}, expected 12 (io); {stderr[:300]}",
        )
        events = [json.loads(line) for line in lines if line.strip()]
        for e in events:
            errors = list(VALIDATOR.iter_errors(e))
            check(
                not errors, f"test-restore: event does not match the schema: {errors[0].message if errors else ''}: {e}"
            )
        check(CH_PASSWORD not in "".join(lines) + stderr, "test-restore: the ClickHouse password appears in the output")
        results = [e for e in events if e.get("event") == "test_restore"]
        check(
            [r["path"] for r in results] == [missing, fixture],
            f"test-restore: expected one test_restore per package in order, got {[r['path'] for r in results]}",
        )
        if len(results) == 2:
            bad, ok = results
            check(
                ok["ok"] is True
                and ok["verified"] is True
                and ok["database"] == "MESFIX"
                and re.fullmatch(r"psc_MESFIX_[0-9a-f]{8}", str(ok["target_database"]))
                and ok["dropped"] is True
                and ok["tables_checked"] == len(want)
                and ok["rows_checked"] == sum(want.values())
                and "error" not in ok
                and all(k in ok for k in ("verify_ms", "restore_ms", "elapsed_ms")),
                f"test-restore: expected the fixture ok, psc_MESFIX_<random>, dropped, {len(want)} tables, {sum(want.values())} rows; got {ok}",
            )
            check(
                bad["ok"] is False and bad["error"]["kind"] == "io" and bool(bad["error"]["message"]),
                f"test-restore: expected the missing package ok=false with error kind io; got {bad}",
            )
        check(
            first_result_while_running is True,
            "test-restore: the first result did not arrive while the tool was still running (the module streams results)",
        )
        check(
            "failed" not in names_of(events),
            f"test-restore: a failed package must not be a failed event: {names_of(events)}",
        )
        dbs = [r["name"] for r in front.query("SELECT name FROM system.databases")]
        check(
            not [d for d in dbs if d.startswith("psc_MESFIX")],
            f"test-restore: the throwaway database was not dropped: {dbs}",
        )
        check(
            not any(front.allowed.iterdir()),
            f"test-restore: left {list(front.allowed.iterdir())} in the server backup path",
        )
    finally:
        front.stop()

    # The ClickHouse credential reaches the server from the environment alone; a rejection is a failed event.
    rec = RecordingFront()
    try:
        ev = run(
            cli,
            ["restore", "--json", "--clickhouse", rec.url, "--dry-run", "--", fixture],
            ch_env,
            3,
            "Restore-MesClickHouseDatabase -ClickHouseCredential (rejected)",
            str(work),
        )
        check(
            bool(rec.headers)
            and all(
                h.get("x-clickhouse-user") == CH_USER and h.get("x-clickhouse-key") == CH_PASSWORD for h in rec.headers
            ),
            f"CLICKHOUSE_USER/CLICKHOUSE_PASSWORD did not reach the server as X-ClickHouse-User/-Key: {rec.headers}",
        )
        check(
            any(e.get("event") == "failed" and e["error"]["kind"] == "unauthorized" for e in ev),
            f"a rejected ClickHouse credential: expected failed unauthorized, got {ev}",
        )
    finally:
        rec.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("restore contract: ran restore --dry-run, restore, test-restore against chdb with mesfix_stored.zip")


if __name__ == "__main__":
    sys.exit(main())
