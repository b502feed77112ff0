//! MES versions as they appear in package names (`11.3.0`).

use crate::error::{quote_untrusted, Error};

use super::database::*;

/// Why `version` is not a valid MES version, in words; `None` when it is valid.
pub(super) fn version_problem(version: &str) -> Option<String> {
    if version.is_empty() {
        return Some("it is empty; use the MES version, e.g. 11.3.0".to_owned());
    }
    if let Some(rest) = version.strip_prefix(['v', 'V']) {
        if version_problem(rest).is_none() {
            return Some(format!("use {rest}, not {}", quote_untrusted(version, QUOTE_MAX)));
        }
    }
    if version.chars().any(char::is_whitespace) {
        return Some("it contains whitespace; use only digits and dots, e.g. 11.3.0".to_owned());
    }
    let parts: Vec<&str> = version.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Some(
            "it has an empty part (a dot at the start or end, or two dots in a row); use e.g. 11.3.0".to_owned(),
        );
    }
    if parts.iter().any(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return Some("each part must be a number; use only digits and dots, e.g. 11.3.0".to_owned());
    }
    if !(2..=4).contains(&parts.len()) {
        return Some(format!(
            "it has {} part{}; use 2 to 4 numbers separated by dots, e.g. 11.3.0",
            parts.len(),
            if parts.len() == 1 { "" } else { "s" }
        ));
    }
    if parts.iter().any(|p| p.len() > 9) {
        return Some("a part has more than 9 digits".to_owned());
    }
    None
}

pub(super) fn is_valid_version(version: &str) -> bool {
    version_problem(version).is_none()
}

/// Checks an MES version as it appears in package names: 2 to 4 dot-separated numbers of 1 to 9
/// digits (`11.3.0`), without a `v` prefix, because the installer looks for the version verbatim.
pub fn validate_version(version: &str) -> Result<(), Error> {
    match version_problem(version) {
        None => Ok(()),
        Some(problem) => Err(Error::invalid_argument(format!(
            "invalid MES version {}: {problem}",
            quote_untrusted(version, QUOTE_MAX)
        ))),
    }
}
