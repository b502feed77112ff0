"""Every release artifact in dist/, proved the way its user installs it (scripts/suites/80-release.sh):

- the static Linux CLI: statically linked, run in an empty root (only the binary and a CA bundle)
  against mock-mes, plus `demo` there;
- the Windows CLI and the PowerShell bundle: the very binaries suites 25-windows and this one tested;
- the Python wheels: manylinux2014 (auditwheel), win_amd64 inspected (tags, contents; not run), the
  Linux wheel installed from its file into a fresh venv and the Python scenario suite run against it;
- the npm tarball: installed into an empty project, an ESM script backs up from mock-mes, the shipped
  .d.ts type-checks a TypeScript file (tsc --noEmit); the extension zip's layout and manifest;
- SHA256SUMS, one CycloneDX SBOM per artifact (schema-validated), THIRD-PARTY-LICENSES.

Environment: DIST, VERSION, MOCK_MES, TESTED_EXE (the .exe 25-windows ran), RELEASE_PY (the tools venv's
python, for fresh venvs), NPM_CACHE_OK (npm can reach the registry).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("DIST", ROOT / "dist"))
VERSION = os.environ["VERSION"]
MOCK_MES = os.environ.get("MOCK_MES", str(ROOT / "target" / "debug" / "mock-mes"))
TESTED_EXE = Path(os.environ["TESTED_EXE"])
LINUX_CLI = DIST / f"mesbackup-{VERSION}-linux-x64"
WIN_CLI = DIST / f"mesbackup-{VERSION}-win-x64.exe"
# The package the mock serves by default for MESCDM (tests/scenarios/happy-path-basic.json).
MESCDM_SHA256 = "d0774f42db29573a38165d2781da0cc9290a6e2a4f1ae9944f6bf3523025355d"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    kw.setdefault("timeout", 600)
    return subprocess.run(args, capture_output=True, text=True, check=False, **kw)


@pytest.fixture(scope="module")
def mock() -> Iterator[str]:
    proc = subprocess.Popen([MOCK_MES, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    assert base.startswith("http://"), base
    yield base
    proc.kill()
    proc.wait()


def reset(base: str) -> None:
    req = urllib.request.Request(base + "/_mock/scenario", data=b"{}", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


def wheels() -> dict[str, Path]:
    found = {("win" if "win_amd64" in p.name else "linux"): p for p in DIST.glob("mesbackup-*.whl")}
    assert set(found) == {"linux", "win"}, sorted(DIST.iterdir())
    return found


# --- checksums, SBOMs, licenses ------------------------------------------------------------------


def artifacts() -> list[Path]:
    skip = {"SHA256SUMS", "LICENSE", "NOTICE", "THIRD-PARTY-LICENSES"}
    return sorted(p for p in DIST.iterdir() if p.is_file() and p.name not in skip and not p.name.endswith(".cdx.json"))


def test_every_artifact_is_there() -> None:
    names = {p.name for p in artifacts()}
    expected = {
        f"mesbackup-{VERSION}-linux-x64",
        f"mesbackup-{VERSION}-win-x64.exe",
        f"mesbackup-{VERSION}.tgz",
        f"mesbackup-extension-{VERSION}.zip",
        f"MesBackup-{VERSION}.zip",
        f"MesBackup.{VERSION}.nupkg",
    }
    assert expected <= names, sorted(names)
    assert len([n for n in names if n.endswith(".whl")]) == 2, sorted(names)


def test_sha256sums_cover_every_file() -> None:
    lines = (DIST / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    files = {p.name for p in DIST.iterdir() if p.is_file() and p.name != "SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert sha256(DIST / name) == digest, name


def test_each_artifact_has_a_valid_cyclonedx_sbom() -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    validator = JsonStrictValidator(SchemaVersion.V1_5)
    for artifact in artifacts():
        if artifact.name.startswith("MesBackup"):
            continue  # the module's SBOM is its two CLIs' (bin/), listed below
        sbom = DIST / f"{artifact.name}.cdx.json"
        assert sbom.exists(), f"no SBOM for {artifact.name}"
        text = sbom.read_text()
        error = validator.validate_str(text)
        assert error is None, f"{sbom.name}: {error}"
        doc = json.loads(text)
        assert doc["metadata"]["component"]["version"] == VERSION
        names = {c["name"] for c in doc["components"]}
        assert names, sbom.name
        # What every artifact links: the HTTP and hashing stack (wasm: hashing and serde).
        assert {"sha2", "serde"} <= names, sbom.name


def test_third_party_licenses_name_every_crate_with_its_text() -> None:
    text = (DIST / "THIRD-PARTY-LICENSES").read_text()
    for crate in ("reqwest", "rustls", "tokio", "pyo3", "wasm-bindgen", "sha2", "ring"):
        assert re.search(rf"^{re.escape(crate)} \d", text, re.MULTILINE), crate
    assert text.count("Permission is hereby granted") > 10  # MIT texts, not just names
    assert (DIST / "LICENSE").read_text().startswith(" " * 30 + "Apache License")


# --- the static Linux CLI ------------------------------------------------------------------------


def test_the_linux_cli_is_static() -> None:
    described = run(["file", "-b", str(LINUX_CLI)]).stdout
    assert "static" in described and "dynamically linked" not in described, described
    ldd = run(["ldd", str(LINUX_CLI)])
    assert "not a dynamic executable" in ldd.stdout + ldd.stderr or "statically linked" in ldd.stdout, ldd


@pytest.fixture(scope="module")
def empty_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root file system with nothing but the binary and a CA bundle: no libc, no shell, no /etc."""
    root = tmp_path_factory.mktemp("minimal-root")
    shutil.copy2(LINUX_CLI, root / "mesbackup")
    (root / "etc/ssl/certs").mkdir(parents=True)
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt")
    (root / "out").mkdir()
    return root


