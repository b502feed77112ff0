"""What a release artifact contains from crates.io, read from `cargo metadata` (Cargo.lock): a
CycloneDX 1.5 SBOM per artifact, the third-party license texts, and a license allow-list check.

  rust_deps.py sbom     --package CRATE --target TRIPLE --name NAME --version V --out FILE.cdx.json
  rust_deps.py licenses --package CRATE [--package CRATE...] --target TRIPLE... --out FILE

Only what is linked in counts: the normal (not dev, not build) dependencies of the package, for the
target's platform. Offline: everything comes from the registry sources cargo already fetched.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

# SPDX identifiers a release may ship. Anything else stops the release: a human decides.
ALLOWED = {
    "MIT",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "CDLA-Permissive-2.0",
    "MPL-2.0",
    "BSL-1.0",
    "Unlicense",
    "CC0-1.0",
}
LICENSE_FILES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "UNLICENSE")


def metadata(target: str) -> dict[str, Any]:
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", target],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    meta: dict[str, Any] = json.loads(out)
    return meta


def linked(meta: dict[str, Any], package: str) -> list[dict[str, Any]]:
    """The package and every crate it links (normal dependencies, transitively), sorted by name."""
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    roots = [i for i, p in packages.items() if p["name"] == package and p["source"] is None]
    if not roots:
        sys.exit(f"no workspace package named {package}")
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    return sorted((packages[i] for i in seen), key=lambda p: (p["name"], p["version"]))


def license_terms(expression: str | None) -> list[str]:
    """The identifiers of an SPDX expression (`MIT OR Apache-2.0`, `(MIT OR Apache-2.0) AND ISC`)."""
    if not expression:
        return []
    text = expression.replace("(", " ").replace(")", " ").replace("/", " OR ")
    terms, pending_with = [], False
    for word in text.split():
        if word in ("OR", "AND"):
            continue
        if word == "WITH":
            pending_with = True
            continue
        if pending_with:
            terms[-1] = f"{terms[-1]} WITH {word}"
            pending_with = False
        else:
            terms.append(word)
    return terms


def acceptable(expression: str | None) -> bool:
    """An OR offers a choice (one allowed term is enough); an AND needs all of its terms allowed."""
    if not expression:
        return False
    alternatives = expression.replace("/", " OR ").split(" OR ")
    return any(all(t in ALLOWED for t in license_terms(alt)) for alt in alternatives)


def check(crates: list[dict[str, Any]]) -> None:
    bad = [
        f"{p['name']} {p['version']}: {p['license']!r}" for p in crates if p["source"] and not acceptable(p["license"])
    ]
    if bad:
        sys.exit("licenses not on the allow-list (scripts/release.d/rust_deps.py):\n  " + "\n  ".join(bad))


def lock_checksums() -> dict[tuple[str, str], str]:
    lock = Path("Cargo.lock").read_text()
    sums, name, version = {}, None, None
    for line in lock.splitlines():
        if line == "[[package]]":
            name, version = None, None
        elif line.startswith("name = "):
            name = line.split('"')[1]
        elif line.startswith("version = ") and name:
            version = line.split('"')[1]
        elif line.startswith("checksum = ") and name and version:
            sums[(name, version)] = line.split('"')[1]
    return sums


def sbom(args: argparse.Namespace) -> None:
    crates = linked(metadata(args.target), args.package)
    check(crates)
    sums = lock_checksums()

    def component(p: dict[str, Any]) -> dict[str, Any]:
        c: dict[str, Any] = {
            "type": "library",
            "bom-ref": f"pkg:cargo/{p['name']}@{p['version']}",
            "name": p["name"],
            "version": p["version"],
            "purl": f"pkg:cargo/{p['name']}@{p['version']}",
        }
        if p["license"]:
            c["licenses"] = [{"expression": p["license"]}]
        if (p["name"], p["version"]) in sums:
            c["hashes"] = [{"alg": "SHA-256", "content": sums[(p["name"], p["version"])]}]
        return c

    ours = [p for p in crates if p["source"] is None]
    theirs = [p for p in crates if p["source"] is not None]
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "component": {
                "type": "application",
                "bom-ref": f"mesbackup/{args.name}@{args.version}",
                "name": args.name,
                "version": args.version,
                "licenses": [{"license": {"id": "Apache-2.0"}}],
                "properties": [{"name": "mesbackup:target", "value": args.target}]
                + [{"name": "mesbackup:workspace-crate", "value": f"{p['name']}@{p['version']}"} for p in ours],
            }
        },
        "components": [component(p) for p in theirs],
    }
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{args.out}: {len(theirs)} crates")


def licenses(args: argparse.Namespace) -> None:
    crates: dict[tuple[str, str], dict[str, Any]] = {}
    for target in args.target:
        meta = metadata(target)
        for package in args.package:
            for p in linked(meta, package):
                if p["source"]:
                    crates[(p["name"], p["version"])] = p
    ordered = sorted(crates.values(), key=lambda p: (p["name"], p["version"]))
    check(ordered)
    parts = [
        (
            "Third-party software in the mesbackup release artifacts\n"
            "========================================================\n\n"
            "Each crate below is linked into at least one artifact. Its license as it declares it, then the\n"
            "license files it ships.\n"
        )
    ]
    missing = []
    first_seen: dict[str, str] = {}
    for p in ordered:
        folder = Path(p["manifest_path"]).parent
        files = sorted(f for f in folder.iterdir() if f.is_file() and f.name.upper().startswith(LICENSE_FILES))
        parts.append(f"\n{'-' * 78}\n{p['name']} {p['version']}  —  {p['license']}\n{'-' * 78}\n")
        if not files:
            missing.append(p["name"])
            parts.append("(this crate ships no license file; its declared license applies)\n")
        for f in files:
            text = f.read_text(errors="replace").rstrip()
            # Most crates ship the same MIT or Apache-2.0 text: print each distinct text once.
            key = " ".join(text.split())
            if key in first_seen:
                parts.append(f"\n--- {f.name}: the same text as {first_seen[key]} above\n")
            else:
                first_seen[key] = f"{p['name']} {p['version']} ({f.name})"
                parts.append(f"\n--- {f.name}\n\n{text}\n")
    Path(args.out).write_text("".join(parts))
    print(f"{args.out}: {len(ordered)} crates, {len(missing)} without a license file of their own")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sbom")
    s.add_argument("--package", required=True)
    s.add_argument("--target", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--version", required=True)
    s.add_argument("--out", required=True)
    lic = sub.add_parser("licenses")
    lic.add_argument("--package", action="append", required=True)
    lic.add_argument("--target", action="append", required=True)
    lic.add_argument("--out", required=True)
    args = ap.parse_args()
    sbom(args) if args.cmd == "sbom" else licenses(args)


if __name__ == "__main__":
    main()
