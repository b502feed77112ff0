#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/), deterministically.

    python3 fuzz/make_corpus.py        # rewrites fuzz/corpus/; commit what changed

Seeds are small (KBs) and valid, so the fuzzer starts deep inside each format:

- zipstream, verifier: zips written byte by byte here (no timestamps, so the bytes never change),
  in every layout the streaming reader handles: stored or deflated; sizes in the local header or
  in a data descriptor, with or without its signature; zip64 extra fields and end records. The
  verifier's package is a real ClickHouse 26.9 backup cut down to one part of one table (the
  files, their manifest entries and the part's checksums.txt come from
  tests/fixtures/clickhouse/mesfix_stored.zip, made by the real engine), so it verifies OK.
  The first byte of these inputs is the chunking plan (see `chunks` in fuzz/src/lib.rs).
- manifest: that package's real `.backup`, and one with every optional field.
- part_checksums: real checksums.txt files (ZSTD blocks, as the engine writes them).
- entry_path: the package's paths, and the hostile ones of issue 13 (`R//etc/x`, `..`, `C:x`...).
- content_disposition, response, naming: header values, HTTP answers ("STATUS\\nName: value\\n\\n
  body"), file names: the ones the MES sends, and the hostile ones the code must refuse.
"""

import os
import re
import shutil
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "clickhouse", "mesfix_stored.zip")
FIXTURE_ROOT = "MESFIX_backup/"
# The part kept in the small package (a wide part: many small files) and the metadata.
KEEP = ("data/MESFIX/IoTEventData/202503_1_1_0/", "metadata/")

# Chunking plans (first byte of zipstream and verifier inputs): low 3 bits pick the largest
# chunk (1, 2, 7, 31, 256, 4096, 65536 bytes, or all at once), the other bits seed the sizes.
WHOLE = 0x07
BY_7 = 0x0A
BY_31 = 0x13
BY_256 = 0x2C


def deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def write_zip(entries, deflated=False, descriptor=False, signature=True, zip64=False):
    """A zip of (name, bytes) entries; a name ending in '/' is a folder entry."""
    out = bytearray()
    central = bytearray()
    for name, data in entries:
        raw_name = name.encode()
        crc = zlib.crc32(data)
        body = deflate(data) if deflated and data else data
        method = 8 if deflated and data else 0
        flags = 8 if descriptor else 0
        offset = len(out)
        hcrc, hc, hu = (0, 0, 0) if descriptor else (crc, len(body), len(data))
        extra = struct.pack("<HHQQ", 1, 16, hu, hc) if zip64 else b""
        out += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            45,
            flags,
            method,
            0,
            0,
            hcrc,
            0xFFFFFFFF if zip64 else hc,
            0xFFFFFFFF if zip64 else hu,
            len(raw_name),
            len(extra),
        )
        out += raw_name + extra + body
        if descriptor:
            if signature:
                out += struct.pack("<I", 0x08074B50)
            if zip64:
                out += struct.pack("<IQQ", crc, len(body), len(data))
            else:
                out += struct.pack("<III", crc, len(body), len(data))
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(body), offset) if zip64 else b""
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            45,
            45,
            flags,
            method,
            0,
            0,
            crc,
            0xFFFFFFFF if zip64 else len(body),
            0xFFFFFFFF if zip64 else len(data),
            len(raw_name),
            len(cextra),
            0,
            0,
            0,
            0,
            0xFFFFFFFF if zip64 else offset,
        )
        central += raw_name + cextra
    cd_offset = len(out)
    out += central
    n = len(entries)
    if zip64:
        z64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
    out += struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        0xFFFF if zip64 else n,
        0xFFFF if zip64 else n,
        len(central),
        0xFFFFFFFF if zip64 else cd_offset,
        0,
    )
    return bytes(out)


def small_package():
    """(manifest bytes, [(path, bytes)]) of one real part and the metadata, under the root."""
    z = zipfile.ZipFile(FIXTURE)
    manifest = z.read(FIXTURE_ROOT + ".backup").decode()
    head, rest = manifest.split("<contents>", 1)
    files = re.findall(r"<file>.*?</file>", rest, re.DOTALL)
    kept = [f for f in files if re.search(r"<name>(.*?)</name>", f).group(1).startswith(KEEP)]
    small = head + "<contents>" + "".join(kept) + "</contents></config>"
    entries = []
    for f in kept:
        if "<data_file>" in f:
            continue  # deduplicated: its bytes are another kept file's
        name = re.search(r"<name>(.*?)</name>", f).group(1)
        entries.append((name, z.read(FIXTURE_ROOT + name)))
    return small.encode(), entries


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)

    # --- zipstream: a few small entries (text, a compressible run, empty, a folder) per layout.
    entries = [
        ("a.txt", b"hello, zip\n"),
        ("d/", b""),
        ("d/run.bin", b"PK\x07\x08" + bytes(range(64)) * 4 + b"PK\x03\x04"),
        ("d/empty", b""),
    ]
    layouts = [
        ("stored", {}),
        ("stored_descriptor", {"descriptor": True}),
        ("stored_descriptor_nosig_zip64", {"descriptor": True, "signature": False, "zip64": True}),
        ("deflated", {"deflated": True}),
        ("deflated_descriptor_zip64", {"deflated": True, "descriptor": True, "zip64": True}),
        ("deflated_descriptor_nosig", {"deflated": True, "descriptor": True, "signature": False}),
    ]
    for i, (name, layout) in enumerate(layouts):
        spec = [WHOLE, BY_7, BY_31, BY_256][i % 4]
        write("zipstream", name, bytes([spec]) + write_zip(entries, **layout))
    write(
        "zipstream",
        "unsafe_names",
        bytes([BY_31]) + write_zip([("../up", b"x"), ("/abs", b"y"), ("R//etc/x", b"z"), ("C:\\w", b"w")]),
    )
    write("zipstream", "empty_archive", bytes([WHOLE]) + write_zip([]))

    # --- verifier: the real part as a package, under a folder and at the root.
    manifest, files = small_package()
    package = [("MESFIX_backup/" + n, d) for n, d in files] + [("MESFIX_backup/.backup", manifest)]
    write("verifier", "package_stored", bytes([WHOLE]) + write_zip(package))
    at_root = [(n, d) for n, d in files] + [(".backup", manifest)]
    write(
        "verifier",
        "package_deflated_descriptor_zip64",
        bytes([BY_256]) + write_zip(at_root, deflated=True, descriptor=True, zip64=True),
    )
    write(
        "verifier",
        "package_stored_descriptor_nosig",
        bytes([BY_31]) + write_zip(at_root, descriptor=True, signature=False),
    )
    # An entry that escapes the backup root once the root is stripped (issue 13).
    escaping = package[:3] + [("MESFIX_backup//tmp/evil", b"x")] + package[3:]
    write("verifier", "package_escaping_entry", bytes([WHOLE]) + write_zip(escaping))

    # --- manifest
    write("manifest", "real", manifest)
    write(
        "manifest",
        "every_field",
        b"""<?xml version="1.0"?>
<!-- comment --><config><version>1</version><timestamp>2026-11-25 14:41:35</timestamp>
<uuid>50e7e7e8-316d-43f7-a856-a5c9ee8cb6e5</uuid><contents>
 <file><name>metadata/a&amp;b&#x20;&#233;.sql</name><size>0</size></file>
 <file><name>x</name><size>10</size><checksum>00000000000000000000000000000001</checksum><use_base>true</use_base><base_size>4</base_size><base_checksum>2</base_checksum></file>
 <file><name>y</name><size>3</size><checksum>3</checksum><data_file>x</data_file><archive_suffix>.zip</archive_suffix><pos_in_archive>7</pos_in_archive><unknown_field/></file>
</contents></config>""",
    )

    # --- part_checksums: real ones (ZSTD blocks); the structured mode needs no seed.
    for name, data in files:
        if name.endswith("checksums.txt"):
            write("part_checksums", "real_wide_part", data)
    z = zipfile.ZipFile(FIXTURE)
    write(
        "part_checksums",
        "real_compact_part",
        z.read(FIXTURE_ROOT + "data/MESFIX/MaterialHistory/all_1_1_0/checksums.txt"),
    )

    # --- content_disposition
    for i, value in enumerate(
        [
            'attachment; filename="MESCDM.zip"',
            "attachment; filename*=UTF-8''MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
            "attachment; filename=\"fallback.zip\"; filename*=ISO-8859-1'en'%E9t%E9.zip",
            'attachment; filename="../../etc/passwd"',
            "inline; FILENAME=CON.zip ; size=3",
            'form-data; name="f"; filename="a\\"b\\\\c.zip"',
            "attachment; filename*=UTF-8''%2E%2E%2F%E2%80%AEpiz.exe",
        ]
    ):
        write("content_disposition", f"header_{i}", value.encode())

    # --- response: "STATUS\nName: value\n...\n\nbody"
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    for i, answer in enumerate(
        [
            f'202\nContent-Type: application/json\n\n"{guid}"',
            f"202\n\n{{{guid.upper()}}}",
            "204\nRetry-After: 5\n\n",
            "202\nRetry-After: Wed, 25 Nov 2026 14:41:35 GMT\n\n",
            (
                '200\nContent-Disposition: attachment; filename="MESCDM.zip"\nContent-Length: 145840\n'
                "Content-Type: application/zip\n\n"
            ),
            "400\n\nBackup not found",
            "401\nWWW-Authenticate: Bearer\n\n",
            "503\nRetry-After: 99999999999999999999\n\n<html>busy</html>",
            "307\nLocation: http://elsewhere.example/x\n\n",
            "500\n\n\x1b[2Jfailed\nfake prompt $",
        ]
    ):
        write("response", f"answer_{i}", answer.encode())

    # --- naming: a folder listing per input; the first line is also parsed alone.
    for i, listing in enumerate(
        [
            (
                "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip\nCmf.ClickHouse.FullBackup.CDM.11.3.0.zip\n"
                "Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip\nMES.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip"
            ),
            (
                "Cmf.ClickHouse.FullBackup.cdm.11.3.0.zip\nCmf.ClickHouse.FullBackup.CDM.v11.3.0.zip\n"
                "Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip\nCmf.ClickHouse.FullBackup.CDM.11.3.0.7z"
            ),
            (
                "mes.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip\nClickHouse.FullBackup.ODS.11.3.0.zip\n"
                "Cmf.ClickHouse.FullBackup.DWH.zip\nMESCDM\nMESODS.zip.part\n.hidden"
            ),
        ]
    ):
        write("naming", f"folder_{i}", listing.encode())

    # --- entry_path: one path per line (the whole input is also one path).
    write("entry_path", "package_paths", "\n".join(n for n, _ in package[:6] + [("MESFIX_backup/data/", b"")]).encode())
    hostile_paths = [
        "R//etc/x",
        "../x",
        "a/../../b",
        "/abs",
        "R/\\x",
        "C:x",
        "a/CON.txt/b",
        "nul",
        "a/b. ",
        "x/\x07y",
        "a/./b",
        "COM\u00b9",
        "dir//",
        "",
    ]
    write("entry_path", "hostile_paths", "\n".join(hostile_paths).encode())


if __name__ == "__main__":
    main()
