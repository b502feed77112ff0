#!/usr/bin/env python3
"""Makes the source of the end-to-end suite (scripts/suites/70-e2e.sh): a real-engine database named
like an MES database, its BACKUP zipped as an MES package, and what the engine reported about it.

    make_e2e_backup.py WORKDIR OUT.zip EXPECTED.json [DATABASE]

A chdb session (real ClickHouse 26.x in-process) in WORKDIR, whose config sets
`<backups><allowed_path>`, creates DATABASE (default `E2EMES`, Atomic) with MergeTree tables of
several column types (String, DateTime64, Decimal, Nullable, LowCardinality, Array, ...), several
parts each (merges stopped, one INSERT = one part), a few thousand deterministic rows, and one
table without parts. Then `BACKUP DATABASE ... TO File(...)` (directory format: chdb's zip writer
is disabled) and the folder is zipped the way an MES package looks (stored entries under
`<DATABASE>_backup/`, the `.backup` manifest last; tests/fixtures/clickhouse/README.md).

EXPECTED.json: {"database", "tables": {name: {"engine", "rows", "parts", "content_hash"}},
"backup_files"}, where content_hash is `toString(sum(cityHash64(*)))` as the engine computes it;
a restore must reproduce rows and content_hash exactly.
"""

import json
import os
import sys
import zipfile

from chdb import session

TABLES = [
    # name, DDL tail, rows per INSERT (one part each), SELECT producing rows ({off}, {n})
    (
        "MaterialHistory",
        """(
            `MaterialId` Int64,
            `OperationHistorySeq` UInt32,
            `ModifiedOn` DateTime64(7, 'UTC'),
            `Name` String,
            `PrimaryQuantity` Decimal(38, 12),
            `SecondaryQuantity` Nullable(Decimal(18, 4)),
            `Comment` Nullable(String),
            `Facility` LowCardinality(String),
            `Tags` Array(String)
        ) ENGINE = MergeTree ORDER BY (MaterialId, OperationHistorySeq)""",
        [600, 450, 333],
        """SELECT number + {off},
                  toUInt32(number % 11),
                  toDateTime64('2026-01-05 06:00:00', 7, 'UTC') + toIntervalMillisecond(number * 1234567 + {off}),
                  concat('MAT-', leftPad(toString(number + {off}), 8, '0'), if(number % 9 = 0, ' é✓', '')),
                  toDecimal128((number + {off}) * 3.125, 12) - toDecimal128(0.000000000001, 12),
                  if(number % 4 = 0, NULL, toDecimal64(number / 7, 4)),
                  if(number % 5 = 0, NULL, concat('note ', toString(number % 17))),
                  ['Porto', 'Lisbon', 'Braga', 'Faro'][1 + number % 4],
                  arrayMap(i -> concat('t', toString(i)), range(number % 5))
           FROM numbers({n})""",
    ),
    (
        "ResourceStateHistory",
        """(
            `ResourceId` Int64,
            `State` LowCardinality(Nullable(String)),
            `ModifiedOn` DateTime64(3, 'UTC'),
            `Duration` Nullable(Float64),
            `Reasons` Array(LowCardinality(String))
        ) ENGINE = ReplacingMergeTree(ModifiedOn) ORDER BY ResourceId
        SETTINGS index_granularity = 256""",
        [700, 520],
        """SELECT number + {off},
                  if(number % 13 = 0, NULL, ['Productive', 'Standby', 'Engineering', 'Down'][1 + number % 4]),
                  toDateTime64('2026-02-01 00:00:00', 3, 'UTC') + toIntervalSecond(number * 61),
                  if(number % 7 = 0, NULL, number / 3),
                  arraySlice(['Setup', 'Maintenance', 'NoOperator', 'Material'], 1, number % 3)
           FROM numbers({n})""",
    ),
    (
        "IoTEventData",
        """(
            `EventDefinition` LowCardinality(String),
            `EventTime` DateTime64(3, 'UTC'),
            `Values` Array(Float64),
            `Amount` Decimal(18, 6),
            `Data` String
        ) ENGINE = MergeTree PARTITION BY toYYYYMM(EventTime) ORDER BY (EventDefinition, EventTime)
        SETTINGS min_bytes_for_wide_part = 0""",
        [480, 410],
        """SELECT ['Temperature', 'Pressure', 'Vibration'][1 + number % 3],
                  toDateTime64('2026-03-31 22:00:00', 3, 'UTC') + toIntervalMinute(number + {off}),
                  [number / 10, number / 100, -number],
                  toDecimal64(number * 0.015625, 6),
                  repeat('x', number % 29)
           FROM numbers({n})""",
    ),
    ("EmptyTable", """(`Id` UInt64, `Name` String) ENGINE = MergeTree ORDER BY Id""", [], ""),
]


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    work, out, expected_path = (os.path.abspath(a) for a in sys.argv[1:4])
    db = sys.argv[4] if len(sys.argv) > 4 else "E2EMES"
    backups = os.path.join(work, "backups")
    os.makedirs(backups, exist_ok=True)
    cfg = os.path.join(work, "config.xml")
    with open(cfg, "w") as f:
        f.write(f"<clickhouse><backups><allowed_path>{backups}/</allowed_path></backups></clickhouse>\n")
    s = session.Session(f"{os.path.join(work, 'db')}?config-file={cfg}")

    def one(sql):
        return s.query(sql, "TSVRaw").bytes().decode().strip()

    s.query(f"CREATE DATABASE `{db}` ENGINE = Atomic")
    for name, ddl, batches, select in TABLES:
        s.query(f"CREATE TABLE `{db}`.`{name}` {ddl}")
        s.query(f"SYSTEM STOP MERGES `{db}`.`{name}`")
        for i, n in enumerate(batches):
            s.query(f"INSERT INTO `{db}`.`{name}` " + select.format(off=i * 100000, n=n))

    expected = {"database": db, "tables": {}}
    for name, _ddl, batches, _select in TABLES:
        t = {
            "engine": one(f"SELECT engine FROM system.tables WHERE database = '{db}' AND name = '{name}'"),
            "rows": int(one(f"SELECT count() FROM `{db}`.`{name}`")),
            "parts": int(
                one(f"SELECT count() FROM system.parts WHERE database = '{db}' AND table = '{name}' AND active")
            ),
            "content_hash": one(f"SELECT toString(sum(cityHash64(*))) FROM `{db}`.`{name}`"),
        }
        # The data is what the generator meant: one part per INSERT, no row lost or merged away.
        assert t["rows"] == sum(batches), (name, t)
        assert t["parts"] >= len(batches), (name, t)
        expected["tables"][name] = t

    target = os.path.join(backups, f"{db}_backup")
    s.query(f"BACKUP DATABASE `{db}` TO File('{target}')")
    s.close()

    names = []
    for root, _dirs, files in os.walk(target):
        for f in files:
            names.append(os.path.relpath(os.path.join(root, f), target).replace(os.sep, "/"))
    names.sort(key=lambda n: (n == ".backup", n))  # the manifest last, as ClickHouse writes it
    expected["backup_files"] = len(names)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for n in names:
            z.write(os.path.join(target, n), f"{db}_backup/{n}")
    with open(expected_path, "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    print(out)


if __name__ == "__main__":
    main()
