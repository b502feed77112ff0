"""Back up a whole MES system (its four ClickHouse databases) and print the table of packages.

Notebook style: run it top to bottom, or paste the cells into Jupyter. Against a real MES, set
MES_URL and MES_TOKEN (or MES_USER + MES_PAT) and SYSTEM; without MES_URL it starts the `mock-mes`
test server (path from $MOCK_MES, else target/{release,debug}/mock-mes) and backs up from it.

    python bindings-py/examples/backup_system.py [OUT_DIR]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import mesbackup

# %% Where to back up from: a real MES (MES_URL + credentials) or the mock server.
mock: subprocess.Popen[str] | None = None
if os.environ.get("MES_URL"):
    client = mesbackup.Client()  # MES_URL, MES_TOKEN / MES_USER + MES_PAT from the environment
else:
    root = Path(__file__).resolve().parents[2]
    target = Path(os.environ.get("CARGO_TARGET_DIR") or root / "target")
    candidates = [Path(os.environ["MOCK_MES"])] if os.environ.get("MOCK_MES") else []
    candidates += [target / "release" / "mock-mes", target / "debug" / "mock-mes"]
    binary = next((c for c in candidates if c.exists()), None)
    if binary is None:
        sys.exit("mock-mes not found: build it with `cargo build -p mock-mes`, or set MOCK_MES / MES_URL")
    mock = subprocess.Popen([str(binary), "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    assert mock.stdout is not None
    base_url = mock.stdout.readline().strip()
    # The mock's built-in administrator; short poll delays because mock backups are ready at once.
    client = mesbackup.Client(base_url, token="admin-token", min_poll_delay=0.05, max_poll_delay=0.5)
print(client)

# %% Progress: a tqdm bar if tqdm is installed (one line), else a plain callback.
progress: Callable[[int, int | None, str], object]
try:
    from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

    progress = mesbackup.tqdm_progress(tqdm(unit="B", unit_scale=True, desc="MES"))
except ImportError:

    def progress(done: int, total: int | None, phase: str) -> None:
        print(f"\r{phase:<12} {done:>12,} / {total or 0:>12,} bytes", end="", file=sys.stderr)


# %% Back up the four databases concurrently, saved under the MES installer's package names.
system = os.environ.get("SYSTEM", "MES")
out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="mesbackup-"))
out_dir.mkdir(parents=True, exist_ok=True)
try:
    results: list[Any] = client.backup_system(
        system, out_dir, version="11.3.0", return_exceptions=True, progress=progress
    )
finally:
    if mock is not None:
        mock.kill()
        mock.wait()
print(file=sys.stderr)

# %% The table of packages (errors keep their kind and GUID, so a timeout can be resumed).
packages: list[mesbackup.Package] = [r for r in results if isinstance(r, mesbackup.Package)]
errors: list[mesbackup.MesBackupError] = [r for r in results if isinstance(r, mesbackup.MesBackupError)]
header = f"{'database':<10} {'file':<48} {'size':>10}  {'sha256':<16} {'started (UTC)':<19} {'finished (UTC)':<19}"
print(header)
print("-" * len(header))
for p in packages:
    started = p.started_at.strftime("%Y-%m-%d %H:%M:%S") if p.started_at else "?"
    finished = p.finished_at.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{p.database or '?':<10} {p.file_name:<48} {p.size:>10,}  {p.sha256[:16]:<16} {started:<19} {finished:<19}")
for e in errors:
    print(f"FAILED {e.kind}: {e.message} (guid {e.guid})")

# %% Would the MES installer pick these up? (the same check as `mesbackup check-folder`)
report = mesbackup.check_folder(out_dir, system, "11.3.0")
print(f"\n{out_dir}: {'complete' if report.complete else 'missing ' + ', '.join(report.missing)}")
sys.exit(1 if errors or not report.complete else 0)
