//! `WasmClient`: one configured MES environment; runs the shared driver for the JS layer.

use std::rc::Rc;

use mesbackup_client::clock::WasmClock;
use mesbackup_client::driver::ClientOptions;
use mesbackup_client::system::backup_system;
use mesbackup_client::{CancellationToken, MesClient};
use mesbackup_core::mes::DownloadLimits;
use mesbackup_core::mes::EnvUrl;
use mesbackup_core::mes::PollPolicy;
use mesbackup_core::mes::{resolve_credentials, Credentials, GivenCredentials};
use mesbackup_core::mes::{JobEvent, JobSpec, Mode, Outcome};
use mesbackup_core::Error;
use wasm_bindgen::prelude::*;

use crate::js::{error_to_js, get, opt_bool, opt_string, opt_u64, to_js};
use crate::sink::JsSinkFactory;

/// The low-level client; JS code uses the `Client` class of the npm package, which wraps it.
#[wasm_bindgen]
pub struct WasmClient {
    inner: Rc<MesClient>,
}

/// Core's one rule over `token`, `user` + `pat`, `noAuth`, then the environment `env` (Node's
/// `process.env`; in a browser nothing, so the lookup finds nothing).
fn credentials(options: &JsValue, env: &JsValue) -> Result<Credentials, Error> {
    let token = opt_string(options, "token")?;
    let user = opt_string(options, "user")?;
    let pat = opt_string(options, "pat")?;
    let given = GivenCredentials {
        token: token.as_deref(),
        user: user.as_deref(),
        pat: pat.as_deref(),
        no_auth: opt_bool(options, "noAuth")?.unwrap_or(false),
    };
    resolve_credentials(given, |name| get(env, name).as_string()).map_err(Error::from)
}

fn policy(options: &JsValue) -> Result<PollPolicy, Error> {
    let mut p = PollPolicy::default();
    if let Some(v) = opt_u64(options, "minPollDelayMs")? {
        p.min_delay_ms = v;
    }
    if let Some(v) = opt_u64(options, "maxPollDelayMs")? {
        p.max_delay_ms = v;
    }
    if let Some(v) = opt_u64(options, "retryDelayMs")? {
        p.retry_base_ms = v;
    }
    if let Some(v) = opt_u64(options, "timeoutMs")? {
        p.timeout_ms = v;
    }
    if let Some(v) = opt_u64(options, "stallTimeoutMs")? {
        p.stall_timeout_ms = v;
    }
    if let Some(v) = opt_u64(options, "requestTimeoutMs")? {
        p.request_timeout_ms = v;
    }
    if let Some(v) = opt_u64(options, "maxConsecutiveFailures")? {
        p.max_consecutive_failures = v.min(u32::MAX as u64) as u32;
    }
    Ok(p)
}

fn download_limits(options: &JsValue) -> Result<DownloadLimits, Error> {
    let mut l = DownloadLimits::default();
    if let Some(v) = opt_u64(options, "speedLimit")? {
        l.speed_limit = v;
    }
    if let Some(v) = opt_u64(options, "speedTimeMs")? {
        l.speed_time_ms = v;
    }
    l.download_timeout_ms = opt_u64(options, "downloadTimeoutMs")?;
    if let Some(v) = opt_u64(options, "maxSize")? {
        l.max_size = v;
    }
    Ok(l)
}

fn build(options: &JsValue, env: &JsValue) -> Result<MesClient, Error> {
    if !options.is_object() {
        return Err(Error::invalid_argument("new Client(options): options must be an object with envUrl"));
    }
    let env_url = opt_string(options, "envUrl")?.ok_or_else(|| Error::invalid_argument("envUrl is required"))?;
    let env_url = EnvUrl::parse(&env_url)?;
    let client_options = ClientOptions {
        policy: policy(options)?,
        restart_budget: opt_u64(options, "restartBudget")?.unwrap_or(0).min(u32::MAX as u64) as u32,
        allow_insecure_http: opt_bool(options, "allowInsecureHttp")?.unwrap_or(false),
        download_limits: download_limits(options)?,
        ..ClientOptions::default()
    };
    MesClient::new(env_url, credentials(options, env)?, client_options)
}

/// Keeps `token` cancelled when `signal` (an `AbortSignal`) aborts, for as long as it lives.
struct AbortLink {
    signal: JsValue,
    listener: Closure<dyn FnMut()>,
}

impl AbortLink {
    fn new(signal: &JsValue, token: &CancellationToken) -> Option<AbortLink> {
        if !signal.is_object() {
            return None;
        }
        if get(signal, "aborted").as_bool() == Some(true) {
            token.cancel();
        }
        let t = token.clone();
        let listener = Closure::<dyn FnMut()>::new(move || t.cancel());
        let add = get(signal, "addEventListener");
        let add = add.dyn_ref::<js_sys::Function>()?;
        let _ = add.call2(signal, &"abort".into(), listener.as_ref());
        Some(AbortLink { signal: signal.clone(), listener })
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        if let Some(remove) = get(&self.signal, "removeEventListener").dyn_ref::<js_sys::Function>() {
            let _ = remove.call2(&self.signal, &"abort".into(), self.listener.as_ref());
        }
    }
}

