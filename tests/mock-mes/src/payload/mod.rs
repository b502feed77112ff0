//! The package a ready job serves: a zip laid out like a ClickHouse native backup of the job's
//! database, exactly `size` bytes, deterministic in (database, size, seed), generated as a stream
//! of chunks and never held whole in memory.
//!
//! Layout (zip entries in this order, all stored, `.backup` last as ClickHouse writes it):
//! ```text
//! metadata/<DB>.sql                                CREATE DATABASE <DB> UUID '…' ENGINE = Atomic
//! metadata/<DB>/<table>.sql                        3 MergeTree tables
//! data/<DB>/<table>/all_N_N_0/columns.txt          one part per table (N = 1, 2, 3)
//! data/<DB>/<table>/all_N_N_0/count.txt
//! data/<DB>/<table>/all_N_N_0/data.bin             pseudo-random
//! data/<DB>/<table>/all_N_N_0/data.cmrk2           pseudo-random
//! data/<DB>/<table>/all_N_N_0/primary.cidx         pseudo-random
//! data/<DB>/<table>/all_N_N_0/checksums.txt        real format v4 (uncompressed block): size and
//!                                                  ClickHouse hash of each file of the part
//! .backup                                          the manifest: every other file, its size and
//!                                                  chained CityHash128 checksum
//! ```
//! The second and third tables' `data.bin` take 1/8 and 1/32 of the size; the first table's
//! `data.bin` takes the rest, which is how the archive reaches the exact size (the manifest may end
//! with up to 2 extra newlines where a size's digit count would otherwise skip the target).
//! Sizes below [`MIN_SIZE`] are raised to it; sizes above [`MAX_SIZE`] are refused (no zip64).

mod clickhouse;
mod prng;
mod zip;

use std::io::{self, Write};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use mesbackup_core::package::ChainedChecksum;

use clickhouse::{ManifestFile, PartFile};

/// Smallest payload: the fixed files of the layout need about 12 KiB (more for long names).
pub const MIN_SIZE: u64 = 16 * 1024;
/// Largest payload: 4 GiB - 1, the limit of a zip without zip64 records.
pub const MAX_SIZE: u64 = u32::MAX as u64;
/// Size of the chunks the stream yields (the last one and a few around small files differ a little).
pub const CHUNK_SIZE: usize = 256 * 1024;
/// The first table's `data.bin` is never smaller than this.
const MIN_MAIN_DATA: u64 = 1024;
/// Name of the manifest, as ClickHouse writes it at the backup's root.
pub const MANIFEST_NAME: &str = ".backup";

/// The size actually served for a requested size.
pub fn effective_size(requested: u64) -> Result<u64, String> {
    if requested > MAX_SIZE {
        return Err(format!("payload size {requested} is over {MAX_SIZE} bytes (4 GiB - 1): the mock writes no zip64"));
    }
    Ok(requested.max(MIN_SIZE))
}

#[derive(Debug, Clone)]
enum Content {
    Text(Bytes),
    /// Pseudo-random bytes read cyclically from the pool, starting at this offset.
    Random(usize),
    /// The part's checksums.txt over these files (indexes into `files`).
    PartChecksums(Vec<usize>),
    Manifest,
}

#[derive(Debug, Clone)]
struct FileSpec {
    name: String,
    size: u64,
    content: Content,
}

#[derive(Debug)]
struct Layout {
    key: u64,
    files: Vec<FileSpec>,
    manifest_pad: usize,
    total: u64,
}

/// One payload: its layout (a few KiB of names and small texts); bytes come from [`Payload::stream`].
#[derive(Debug, Clone)]
pub struct Payload {
    layout: Arc<Layout>,
}

