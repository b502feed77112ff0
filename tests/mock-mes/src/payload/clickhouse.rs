//! The text files of a ClickHouse native backup (see docs/clickhouse-backup-format.md): the
//! CREATE statements, a part's `columns.txt`, `count.txt` and `checksums.txt`, and the `.backup`
//! manifest. Everything is rendered from plain data so that its length can be known before the
//! hashes it contains are (hashes have a fixed width).

use std::fmt::Write as _;

use mesbackup_core::package::{checksum_hex, city_hash128};

use super::prng::{splitmix64, uuid_from};

/// A MergeTree table of the mock's MES databases.
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [(&'static str, &'static str)],
    pub engine: &'static str,
    pub order_by: &'static str,
}

const MATERIAL_HISTORY: TableDef = TableDef {
    name: "MaterialHistory",
    columns: &[
        ("MaterialId", "Int64"),
        ("ServiceHistoryId", "Int64"),
        ("OperationHistorySeq", "Int32"),
        ("ModifiedOn", "DateTime64(7, 'UTC')"),
        ("Name", "String"),
        ("PrimaryQuantity", "Decimal(38, 12)"),
    ],
    engine: "MergeTree",
    order_by: "(MaterialId, ServiceHistoryId, OperationHistorySeq)",
};

const RESOURCE_STATE: TableDef = TableDef {
    name: "ResourceStateHistory",
    columns: &[
        ("ResourceId", "Int64"),
        ("StateModelId", "Int64"),
        ("State", "LowCardinality(String)"),
        ("ModifiedOn", "DateTime64(7, 'UTC')"),
    ],
    engine: "MergeTree",
    order_by: "(ResourceId, ModifiedOn)",
};

const IOT_EVENT: TableDef = TableDef {
    name: "IoTEventData",
    columns: &[
        ("EventDefinition", "LowCardinality(String)"),
        ("EventTime", "DateTime64(3, 'UTC')"),
        ("AppProperties", "String"),
        ("Data", "String"),
    ],
    engine: "MergeTree",
    order_by: "(EventDefinition, EventTime)",
};

const CDM_MATERIAL: TableDef = TableDef {
    name: "Material",
    columns: &[
        ("Id", "Int64"),
        ("Name", "String"),
        ("Facility", "LowCardinality(String)"),
        ("Product", "LowCardinality(String)"),
        ("PrimaryQuantity", "Decimal(38, 12)"),
        ("ModifiedOn", "DateTime64(7, 'UTC')"),
        ("IsDeleted", "Bool"),
    ],
    engine: "ReplacingMergeTree(ModifiedOn)",
    order_by: "Id",
};

const CDM_RESOURCE: TableDef = TableDef {
    name: "Resource",
    columns: &[
        ("Id", "Int64"),
        ("Name", "String"),
        ("Area", "LowCardinality(String)"),
        ("ModifiedOn", "DateTime64(7, 'UTC')"),
    ],
    engine: "ReplacingMergeTree(ModifiedOn)",
    order_by: "Id",
};

const CDM_EVENT: TableDef = TableDef {
    name: "ProductionEvent",
    columns: &[
        ("EventId", "UUID"),
        ("MaterialId", "Int64"),
        ("ResourceId", "Int64"),
        ("EventType", "LowCardinality(String)"),
        ("EventTime", "DateTime64(7, 'UTC')"),
        ("Payload", "String"),
    ],
    engine: "MergeTree",
    order_by: "(EventType, EventTime)",
};

const ODS_OPERATION: TableDef = TableDef {
    name: "OperationHistory",
    columns: &[
        ("MaterialId", "Int64"),
        ("StepId", "Int64"),
        ("Operation", "LowCardinality(String)"),
        ("StartTime", "DateTime64(7, 'UTC')"),
        ("EndTime", "Nullable(DateTime64(7, 'UTC'))"),
    ],
    engine: "MergeTree",
    order_by: "(MaterialId, StartTime)",
};

const ODS_DATA_COLLECTION: TableDef = TableDef {
    name: "DataCollectionPoint",
    columns: &[
        ("DataCollectionInstanceId", "Int64"),
        ("ParameterId", "Int64"),
        ("Value", "Float64"),
        ("CollectedOn", "DateTime64(7, 'UTC')"),
    ],
    engine: "MergeTree",
    order_by: "(ParameterId, CollectedOn)",
};