def in_root(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    return run([chroot, str(root), "/mesbackup", *args], env=env or {})


def test_the_static_cli_backs_up_in_an_empty_root(empty_root: Path, mock: str) -> None:
    reset(mock)
    assert sorted(p.name for p in empty_root.rglob("*") if p.is_file()) == ["ca-certificates.crt", "mesbackup"]
    version = in_root(empty_root, "--version")
    assert version.returncode == 0 and version.stdout.startswith(f"mesbackup {VERSION} (commit "), version
    r = in_root(empty_root, "backup", "MESCDM", "--json", "--env", mock, "--out", "/out", "--min-poll-delay", "10ms",
                env={"MES_TOKEN": "admin-token"})  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert sha256(empty_root / "out" / "MESCDM.zip") == MESCDM_SHA256
    demo = in_root(empty_root, "demo", "--json", "--size-mib", "1", "--pending", "200ms", "--out", "/demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert len(list((empty_root / "demo").glob("Cmf.ClickHouse.FullBackup.*.zip"))) == 4


# --- Windows CLI and the PowerShell module bundle ------------------------------------------------


def test_the_windows_cli_is_the_one_the_windows_suite_ran() -> None:
    assert WIN_CLI.read_bytes()[:2] == b"MZ"
    assert sha256(WIN_CLI) == sha256(TESTED_EXE), "dist/ holds another .exe than the one 25-windows tested"


def psd1_field(text: str, key: str) -> str:
    m = re.search(rf"^\s*{key}\s*=\s*'([^']*)'", text, re.MULTILINE)
    assert m, f"no {key}"
    return m.group(1)


def test_the_module_zip_expands_into_a_module_folder_with_both_clis() -> None:
    with zipfile.ZipFile(DIST / f"MesBackup-{VERSION}.zip") as z:
        names = z.namelist()
        assert all(n.startswith("MesBackup/") for n in names), names[:5]
        assert "MesBackup/MesBackup.psd1" in names and "MesBackup/MesBackup.psm1" in names
        assert z.read("MesBackup/bin/win-x64/mesbackup.exe") == WIN_CLI.read_bytes()
        assert z.read("MesBackup/bin/linux-x64/mesbackup") == LINUX_CLI.read_bytes()
        mode = z.getinfo("MesBackup/bin/linux-x64/mesbackup").external_attr >> 16
        assert mode & 0o111, "the Linux CLI must stay executable after Expand-Archive on Linux"
        manifest = z.read("MesBackup/MesBackup.psd1").decode()
        files = set(re.findall(r"'([^']+)'", manifest[manifest.index("FileList") : manifest.index("CmdletsToExport")]))
        inside = {n.removeprefix("MesBackup/").replace("/", "\\") for n in names if not n.endswith("/")}
        assert files == inside, files ^ inside
    assert psd1_field(manifest, "ModuleVersion") == VERSION
    assert psd1_field(manifest, "ProjectUri").startswith("https://")
    assert psd1_field(manifest, "LicenseUri").startswith("https://")
    for public in (ROOT / "powershell/MesBackup/Public").glob("*.ps1"):
        assert f"MesBackup/Public/{public.name}" in names


def test_the_nupkg_is_what_the_gallery_expects() -> None:
    with zipfile.ZipFile(DIST / f"MesBackup.{VERSION}.nupkg") as z:
        names = z.namelist()
        for required in ("MesBackup.nuspec", "[Content_Types].xml", "_rels/.rels", "MesBackup.psd1"):
            assert required in names, required
        assert any(n.startswith("package/services/metadata/core-properties/") for n in names)
        nuspec = z.read("MesBackup.nuspec").decode()
        assert z.read("bin/win-x64/mesbackup.exe") == WIN_CLI.read_bytes()
    assert f"<version>{VERSION}</version>" in nuspec and "<id>MesBackup</id>" in nuspec
    assert "PSFunction_Backup-MesClickHouseDatabase" in nuspec and "PSModule" in nuspec
    assert '<license type="expression">Apache-2.0</license>' in nuspec


# --- Python wheels --------------------------------------------------------------------------------


def test_the_linux_wheel_is_manylinux2014() -> None:
    whl = wheels()["linux"]
    assert whl.name == f"mesbackup-{VERSION}-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", whl.name
    shown = run([sys.executable, "-m", "auditwheel", "show", str(whl)])
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert 'consistent with the following platform tag: "manylinux_2_17_x86_64"' in text, shown.stdout


def test_the_windows_wheel_has_the_right_tags_and_contents() -> None:
    whl = wheels()["win"]
    assert whl.name == f"mesbackup-{VERSION}-cp39-abi3-win_amd64.whl", whl.name
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        wheel_meta = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
        native = z.read("mesbackup/_mesbackup.pyd")
    assert "Tag: cp39-abi3-win_amd64" in wheel_meta
    assert native[:2] == b"MZ"
    assert b"python3.dll" in native.lower(), "an abi3 extension links python3.dll, not python3X.dll"
    for needed in ("mesbackup/__init__.py", "mesbackup/_mesbackup.pyi", "mesbackup/py.typed"):
        assert needed in names, needed


def test_the_linux_wheel_installed_from_its_file_passes_the_scenarios(tmp_path: Path) -> None:
    """A fresh venv, the wheel from its file (not the development build), the Python scenario suite.
    Only Python 3.11 exists on this machine: the 3.9 floor of the abi3 tag is not run here."""
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    py = venv / "bin" / "python"
    pip = run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheels()["linux"]), "pytest"])
    assert pip.returncode == 0, pip.stderr
    where = run([str(py), "-c", "import mesbackup, sys; print(mesbackup.__file__)"])
    assert str(venv) in where.stdout, where
    tests = ROOT / "bindings-py" / "tests"
    r = run([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_scenarios.py"], cwd=tests,
            env={**os.environ, "MOCK_MES": MOCK_MES})  # fmt: skip
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert re.search(r"\d+ passed", r.stdout) and "failed" not in r.stdout, r.stdout[-2000:]


# --- npm package and browser extension ----------------------------------------------------------

ESM_SCRIPT = """
import { Client } from 'mesbackup';
import { fileSink } from 'mesbackup/node';
const [envUrl, dir] = process.argv.slice(2);
const client = new Client({ envUrl, token: process.env.MES_TOKEN, minPollDelayMs: 10 });
const saved = await client.backup('MESCDM', { sink: fileSink(dir, { create: true }) });
console.log(JSON.stringify({ fileName: saved.fileName, size: saved.size, sha256: saved.sha256 }));
"""


def test_the_npm_tarball_installs_and_backs_up(tmp_path: Path, mock: str) -> None:
    reset(mock)
    project = tmp_path / "fresh-project"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "fresh", "private": True, "type": "module"}))
    npm = run(["npm", "install", "--no-audit", "--no-fund", "--silent", str(DIST / f"mesbackup-{VERSION}.tgz"),
               "typescript@5", "@types/node@20"], cwd=project)  # fmt: skip
    assert npm.returncode == 0, npm.stderr
    installed = json.loads((project / "node_modules/mesbackup/package.json").read_text())
    assert installed["version"] == VERSION
    assert (project / "node_modules/mesbackup/LICENSE").exists()
    (project / "backup.mjs").write_text(ESM_SCRIPT)
    out = tmp_path / "packages"
    r = run(["node", "backup.mjs", mock, str(out)], cwd=project, env={**os.environ, "MES_TOKEN": "admin-token"})
    assert r.returncode == 0, r.stderr
    saved = json.loads(r.stdout.strip().splitlines()[-1])
    assert saved["fileName"] == "MESCDM.zip" and saved["sha256"] == MESCDM_SHA256
    assert sha256(out / "MESCDM.zip") == MESCDM_SHA256
    # The shipped .d.ts, as a TypeScript user meets it: the repository's typed example, unchanged.
    shutil.copy2(ROOT / "bindings-wasm/examples/backup.ts", project / "backup.ts")
    (project / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": True,
                            "noEmit": True, "skipLibCheck": False, "lib": ["ES2022", "DOM", "DOM.Iterable"],
                            "types": ["node"]},
        "files": ["backup.ts"],
    }))  # fmt: skip
    tsc = run(["node_modules/.bin/tsc", "--noEmit", "-p", "tsconfig.json"], cwd=project)
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr


def test_the_extension_zip_is_ready_to_load() -> None:
    with zipfile.ZipFile(DIST / f"mesbackup-extension-{VERSION}.zip") as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        for needed in ("manifest.json", "background.js", "panel.html", "panel.js", "mesbackup/index.js",
                       "mesbackup/wasm/mesbackup_wasm_bg.wasm", "LICENSE"):  # fmt: skip
            assert needed in names, needed
        referenced = {manifest["background"]["service_worker"]}
        referenced |= set(re.findall(r'src="([^"]+)"', z.read("panel.html").decode()))
    assert manifest["manifest_version"] == 3 and manifest["version"] == VERSION
    for ref in referenced:
        assert ref.lstrip("./") in names, ref