impl Payload {
    /// The package of `database` for `size` (see [`effective_size`]) and `seed`.
    pub fn new(database: &str, size: u64, seed: u64) -> Result<Payload, String> {
        let size = effective_size(size)?;
        if database.is_empty()
            || database.len() > 64
            || !database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!("database name {database:?} is not 1-64 ASCII letters, digits or '_'"));
        }
        Ok(Payload { layout: Arc::new(Layout::build(database, size, seed)?) })
    }

    /// Exact length in bytes of the archive.
    pub fn len(&self) -> u64 {
        self.layout.total
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The archive's entries `(name, size)` in order.
    pub fn entries(&self) -> Vec<(String, u64)> {
        self.layout.files.iter().map(|f| (f.name.clone(), f.size)).collect()
    }

    /// The archive as chunks of about [`CHUNK_SIZE`] bytes.
    pub fn stream(&self) -> PayloadStream {
        PayloadStream::new(self.layout.clone())
    }

    /// Writes the whole archive to `w`; returns its length.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<u64> {
        let mut n = 0;
        for chunk in self.stream() {
            w.write_all(&chunk)?;
            n += chunk.len() as u64;
        }
        Ok(n)
    }
}

impl Layout {
    fn build(database: &str, size: u64, seed: u64) -> Result<Layout, String> {
        let key = prng::splitmix64(clickhouse::fnv1a(database.as_bytes()) ^ prng::splitmix64(seed));
        let fixed = |main_data: u64| Layout::plan(database, size, key, main_data);
        let floor = fixed(MIN_MAIN_DATA);
        if floor.total > size {
            return Err(format!(
                "payload of {size} bytes is too small for database {database:?} (needs {})",
                floor.total
            ));
        }
        // Every byte of main data adds one byte; digit counts add a few more now and then.
        let mut main = MIN_MAIN_DATA + (size - floor.total);
        let mut layout = fixed(main);
        while layout.total > size {
            main -= 1;
            layout = fixed(main);
        }
        let pad = size - layout.total;
        debug_assert!(pad <= 2, "pad {pad}");
        layout.manifest_pad = pad as usize;
        let manifest = layout.files.last_mut().expect("manifest");
        manifest.size += pad;
        layout.total += pad;
        debug_assert_eq!(layout.total, size);
        Ok(layout)
    }

    /// All files and sizes for a given size of the main `data.bin` (without manifest padding).
    fn plan(database: &str, size: u64, key: u64, main_data: u64) -> Layout {
        let tables = clickhouse::tables_for(database);
        let mut files = Vec::with_capacity(24);
        let text =
            |name: String, s: String| FileSpec { name, size: s.len() as u64, content: Content::Text(Bytes::from(s)) };
        files.push(text(format!("metadata/{database}.sql"), clickhouse::create_database_sql(database, key)));
        for t in tables {
            files.push(text(
                format!("metadata/{database}/{}.sql", t.name),
                clickhouse::create_table_sql(database, t, key),
            ));
        }
        let data_sizes = [main_data, size / 8, size / 32];
        let bytes_per_row = [37, 53, 29];
        for (i, t) in tables.iter().enumerate() {
            let part = format!("data/{database}/{}/all_{n}_{n}_0", t.name, n = i + 1);
            // Row counts follow the requested size, not the padded data size, so that the small
            // files do not change while the size is being solved.
            let share = if i == 0 { size - size / 8 - size / 32 } else { data_sizes[i] };
            let rows = (share / bytes_per_row[i]).max(1);
            let granules = rows.div_ceil(8192) + 1;
            let first = files.len();
            files.push(text(format!("{part}/columns.txt"), clickhouse::columns_txt(t)));
            files.push(text(format!("{part}/count.txt"), rows.to_string()));
            let salt = |k: u64| (prng::splitmix64(key ^ (i as u64) << 8 ^ k) % prng::POOL_LEN as u64) as usize;
            let random = |name: &str, size: u64, k: u64| FileSpec {
                name: format!("{part}/{name}"),
                size,
                content: Content::Random(salt(k)),
            };
            files.push(random("data.bin", data_sizes[i], 1));
            let ncols = t.columns.len() as u64;
            files.push(random("data.cmrk2", 25 + granules * (8 + 16 * ncols) / 3, 2));
            files.push(random("primary.cidx", 25 + granules * 8 / 2, 3));
            let members: Vec<usize> = (first..files.len()).collect();
            let mut listed: Vec<PartFile<'_>> = members
                .iter()
                .map(|&j| PartFile { name: part_file_name(&files[j].name), size: files[j].size, hash: 0 })
                .collect();
            let len = clickhouse::checksums_txt(&mut listed).len() as u64;
            files.push(FileSpec {
                name: format!("{part}/checksums.txt"),
                size: len,
                content: Content::PartChecksums(members),
            });
        }
        let mut listed: Vec<ManifestFile<'_>> =
            files.iter().map(|f| ManifestFile { name: &f.name, size: f.size, hash: 0 }).collect();
        let manifest_len = clickhouse::manifest_xml(&mut listed, key, 0).len() as u64;
        files.push(FileSpec { name: MANIFEST_NAME.to_owned(), size: manifest_len, content: Content::Manifest });
        let total = files.iter().map(|f| zip::entry_overhead(f.name.len()) + f.size).sum::<u64>() + zip::END_RECORD_LEN;
        Layout { key, files, manifest_pad: 0, total }
    }
}

