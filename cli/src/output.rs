//! What the user sees: NDJSON events (`--json`), progress bars on a terminal, or plain lines.
//!
//! Human output: results on stdout (so `$(mesbackup start X)` captures a GUID), status and errors on
//! stderr. Every line printed is scrubbed of the credentials in use (defence in depth: nothing in the
//! core or client formats a secret, but a hostile server could echo one back into an error body).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mesbackup_core::mes::JobEvent;
use mesbackup_core::Error;

use crate::events::CliEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Json,
    Bars,
    Plain,
}

pub struct Ui {
    mode: Mode,
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    /// Plain mode: when progress of a job was last printed.
    last_plain: Mutex<HashMap<String, Instant>>,
    secrets: Mutex<Vec<String>>,
}

const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(10);

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix:<8.bold} {wide_msg} {elapsed:>5}")
        .expect("template")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}

fn bytes_style(total_known: bool) -> ProgressStyle {
    let t = if total_known {
        "  {prefix:<8.bold} [{bar:30.cyan/blue}] {bytes:>10} / {total_bytes:<10} {binary_bytes_per_sec:>12}  ETA {eta}"
    } else {
        "{spinner:.cyan} {prefix:<8.bold} {bytes:>10} {binary_bytes_per_sec:>12}"
    };
    ProgressStyle::with_template(t).expect("template").progress_chars("█▉▊▋▌▍▎▏ ")
}

fn done_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:<8.bold} {wide_msg}").expect("template")
}

