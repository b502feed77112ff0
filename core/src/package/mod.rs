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

pub use cityhash::{BLOCK_SIZE, ChainedChecksum, chained_checksum, checksum_hex, city_hash128, city_hash128_with_seed, city_hash64};
pub use create_sql::{CreateInfo, parse_create};
pub use entry_path::{PathFault, check_entry_path, entry_components};
pub use inspect::{DatabaseInfo, Inspection, Inspector, TableInfo, inspect, unescape_file_name};
pub use manifest::{MANIFEST_NAME, MAX_MANIFEST, Manifest, ManifestFile, parse_manifest};
pub use part_checksums::{MAX_PART_CHECKSUMS, PartChecksum, decompress_blocks, parse_part_checksums};
pub use scan::{EntryFacts, MAX_SQL, PackageContents, Scanner};
pub use verify::{ManifestInfo, Problem, Verifier, VerifyOptions, VerifyReport, report, verify_bytes};
pub use zip::{EntryEnd, EntryHeader, ZipProblem, ZipStream, ZipSummary, ZipVisitor};
