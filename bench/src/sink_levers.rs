//! `sink-levers DIR SIZE_MIB STRATEGY [--chunk KIB] [--hash inline|thread|none]`
//!
//! The file sink's levers measured one at a time, without the network: a producer fills chunks
//! (copied from an 8 MiB pseudo-random block, as a socket read copies into a buffer) and, with
//! `--hash inline`, feeds them to SHA-256 as the download driver does; a writer thread writes them
//! with one STRATEGY, as the file sink's blocking-pool task does:
//!
//! - `plain`: `write` then one `fsync` at the end (what `curl -o` + fsync does);
//! - `writeback`: plus `sync_file_range(WRITE)` every 16 MiB (the sink before it dropped its cache);
//! - `shipped`: the sink's own `write_behind` every 16 MiB and `drop_from_cache` after the fsync;
//! - `direct`: `O_DIRECT` with page-aligned buffers, the unaligned tail written after clearing the
//!   flag, then fsync (falls back to buffered where the file system refuses `O_DIRECT`).
//!
//! `--hash thread` hashes on a third thread instead (the producer only copies). Prints one line:
//! `strategy chunk_kib hash seconds MiB/s cached_mib`, where `cached_mib` is how much of the written
//! file is still in the page cache afterwards (`mincore`). `bench/levers.sh` runs the table.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use mesbackup_client::file_sink::{drop_from_cache, passes_writeback_mark, write_behind};
use sha2::{Digest, Sha256};

const PAGE: usize = 4096;
const WRITEBACK_EVERY: u64 = 16 << 20;

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    Plain,
    Writeback,
    Shipped,
    Direct,
}

#[derive(Clone, Copy, PartialEq)]
enum Hash {
    Inline,
    Thread,
    None,
}

