//! Small conversions between JS values and Rust: option fields, errors, JSON.

use mesbackup_core::{Error, ErrorKind};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

pub fn opt_string(obj: &JsValue, key: &str) -> Result<Option<String>, Error> {
    let v = get(obj, key);
    if absent(&v) {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| Error::invalid_argument(format!("option {key} must be a string")))
}

pub fn opt_u64(obj: &JsValue, key: &str) -> Result<Option<u64>, Error> {
    let v = get(obj, key);
    if absent(&v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(Some(n as u64)),
        _ => Err(Error::invalid_argument(format!("option {key} must be a non-negative whole number"))),
    }
}

pub fn opt_bool(obj: &JsValue, key: &str) -> Result<Option<bool>, Error> {
    let v = get(obj, key);
    if absent(&v) {
        return Ok(None);
    }
    v.as_bool().map(Some).ok_or_else(|| Error::invalid_argument(format!("option {key} must be true or false")))
}

/// A core error as a JS `Error` with `kind` (canonical code) and `guid` (string or null).
pub fn error_to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("MesBackupError");
    let obj: &JsValue = err.as_ref();
    let _ = js_sys::Reflect::set(obj, &"kind".into(), &e.kind.code().into());
    let guid = e.guid.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL);
    let _ = js_sys::Reflect::set(obj, &"guid".into(), &guid);
    err.into()
}

/// A JS exception (from a sink or a callback) as a core error; a `kind` it carries is kept.
pub fn error_from_js(value: &JsValue, what: &str) -> Error {
    let message = match value.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    };
    let kind = opt_string(value, "kind").ok().flatten().and_then(|k| ErrorKind::from_code(&k)).unwrap_or(ErrorKind::Io);
    Error::new(kind, format!("{what}: {message}"))
}

/// Any serialisable value as a plain JS value (through JSON: numbers, strings, arrays, objects).
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    match serde_json::to_string(value) {
        Ok(text) => js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    }
}

/// Calls `obj[method](...args)` and awaits the result when it is a promise (or any thenable).
pub async fn call_method(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = get(obj, method)
        .dyn_into()
        .map_err(|_| JsValue::from(js_sys::Error::new(&format!("the sink has no {method}() method"))))?;
    let array: js_sys::Array = args.iter().collect();
    settle(js_sys::Reflect::apply(&f, obj, &array)?).await
}

/// A method's result: awaited when it is a promise (or any thenable), as it is otherwise.
pub async fn settle(result: JsValue) -> Result<JsValue, JsValue> {
    if result.is_undefined() || !(result.is_object() || result.is_function()) {
        return Ok(result);
    }
    if let Some(p) = result.dyn_ref::<js_sys::Promise>() {
        return wasm_bindgen_futures::JsFuture::from(p.clone()).await;
    }
    if get(&result, "then").is_function() {
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&result)).await
    } else {
        Ok(result)
    }
}
