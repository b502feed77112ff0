//! Interface `verify`: the core's one-pass verifier and inspector, fed chunk by chunk.

use std::cell::RefCell;

use mesbackup_core::package::{self as core, Problem as CoreProblem, VerifyOptions};

use super::exports::cmf::mesbackup::verify::{
    DatabaseInfo, Error, Guest, GuestVerifier, Inspection, ManifestInfo, Problem, TableInfo, Verifier, VerifyReport,
    VerifyResult,
};
use super::{error, Component};

/// A verifier until `finish` takes it.
pub struct VerifierResource {
    inner: RefCell<Option<core::Verifier>>,
}

fn finished() -> Error {
    error(mesbackup_core::Error::invalid_argument("the verifier has already finished"))
}

fn problem(p: &CoreProblem) -> Problem {
    let value = serde_json::to_value(p).unwrap_or_default();
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Problem {
        kind: field("kind").unwrap_or_default(),
        file: field("file").or_else(|| field("entry")),
        message: p.message(),
        json: value.to_string(),
    }
}

fn report(r: core::VerifyReport) -> VerifyReport {
    VerifyReport {
        ok: r.ok(),
        error: r.to_error().map(error),
        bytes: r.bytes,
        entries: r.entries,
        backup_root: r.backup_root,
        manifest: r.manifest.map(|m| ManifestInfo {
            path: m.path,
            version: m.version,
            timestamp: m.timestamp,
            uuid: m.uuid,
            files: m.files,
            bytes: m.bytes,
        }),
        files_checked: r.files_checked,
        part_files_checked: r.part_files_checked,
        parts_checked: r.parts_checked,
        sha256: r.sha256,
        problems: r.problems.iter().map(problem).collect(),
        notes: r.notes,
    }
}

fn inspection(i: core::Inspection) -> Inspection {
    Inspection {
        backup_root: i.backup_root,
        timestamp: i.timestamp,
        uuid: i.uuid,
        databases: i
            .databases
            .into_iter()
            .map(|d| DatabaseInfo {
                name: d.name,
                engine: d.engine,
                uuid: d.uuid,
                tables: d
                    .tables
                    .into_iter()
                    .map(|t| TableInfo {
                        database: t.database,
                        name: t.name,
                        kind: t.kind,
                        engine: t.engine,
                        engine_name: t.engine_name,
                        order_by: t.order_by,
                        partition_by: t.partition_by,
                        primary_key: t.primary_key,
                        storage_policy: t.storage_policy,
                        disk: t.disk,
                        required_policy: t.required_policy,
                        uuid: t.uuid,
                        parts: t.parts,
                        rows: t.rows,
                        bytes: t.bytes,
                    })
                    .collect(),
                parts: d.parts,
                rows: d.rows,
                bytes: d.bytes,
            })
            .collect(),
        storage_policies: i.storage_policies,
        disks: i.disks,
        tables: i.tables,
        parts: i.parts,
        rows: i.rows,
        bytes: i.bytes,
        notes: i.notes,
    }
}

impl GuestVerifier for VerifierResource {
    fn create(expected_sha256: Option<String>) -> Result<Verifier, Error> {
        let inner = core::Verifier::with_options(VerifyOptions { sha256: true, expected_sha256 }).map_err(error)?;
        Ok(Verifier::new(VerifierResource { inner: RefCell::new(Some(inner)) }))
    }

    fn feed(&self, chunk: Vec<u8>) {
        // Feeding a finished verifier is ignored here and reported by `finish`.
        if let Some(v) = self.inner.borrow_mut().as_mut() {
            v.feed(&chunk);
        }
    }

    fn bytes_fed(&self) -> u64 {
        self.inner.borrow().as_ref().map(core::Verifier::bytes_fed).unwrap_or(0)
    }

    fn finish(&self) -> Result<VerifyResult, Error> {
        let v = self.inner.borrow_mut().take().ok_or_else(finished)?;
        let (r, i) = v.finish_with_inspection();
        Ok(VerifyResult { report: report(r), inspection: inspection(i) })
    }
}

impl Guest for Component {
    type Verifier = VerifierResource;
}
