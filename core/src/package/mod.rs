//! The package format: a zip read as a stream, the ClickHouse backup inside it (manifest, parts'
//! checksums), the one rule for paths inside a package, and the reports built from one pass over
//! it (verify, inspect).

mod cityhash;
mod create_sql;
mod entry_path;
mod inspect;
mod manifest;
mod part_checksums;
mod scan;
mod verify;
mod zip;

pub use cityhash::{
    chained_checksum, checksum_hex, city_hash128, city_hash128_with_seed, city_hash64, ChainedChecksum, BLOCK_SIZE,
};
pub use create_sql::{parse_create, CreateInfo};
pub use entry_path::{check_entry_path, entry_components, PathFault};
pub use inspect::{inspect, unescape_file_name, DatabaseInfo, Inspection, Inspector, TableInfo};
pub use manifest::{parse_manifest, Manifest, ManifestFile, MANIFEST_NAME, MAX_MANIFEST};
pub use part_checksums::{decompress_blocks, parse_part_checksums, PartChecksum, MAX_PART_CHECKSUMS};
pub use scan::{EntryFacts, PackageContents, Scanner, MAX_SQL};
pub use verify::{report, verify_bytes, ManifestInfo, Problem, Verifier, VerifyOptions, VerifyReport};
pub use zip::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipSummary, ZipVisitor};
