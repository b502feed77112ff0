"""Every version a user sees must be the workspace version (Cargo.toml): the npm package, the browser
extension and the PowerShell module manifest. Stops the release with what to bump otherwise.
The Python wheel takes its version from Cargo.toml itself (pyproject: dynamic = ["version"]).

  versions.py VERSION
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def main() -> None:
    version = sys.argv[1]
    found = {
        "bindings-wasm/pkg-src/package.json": json.loads(Path("bindings-wasm/pkg-src/package.json").read_text())[
            "version"
        ],
        "bindings-wasm/extension/manifest.json": json.loads(Path("bindings-wasm/extension/manifest.json").read_text())[
            "version"
        ],
    }
    psd1 = Path("powershell/MesBackup/MesBackup.psd1").read_text()
    m = re.search(r"^\s*ModuleVersion\s*=\s*'([^']*)'", psd1, re.MULTILINE)
    found["powershell/MesBackup/MesBackup.psd1 (ModuleVersion)"] = m.group(1) if m else "(missing)"
    wrong = {path: v for path, v in found.items() if v != version}
    if wrong:
        lines = "\n".join(f"  {path}: {v}" for path, v in wrong.items())
        sys.exit(f"the workspace version in Cargo.toml is {version}; bump these to match:\n{lines}")
    print(f"every manifest says {version}")


if __name__ == "__main__":
    main()
