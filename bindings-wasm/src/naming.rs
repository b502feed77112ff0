//! Naming helpers: installer package names, database names, and the folder-independent check of a
//! file name (what the installer would make of it, and why not).

use mesbackup_core::naming::{
    installer_package_name, parse_database_name, parse_package_name, system_databases, DatabaseKind,
};
use mesbackup_core::{Error, ErrorKind};
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::js::{error_to_js, to_js};

fn kind_from(text: &str) -> Result<DatabaseKind, Error> {
    DatabaseKind::from_package_token(text)
        .ok_or_else(|| Error::invalid_argument(format!("unknown database kind {text:?}: use Online, CDM, ODS or DWH")))
}

/// `Cmf.ClickHouse.FullBackup.<kind>.<version>.zip`, or with `system` `<system>.Cmf.…`.
#[wasm_bindgen(js_name = installerPackageName)]
pub fn installer_package_name_js(kind: &str, version: &str, system: Option<String>) -> Result<String, JsValue> {
    let kind = kind_from(kind).map_err(|e| error_to_js(&e))?;
    installer_package_name(kind, version, system.as_deref()).map_err(|e| error_to_js(&e))
}

/// The installer name for a database (`MESCDM` -> `MES.Cmf.ClickHouse.FullBackup.CDM.<version>.zip`, or
/// with `generic_names` `Cmf.ClickHouse.FullBackup.CDM.<version>.zip`).
#[wasm_bindgen(js_name = installerNameForDatabase)]
pub fn installer_name_for_database(database: &str, version: &str, generic_names: bool) -> Result<String, JsValue> {
    let (system, kind) = parse_database_name(database, None).map_err(|e| error_to_js(&e))?;
    installer_package_name(kind, version, (!generic_names).then_some(system.as_str())).map_err(|e| error_to_js(&e))
}

/// `{system, kind}` of a database name (`MESCDM` -> `{system: "MES", kind: "CDM"}`).
#[wasm_bindgen(js_name = parseDatabaseName)]
pub fn parse_database_name_js(name: &str, system: Option<String>) -> Result<JsValue, JsValue> {
    let (system, kind) = parse_database_name(name, system.as_deref()).map_err(|e| error_to_js(&e))?;
    Ok(to_js(&json!({"system": system, "kind": kind})))
}

/// The four databases of a system: `[{kind, database}]` in the order Online, CDM, ODS, DWH.
#[wasm_bindgen(js_name = systemDatabases)]
pub fn system_databases_js(system: &str) -> Result<JsValue, JsValue> {
    let dbs = system_databases(system).map_err(|e| error_to_js(&e))?;
    let list: Vec<_> = dbs.iter().map(|(k, d)| json!({"kind": k, "database": d})).collect();
    Ok(to_js(&list))
}

/// What the installer makes of a file name: `{ok: true, system, kind, version, fileName}` or
/// `{ok: false, reason, message, expected}` (reason: a stable code such as `wrong_case`).
#[wasm_bindgen(js_name = checkPackageName)]
pub fn check_package_name(file_name: &str) -> JsValue {
    let value = match parse_package_name(file_name) {
        Ok(p) => {
            json!({"ok": true, "system": p.system, "kind": p.kind, "version": p.version, "fileName": p.file_name()})
        }
        Err(m) => json!({"ok": false, "reason": m.reason.code(), "message": m.message, "expected": m.expected}),
    };
    to_js(&value)
}

/// Every canonical error kind code.
#[wasm_bindgen(js_name = errorKinds)]
pub fn error_kinds() -> Vec<String> {
    ErrorKind::ALL.iter().map(|k| k.code().to_owned()).collect()
}

/// `mesbackup/<version>`.
#[wasm_bindgen(js_name = toolVersion)]
pub fn tool_version() -> String {
    mesbackup_core::mes::tool_id()
}