fn part_file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What the stream is writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    LocalHeader,
    Data,
    Descriptor,
    Central(usize),
    End,
    Finished,
}

/// Checksums of an entry already written.
#[derive(Debug, Clone, Copy)]
struct Written {
    crc: u32,
    hash: u128,
    offset: u32,
}

/// The archive's bytes, chunk by chunk. Memory: the 1 MiB pool, one chunk, the small files.
pub struct PayloadStream {
    layout: Arc<Layout>,
    pool: Box<[u8]>,
    stage: Stage,
    file: usize,
    offset: u64,
    written: Vec<Written>,
    /// The current file's bytes when it is not random.
    text: Bytes,
    file_pos: u64,
    crc: crc32fast::Hasher,
    sum: ChainedChecksum,
    central_start: u64,
}

impl PayloadStream {
    fn new(layout: Arc<Layout>) -> PayloadStream {
        let pool = prng::pool(layout.key);
        PayloadStream {
            written: Vec::with_capacity(layout.files.len()),
            layout,
            pool,
            stage: Stage::LocalHeader,
            file: 0,
            offset: 0,
            text: Bytes::new(),
            file_pos: 0,
            crc: crc32fast::Hasher::new(),
            sum: ChainedChecksum::new(),
            central_start: 0,
        }
    }

