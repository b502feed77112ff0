"""The Windows build (`mesbackup.exe`, x86_64-pc-windows-gnu) under Wine: what differs on Windows.

Run by scripts/suites/25-windows.sh (which also runs every scenario file through the .exe):
- MESBACKUP_EXE: the .exe; WINE: the launcher; WINEPREFIX: the suite's own prefix;
- MOCK_MES: the (Linux) mock MES server; HOLD_OPEN_EXE: tests/windows/hold_open.c, built.

Wine runs on a Linux file system, so a test that depends on NTFS semantics says which ones Wine
reproduces (share modes between Wine processes: yes, in wineserver) and which it cannot (ACLs,
8.3 names, alternate data streams: not tested here).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXE = os.environ.get("MESBACKUP_EXE", "")
WINE = os.environ.get("WINE", "wine")
MOCK_MES = os.environ.get("MOCK_MES", str(ROOT / "target" / "debug" / "mock-mes"))
HOLD_OPEN = os.environ.get("HOLD_OPEN_EXE", "")
NATIVE = os.environ.get("MESBACKUP_BIN", str(ROOT / "target" / "debug" / "mesbackup"))
FIXTURES = ROOT / "tests" / "fixtures" / "clickhouse"
TOKEN = "admin-token"

if not EXE:
    pytest.exit("MESBACKUP_EXE is not set: run this through scripts/suites/25-windows.sh", returncode=2)


def windows_path(p: Path) -> str:
    """How a Windows user spells a folder: drive letter and backslashes (Wine maps Z: to /)."""
    return "Z:" + str(p).replace("/", "\\")


def exe(*args: str, token: str | None = TOKEN, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
    if token is not None:
        env["MES_TOKEN"] = token
    return subprocess.run(
        [WINE, EXE, *args], capture_output=True, text=True, check=False, env=env, timeout=kw.get("timeout", 120)
    )


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def failed_event(stdout: str) -> dict[str, Any]:
    found = [e for e in events(stdout) if e["event"] == "failed"]
    assert found, f"no failed event in {stdout!r}"
    return found[-1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Mock:
    def __init__(self, base: str, proc: subprocess.Popen[str]) -> None:
        self.base = base
        self.proc = proc

    def load(self, server: dict[str, Any]) -> None:
        req = urllib.request.Request(self.base + "/_mock/scenario", data=json.dumps(server).encode(), method="PUT")
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.base + "/_mock/log", timeout=30) as r:
            log: list[dict[str, Any]] = json.loads(r.read())
            return log


@pytest.fixture(scope="module")
def mock() -> Iterator[Mock]:
    proc = subprocess.Popen([MOCK_MES, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    assert base.startswith("http://"), base
    yield Mock(base, proc)
    proc.kill()
    proc.wait()


def fast() -> list[str]:
    return ["--min-poll-delay", "10ms", "--max-poll-delay", "50ms", "--retry-delay", "10ms"]


def test_the_exe_is_a_windows_program() -> None:
    magic = Path(EXE).read_bytes()[:2]
    assert magic == b"MZ", "not a PE file"
    r = exe("--version", token=None)
    assert r.returncode == 0 and r.stdout.startswith("mesbackup "), r


@pytest.mark.parametrize("style", ["drive-letter", "relative-backslash"])
def test_out_folders_spelled_the_windows_way(mock: Mock, tmp_path: Path, style: str) -> None:
    mock.load({})
    target = tmp_path / "pkgs" / "nightly"
    if style == "drive-letter":
        out, cwd = windows_path(target), None
    else:
        out, cwd = "pkgs\\nightly", str(tmp_path)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MES_")}, "MES_TOKEN": TOKEN}
    r = subprocess.run(
        [WINE, EXE, "backup", "MESCDM", "--json", "--env", mock.base, "--out", out, *fast()],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # One folder with the package, not a file or folder named after the backslashes.
    assert sorted(p.name for p in target.iterdir()) == ["MESCDM.zip", "MESCDM.zip.mesbackup.json"]
    assert not any("\\" in p.name for p in tmp_path.rglob("*")), list(tmp_path.rglob("*"))


@pytest.mark.parametrize("served", ["CON", "nul.zip", "COM1", "LPT9.zip", "CONIN$", "aux .zip", "MESCDM.zip. "])
def test_windows_device_names_from_the_server_are_never_used(mock: Mock, tmp_path: Path, served: str) -> None:
    mock.load({"content_disposition": f'attachment; filename="{served}"'})
    r = exe("backup", "MESCDM", "--json", "--env", mock.base, "--out", str(tmp_path), *fast())
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MESCDM.zip", "MESCDM.zip.mesbackup.json"]


def test_a_package_held_open_by_another_program_is_kept_under_its_guid(mock: Mock, tmp_path: Path) -> None:
    """Windows refuses to replace a file another process has open without FILE_SHARE_DELETE (an
    antivirus scan, an Explorer preview). The download is one-shot, so the complete package must be
    kept under another name and the error must say where; the open file stays as it was."""
    mock.load({"payload": {"size": 200_000, "seed": 7}})
    held = tmp_path / "MESCDM.zip"
    held.write_bytes(b"the previous package")
    holder = subprocess.Popen(
        [WINE, HOLD_OPEN, windows_path(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        r = exe("backup", "MESCDM", "--json", "--overwrite", "--env", mock.base, "--out", str(tmp_path), *fast())
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    failed = failed_event(r.stdout)
    assert failed["error"]["kind"] == "io", failed
    guid = failed["error"]["guid"]
    kept = tmp_path / f"{guid}.zip"
    message = failed["error"]["message"]
    assert "kept as" in message and kept.name in message, message
    assert held.read_bytes() == b"the previous package"
    assert kept.stat().st_size == 200_000
    sidecar = json.loads((tmp_path / f"{guid}.zip.mesbackup.json").read_text())
    assert sidecar["sha256"] == sha256(kept)
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".mesbackup-partial")]
    # Without --overwrite the name is simply taken: the next free name, no error.
    holder = subprocess.Popen(
        [WINE, HOLD_OPEN, windows_path(held)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        r = exe("backup", "MESCDM", "--json", "--env", mock.base, "--out", str(tmp_path), *fast())
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    saved = [e for e in events(r.stdout) if e["event"] == "saved"]
    assert saved and saved[0]["package"]["file_name"] != "MESCDM.zip", saved


def test_commit_by_hard_link_never_replaces_an_existing_package(mock: Mock, tmp_path: Path) -> None:
    """The commit without --overwrite is CreateHardLinkW (create-only-if-absent, atomic) and then the
    temporary name goes; Wine maps it to link(2) on the Linux file system."""
    mock.load({"payload": {"size": 100_000, "seed": 3}})
    existing = tmp_path / "MESCDM.zip"
    existing.write_bytes(b"keep me")
    r = exe("backup", "MESCDM", "--json", "--env", mock.base, "--out", str(tmp_path), *fast())
    assert r.returncode == 0, r.stdout + r.stderr
    assert existing.read_bytes() == b"keep me"
    saved = next(e for e in events(r.stdout) if e["event"] == "saved")["package"]
    other = tmp_path / saved["file_name"]
    assert other.stat().st_size == 100_000 and other.stat().st_nlink == 1, "temporary name left linked"
    warnings = [e for e in events(r.stdout) if e["event"] == "warning"]
    assert any(saved["file_name"] in w["message"] for w in warnings), warnings


def mount_fat(base: Path, options: str) -> Path:
    """A FAT16 volume (a USB stick, an SD card, some NAS shares): no hard links, no chmod. Mounted
    with fusefat (FUSE; the kernel here has no vfat driver): it needs /dev/fuse and root, which the
    suite has."""
    image, mountpoint = base / "volume.img", base / "mnt"
    mountpoint.mkdir()
    with image.open("wb") as f:
        f.truncate(64 << 20)
    subprocess.run(["mkfs.vfat", str(image)], check=True, capture_output=True)
    subprocess.run(["fusefat", "-o", options, str(image), str(mountpoint)], check=True, capture_output=True)
    return mountpoint


@pytest.fixture(scope="module")
def fat_volume(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """FAT as fusefat shows it by default: every file and folder 0700."""
    mountpoint = mount_fat(tmp_path_factory.mktemp("fat"), "rw+")
    try:
        probe = mountpoint / "probe"
        probe.write_bytes(b"x")
        with pytest.raises(OSError):
            os.link(probe, mountpoint / "probe-link")  # what makes this volume the case under test
        probe.unlink()
        yield mountpoint
    finally:
        subprocess.run(["fusermount", "-u", str(mountpoint)], check=False, capture_output=True)


@pytest.mark.parametrize("build", ["windows", "linux"])
def test_commit_without_hard_links_renames_and_never_replaces(mock: Mock, fat_volume: Path, build: str) -> None:
    """Where the volume refuses hard links (CreateHardLinkW on FAT; link(2) here), the commit falls
    back to check-then-rename: the package still gets its name, and an existing package is still
    never replaced (the next free name instead)."""
    out = fat_volume / build
    out.mkdir()
    mock.load({"payload": {"size": 150_000, "seed": 5}})

    def backup() -> subprocess.CompletedProcess[str]:
        args = ["backup", "MESCDM", "--json", "--env", mock.base, "--out", str(out), *fast()]
        if build == "windows":
            return exe(*args)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("MES_")}, "MES_TOKEN": TOKEN}
        return subprocess.run([NATIVE, *args], capture_output=True, text=True, check=False, env=env, timeout=120)

    first = backup()
    assert first.returncode == 0, first.stdout + first.stderr
    package = out / "MESCDM.zip"
    assert package.stat().st_size == 150_000
    sidecar = json.loads((out / "MESCDM.zip.mesbackup.json").read_text())
    assert sidecar["sha256"] == sha256(package)
    second = backup()
    assert second.returncode == 0, second.stdout + second.stderr
    saved = next(e for e in events(second.stdout) if e["event"] == "saved")["package"]
    assert saved["file_name"] != "MESCDM.zip"
    assert sha256(package) == sidecar["sha256"], "the first package was replaced"
    assert (out / saved["file_name"]).stat().st_size == 150_000
    assert not [p.name for p in out.iterdir() if p.name.endswith(".mesbackup-partial")]


def test_a_volume_that_shows_new_files_to_everyone_is_refused_before_anything_is_sent(
    mock: Mock, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Linux build: a FAT mount with umask=022 makes every file 0755 and refuses chmod, so the 0600
    asked for cannot be had. That is found by the folder check, before the backup is started: the
    one-shot download is never begun into a folder that cannot take the package as asked."""
    mountpoint = mount_fat(tmp_path_factory.mktemp("fat-wide"), "rw+,umask=022")
    try:
        mock.load({"payload": {"size": 100_000, "seed": 1}})
        before = len(mock.requests())
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("MES_")}, "MES_TOKEN": TOKEN}
        args = ["backup", "MESCDM", "--json", "--env", mock.base, "--out", str(mountpoint), *fast()]
        r = subprocess.run([NATIVE, *args], capture_output=True, text=True, check=False, env=env, timeout=120)
        assert r.returncode != 0, r.stdout
        message = failed_event(r.stdout)["error"]["message"]
        assert "0755" in message and "fmask" in message and "--file-mode" in message, message
        assert mock.requests()[before:] == [], "something was sent"
        assert list(mountpoint.iterdir()) == []
        # What the message suggests works (an x bit on a data file grants nothing).
        ok = subprocess.run(
            [NATIVE, *args, "--file-mode", "0644"], capture_output=True, text=True, check=False, env=env, timeout=120
        )
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert (mountpoint / "MESCDM.zip").stat().st_size == 100_000
    finally:
        subprocess.run(["fusermount", "-u", str(mountpoint)], check=False, capture_output=True)


