//! Operations: a running job, its messages (progress, end), waiting on it (Ctrl-C aware) and awaiting it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesbackup_client::CancellationToken;
use mesbackup_core::mes::{JobEvent, Outcome, Phase};
use mesbackup_core::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use pyo3::IntoPyObjectExt;
use tokio::sync::mpsc;

use crate::errors::to_py_err;
use crate::results::{result, JobData};
use crate::{async_bridge, runtime};

/// How long the calling thread waits, GIL released, before it looks at signals and progress again.
const WAIT_SLICE: Duration = Duration::from_millis(100);
/// After a cancel, how long the caller waits for the job to clean up before giving up on it.
const CLEANUP_WAIT: Duration = Duration::from_secs(10);

pub(crate) enum Finished {
    Outcome(Outcome),
    System(Result<Vec<(String, Outcome)>, Error>),
    /// `mesbackup.run`: a report, a plan, or another run holding a folder.
    Run(Result<crate::run::RunOutcome, Error>),
}

/// The level of a `Msg::Log` record (Python's `logging` method of that name).
#[derive(Clone, Copy)]
pub(crate) enum LogLevel {
    Info,
    Warning,
}

impl LogLevel {
    fn method(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
        }
    }
}

/// Hands a step of a run to the `mesbackup` logger (an Airflow task log, a notebook's handler).
fn log(py: Python<'_>, level: LogLevel, text: &str) -> PyResult<()> {
    let logger = py.import("logging")?.call_method1("getLogger", ("mesbackup",))?;
    logger.call_method1(level.method(), ("%s", text))?;
    Ok(())
}

pub(crate) enum Msg {
    Progress(u64, Option<u64>, Phase),
    /// One database of a system backup (sent besides the summed `Progress`): one bar per database.
    DatabaseProgress(String, u64, Option<u64>, Phase),
    /// A step of a run, for people (logger `mesbackup`).
    Log(LogLevel, String),
    Done(Finished),
}

/// Where a `wait` hands progress: the summed callback and, for a system backup, the per-database one.
pub(crate) struct Progress<'a, 'py> {
    pub(crate) total: &'a Option<Bound<'py, PyAny>>,
    pub(crate) database: &'a Option<Bound<'py, PyAny>>,
}

impl Progress<'_, '_> {
    fn deliver(&self, msg: Msg) -> PyResult<Option<Finished>> {
        match msg {
            Msg::Done(f) => return Ok(Some(f)),
            Msg::Progress(d, t, phase) => {
                if let Some(cb) = self.total {
                    cb.call1((d, t, phase_name(phase)))?;
                }
            }
            Msg::DatabaseProgress(db, d, t, phase) => {
                if let Some(cb) = self.database {
                    cb.call1((db, d, t, phase_name(phase)))?;
                }
            }
            Msg::Log(level, text) => Python::attach(|py| log(py, level, &text))?,
        }
        Ok(None)
    }
}

fn phase_name(phase: Phase) -> String {
    match serde_json::to_value(phase) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{phase:?}").to_lowercase(),
    }
}

/// What a job event means for a progress bar: (bytes done, total if known, phase).
pub(crate) fn progress_of(event: &JobEvent) -> Option<(u64, Option<u64>, Phase)> {
    match event {
        JobEvent::Started { .. } | JobEvent::Pending { .. } => Some((0, None, Phase::Waiting)),
        JobEvent::Retrying { guid, .. } => {
            Some((0, None, if guid.is_some() { Phase::Waiting } else { Phase::Starting }))
        }
        JobEvent::Restarting { .. } => Some((0, None, Phase::Starting)),
        JobEvent::Ready { size, .. } => Some((0, *size, Phase::Downloading)),
        JobEvent::Progress { bytes, total, .. } => Some((*bytes, *total, Phase::Downloading)),
        JobEvent::Saved { package } => Some((package.size, Some(package.size), Phase::Finished)),
        JobEvent::Warning { .. } | JobEvent::Failed { .. } => None,
        // A kind of event added to core later moves no bar until this binding knows what it means.
        _ => None,
    }
}

/// Per database of a system backup: bytes done, total if known, phase.
pub(crate) type DbProgress = (u64, Option<u64>, Phase);

type JobFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A running job: its cancellation token and the messages it sends (progress, then its end).
#[pyclass(frozen, module = "mesbackup._mesbackup", name = "_Operation")]
pub(crate) struct Operation {
    /// The job, until someone runs it: `wait` drives it on the calling thread (as the CLI does, no
    /// hop to a worker thread), `next` spawns it on the runtime.
    pub(crate) job: Arc<Mutex<Option<JobFuture>>>,
    pub(crate) cancel: CancellationToken,
    pub(crate) rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Msg>>>,
    pub(crate) secrets: Arc<Vec<String>>,
    pub(crate) return_exceptions: bool,
}

impl Operation {
    /// Receives the next message, waiting at most `slice` (GIL released by the caller).
    fn recv_for(&self, slice: Duration) -> Result<Option<Msg>, ()> {
        let rx = self.rx.clone();
        runtime().block_on(async move {
            match tokio::time::timeout(slice, async { rx.lock().await.recv().await }).await {
                Ok(Some(msg)) => Ok(Some(msg)),
                Ok(None) => Err(()),
                Err(_) => Ok(None),
            }
        })
    }

    pub(crate) fn set_job(&self, job: impl std::future::Future<Output = ()> + Send + 'static) {
        if let Ok(mut j) = self.job.lock() {
            *j = Some(Box::pin(job));
        }
    }

    fn take_job(&self) -> Option<JobFuture> {
        self.job.lock().ok().and_then(|mut j| j.take())
    }

    /// Makes sure the job runs on the runtime (for the asyncio API).
    fn ensure_spawned(&self) {
        if let Some(job) = self.take_job() {
            runtime().spawn(job);
        }
    }

    /// Runs the job on this thread in slices (GIL released), handing progress to `progress`
    /// between slices and checking for signals. Returns the job's end message.
    fn drive_here(&self, py: Python<'_>, mut job: JobFuture, progress: &Progress<'_, '_>) -> PyResult<Py<PyAny>> {
        let rx = self.rx.clone();
        loop {
            let finished = py
                .detach(|| runtime().block_on(async { tokio::time::timeout(WAIT_SLICE, job.as_mut()).await.is_ok() }));
            let mut interrupted = Ok(());
            let mut done = None;
            while let Ok(msg) = rx.try_lock().map_err(|_| ()).and_then(|mut r| r.try_recv().map_err(|_| ())) {
                match msg {
                    Msg::Done(f) => done = Some(f),
                    msg if interrupted.is_ok() => match progress.deliver(msg) {
                        Ok(f) => done = done.or(f),
                        Err(e) => interrupted = Err(e),
                    },
                    _ => {}
                }
            }
            if let Some(f) = done {
                interrupted?;
                return self.finish(py, f);
            }
            if finished {
                return Err(PyRuntimeError::new_err("mesbackup: the job ended without a result"));
            }
            if let Err(e) = interrupted.and_then(|_| py.check_signals()) {
                // Cancel, and let the job clean up (discard its temporary file) before re-raising.
                self.cancel.cancel();
                py.detach(|| {
                    runtime().block_on(async {
                        let _ = tokio::time::timeout(CLEANUP_WAIT, job.as_mut()).await;
                    })
                });
                return Err(e);
            }
        }
    }

    /// Cancels the job and waits (GIL released) until it has cleaned up.
    fn cancel_and_settle(&self, py: Python<'_>) {
        self.cancel.cancel();
        let deadline = std::time::Instant::now() + CLEANUP_WAIT;
        py.detach(|| {
            while std::time::Instant::now() < deadline {
                match self.recv_for(WAIT_SLICE) {
                    Ok(Some(Msg::Done(_))) | Err(()) => return,
                    Ok(_) => {}
                }
            }
        });
    }

