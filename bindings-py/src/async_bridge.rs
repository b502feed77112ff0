//! Hands one value from a tokio task to an asyncio future, and never touches Python once the
//! interpreter has begun to exit.
//!
//! Why not `pyo3_async_runtimes::future_into_py`: when its asyncio future is cancelled, it still
//! attaches a tokio thread to Python a moment later to look at that future. A service whose SIGTERM
//! handler raises `SystemExit` cancels the awaiting task and exits; if the interpreter is finalizing
//! by the time that thread attaches, CPython aborts the process ("PyGILState_Release: thread state
//! must be current", exit by SIGABRT instead of the service's 143). Here a cancelled future's task
//! ends without attaching, and an `atexit` hook closes a gate that every attach passes through:
//! closing waits for the attaches under way, and none starts after it.

use std::future::Future;
use std::sync::{Mutex, RwLock};

use pyo3::prelude::*;

/// `true` once the interpreter is exiting. Readers hold the lock for the whole of their attach, so
/// the writer in [`close_exit_gate`] waits for them.
static EXITING: RwLock<bool> = RwLock::new(false);

/// Runs `f` attached to Python unless the interpreter is exiting (then `f` is dropped unrun).
fn attach_unless_exiting(f: impl FnOnce(Python<'_>)) {
    let Ok(exiting) = EXITING.read() else { return };
    if *exiting {
        return;
    }
    Python::attach(f);
}

/// Registered with `atexit`: waits (GIL released) for tokio threads inside Python, then bars them.
#[pyfunction]
pub(crate) fn _close_exit_gate(py: Python<'_>) {
    py.detach(|| {
        if let Ok(mut exiting) = EXITING.write() {
            *exiting = true;
        }
    });
}

/// Tells the task when the asyncio future is done (cancelled, or resolved by the task itself).
#[pyclass(frozen)]
struct DoneSignal {
    tx: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[pymethods]
impl DoneSignal {
    fn __call__(&self, _future: &Bound<'_, PyAny>) {
        if let Some(tx) = self.tx.lock().ok().and_then(|mut tx| tx.take()) {
            let _ = tx.send(());
        }
    }
}

/// Sets the future's result or exception unless it is already done (it may have been cancelled
/// between the task's attach and the event loop running this).
#[pyfunction]
fn resolve_future(future: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>, error: &Bound<'_, PyAny>) -> PyResult<()> {
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    if error.is_none() {
        future.call_method1("set_result", (value,))?;
    } else {
        future.call_method1("set_exception", (error,))?;
    }
    Ok(())
}

/// An asyncio future on the running loop, resolved by `make_result(awaited value)` on `runtime`.
/// If the future is cancelled before `source` yields, `source` is dropped (what it was waiting for
/// stays where it was) and Python is not touched again.
pub(crate) fn future_from<'py, T: Send + 'static>(
    py: Python<'py>,
    runtime: &tokio::runtime::Runtime,
    source: impl Future<Output = T> + Send + 'static,
    make_result: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>> {
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    future.call_method1("add_done_callback", (DoneSignal { tx: Mutex::new(Some(done_tx)) },))?;
    let resolve = wrap_pyfunction!(resolve_future, py)?.unbind();
    let (future_ref, loop_ref) = (future.clone().unbind(), event_loop.unbind());
    runtime.spawn(async move {
        let value = tokio::select! {
            // Cancelled first: a message that arrives at the same moment stays in the queue for
            // whoever asks next.
            biased;
            _ = done_rx => return,
            value = source => value,
        };
        attach_unless_exiting(|py| {
            let (value, error) = match make_result(py, value) {
                Ok(value) => (value, py.None()),
                Err(e) => (py.None(), e.into_value(py).into_any()),
            };
            // A closed loop (the program moved on) has nobody to tell.
            let _ = loop_ref.call_method1(py, "call_soon_threadsafe", (resolve, future_ref, value, error));
        });
    });
    Ok(future)
}
