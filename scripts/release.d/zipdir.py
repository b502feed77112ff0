"""Zips a folder's contents (at the archive's root), entries sorted and dated 1980-01-01 so that the
same files always give the same archive.

  zipdir.py FOLDER ARCHIVE.zip
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(prefix + path.relative_to(folder).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())


if __name__ == "__main__":
    zip_folder(Path(sys.argv[1]), Path(sys.argv[2]))
