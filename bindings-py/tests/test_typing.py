"""The shipped stubs (py.typed, _mesbackup.pyi) are good enough for `mypy --strict`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_mypy_strict_on_examples_and_typed_usage() -> None:
    pytest.importorskip("mypy")
    files = [str(HERE.parent / "examples" / "backup_system.py"), str(HERE / "typed_usage.py")]
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_wrong_usage_is_caught_by_mypy(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import mesbackup\n"
        "c = mesbackup.Client('https://x', tokn='t')\n"
        "n: int = mesbackup.Client('https://x').backup('MES', '.').sha256\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert '"tokn"' in run.stdout, run.stdout
    assert "Incompatible types in assignment" in run.stdout, run.stdout


def test_wheel_installs_in_a_fresh_venv(tmp_path: Path) -> None:
    import os

    wheel = os.environ.get("MESBACKUP_WHEEL")
    if not wheel:
        pytest.skip("MESBACKUP_WHEEL not set (scripts/suites/30-python.sh sets it)")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check", wheel], check=True
    )
    code = (
        "import mesbackup, pathlib; "
        "assert mesbackup.Client('https://mes.example.com', token='t').auth_scheme == 'bearer'; "
        "d = pathlib.Path(mesbackup.__file__).parent; "
        "assert (d / 'py.typed').exists() and (d / '_mesbackup.pyi').exists(); "
        "print(mesbackup.__version__)"
    )
    run = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
