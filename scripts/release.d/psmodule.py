"""Finishes the PowerShell module bundle and packs it two ways.

  psmodule.py BUNDLE/MesBackup VERSION COMMIT DIST

- The bundle's manifest gets `FileList` (every file it ships, the two CLIs included); its
  ModuleVersion, ProjectUri and LicenseUri must already be right (versions.py checks the version).
- DIST/MesBackup-VERSION.zip: the `MesBackup` folder, for `Expand-Archive` into a module path.
- DIST/MesBackup.VERSION.nupkg: what `Publish-Module` uploads to the PowerShell Gallery (a NuGet
  zip: the module files at its root, MesBackup.nuspec, the OPC parts NuGet expects). No .NET needed.
"""

from __future__ import annotations

import re
import sys
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).parent))
from zipdir import zip_folder

EPOCH = (1980, 1, 1, 0, 0, 0)


def psd1_value(text: str, key: str) -> str:
    m = re.search(rf"^\s*{key}\s*=\s*'([^']*)'", text, re.MULTILINE)
    if not m:
        sys.exit(f"MesBackup.psd1 has no {key}")
    return m.group(1)


def psd1_list(text: str, key: str) -> list[str]:
    m = re.search(rf"^\s*{key}\s*=\s*@\(([^)]*)\)", text, re.MULTILINE)
    return re.findall(r"'([^']+)'", m.group(1)) if m else []


def add_file_list(bundle: Path) -> str:
    manifest = bundle / "MesBackup.psd1"
    text = manifest.read_text()
    if re.search(r"^\s*FileList\s*=", text, re.MULTILINE):
        sys.exit("the source MesBackup.psd1 must not carry FileList: the release writes it")
    files = sorted(p.relative_to(bundle).as_posix().replace("/", "\\") for p in bundle.rglob("*") if p.is_file())
    listing = ",\n".join(f"        '{f}'" for f in files)
    text = re.sub(
        r"^(\s*)CmdletsToExport",
        lambda m: f"{m.group(1)}FileList             = @(\n{listing}\n    )\n{m.group(0)}",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    manifest.write_text(text)
    return text


def nuspec(text: str, version: str, commit: str) -> str:
    functions = psd1_list(text, "FunctionsToExport")
    tags = psd1_list(text, "Tags") + ["PSModule", "PSIncludes_Function"]
    tags += [f"PSFunction_{f}" for f in functions] + [f"PSCommand_{f}" for f in functions]
    fields = {
        "id": "MesBackup",
        "version": version,
        "authors": psd1_value(text, "Author"),
        "owners": psd1_value(text, "CompanyName"),
        "description": psd1_value(text, "Description"),
        "releaseNotes": f"mesbackup {version} (commit {commit})",
        "copyright": psd1_value(text, "Copyright"),
        "projectUrl": psd1_value(text, "ProjectUri"),
        "tags": " ".join(tags),
    }
    body = "\n".join(f"    <{k}>{escape(v)}</{k}>" for k, v in fields.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd">\n'
        "  <metadata>\n"
        f"{body}\n"
        '    <license type="expression">Apache-2.0</license>\n'
        "    <requireLicenseAcceptance>false</requireLicenseAcceptance>\n"
        "  </metadata>\n"
        "</package>\n"
    )


def write_nupkg(bundle: Path, text: str, version: str, commit: str, out: Path) -> None:
    psmdcp = f"package/services/metadata/core-properties/{uuid.uuid5(uuid.NAMESPACE_URL, version).hex}.psmdcp"
    content_types = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
        '<Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
        '<Default Extension="nuspec" ContentType="application/octet" />'
        '<Default Extension="ps1" ContentType="application/octet" />'
        '<Default Extension="psm1" ContentType="application/octet" />'
        '<Default Extension="psd1" ContentType="application/octet" />'
        '<Default Extension="ps1xml" ContentType="application/octet" />'
        '<Default Extension="txt" ContentType="application/octet" />'
        '<Default Extension="exe" ContentType="application/octet" />'
        '<Override PartName="/bin/linux-x64/mesbackup" ContentType="application/octet" />'
        '<Override PartName="/LICENSE" ContentType="application/octet" />'
        '<Override PartName="/NOTICE" ContentType="application/octet" />'
        "</Types>\n"
    )
    rels = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/MesBackup.nuspec" Id="R1" />'
        '<Relationship Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        f'Target="/{psmdcp}" Id="R2" />'
        "</Relationships>\n"
    )
    core = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
        f"<dc:creator>{escape(psd1_value(text, 'Author'))}</dc:creator>"
        f"<dc:description>{escape(psd1_value(text, 'Description'))}</dc:description>"
        "<dc:identifier>MesBackup</dc:identifier>"
        f"<version>{escape(version)}</version>"
        "</coreProperties>\n"
    )

    def put(z: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name, date_time=EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = (0o755 if executable else 0o644) << 16
        z.writestr(info, data)

    with zipfile.ZipFile(out, "w") as z:
        put(z, "_rels/.rels", rels.encode())
        put(z, "MesBackup.nuspec", nuspec(text, version, commit).encode())
        for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
            put(z, path.relative_to(bundle).as_posix(), path.read_bytes(), bool(path.stat().st_mode & 0o111))
        put(z, psmdcp, core.encode())
        put(z, "[Content_Types].xml", content_types.encode())


def main() -> None:
    bundle, version, commit, dist = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
    text = add_file_list(bundle)
    if psd1_value(text, "ModuleVersion") != version:
        sys.exit(f"MesBackup.psd1 ModuleVersion is not {version}")
    zip_folder(bundle, dist / f"MesBackup-{version}.zip", prefix="MesBackup/")
    write_nupkg(bundle, text, version, commit, dist / f"MesBackup.{version}.nupkg")
    print(f"MesBackup-{version}.zip and MesBackup.{version}.nupkg")


if __name__ == "__main__":
    main()