    fn finish(&self, py: Python<'_>, finished: Finished) -> PyResult<Py<PyAny>> {
        let secrets: &[String] = &self.secrets;
        match finished {
            Finished::Outcome(outcome) => outcome_to_py(py, outcome, secrets),
            Finished::System(Err(e)) => Err(to_py_err(py, &e, secrets)),
            Finished::Run(outcome) => crate::run::outcome_to_py(py, outcome),
            Finished::System(Ok(outcomes)) => {
                let mut results: Vec<Py<PyAny>> = Vec::new();
                let mut first_error: Option<PyErr> = None;
                for (_, outcome) in outcomes {
                    match outcome_to_py(py, outcome, secrets) {
                        Ok(v) => results.push(v),
                        Err(e) => {
                            results.push(e.value(py).clone().into_any().unbind());
                            if first_error.is_none() {
                                first_error = Some(e);
                            }
                        }
                    }
                }
                let list = PyList::new(py, &results)?;
                match first_error {
                    Some(e) if !self.return_exceptions => {
                        // Every database has finished; the caller still learns what was saved.
                        e.value(py).setattr("results", list)?;
                        Err(e)
                    }
                    _ => Ok(list.into_any().unbind()),
                }
            }
        }
    }
}

fn outcome_to_py(py: Python<'_>, outcome: Outcome, secrets: &[String]) -> PyResult<Py<PyAny>> {
    match outcome {
        Outcome::Saved(p) => result(py, "Package", &p),
        Outcome::Started { guid, database } => result(py, "Job", &JobData { guid, database }),
        Outcome::Pending { .. } => Ok(py.None()),
        Outcome::Failed(e) => Err(to_py_err(py, &e, secrets)),
    }
}

#[pymethods]
impl Operation {
    /// Waits for the job (GIL released), calling `progress(bytes_done, bytes_total, phase)` on this
    /// thread. KeyboardInterrupt (or an exception from `progress`) cancels the job, waits for it to
    /// remove its temporary file, and is then re-raised.
    /// A system backup also calls `database_progress(database, bytes_done, bytes_total, phase)`.
    #[pyo3(signature = (progress=None, database_progress=None))]
    fn wait(
        &self,
        py: Python<'_>,
        progress: Option<Bound<'_, PyAny>>,
        database_progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let progress = Progress { total: &progress, database: &database_progress };
        if let Some(job) = self.take_job() {
            return self.drive_here(py, job, &progress);
        }
        loop {
            let msg = py.detach(|| self.recv_for(WAIT_SLICE));
            let result = match msg {
                Ok(Some(msg)) => match progress.deliver(msg) {
                    Ok(Some(finished)) => return self.finish(py, finished),
                    other => other.map(|_| ()),
                },
                Ok(None) => Ok(()),
                Err(()) => return Err(PyRuntimeError::new_err("mesbackup: the job ended without a result")),
            };
            if let Err(e) = result.and_then(|_| py.check_signals()) {
                self.cancel_and_settle(py);
                return Err(e);
            }
        }
    }

    /// Asks the job to stop; it discards any partial download. Idempotent.
    fn cancel(&self) {
        self.cancel.cancel();
        // A job never started still has to end (it reports `cancelled` at once).
        self.ensure_spawned();
    }

    /// Awaitable of the next message: `("progress", (done, total, phase))` or `("done", result)`;
    /// raises the job's exception if it failed.
    fn next<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.ensure_spawned();
        let rx = self.rx.clone();
        let op = Operation {
            job: self.job.clone(),
            cancel: self.cancel.clone(),
            rx: self.rx.clone(),
            secrets: self.secrets.clone(),
            return_exceptions: self.return_exceptions,
        };
        async_bridge::future_from(
            py,
            runtime(),
            async move { rx.lock().await.recv().await },
            move |py, msg| match msg {
                Some(Msg::Progress(done, total, phase)) => {
                    ("progress", (done, total, phase_name(phase))).into_py_any(py)
                }
                Some(Msg::DatabaseProgress(db, done, total, phase)) => {
                    ("database_progress", (db, done, total, phase_name(phase))).into_py_any(py)
                }
                Some(Msg::Log(level, text)) => ("log", (level.method(), text)).into_py_any(py),
                Some(Msg::Done(finished)) => {
                    let value = op.finish(py, finished)?;
                    ("done", value).into_py_any(py)
                }
                None => Err(PyRuntimeError::new_err("mesbackup: the job ended without a result")),
            },
        )
    }
}
