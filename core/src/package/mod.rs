//! The package format: a zip read as a stream, the ClickHouse backup inside it (manifest, parts'
//! checksums), the one rule for paths inside a package, and the reports built from one pass over
//! it (verify, inspect).

pub mod cityhash;
pub mod create_sql;
pub mod entry_path;
pub mod inspect;
pub mod manifest;
pub mod part_checksums;
pub mod scan;
pub mod verify;
pub mod zip;
