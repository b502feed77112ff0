//! The request log served by `GET /_mock/log`: one entry per API request, in arrival order.
//!
//! An entry is written when the request has been answered (status and headers chosen); for a
//! streamed package body it is then updated as the body goes out, so `body_bytes_sent` and
//! `body_complete` are right whenever the log is read after the client is done with the response.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub method: String,
    /// The request path as received (no query string).
    pub path: String,
    /// `"primary"` (Host `127.0.0.1:PORT` or anything else) or `"other"` (Host `localhost[:PORT]`).
    pub host: String,
    /// `"bearer"`, `"basic"`, `"none"` or `"invalid"` (see `auth.rs`).
    pub auth: String,
    /// The known user the credentials belong to, else `null`.
    pub user: Option<String>,
    pub status: u16,
    /// Body bytes handed to the connection (for faults: exactly the bytes the client could read).
    pub body_bytes_sent: u64,
    /// The whole body went out (always true for bodies that are not streamed).
    pub body_complete: bool,
    /// Milliseconds from loading the scenario to the request's arrival.
    pub at_ms: u64,
    /// The request carried a `Referer` header (a client should never send one: it would tell a
    /// redirect's target the MES address and the GUID).
    pub referer: bool,
}

/// Where a streamed body reports progress: entry `index` of the log of scenario `epoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef {
    pub epoch: u64,
    pub index: usize,
}

#[derive(Debug, Default)]
pub struct Log {
    entries: Vec<LogEntry>,
}

impl Log {
    pub fn push(&mut self, entry: LogEntry) -> usize {
        self.entries.push(entry);
        self.entries.len() - 1
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut LogEntry> {
        self.entries.get_mut(index)
    }

    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }
}
