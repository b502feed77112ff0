//! The few zip records a streamed, stored (uncompressed) archive needs.
//!
//! Every entry has general-purpose flag bit 3 set: its local header carries zero CRC and sizes,
//! and a data descriptor after the data gives them, so the CRC-32 is computed while the data
//! streams. The central directory repeats everything and comes last, followed by the end record.
//! No zip64: every size and offset must fit in 32 bits (the payload is at most 4 GiB - 1).

use bytes::{BufMut, BytesMut};

pub const LOCAL_HEADER_LEN: u64 = 30;
pub const DATA_DESCRIPTOR_LEN: u64 = 16;
pub const CENTRAL_HEADER_LEN: u64 = 46;
pub const END_RECORD_LEN: u64 = 22;

/// "Version needed to extract": 2.0 (data descriptors).
const VERSION_NEEDED: u16 = 20;
/// "Version made by": Unix (3), spec 2.0, so that the external attributes are Unix modes.
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
/// Bit 3: CRC-32 and sizes are in the data descriptor.
const FLAGS: u16 = 0x0008;
const METHOD_STORED: u16 = 0;
/// 2025-01-01 00:00:00 in MS-DOS format.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = ((2025 - 1980) << 9) | (1 << 5) | 1;
/// `-rw-r--r--` regular file.
const EXTERNAL_ATTRS: u32 = 0o100644 << 16;

/// Bytes an entry of `name_len` and `size` takes in the archive (local part + central header).
pub fn entry_overhead(name_len: usize) -> u64 {
    LOCAL_HEADER_LEN + DATA_DESCRIPTOR_LEN + CENTRAL_HEADER_LEN + 2 * name_len as u64
}

pub fn local_header(buf: &mut BytesMut, name: &str) {
    buf.put_u32_le(0x0403_4b50);
    buf.put_u16_le(VERSION_NEEDED);
    buf.put_u16_le(FLAGS);
    buf.put_u16_le(METHOD_STORED);
    buf.put_u16_le(DOS_TIME);
    buf.put_u16_le(DOS_DATE);
    buf.put_u32_le(0); // crc-32: in the data descriptor
    buf.put_u32_le(0); // compressed size
    buf.put_u32_le(0); // uncompressed size
    buf.put_u16_le(name.len() as u16);
    buf.put_u16_le(0); // extra field length
    buf.put_slice(name.as_bytes());
}

pub fn data_descriptor(buf: &mut BytesMut, crc: u32, size: u32) {
    buf.put_u32_le(0x0807_4b50);
    buf.put_u32_le(crc);
    buf.put_u32_le(size); // compressed = uncompressed (stored)
    buf.put_u32_le(size);
}

pub fn central_header(buf: &mut BytesMut, name: &str, crc: u32, size: u32, local_offset: u32) {
    buf.put_u32_le(0x0201_4b50);
    buf.put_u16_le(VERSION_MADE_BY);
    buf.put_u16_le(VERSION_NEEDED);
    buf.put_u16_le(FLAGS);
    buf.put_u16_le(METHOD_STORED);
    buf.put_u16_le(DOS_TIME);
    buf.put_u16_le(DOS_DATE);
    buf.put_u32_le(crc);
    buf.put_u32_le(size);
    buf.put_u32_le(size);
    buf.put_u16_le(name.len() as u16);
    buf.put_u16_le(0); // extra field length
    buf.put_u16_le(0); // comment length
    buf.put_u16_le(0); // disk number start
    buf.put_u16_le(0); // internal attributes
    buf.put_u32_le(EXTERNAL_ATTRS);
    buf.put_u32_le(local_offset);
    buf.put_slice(name.as_bytes());
}

pub fn end_record(buf: &mut BytesMut, entries: u16, central_size: u32, central_offset: u32) {
    buf.put_u32_le(0x0605_4b50);
    buf.put_u16_le(0); // this disk
    buf.put_u16_le(0); // disk with the central directory
    buf.put_u16_le(entries);
    buf.put_u16_le(entries);
    buf.put_u32_le(central_size);
    buf.put_u32_le(central_offset);
    buf.put_u16_le(0); // comment length
}