pub fn human_ms(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=119 => format!("{s} s"),
        120..=7199 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

impl Ui {
    pub fn new(json: bool, no_progress: bool) -> Ui {
        let mode = if json {
            Mode::Json
        } else if !no_progress
            && std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_some_and(|t| t != "dumb")
        {
            Mode::Bars
        } else {
            Mode::Plain
        };
        let multi = (mode == Mode::Bars).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Ui {
            mode,
            multi,
            bars: Mutex::new(HashMap::new()),
            last_plain: Mutex::new(HashMap::new()),
            secrets: Mutex::new(Vec::new()),
        }
    }

    pub fn is_json(&self) -> bool {
        self.mode == Mode::Json
    }

    pub fn add_secrets(&self, secrets: Vec<String>) {
        self.secrets.lock().unwrap().extend(secrets);
    }

    fn scrub(&self, text: &str) -> String {
        mesbackup_core::error::redact(text, &self.secrets.lock().unwrap())
    }

    /// One NDJSON line on stdout (JSON mode only).
    pub fn emit(&self, event: &CliEvent) {
        if self.mode != Mode::Json {
            return;
        }
        // Every type in an event serialises (paths as lossy text); should one ever fail, the line
        // still says so in the schema's terms instead of vanishing.
        let text = serde_json::to_string(event).unwrap_or_else(|e| {
            serde_json::to_string(&CliEvent::warning(None, &format!("an event could not be serialised: {e}")))
                .unwrap_or_default()
        });
        let line = self.scrub(&text);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// A status line on stderr (human modes).
    pub fn info(&self, text: &str) {
        match self.mode {
            Mode::Json => {}
            Mode::Bars => {
                let line = self.scrub(text);
                if let Some(m) = &self.multi {
                    let _ = m.println(line);
                }
            }
            Mode::Plain => eprintln!("{}", self.scrub(text)),
        }
    }

    /// A result line on stdout (human modes).
    pub fn result(&self, text: &str) {
        if self.mode == Mode::Json {
            return;
        }
        let line = self.scrub(text);
        match &self.multi {
            Some(m) => m.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }

    // Its only caller today is the Unix token-file permission check.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub fn warning(&self, database: Option<&str>, message: &str) {
        if self.is_json() {
            self.emit(&CliEvent::warning(database, message));
        } else {
            let who = database.map(|d| format!("{d}: ")).unwrap_or_default();
            self.info(&format!("warning: {who}{message}"));
        }
    }

    /// An error that ends a command or a job: `failed` event, or a human message on stderr.
    pub fn error(&self, database: Option<&str>, e: &Error) {
        if self.is_json() {
            self.emit(&CliEvent::Failed {
                error: e.clone(),
                database: database.map(str::to_owned),
                path: None,
                environment: None,
            });
            return;
        }
        let who = database.map(|d| format!("{d}: ")).unwrap_or_default();
        let mut text = format!("error ({}): {who}{}", e.kind.code(), e.message);
        if let Some(g) = &e.guid {
            if !e.message.contains(g.as_str()) {
                text.push_str(&format!("\n  GUID: {g}"));
            }
        }
        self.info(&text);
    }

    fn bar(&self, key: &str) -> Option<ProgressBar> {
        let multi = self.multi.as_ref()?;
        let mut bars = self.bars.lock().unwrap();
        let bar = bars.entry(key.to_owned()).or_insert_with(|| {
            let b = multi.add(ProgressBar::new_spinner());
            b.set_style(spinner_style());
            b.set_prefix(key.to_owned());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Some(bar.clone())
    }

    /// Creates a job's line before its first event (so the order of bars is the order of jobs).
    pub fn job_line(&self, key: &str, message: &str) {
        if let Some(b) = self.bar(key) {
            b.set_message(message.to_owned());
        }
    }

    /// A job's line is done: show `message` in place of its bar.
    pub fn job_done(&self, key: &str, message: &str) {
        if let Some(b) = self.bar(key) {
            b.disable_steady_tick();
            b.set_style(done_style());
            b.finish_with_message(self.scrub(message));
        }
    }

    /// A core job event: an NDJSON line tagged with the database, or progress.
    pub fn job_event(&self, key: &str, database: Option<&str>, event: &JobEvent) {
        if self.is_json() {
            self.emit(&CliEvent::job(event, database));
            return;
        }
        let bars = self.mode == Mode::Bars;
        match event {
            JobEvent::Started { guid, .. } => {
                if bars {
                    self.job_line(key, &format!("backup {guid} started; the MES is preparing it"));
                } else {
                    self.info(&format!("{key}: backup started, GUID {guid}"));
                }
            }
            JobEvent::Pending { polls, waited_ms, next_poll_in_ms, .. } => {
                let text =
                    format!("still being prepared (checked {polls}×, next check in {})", human_ms(*next_poll_in_ms));
                if bars {
                    self.job_line(key, &text);
                } else {
                    self.info(&format!("{key}: {text}, waited {}", human_ms(*waited_ms)));
                }
            }
            JobEvent::Retrying { reason, failures, delay_ms, .. } => {
                self.info(&format!("{key}: {reason}; retrying in {} (attempt {})", human_ms(*delay_ms), failures + 1));
            }
            JobEvent::Ready { file_name, size, .. } => {
                let size_text = size.map(|s| format!(" ({})", HumanBytes(s))).unwrap_or_default();
                match self.bar(key) {
                    Some(b) => {
                        b.set_style(bytes_style(size.is_some()));
                        if let Some(s) = size {
                            b.set_length(*s);
                        }
                        b.set_position(0);
                        b.reset_elapsed();
                        b.reset_eta();
                    }
                    None => self.info(&format!("{key}: ready, downloading {file_name}{size_text}")),
                }
            }
            JobEvent::Progress { bytes, total, .. } => match self.bar(key) {
                Some(b) => b.set_position(*bytes),
                None => {
                    let mut last = self.last_plain.lock().unwrap();
                    let now = Instant::now();
                    let due = last.get(key).is_none_or(|t| now.duration_since(*t) >= PLAIN_PROGRESS_EVERY);
                    let complete = total.is_some_and(|t| t == *bytes);
                    if due && !complete {
                        last.insert(key.to_owned(), now);
                        let of = match total {
                            Some(t) if *t > 0 => {
                                format!(" of {} ({:.0} %)", HumanBytes(*t), *bytes as f64 * 100.0 / *t as f64)
                            }
                            _ => String::new(),
                        };
                        drop(last);
                        self.info(&format!("{key}: {}{of} received", HumanBytes(*bytes)));
                    }
                }
            },
            JobEvent::Warning { message, .. } => self.info(&format!("warning: {key}: {message}")),
            JobEvent::Restarting { reason, restarts_used, restart_budget, .. } => {
                if let Some(b) = self.bar(key) {
                    b.set_style(spinner_style());
                }
                self.info(&format!(
                    "{key}: {reason}; starting a new backup (restart {restarts_used} of {restart_budget})"
                ));
            }
            JobEvent::Saved { package } => {
                let text = format!("saved {} ({})", package.file_name, HumanBytes(package.size));
                if bars {
                    self.job_done(key, &format!("✔ {text}"));
                } else {
                    self.info(&format!("{key}: {text}"));
                }
            }
            JobEvent::Failed { error } if bars => self.job_done(key, &format!("✘ {}", error.kind.code())),
            // A failure without bars is told by the command's summary; a kind of event added to core later: --json shows it (serialised above); a human
            // reading the terminal loses nothing they asked for.
            _ => {}
        }
    }

    /// A bytes progress bar for reading a local file of `total` bytes (bars mode only).
    pub fn file_bar(&self, key: &str, total: u64) -> Option<ProgressBar> {
        let b = self.bar(key)?;
        b.disable_steady_tick();
        b.set_style(bytes_style(true));
        b.set_length(total);
        b.set_position(0);
        b.reset_elapsed();
        b.reset_eta();
        Some(b)
    }

    /// Forgets a finished bar without leaving a line behind.
    pub fn drop_bar(&self, key: &str) {
        if let Some(b) = self.bars.lock().unwrap().remove(key) {
            b.finish_and_clear();
        }
    }

    /// Removes finished bars from the screen bookkeeping (before printing a table).
    pub fn clear_bars(&self) {
        self.bars.lock().unwrap().clear();
    }
}