def test_ctrl_c_mid_download_leaves_no_partial_file(mock: Mock, tmp_path: Path) -> None:
    """Wine turns SIGINT into CTRL_C_EVENT for the console program (its handler thread calls the
    handlers registered with SetConsoleCtrlHandler, which is what tokio's ctrl_c listens to)."""
    mock.load({"payload": {"size": 2_000_000, "seed": 5}, "download": {"drip": {"chunk": 8192, "interval_ms": 20}}})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MES_")}, "MES_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [WINE, EXE, "backup", "MESCDM", "--json", "--env", mock.base, "--out", str(tmp_path), *fast()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if '"event":"progress"' in line.replace(" ", ""):
            break
    assert any(p.name.endswith(".mesbackup-partial") for p in tmp_path.iterdir()), seen
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 10, "took too long to stop"
    assert proc.returncode == 130, (proc.returncode, err)
    failed = failed_event("".join(seen) + rest)
    assert failed["error"]["kind"] == "cancelled", failed
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_verify_reports_what_the_linux_build_reports(tmp_path: Path) -> None:
    """The real-engine fixtures and a copy with one byte flipped in a data file: the same report
    (everything but the path) and the same exit code as the Linux binary."""
    data = bytearray((FIXTURES / "mesfix_stored.zip").read_bytes())
    broken = tmp_path / "broken.zip"
    data[len(data) // 3] ^= 0xFF
    broken.write_bytes(bytes(data))
    for path in (FIXTURES / "mesfix_stored.zip", FIXTURES / "mesfix_deflated.zip", broken):
        win = exe("verify", "--json", windows_path(path), token=None)
        linux = subprocess.run([NATIVE, "verify", "--json", str(path)], capture_output=True, text=True, check=False)
        assert win.returncode == linux.returncode, (win.stdout, linux.stdout)
        reports = [[e["report"] for e in events(r.stdout) if e["event"] == "verified"] for r in (win, linux)]
        assert reports[0] and reports[0] == reports[1], reports
    assert linux.returncode == 11, "the flipped byte was not noticed"


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = exe("demo", "--json", "--size-mib", "1", "--pending", "500ms", "--out", windows_path(out), token=None)
    assert r.returncode == 0, r.stdout + r.stderr
    zips = sorted(p.name for p in out.glob("*.zip"))
    assert zips == [f"Cmf.ClickHouse.FullBackup.{k}.11.3.0.zip" for k in ("CDM", "DWH", "ODS", "Online")], zips


def test_demo_speaks_windows_to_a_windows_administrator(tmp_path: Path) -> None:
    out = tmp_path / "demo folder"
    r = exe("demo", "--no-progress", "--size-mib", "1", "--pending", "200ms", "--out", windows_path(out), token=None)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f'mesbackup verify "{windows_path(out)}"\\*.zip' in r.stdout, r.stdout
    assert "$env:MES_URL" in r.stdout and "export MES_URL" not in r.stdout, r.stdout


def credential(action: str, entry: str, stdin: str | None = None, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
    return subprocess.run(
        [WINE, EXE, *extra, "credential", action, "--service", "mesbackup-test", "--entry", entry],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


def test_credentials_from_the_windows_credential_manager(mock: Mock, tmp_path: Path) -> None:
    """`credential set` writes a generic credential (CredWriteW) in Wine's Credential Manager, `run`
    with `keyring = "service/entry"` reads it (CredReadW) and backs up with it; delete removes it.
    Wine keeps credentials in the prefix's registry (HKCU\\Software\\Wine\\Credential Manager),
    encrypted there, not with DPAPI as Windows does: the API is what is proved here."""
    entry = f"prod-{os.getpid()}"
    mock.load({})
    absent = credential("test", entry)
    assert absent.returncode == 22, absent.stdout + absent.stderr
    stored = credential("set", entry, TOKEN + "\r\n", "--json")
    assert stored.returncode == 0, stored.stdout + stored.stderr
    (event,) = events(stored.stdout)
    assert event["event"] == "credential" and event["store"] == "Windows Credential Manager", event
    assert event["location"] == f"generic credential {entry}.mesbackup-test", event
    assert TOKEN not in stored.stdout + stored.stderr
    present = credential("check", entry, None, "--json")
    assert present.returncode == 0 and events(present.stdout)[0]["present"] is True, present.stdout + present.stderr

    config = tmp_path / "mesbackup.toml"
    config.write_text(
        f'[[environment]]\nname = "prod"\nurl = "{mock.base}"\nsystem = "MES"\n'
        f'out = "{windows_path(tmp_path / "out")}"\nkeyring = "mesbackup-test/{entry}"\n'.replace("\\", "\\\\")
    )
    done = exe("--json", "run", "--config", windows_path(config), token=None, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = [e for e in events(done.stdout) if e["event"] == "run_summary"][-1]
    assert summary["environments"][0]["result"] == "ok", summary
    assert len(list((tmp_path / "out").glob("*.zip"))) == 4
    assert TOKEN not in done.stdout + done.stderr

    deleted = credential("delete", entry)
    assert deleted.returncode == 0 and "deleted" in deleted.stdout, deleted.stdout + deleted.stderr
    assert credential("test", entry).returncode == 22
    sent = len(mock.requests())
    refused = exe("run", "--config", windows_path(config), token=None)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "mesbackup credential set --service mesbackup-test --entry" in refused.stderr, refused.stderr
    assert len(mock.requests()) == sent, "nothing may be sent without credentials"