/// A buffer whose start is page-aligned (O_DIRECT needs aligned memory, offsets and lengths).
struct Aligned {
    raw: Vec<u8>,
    offset: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Aligned {
        let raw = vec![0u8; len + PAGE];
        let offset = (PAGE - raw.as_ptr() as usize % PAGE) % PAGE;
        Aligned { raw, offset, len }
    }
    fn as_slice(&self) -> &[u8] {
        &self.raw[self.offset..self.offset + self.len]
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.raw[self.offset..self.offset + self.len]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: sink-levers DIR SIZE_MIB plain|writeback|shipped|direct [--chunk KIB] [--hash inline|thread|none]";
    let dir = PathBuf::from(args.first().expect(usage));
    let size_mib: u64 = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let strategy = match args.get(2).map(String::as_str) {
        Some("plain") => Strategy::Plain,
        Some("writeback") => Strategy::Writeback,
        Some("shipped") => Strategy::Shipped,
        Some("direct") => Strategy::Direct,
        _ => panic!("{usage}"),
    };
    let mut chunk = 1usize << 20;
    let mut hash = Hash::Inline;
    let mut i = 3;
    while i < args.len() {
        match args[i].as_str() {
            "--chunk" => {
                i += 1;
                chunk = args.get(i).and_then(|s| s.parse::<usize>().ok()).expect(usage) << 10;
            }
            "--hash" => {
                i += 1;
                hash = match args.get(i).map(String::as_str) {
                    Some("inline") => Hash::Inline,
                    Some("thread") => Hash::Thread,
                    Some("none") => Hash::None,
                    _ => panic!("{usage}"),
                };
            }
            _ => panic!("{usage}"),
        }
        i += 1;
    }
    let path = dir.join(".sink-levers.bin");
    let _ = std::fs::remove_file(&path);
    let total = size_mib << 20;

    let start = Instant::now();
    run(&path, total, chunk, strategy, hash);
    let seconds = start.elapsed().as_secs_f64();
    let cached = cached_bytes(&path);
    std::fs::remove_file(&path).expect("remove the test file");
    let name = ["plain", "writeback", "shipped", "direct"][strategy as usize];
    let hash_name = ["inline", "thread", "none"][hash as usize];
    println!("{name} {} {hash_name} {seconds:.3} {:.0} {}", chunk >> 10, size_mib as f64 / seconds, cached >> 20);
}

/// Producer -> (hasher) -> writer, with two buffers in flight between them like the sink's double buffer.
fn run(path: &Path, total: u64, chunk: usize, strategy: Strategy, hash: Hash) {
    let source: Vec<u8> = {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..8 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    let (to_writer, from_producer) = sync_channel::<Arc<Aligned>>(1);
    let (to_hasher, from_producer_h) = sync_channel::<Arc<Aligned>>(1);
    let path_owned = path.to_owned();
    let writer = std::thread::spawn(move || write_all(&path_owned, from_producer, strategy));
    let hasher = (hash == Hash::Thread).then(|| std::thread::spawn(move || hash_all(from_producer_h)));
    let mut sha = (hash == Hash::Inline).then(Sha256::new);
    let mut sent = 0u64;
    let mut at = 0usize;
    while sent < total {
        let len = (chunk as u64).min(total - sent) as usize;
        let mut buf = Aligned::new(len);
        let out = buf.as_mut_slice();
        let mut filled = 0;
        while filled < len {
            let take = (len - filled).min(source.len() - at);
            out[filled..filled + take].copy_from_slice(&source[at..at + take]);
            filled += take;
            at = (at + take) % source.len();
        }
        if let Some(sha) = sha.as_mut() {
            sha.update(buf.as_slice());
        }
        let buf = Arc::new(buf);
        if hasher.is_some() {
            to_hasher.send(buf.clone()).expect("hasher alive");
        }
        to_writer.send(buf).expect("writer alive");
        sent += len as u64;
    }
    drop(to_writer);
    drop(to_hasher);
    if let Some(sha) = sha {
        std::hint::black_box(sha.finalize());
    }
    if let Some(h) = hasher {
        h.join().expect("hasher");
    }
    writer.join().expect("writer");
}

fn hash_all(chunks: Receiver<Arc<Aligned>>) {
    let mut sha = Sha256::new();
    for c in chunks {
        sha.update(c.as_slice());
    }
    std::hint::black_box(sha.finalize());
}

fn write_all(path: &Path, chunks: Receiver<Arc<Aligned>>, strategy: Strategy) {
    let direct = strategy == Strategy::Direct;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    if direct {
        options.custom_flags(libc::O_DIRECT);
    }
    let (mut file, mut direct) = match options.open(path) {
        Ok(f) => (f, direct),
        // tmpfs and some others refuse O_DIRECT: the fallback is a buffered write.
        Err(_) if direct => (OpenOptions::new().write(true).create_new(true).open(path).expect("create"), false),
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let mut written = 0u64;
    for c in chunks {
        let data = c.as_slice();
        if direct && data.len() % PAGE != 0 {
            clear_direct(&file);
            direct = false;
        }
        file.write_all(data).expect("write");
        let before = written;
        written += data.len() as u64;
        match strategy {
            Strategy::Writeback if before / WRITEBACK_EVERY != written / WRITEBACK_EVERY => start_writeback(&file),
            Strategy::Shipped if passes_writeback_mark(before, written) => write_behind(&file, written),
            _ => {}
        }
    }
    file.sync_all().expect("fsync");
    if strategy == Strategy::Shipped {
        drop_from_cache(&file);
    }
}

fn start_writeback(file: &File) {
    // SAFETY: a valid descriptor; 0, 0 means the whole file.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

fn clear_direct(file: &File) {
    // SAFETY: a valid descriptor; F_GETFL/F_SETFL only change the status flags.
    unsafe {
        let fd = file.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT);
    }
}

/// How many bytes of the file are resident in the page cache (`mincore` over a read-only mapping).
fn cached_bytes(path: &Path) -> u64 {
    let file = File::open(path).expect("open");
    let len = file.metadata().expect("stat").len() as usize;
    if len == 0 {
        return 0;
    }
    let pages = len.div_ceil(PAGE);
    let mut vec = vec![0u8; pages];
    // SAFETY: a shared read-only mapping of a file we hold open, unmapped before returning; mincore
    // writes one byte per page into a vector of exactly that many bytes.
    unsafe {
        let map = libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0);
        assert!(map != libc::MAP_FAILED, "mmap");
        let rc = libc::mincore(map, len, vec.as_mut_ptr());
        libc::munmap(map, len);
        assert_eq!(rc, 0, "mincore");
    }
    vec.iter().filter(|b| *b & 1 == 1).count() as u64 * PAGE as u64
}