const ODS_ALARM: TableDef = TableDef {
    name: "AlarmOccurrence",
    columns: &[
        ("AlarmId", "Int64"),
        ("ResourceId", "Int64"),
        ("Severity", "Enum8('Low' = 1, 'Medium' = 2, 'High' = 3)"),
        ("RaisedOn", "DateTime64(7, 'UTC')"),
    ],
    engine: "MergeTree",
    order_by: "(ResourceId, RaisedOn)",
};

const DWH_FACT_MOVEMENT: TableDef = TableDef {
    name: "FactMaterialMovement",
    columns: &[
        ("DateKey", "UInt32"),
        ("MaterialKey", "Int64"),
        ("FromStepKey", "Int64"),
        ("ToStepKey", "Int64"),
        ("Quantity", "Decimal(38, 12)"),
        ("MovedOn", "DateTime64(7, 'UTC')"),
    ],
    engine: "MergeTree",
    order_by: "(DateKey, MaterialKey)",
};

const DWH_FACT_STATE: TableDef = TableDef {
    name: "FactResourceState",
    columns: &[("DateKey", "UInt32"), ("ResourceKey", "Int64"), ("StateKey", "Int32"), ("DurationSeconds", "Float64")],
    engine: "SummingMergeTree(DurationSeconds)",
    order_by: "(DateKey, ResourceKey, StateKey)",
};

const DWH_DIM_RESOURCE: TableDef = TableDef {
    name: "DimResource",
    columns: &[
        ("ResourceKey", "Int64"),
        ("Name", "String"),
        ("Area", "LowCardinality(String)"),
        ("ValidFrom", "DateTime64(7, 'UTC')"),
    ],
    engine: "ReplacingMergeTree(ValidFrom)",
    order_by: "ResourceKey",
};

/// The three tables of a database, largest first, chosen by the database's suffix.
pub fn tables_for(database: &str) -> [&'static TableDef; 3] {
    if database.ends_with("CDM") {
        [&CDM_EVENT, &CDM_MATERIAL, &CDM_RESOURCE]
    } else if database.ends_with("ODS") {
        [&ODS_DATA_COLLECTION, &ODS_OPERATION, &ODS_ALARM]
    } else if database.ends_with("DWH") {
        [&DWH_FACT_MOVEMENT, &DWH_FACT_STATE, &DWH_DIM_RESOURCE]
    } else {
        [&MATERIAL_HISTORY, &IOT_EVENT, &RESOURCE_STATE]
    }
}

pub fn create_database_sql(database: &str, key: u64) -> String {
    format!("CREATE DATABASE {database} UUID '{}' ENGINE = Atomic", uuid_from(splitmix64(key ^ 0xdb)))
}

pub fn create_table_sql(database: &str, table: &TableDef, key: u64) -> String {
    let mut s = format!(
        "CREATE TABLE {database}.{} UUID '{}' (",
        table.name,
        uuid_from(splitmix64(key ^ fnv1a(table.name.as_bytes())))
    );
    for (i, (name, ty)) in table.columns.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "`{name}` {ty}");
    }
    let _ = write!(s, ") ENGINE = {} ORDER BY {} SETTINGS index_granularity = 8192", table.engine, table.order_by);
    s
}

pub fn columns_txt(table: &TableDef) -> String {
    let mut s = format!("columns format version: 1\n{} columns:\n", table.columns.len());
    for (name, ty) in table.columns {
        let _ = writeln!(s, "`{name}` {ty}");
    }
    s
}

/// A file of a data part as `checksums.txt` lists it.
pub struct PartFile<'a> {
    /// Name inside the part (`data.bin`).
    pub name: &'a str,
    pub size: u64,
    pub hash: u128,
}

