#!/usr/bin/env python3
"""Makes a real-engine package whose table needs a storage policy most targets lack.

    make_policy_backup.py WORKDIR OUT.zip [POLICY]

A chdb session whose config defines POLICY (default `mes_tiered`, one volume on the default disk)
creates database MESPOL with a MergeTree table `SETTINGS storage_policy = POLICY`, backs it up
(directory format) and zips the folder as an MES package. The checksums are the engine's own, so
the package verifies and only the restore plan can object.
"""

import os
import sys
import zipfile

from chdb import session

work, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
policy = sys.argv[3] if len(sys.argv) > 3 else "mes_tiered"
bk = os.path.join(work, "backups")
os.makedirs(bk, exist_ok=True)
cfg = os.path.join(work, "config.xml")
with open(cfg, "w") as f:
    f.write(f"""<clickhouse><backups><allowed_path>{bk}/</allowed_path></backups>
<storage_configuration><policies><{policy}><volumes><main><disk>default</disk></main></volumes></{policy}></policies></storage_configuration>
</clickhouse>
""")
s = session.Session(f"{os.path.join(work, 'db')}?config-file={cfg}")
s.query("CREATE DATABASE MESPOL")
s.query(
    f"CREATE TABLE MESPOL.Tiered (Id UInt64, Name String) ENGINE = MergeTree ORDER BY Id SETTINGS storage_policy = '{policy}'"
)
s.query("INSERT INTO MESPOL.Tiered SELECT number, toString(number) FROM numbers(100)")
target = os.path.join(bk, "MESPOL_backup")
s.query(f"BACKUP DATABASE MESPOL TO File('{target}')")
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    for root, _, files in os.walk(target):
        for name in files:
            p = os.path.join(root, name)
            z.write(p, os.path.relpath(p, bk))
print(out)
