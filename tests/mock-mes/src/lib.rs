//! mock-mes: a scriptable stand-in for the MES ClickHouse backup Web API.
//!
//! The behaviour is set by a scenario's `server` object (tests/scenarios/README.md is the spec):
//! `PUT /_mock/scenario` loads one and resets everything, `GET /_mock/log` tells what the API saw.
//! In-process Rust tests use [`MockMes`] directly:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let mock = mock_mes::MockMes::start("127.0.0.1:0".parse().unwrap()).await?;
//! mock.set_scenario(serde_json::json!({"pending_polls": 2})).unwrap();
//! let env_url = mock.base_url(); // + server.path_prefix
//! // ... run the client against env_url ...
//! let log = mock.log();
//! # Ok(()) }
//! ```
//!
//! Module map: [`scenario`] (the `server` object), [`auth`] (users), [`state`] (jobs, counters),
//! [`faults`], [`payload`] (the zip), [`download`] (the streamed body), [`log`], [`routes`],
//! [`conn`] (sockets).

pub mod auth;
pub mod conn;
pub mod download;
pub mod faults;
pub mod log;
pub mod payload;
pub mod routes;
pub mod scenario;
pub mod state;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use log::LogEntry;
pub use payload::Payload;
pub use scenario::Scenario;

use state::App;

/// A running mock server. Dropping it (or [`MockMes::shutdown`]) stops it.
pub struct MockMes {
    app: Arc<App>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    /// The dedicated runtime's thread, for [`MockMes::start_in_background`].
    thread: Option<JoinHandle<()>>,
}

impl MockMes {
    /// Binds `listen` (port 0 = any free port) and serves on the current tokio runtime.
    pub async fn start(listen: SocketAddr) -> io::Result<MockMes> {
        let listener = TcpListener::bind(listen).await?;
        MockMes::serve(listener)
    }

    /// Must run inside a tokio runtime.
    fn serve(listener: TcpListener) -> io::Result<MockMes> {
        let addr = listener.local_addr()?;
        let app = Arc::new(App::new(addr.port(), Scenario::default()));
        let (shutdown, rx) = watch::channel(false);
        tokio::spawn(conn::serve(listener, routes::router(app.clone()), rx));
        Ok(MockMes { app, addr, shutdown, thread: None })
    }

    /// Like [`MockMes::start`], on a multi-thread runtime of its own on a dedicated thread, so that
    /// synchronous tests and tests on any runtime can use it. Panics if `listen` cannot be bound.
    pub fn start_in_background(listen: SocketAddr) -> MockMes {
        MockMes::try_start_in_background(listen).unwrap_or_else(|e| panic!("mock-mes: cannot listen on {listen}: {e}"))
    }

    /// [`MockMes::start_in_background`] returning the bind error instead of panicking.
    pub fn try_start_in_background(listen: SocketAddr) -> io::Result<MockMes> {
        let (tx, rx) = std::sync::mpsc::channel::<io::Result<MockMes>>();
        let thread = std::thread::Builder::new().name("mock-mes".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("mock-mes-worker")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let stop = rt.block_on(async {
                let started = match TcpListener::bind(listen).await {
                    Ok(l) => MockMes::serve(l),
                    Err(e) => Err(e),
                };
                let stop = started.as_ref().ok().map(|m| m.shutdown.subscribe());
                let _ = tx.send(started);
                stop
            });
            if let Some(mut stop) = stop {
                rt.block_on(async {
                    let _ = stop.wait_for(|v| *v).await;
                });
            }
            rt.shutdown_timeout(Duration::from_secs(1));
        })?;
        let mut mock = rx.recv().map_err(|_| io::Error::other("mock-mes: the server thread died while starting"))??;
        mock.thread = Some(thread);
        Ok(mock)
    }

    /// `http://127.0.0.1:PORT` (the address it listens on; an unspecified address reads as loopback).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            ip if !ip.is_unspecified() => ip,
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Same as `PUT /_mock/scenario`: loads a `server` object, resetting jobs, counters and log.
    pub fn set_scenario(&self, server: serde_json::Value) -> Result<(), String> {
        self.app.load(Scenario::from_json(server)?);
        Ok(())
    }

    /// Serves the files of `dir` under `/panel/` (same origin as the API), e.g. the browser panel.
    /// Can be set once.
    pub fn set_static_dir(&self, dir: std::path::PathBuf) -> Result<(), String> {
        self.app.static_dir.set(dir).map_err(|_| "the static folder is already set".to_owned())
    }

    /// Same as `GET /_mock/log`.
    pub fn log(&self) -> Vec<LogEntry> {
        self.app.log()
    }

    /// Stops accepting, ends every connection and, for a background server, its runtime.
    pub fn shutdown(self) {
        // Drop does it.
    }
}

impl Drop for MockMes {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