/// `checksums.txt`, format version 4: the text header, then one ClickHouse compressed block with
/// method NONE (0x02) holding the binary list `(name, size, file_hash, is_compressed = 0)` sorted
/// by name. The block's own 16-byte checksum is `CityHash128` of the block, as ClickHouse writes it.
pub fn checksums_txt(files: &mut [PartFile<'_>]) -> Vec<u8> {
    files.sort_by(|a, b| a.name.cmp(b.name));
    let mut body = Vec::new();
    write_var_uint(&mut body, files.len() as u64);
    for f in files.iter() {
        write_var_uint(&mut body, f.name.len() as u64);
        body.extend_from_slice(f.name.as_bytes());
        write_var_uint(&mut body, f.size);
        body.extend_from_slice(&(f.hash as u64).to_le_bytes()); // low 64 bits first
        body.extend_from_slice(&((f.hash >> 64) as u64).to_le_bytes());
        body.push(0); // is_compressed
    }
    let mut block = Vec::with_capacity(9 + body.len());
    block.push(0x02); // CompressionMethodByte::NONE
    block.extend_from_slice(&((9 + body.len()) as u32).to_le_bytes());
    block.extend_from_slice(&(body.len() as u32).to_le_bytes());
    block.extend_from_slice(&body);
    let (low, high) = city_hash128(&block);
    let mut out = b"checksums format version: 4\n".to_vec();
    out.extend_from_slice(&low.to_le_bytes());
    out.extend_from_slice(&high.to_le_bytes());
    out.extend_from_slice(&block);
    out
}

/// A file as the manifest lists it.
pub struct ManifestFile<'a> {
    pub name: &'a str,
    pub size: u64,
    pub hash: u128,
}

/// The `.backup` manifest: every file with its size and (when not empty) checksum, sorted by
/// name, then `pad` extra newlines (how the payload reaches its exact size).
pub fn manifest_xml(files: &mut [ManifestFile<'_>], key: u64, pad: usize) -> String {
    files.sort_by(|a, b| a.name.cmp(b.name));
    let mut s = String::with_capacity(256 + files.len() * 160);
    s.push_str("<?xml version=\"1.0\"?>\n<config>\n\t<version>1</version>\n");
    s.push_str("\t<deduplicate_files>1</deduplicate_files>\n");
    let secs = splitmix64(key ^ 0x7157) % 86_400;
    let _ =
        writeln!(s, "\t<timestamp>2025-01-01 {:02}:{:02}:{:02}</timestamp>", secs / 3600, secs / 60 % 60, secs % 60);
    let uuid = uuid_from(splitmix64(key ^ 0xbac));
    let _ = writeln!(s, "\t<uuid>{uuid}</uuid>\n\t<backup_id>{uuid}</backup_id>\n\t<contents>");
    for f in files.iter() {
        let _ = write!(s, "\t\t<file>\n\t\t\t<name>{}</name>\n\t\t\t<size>{}</size>\n", f.name, f.size);
        if f.size > 0 {
            let _ = writeln!(s, "\t\t\t<checksum>{}</checksum>", checksum_hex(f.hash));
        }
        s.push_str("\t\t</file>\n");
    }
    s.push_str("\t</contents>\n</config>\n");
    for _ in 0..pad {
        s.push('\n');
    }
    s
}

/// ClickHouse's `writeVarUInt` (LEB128).
fn write_var_uint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// FNV-1a, to turn names into seeds.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_uint() {
        let mut v = Vec::new();
        write_var_uint(&mut v, 300);
        assert_eq!(v, [0xac, 0x02]);
    }

    #[test]
    fn checksums_txt_parses_back() {
        let mut files = [
            PartFile { name: "data.bin", size: 5000, hash: 0x1122_3344_5566_7788_99aa_bbcc_ddee_ff00 },
            PartFile { name: "count.txt", size: 4, hash: 7 },
        ];
        let out = checksums_txt(&mut files);
        let header = b"checksums format version: 4\n";
        assert!(out.starts_with(header));
        let block = &out[header.len() + 16..];
        let (low, high) = city_hash128(block);
        assert_eq!(&out[header.len()..header.len() + 8], &low.to_le_bytes());
        assert_eq!(&out[header.len() + 8..header.len() + 16], &high.to_le_bytes());
        assert_eq!(block[0], 0x02);
        let body = &block[9..];
        assert_eq!(body[0], 2); // two files, sorted: count.txt first
        assert_eq!(&body[2..11], b"count.txt");
        assert_eq!(body[11], 4);
        assert_eq!(&body[12..20], &7u64.to_le_bytes());
    }
}