    /// Total length of the archive.
    pub fn len(&self) -> u64 {
        self.layout.total
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    fn render(&self, content: &Content) -> Bytes {
        let files = &self.layout.files;
        match content {
            Content::Text(b) => b.clone(),
            Content::Random(_) => Bytes::new(),
            Content::PartChecksums(members) => {
                let mut listed: Vec<PartFile<'_>> = members
                    .iter()
                    .map(|&j| PartFile {
                        name: part_file_name(&files[j].name),
                        size: files[j].size,
                        hash: self.written[j].hash,
                    })
                    .collect();
                Bytes::from(clickhouse::checksums_txt(&mut listed))
            }
            Content::Manifest => {
                let mut listed: Vec<ManifestFile<'_>> = files[..files.len() - 1]
                    .iter()
                    .zip(&self.written)
                    .map(|(f, w)| ManifestFile { name: &f.name, size: f.size, hash: w.hash })
                    .collect();
                Bytes::from(clickhouse::manifest_xml(&mut listed, self.layout.key, self.layout.manifest_pad))
            }
        }
    }

    /// Appends the next piece (a record, or file data up to the chunk's room) to `buf`.
    fn step(&mut self, buf: &mut BytesMut) {
        let layout = self.layout.clone();
        let before = buf.len();
        match self.stage {
            Stage::LocalHeader => {
                let f = &layout.files[self.file];
                self.written.push(Written { crc: 0, hash: 0, offset: self.offset as u32 });
                zip::local_header(buf, &f.name);
                self.text = self.render(&f.content);
                assert!(
                    matches!(f.content, Content::Random(_)) || self.text.len() as u64 == f.size,
                    "{}: rendered {} bytes, planned {}",
                    f.name,
                    self.text.len(),
                    f.size
                );
                self.file_pos = 0;
                self.crc = crc32fast::Hasher::new();
                self.sum = ChainedChecksum::new();
                self.stage = Stage::Data;
            }
            Stage::Data => {
                let f = &layout.files[self.file];
                let room = (CHUNK_SIZE - buf.len().min(CHUNK_SIZE)) as u64;
                let mut n = (f.size - self.file_pos).min(room) as usize;
                if n == 0 {
                    if self.file_pos == f.size {
                        self.stage = Stage::Descriptor;
                    }
                    return;
                }
                let slice: &[u8] = match f.content {
                    Content::Random(start) => {
                        let at = ((start as u64 + self.file_pos) % prng::POOL_LEN as u64) as usize;
                        n = n.min(prng::POOL_LEN - at);
                        &self.pool[at..at + n]
                    }
                    _ => &self.text[self.file_pos as usize..self.file_pos as usize + n],
                };
                self.crc.update(slice);
                self.sum.update(slice);
                buf.extend_from_slice(slice);
                self.file_pos += n as u64;
            }
            Stage::Descriptor => {
                let f = &layout.files[self.file];
                let crc = std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize();
                let hash = std::mem::take(&mut self.sum).finish();
                let w = self.written.last_mut().expect("entry started");
                w.crc = crc;
                w.hash = hash;
                zip::data_descriptor(buf, crc, f.size as u32);
                self.text = Bytes::new();
                self.file += 1;
                self.stage = if self.file < layout.files.len() {
                    Stage::LocalHeader
                } else {
                    self.central_start = self.offset + (buf.len() - before) as u64;
                    Stage::Central(0)
                };
            }
            Stage::Central(i) => {
                let f = &layout.files[i];
                let w = self.written[i];
                zip::central_header(buf, &f.name, w.crc, f.size as u32, w.offset);
                self.stage = if i + 1 < layout.files.len() { Stage::Central(i + 1) } else { Stage::End };
            }
            Stage::End => {
                let central_size = self.offset - self.central_start;
                zip::end_record(buf, layout.files.len() as u16, central_size as u32, self.central_start as u32);
                self.stage = Stage::Finished;
            }
            Stage::Finished => {}
        }
        self.offset += (buf.len() - before) as u64;
    }
}

impl Iterator for PayloadStream {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.stage == Stage::Finished {
            return None;
        }
        let mut buf = BytesMut::with_capacity(CHUNK_SIZE + 512);
        while buf.len() < CHUNK_SIZE && self.stage != Stage::Finished {
            self.step(&mut buf);
        }
        if self.stage == Stage::Finished {
            assert_eq!(self.offset, self.layout.total, "payload length differs from its plan");
        }
        Some(buf.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sizes_and_limits() {
        for size in [0, 1, MIN_SIZE, MIN_SIZE + 1, 65536, 100_003, 1_000_000, 10 << 20] {
            let p = Payload::new("MESCDM", size, 1).unwrap();
            assert_eq!(p.len(), size.max(MIN_SIZE));
        }
        assert_eq!(Payload::new("MES", MAX_SIZE, 1).unwrap().len(), MAX_SIZE);
        assert!(Payload::new("MES", MAX_SIZE + 1, 1).is_err());
        // The longest system name still fits the minimum size.
        let long = format!("{}DWH", "S".repeat(crate::scenario::MAX_SYSTEM_LEN));
        assert_eq!(Payload::new(&long, 0, 1).unwrap().len(), MIN_SIZE);
    }

    #[test]
    fn every_size_around_digit_boundaries() {
        // Sizes where the main data.bin's decimal or LEB128 length changes.
        for base in [100_000u64, 1_000_000, 10_000_000, 1 << 21, 1 << 28] {
            for delta in 0..40 {
                let size = base - 20 + delta;
                let p = Payload::new("MES", size, 3).unwrap();
                assert_eq!(p.len(), size);
            }
        }
    }

    #[test]
    fn stream_matches_length_and_is_deterministic() {
        let p = Payload::new("MESODS", 300_000, 9).unwrap();
        let a: Vec<u8> = p.stream().flat_map(|c| c.to_vec()).collect();
        assert_eq!(a.len() as u64, p.len());
        let mut b = Vec::new();
        Payload::new("MESODS", 300_000, 9).unwrap().write_to(&mut b).unwrap();
        assert_eq!(a, b);
        let mut c = Vec::new();
        Payload::new("MESODS", 300_000, 10).unwrap().write_to(&mut c).unwrap();
        assert_ne!(a, c);
        assert!(p.stream().all(|c| c.len() <= CHUNK_SIZE + 512));
    }
}