fn call_quietly(f: &JsValue, arg: &JsValue) {
    if let Some(f) = f.dyn_ref::<js_sys::Function>() {
        let _ = f.call1(&JsValue::NULL, arg);
    }
}

fn event_to_js(event: &JobEvent, database: Option<&str>) -> JsValue {
    let value = to_js(event);
    if let Some(db) = database {
        let _ = js_sys::Reflect::set(&value, &"database_name".into(), &db.into());
    }
    value
}

/// A finished outcome as a JS value; failures become the rejection.
fn outcome_to_js(outcome: &Outcome) -> Result<JsValue, JsValue> {
    match outcome {
        Outcome::Failed(e) => Err(error_to_js(e)),
        other => Ok(to_js(other)),
    }
}

#[wasm_bindgen]
impl WasmClient {
    /// `options`: `envUrl`, `token` | `user` + `pat` | `noAuth`, and optional policy fields (see
    /// index.d.ts). `env`: where `MES_TOKEN`, `MES_USER` and `MES_PAT` are looked up when no
    /// credentials are given (Node's `process.env`; undefined in a browser).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, env: JsValue) -> Result<WasmClient, JsValue> {
        build(&options, &env).map(|c| WasmClient { inner: Rc::new(c) }).map_err(|e| error_to_js(&e))
    }

    /// The environment URL as it is used (normalised, without credentials).
    #[wasm_bindgen(getter, js_name = envUrl)]
    pub fn env_url(&self) -> String {
        self.inner.env().as_str().to_owned()
    }

    /// Runs one job. `op`: `backup` | `start` | `download` | `download_if_ready`; `target` is the
    /// database (backup, start) or the GUID (download*). `sinks` follows the `SinkFactory` contract;
    /// `on_event` receives every job event; `signal` is an optional `AbortSignal`; `options`:
    /// `fileName`, `overwrite`, `jitterSeed`. Resolves to the outcome (`{outcome: "saved", ...}`,
    /// `"started"`, `"pending"`) or rejects with an `Error` carrying `kind` and `guid`.
    pub async fn run(
        &self,
        op: String,
        target: String,
        sinks: JsValue,
        on_event: JsValue,
        signal: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let client = self.inner.clone();
        let fail = |e: Error| error_to_js(&e);
        let (mode, database, guid) = match op.as_str() {
            "backup" => (Mode::Backup, Some(target.as_str()), None),
            "start" => (Mode::StartOnly, Some(target.as_str()), None),
            "download" => (Mode::Download, None, Some(target.as_str())),
            "download_if_ready" => (Mode::DownloadIfReady, None, Some(target.as_str())),
            other => return Err(fail(Error::invalid_argument(format!("unknown operation {other:?}")))),
        };
        let mut spec = client.spec(mode, database, guid);
        spec.file_name = opt_string(&options, "fileName").map_err(fail)?;
        spec.overwrite = opt_bool(&options, "overwrite").map_err(fail)?.unwrap_or(false);
        if let Some(seed) = opt_u64(&options, "jitterSeed").map_err(fail)? {
            spec.jitter_seed = seed;
        }
        if mode != Mode::StartOnly && !sinks.is_object() {
            return Err(fail(Error::invalid_argument("a sink is required to save the package")));
        }
        let token = CancellationToken::new();
        let _link = AbortLink::new(&signal, &token);
        let sinks = JsSinkFactory(sinks);
        let on_event = move |e: &JobEvent| call_quietly(&on_event, &event_to_js(e, None));
        let outcome = client.run(spec, &sinks, &WasmClock, &token, &on_event).await;
        outcome_to_js(&outcome)
    }

    /// Backs up the four databases of `system` concurrently. `file_names` maps a database name to
    /// the name to save it under (absent: the server's name). Resolves to an array of
    /// `{database, result}` / `{database, error}` in the order MES, CDM, ODS, DWH.
    #[wasm_bindgen(js_name = runSystem)]
    pub async fn run_system(
        &self,
        system: String,
        sinks: JsValue,
        on_event: JsValue,
        signal: JsValue,
        file_names: JsValue,
    ) -> Result<JsValue, JsValue> {
        let client = self.inner.clone();
        if !sinks.is_object() {
            return Err(error_to_js(&Error::invalid_argument("a sink is required to save the packages")));
        }
        let token = CancellationToken::new();
        let _link = AbortLink::new(&signal, &token);
        let sinks = JsSinkFactory(sinks);
        let on_event = move |db: &str, e: &JobEvent| call_quietly(&on_event, &event_to_js(e, Some(db)));
        let customise = |db: &str, spec: &mut JobSpec| spec.file_name = get(&file_names, db).as_string();
        let outcomes = backup_system(&client, &system, &sinks, &WasmClock, &token, customise, &on_event)
            .await
            .map_err(|e| error_to_js(&e))?;
        let out = js_sys::Array::new();
        for (db, outcome) in outcomes {
            let item = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&item, &"database".into(), &db.as_str().into());
            match outcome_to_js(&outcome) {
                Ok(v) => js_sys::Reflect::set(&item, &"result".into(), &v),
                Err(e) => js_sys::Reflect::set(&item, &"error".into(), &e),
            }
            .ok();
            out.push(&item);
        }
        Ok(out.into())
    }
}
