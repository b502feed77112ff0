//! Paths in serialised results as text. serde's own `Path` serialisation fails on a name that is not
//! UTF-8 (possible on Unix), which would lose a whole result line; these show such a name lossily,
//! as `Path::display` does in every message.

use std::path::{Path, PathBuf};

use serde::Serializer;

pub(crate) fn lossy<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

pub(crate) fn lossy_option<S: Serializer>(path: &Option<PathBuf>, serializer: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(p) => serializer.serialize_some(&p.to_string_lossy()),
        None => serializer.serialize_none(),
    }
}
