//! Interface `naming`: databases, installer package names, the folder check.

use mesbackup_core::naming::{self as core, DatabaseKind as CoreKind};

use super::exports::cmf::mesbackup::naming::{
    DatabaseKind, DatabaseName, Error, FolderReport, Guest, IgnoredFile, KindReport, NearMiss, NearMissFile,
    PackageName, SystemDatabase,
};
use super::{error, Component};

fn kind_to_wit(kind: CoreKind) -> DatabaseKind {
    match kind {
        CoreKind::Online => DatabaseKind::Online,
        CoreKind::Cdm => DatabaseKind::Cdm,
        CoreKind::Ods => DatabaseKind::Ods,
        CoreKind::Dwh => DatabaseKind::Dwh,
    }
}

fn kind_from_wit(kind: DatabaseKind) -> CoreKind {
    match kind {
        DatabaseKind::Online => CoreKind::Online,
        DatabaseKind::Cdm => CoreKind::Cdm,
        DatabaseKind::Ods => CoreKind::Ods,
        DatabaseKind::Dwh => CoreKind::Dwh,
    }
}

/// A serde enum's code (`other_version`): the spelling every other front end shows.
fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Guest for Component {
    fn system_databases(system: String) -> Result<Vec<SystemDatabase>, Error> {
        let dbs = core::system_databases(&system).map_err(error)?;
        Ok(dbs.into_iter().map(|(kind, database)| SystemDatabase { kind: kind_to_wit(kind), database }).collect())
    }

    fn installer_package_name(kind: DatabaseKind, version: String, system: Option<String>) -> Result<String, Error> {
        core::installer_package_name(kind_from_wit(kind), &version, system.as_deref()).map_err(error)
    }

    fn installer_name_for_database(database: String, version: String, generic_names: bool) -> Result<String, Error> {
        let (system, kind) = core::parse_database_name(&database, None).map_err(error)?;
        core::installer_package_name(kind, &version, (!generic_names).then_some(system.as_str())).map_err(error)
    }

    fn parse_database_name(name: String, system: Option<String>) -> Result<DatabaseName, Error> {
        let (system, kind) = core::parse_database_name(&name, system.as_deref()).map_err(error)?;
        Ok(DatabaseName { system, kind: kind_to_wit(kind) })
    }

    fn parse_package_name(file_name: String) -> Result<PackageName, NearMiss> {
        match core::parse_package_name(&file_name) {
            Ok(p) => Ok(PackageName {
                file_name: p.file_name(),
                system: p.system,
                kind: kind_to_wit(p.kind),
                version: p.version,
            }),
            Err(m) => Err(NearMiss { reason: m.reason.code().to_owned(), message: m.message, expected: m.expected }),
        }
    }

    fn check_folder(file_names: Vec<String>, system: String, version: String) -> Result<FolderReport, Error> {
        let names: Vec<&str> = file_names.iter().map(String::as_str).collect();
        let r = core::check_folder(&names, &system, &version).map_err(error)?;
        Ok(FolderReport {
            complete: r.complete(),
            kinds: r
                .kinds
                .into_iter()
                .map(|k| KindReport {
                    kind: kind_to_wit(k.kind),
                    chosen: k.chosen,
                    system_specific: k.system_specific,
                    also_present_but_shadowed: k.also_present_but_shadowed,
                    expected_names: k.expected_names.to_vec(),
                })
                .collect(),
            missing: r.missing.into_iter().map(kind_to_wit).collect(),
            ignored: r
                .ignored
                .into_iter()
                .map(|i| IgnoredFile { reason: code(&i.reason), file: i.file, message: i.message })
                .collect(),
            near_misses: r
                .near_misses
                .into_iter()
                .map(|n| NearMissFile {
                    reason: n.reason.code().to_owned(),
                    file: n.file,
                    message: n.message,
                    expected: n.expected,
                })
                .collect(),
            system: r.system,
            version: r.version,
        })
    }
}
