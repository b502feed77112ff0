//! The permission bits Node's `fileSink` gives the files and folders it creates: the core's
//! defaults (0600 / 0700) and checks, with errors that name the JS options.

use mesbackup_core::file_modes::FileModes;
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::js::{error_to_js, to_js};

/// `{file, dir}` (numbers) from `fileMode` / `dirMode` text such as `"0640"` (absent: the private
/// defaults); an `invalid_argument` error for a mode that would expose or lose data.
#[wasm_bindgen(js_name = fileModes)]
pub fn file_modes(file_mode: Option<String>, dir_mode: Option<String>) -> Result<JsValue, JsValue> {
    let modes = FileModes::parse_named(file_mode.as_deref(), dir_mode.as_deref(), ["fileMode", "dirMode"])
        .map_err(|e| error_to_js(&e))?;
    Ok(to_js(&json!({"file": modes.file, "dir": modes.dir})))
}

/// Where the file system refused a chmod (FAT, exFAT, SMB without Unix extensions): the problem with
/// the `actual` mode it gave a new file or folder, or `undefined` when that mode lets group and
/// others do no more than `wanted` (the core's rule, as in the CLI and Python).
#[wasm_bindgen(js_name = mountModeProblem)]
pub fn mount_mode_problem(actual: u32, wanted: u32, is_folder: bool, refused: &str) -> Option<String> {
    mesbackup_core::file_modes::mount_mode_problem(actual, wanted, is_folder, refused)
}
