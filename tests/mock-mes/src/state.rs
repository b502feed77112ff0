//! Everything a scenario accumulates: its jobs, its request counters and its log. Loading a
//! scenario replaces all of it at once (a new `epoch`, so that a body still streaming from the
//! previous scenario cannot write into the new log).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::log::{EntryRef, Log, LogEntry};
use crate::scenario::Scenario;

/// The shared state of one server.
#[derive(Debug)]
pub struct App {
    state: Mutex<State>,
    /// The port the server listens on (for the `localhost:PORT` redirect target).
    pub port: u16,
    /// `--static DIR`: files served under `/panel/` (the browser panel next to the API).
    pub static_dir: std::sync::OnceLock<std::path::PathBuf>,
}

impl App {
    pub fn new(port: u16, scenario: Scenario) -> App {
        App { state: Mutex::new(State::new(Arc::new(scenario), 0)), port, static_dir: std::sync::OnceLock::new() }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every mutation is one step).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resets jobs, counters and log, and starts the scenario clock.
    pub fn load(&self, scenario: Scenario) {
        let mut st = self.lock();
        let epoch = st.epoch + 1;
        *st = State::new(Arc::new(scenario), epoch);
    }

    pub fn log(&self) -> Vec<LogEntry> {
        self.lock().log.entries().to_vec()
    }

    /// Progress of a streamed body; ignored when the scenario has been replaced meanwhile.
    pub fn update_entry(&self, at: EntryRef, bytes_sent: u64, complete: bool) {
        let mut st = self.lock();
        if st.epoch == at.epoch {
            if let Some(e) = st.log.get_mut(at.index) {
                e.body_bytes_sent = bytes_sent;
                e.body_complete = complete;
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub guid: String,
    pub database: String,
    pub created: Instant,
    /// GETs answered "pending" so far.
    pub polls: u64,
}

/// What a GET of a GUID finds.
#[derive(Debug)]
pub enum Lookup {
    Unknown,
    Pending,
    /// The job was ready: it is removed now (one-shot), whatever happens to the body.
    Ready(Job),
}

#[derive(Debug)]
pub struct State {
    pub scenario: Arc<Scenario>,
    pub epoch: u64,
    pub loaded_at: Instant,
    /// Jobs by lowercase GUID.
    jobs: HashMap<String, Job>,
    jobs_created: u64,
    method_counts: HashMap<String, u64>,
    package_downloads: u64,
    pub log: Log,
}

impl State {
    fn new(scenario: Arc<Scenario>, epoch: u64) -> State {
        State {
            scenario,
            epoch,
            loaded_at: Instant::now(),
            jobs: HashMap::new(),
            jobs_created: 0,
            method_counts: HashMap::new(),
            package_downloads: 0,
            log: Log::default(),
        }
    }

    pub fn at_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.loaded_at).as_millis() as u64
    }

    /// Counts an API request of `method`; returns its 1-based number among requests of that method.
    pub fn count_request(&mut self, method: &str) -> u64 {
        let n = self.method_counts.entry(method.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// Counts a package download (a 200 serving the zip); returns its 1-based number.
    pub fn count_package_download(&mut self) -> u64 {
        self.package_downloads += 1;
        self.package_downloads
    }

    /// Starts a backup job of `database`; returns its GUID.
    pub fn create_job(&mut self, database: &str, now: Instant) -> String {
        self.jobs_created += 1;
        let n = self.jobs_created;
        let guid = self.scenario.guids.get((n - 1) as usize).cloned().unwrap_or_else(|| default_guid(n));
        self.jobs.insert(
            guid.to_ascii_lowercase(),
            Job { guid: guid.clone(), database: database.to_owned(), created: now, polls: 0 },
        );
        guid
    }

    /// A GET of `guid` (compared case-insensitively, otherwise exactly: no braces, no spaces).
    pub fn lookup(&mut self, guid: &str, now: Instant) -> Lookup {
        let key = guid.to_ascii_lowercase();
        let scenario = self.scenario.clone();
        let Some(job) = self.jobs.get_mut(&key) else {
            return Lookup::Unknown;
        };
        let ready = job.polls >= scenario.pending_polls
            && now.saturating_duration_since(job.created) >= scenario.pending_duration();
        if !ready {
            job.polls += 1;
            return Lookup::Pending;
        }
        Lookup::Ready(self.jobs.remove(&key).expect("present"))
    }
}

/// The N-th GUID handed out when the scenario lists none (or too few): `00000000-0000-4000-8000-` and
/// N in decimal on 12 digits.
pub fn default_guid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_pending() {
        let sc = Scenario {
            pending_polls: 2,
            guids: vec!["AAAAAAAA-0000-4000-8000-000000000001".into()],
            ..Scenario::default()
        };
        let app = App::new(1, sc);
        let mut st = app.lock();
        let now = Instant::now();
        let g1 = st.create_job("MES", now);
        let g2 = st.create_job("MESCDM", now);
        assert_eq!(g1, "AAAAAAAA-0000-4000-8000-000000000001");
        assert_eq!(g2, "00000000-0000-4000-8000-000000000002");
        assert!(matches!(st.lookup(&g1.to_lowercase(), now), Lookup::Pending));
        assert!(matches!(st.lookup(&g1, now), Lookup::Pending));
        assert!(matches!(st.lookup(&g1, now), Lookup::Ready(j) if j.database == "MES"));
        assert!(matches!(st.lookup(&g1, now), Lookup::Unknown));
        assert!(matches!(st.lookup(&format!("{{{g2}}}"), now), Lookup::Unknown));
        assert_eq!(default_guid(12), "00000000-0000-4000-8000-000000000012");
    }
}
