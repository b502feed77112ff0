//! Every way an unattended run is asked to stop ends the same way as Ctrl-C: the jobs are cancelled,
//! each removes its temporary file and prints its GUID with the command to resume, and the process
//! exits with the `cancelled` code (130).
//!
//! systemd's `stop`, `timeout`, Kubernetes and `kill` send SIGTERM; a closed terminal or SSH session
//! sends SIGHUP; Task Scheduler's "end task" and a closed console window reach a Windows console
//! program as Ctrl-Break or CTRL_CLOSE (Windows then allows a few seconds before ending it).
//!
//! A second stop signal while stopping quits at once, whichever signals they are; the temporary
//! files this process still holds are removed first, so even then nothing is left half-written.
//!
//! A SIGHUP the process was started with ignored stays ignored: `nohup mesbackup …` must survive
//! the closed session it was started from, as `nohup` promises. SIGINT and SIGTERM are always
//! handled: they are requests to stop (a shell starts background jobs of a script with SIGINT
//! ignored, and those must still stop cleanly on `kill -INT`).

use mesbackup_client::CancellationToken;

/// The stop signals this process listens to, registered at once (a signal that arrives before the
/// listener first polls is not lost, and no longer ends the process the default way).
struct StopSignals {
    #[cfg(unix)]
    listeners: Vec<(tokio::signal::unix::Signal, &'static str)>,
    #[cfg(windows)]
    ctrl_c: Option<tokio::signal::windows::CtrlC>,
    #[cfg(windows)]
    ctrl_break: Option<tokio::signal::windows::CtrlBreak>,
    #[cfg(windows)]
    ctrl_close: Option<tokio::signal::windows::CtrlClose>,
}

impl StopSignals {
    /// Must be called within the tokio runtime.
    fn register() -> StopSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listeners = [
                (SignalKind::interrupt(), "Ctrl-C"),
                (SignalKind::terminate(), "SIGTERM"),
                (SignalKind::hangup(), "SIGHUP"),
            ]
            .into_iter()
            .filter(|(kind, _)| *kind != SignalKind::hangup() || !ignored_at_start(libc::SIGHUP))
            .filter_map(|(kind, name)| signal(kind).ok().map(|s| (s, name)))
            .collect();
            StopSignals { listeners }
        }
        #[cfg(windows)]
        {
            use tokio::signal::windows;
            StopSignals {
                ctrl_c: windows::ctrl_c().ok(),
                ctrl_break: windows::ctrl_break().ok(),
                ctrl_close: windows::ctrl_close().ok(),
            }
        }
        #[cfg(not(any(unix, windows)))]
        StopSignals {}
    }

    /// Waits for the next stop signal; returns its name.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            if self.listeners.is_empty() {
                return std::future::pending().await;
            }
            let waits = self.listeners.iter_mut().map(|(signal, name)| {
                Box::pin(async move {
                    // `None` only when the runtime shuts down: never a signal.
                    if signal.recv().await.is_none() {
                        std::future::pending::<()>().await;
                    }
                    *name
                })
            });
            futures::future::select_all(waits).await.0
        }
        #[cfg(windows)]
        {
            let StopSignals { ctrl_c, ctrl_break, ctrl_close } = self;
            // A listener that could not be registered never fires.
            let c = async {
                if let Some(l) = ctrl_c {
                    if l.recv().await.is_some() {
                        return;
                    }
                }
                std::future::pending::<()>().await
            };
            let b = async {
                if let Some(l) = ctrl_break {
                    if l.recv().await.is_some() {
                        return;
                    }
                }
                std::future::pending::<()>().await
            };
            let close = async {
                if let Some(l) = ctrl_close {
                    if l.recv().await.is_some() {
                        return;
                    }
                }
                std::future::pending::<()>().await
            };
            tokio::select! {
                _ = c => "Ctrl-C",
                _ = b => "Ctrl-Break",
                _ = close => "the console closing",
            }
        }
        #[cfg(not(any(unix, windows)))]
        std::future::pending().await
    }
}

/// Whether `signum` was ignored when the process started (`nohup` ignores SIGHUP).
#[cfg(unix)]
fn ignored_at_start(signum: libc::c_int) -> bool {
    // SAFETY: a query only (no new action); `current` is plain old data the call fills.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signum, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == libc::SIG_IGN
    }
}

/// Cancels `cancel` on the first stop signal (Ctrl-C, SIGTERM, SIGHUP; on Windows Ctrl-C,
/// Ctrl-Break, console close); a second one removes this process's temporary files and quits with
/// 130 at once. Call it within the tokio runtime, before the jobs start.
pub fn cancel_on_stop_signals(cancel: &CancellationToken, json: bool) {
    let mut signals = StopSignals::register();
    let cancel = cancel.clone();
    tokio::spawn(async move {
        let first = signals.recv().await;
        if !json {
            eprintln!("\n{first}: cancelling… (a second Ctrl-C or stop signal quits at once)");
        }
        cancel.cancel();
        let second = signals.recv().await;
        if !json {
            eprintln!("\n{second}: quitting at once");
        }
        mesbackup_client::private_files::remove_own_temporaries();
        std::process::exit(130);
    });
}
