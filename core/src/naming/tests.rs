//! Names: unit and property tests over the whole naming module.

use super::*;
use proptest::prelude::*;

const SEED_NAMES: [(&str, DatabaseKind); 4] = [
    ("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip", DatabaseKind::Online),
    ("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", DatabaseKind::Cdm),
    ("Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip", DatabaseKind::Dwh),
    ("Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip", DatabaseKind::Ods),
];

fn miss(name: &str) -> NearMiss {
    match parse_package_name(name) {
        Ok(p) => panic!("{name:?} parsed as {p:?}"),
        Err(m) => m,
    }
}

fn assert_miss(name: &str, reason: NearMissReason, expected: Option<&str>) -> NearMiss {
    let m = miss(name);
    assert_eq!(m.reason, reason, "{name:?}: {}", m.message);
    assert_eq!(m.expected.as_deref(), expected, "{name:?}: {}", m.message);
    if let Some(e) = expected {
        assert!(m.message.contains(&format!("Rename it to {e}.")), "{}", m.message);
    }
    m
}

// --- kinds -----------------------------------------------------------------------------

#[test]
fn kind_tokens_suffixes_serde_and_display() {
    let tokens: Vec<&str> = DatabaseKind::ALL.iter().map(|k| k.package_token()).collect();
    assert_eq!(tokens, ["Online", "CDM", "ODS", "DWH"]);
    let suffixes: Vec<&str> = DatabaseKind::ALL.iter().map(|k| k.database_suffix()).collect();
    assert_eq!(suffixes, ["", "CDM", "ODS", "DWH"]);
    for kind in DatabaseKind::ALL {
        assert_eq!(DatabaseKind::from_package_token(kind.package_token()), Some(kind));
        assert_eq!(kind.to_string(), kind.package_token());
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.package_token()));
        assert_eq!(serde_json::from_str::<DatabaseKind>(&json).unwrap(), kind);
    }
    assert_eq!(DatabaseKind::from_package_token("cdm"), None);
    assert_eq!(DatabaseKind::from_package_token("online"), None);
    assert_eq!(DatabaseKind::from_package_token("MAIN"), None);
    assert!(serde_json::from_str::<DatabaseKind>("\"Cdm\"").is_err());
}

// --- systems and databases ------------------------------------------------------------------

#[test]
fn system_names() {
    for ok in ["MES", "mes", "Plant_1", "A", &"A".repeat(64)] {
        assert!(validate_system(ok).is_ok(), "{ok}");
    }
    for bad in ["", "1MES", "_MES", "MES-1", "MES.", "MÉS", "MES 2", "a/b", &"A".repeat(65)] {
        let e = validate_system(bad).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
        assert!(e.message.contains("ASCII letters, digits or underscores"), "{}", e.message);
    }
    assert!(validate_system("MES-1").unwrap_err().message.contains("\"-\""));
}

#[test]
fn database_names() {
    assert_eq!(database_name("MES", DatabaseKind::Cdm), "MESCDM");
    assert_eq!(database_name("MES", DatabaseKind::Online), "MES");
    assert!(validate_database_name("MESCDM").is_ok());
    for bad in ["", "MES/../x", "MES CDM", "MES?x", "MES%2F", &"A".repeat(68)] {
        assert!(validate_database_name(bad).is_err(), "{bad}");
    }
    let all = system_databases("MES").unwrap();
    assert_eq!(
        all,
        [
            (DatabaseKind::Online, "MES".to_owned()),
            (DatabaseKind::Cdm, "MESCDM".to_owned()),
            (DatabaseKind::Ods, "MESODS".to_owned()),
            (DatabaseKind::Dwh, "MESDWH".to_owned()),
        ]
    );
    assert!(system_databases("1x").is_err());
}

#[test]
fn parse_database_names() {
    let p = |n: &str, s: Option<&str>| parse_database_name(n, s);
    assert_eq!(p("MESCDM", Some("MES")).unwrap(), ("MES".to_owned(), DatabaseKind::Cdm));
    assert_eq!(p("MES", Some("MES")).unwrap(), ("MES".to_owned(), DatabaseKind::Online));
    assert_eq!(p("MESDWH", None).unwrap(), ("MES".to_owned(), DatabaseKind::Dwh));
    assert_eq!(p("MESODS", None).unwrap(), ("MES".to_owned(), DatabaseKind::Ods));
    assert_eq!(p("MES", None).unwrap(), ("MES".to_owned(), DatabaseKind::Online));
    assert_eq!(p("CDM", None).unwrap(), ("CDM".to_owned(), DatabaseKind::Online));
    assert_eq!(p("MEScdm", None).unwrap(), ("MEScdm".to_owned(), DatabaseKind::Online));
    let e = p("mescdm", Some("MES")).unwrap_err();
    assert!(e.message.contains("use MESCDM"), "{}", e.message);
    let e = p("OTHERCDM", Some("MES")).unwrap_err();
    assert!(e.message.contains("MES, MESCDM, MESODS, MESDWH"), "{}", e.message);
    assert!(p("1CDM", None).is_err());
    assert!(p("MES/CDM", None).is_err());
    assert!(p("MESCDM", Some("bad-system")).is_err());
}

// --- versions -------------------------------------------------------------------------------

#[test]
fn versions() {
    for ok in ["11.3.0", "11.3", "11.3.0.1234", "0.1", "123456789.1"] {
        assert!(validate_version(ok).is_ok(), "{ok}");
    }
    for bad in ["", "11", "1.2.3.4.5", "11.x.0", "11..0", ".11.3", "11.3.", "1234567890.1", " 11.3.0", "11.3.0-rc1"] {
        assert!(validate_version(bad).is_err(), "{bad}");
    }
    let e = validate_version("v11.3.0").unwrap_err();
    assert!(e.message.contains("use 11.3.0, not \"v11.3.0\""), "{}", e.message);
    assert!(validate_version("11").unwrap_err().message.contains("2 to 4"));
}

// --- building and parsing names -------------------------------------------------------------

#[test]
fn seed_examples() {
    for (name, kind) in SEED_NAMES {
        let p = parse_package_name(name).unwrap();
        assert_eq!(p, PackageName { system: None, kind, version: "11.3.0".to_owned() });
        assert_eq!(installer_package_name(kind, "11.3.0", None).unwrap(), name);
    }
    let p = parse_package_name("MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip").unwrap();
    assert_eq!(p.system.as_deref(), Some("MES"));
    assert_eq!(p.kind, DatabaseKind::Online);
    assert_eq!(
        installer_package_name(DatabaseKind::Online, "11.3.0", Some("MES")).unwrap(),
        "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"
    );
}

#[test]
fn round_trip_all_kinds() {
    for system in [None, Some("MES"), Some("Plant_2")] {
        for kind in DatabaseKind::ALL {
            for version in ["11.3.0", "11.3", "12.0.1.7"] {
                let name = installer_package_name(kind, version, system).unwrap();
                let p = parse_package_name(&name).unwrap();
                assert_eq!(p.system.as_deref(), system);
                assert_eq!(p.kind, kind);
                assert_eq!(p.version, version);
                assert_eq!(p.file_name(), name);
                let json = serde_json::to_string(&p).unwrap();
                assert_eq!(serde_json::from_str::<PackageName>(&json).unwrap(), p);
            }
        }
    }
    assert!(installer_package_name(DatabaseKind::Cdm, "v11.3.0", None).is_err());
    assert!(installer_package_name(DatabaseKind::Cdm, "11.3.0", Some("MES-1")).is_err());
}

// --- near misses, one reason at a time ---------------------------------------------------------

#[test]
fn not_a_package() {
    for name in [
        "readme.txt",
        "Cmf.Custom.Package.11.3.0.zip",
        "MES_full.bak",
        "Cmf.Custom.ClickHouse.Dashboards.1.0.0.zip",
        "clickhouse-notes.txt",
        "",
    ] {
        let m = assert_miss(name, NearMissReason::NotAPackage, None);
        assert!(m.message.contains("not a ClickHouse backup package"), "{}", m.message);
    }
}

#[test]
fn wrong_case() {
    assert_miss(
        "cmf.clickhouse.fullbackup.online.11.3.0.zip",
        NearMissReason::WrongCase,
        Some("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"),
    );
    let m = assert_miss(
        "Cmf.ClickHouse.FullBackup.cdm.11.3.0.zip",
        NearMissReason::WrongCase,
        Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
    );
    assert!(m.message.contains("must be written CDM, not \"cdm\""), "{}", m.message);
    assert_miss(
        "Cmf.ClickHouse.FullBackup.ODS.11.3.0.ZIP",
        NearMissReason::WrongCase,
        Some("Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip"),
    );
    assert_miss(
        "MES.CMF.CLICKHOUSE.FULLBACKUP.DWH.11.3.0.Zip",
        NearMissReason::WrongCase,
        Some("MES.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip"),
    );
}

#[test]
fn unknown_kind() {
    for name in [
        "Cmf.ClickHouse.FullBackup.MAIN.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.Full.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.zip",
        "Cmf.ClickHouse.FullBackup.CDM-11.3.0.zip",
    ] {
        let m = assert_miss(name, NearMissReason::UnknownKind, None);
        assert!(m.message.contains("Online (the main database), CDM, ODS or DWH"), "{}", m.message);
    }
    // A database name where the kind belongs can be mapped back.
    assert_miss(
        "Cmf.ClickHouse.FullBackup.MESCDM.11.3.0.zip",
        NearMissReason::UnknownKind,
        Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
    );
    assert_miss(
        "MES.Cmf.ClickHouse.FullBackup.MES.11.3.0.zip",
        NearMissReason::UnknownKind,
        Some("MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"),
    );
}

#[test]
fn missing_version() {
    let m = assert_miss("Cmf.ClickHouse.FullBackup.CDM.zip", NearMissReason::MissingVersion, None);
    assert!(m.message.contains("Cmf.ClickHouse.FullBackup.CDM.<version>.zip"), "{}", m.message);
    assert_miss("Cmf.ClickHouse.FullBackup.Online..zip", NearMissReason::MissingVersion, None);
}

#[test]
fn bad_version() {
    let m = assert_miss(
        "Cmf.ClickHouse.FullBackup.CDM.v11.3.0.zip",
        NearMissReason::BadVersion,
        Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
    );
    assert!(m.message.contains("must be written 11.3.0"), "{}", m.message);
    assert_miss("Cmf.ClickHouse.FullBackup.CDM.11.x.0.zip", NearMissReason::BadVersion, None);
    assert_miss("Cmf.ClickHouse.FullBackup.CDM.11.zip", NearMissReason::BadVersion, None);
    assert_miss("Cmf.ClickHouse.FullBackup.CDM.1.2.3.4.5.zip", NearMissReason::BadVersion, None);
    assert_miss(
        "Cmf.ClickHouse.FullBackup.CDM.11_3_0.zip",
        NearMissReason::BadVersion,
        Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
    );
    // 11.3 is a valid version on its own.
    assert!(parse_package_name("Cmf.ClickHouse.FullBackup.CDM.11.3.zip").is_ok());
}

#[test]
fn extra_suffix() {
    let right = "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip";
    for name in [
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0 (1).zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0(2).zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0-copy.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0 - Copy.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0 - Copy (2).zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0 copy 2.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip (1)",
        "Copy of Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
    ] {
        assert_miss(name, NearMissReason::ExtraSuffix, Some(right));
    }
    for name in [
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.part",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.crdownload",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.download",
    ] {
        let m = assert_miss(name, NearMissReason::ExtraSuffix, Some(right));
        assert!(m.message.contains("unfinished download"), "{}", m.message);
    }
}

#[test]
fn wrong_extension() {
    let right = Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    let m = assert_miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0.7z", NearMissReason::WrongExtension, right);
    assert!(m.message.contains("renaming does not convert it"), "{}", m.message);
    assert_miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0.tar.gz", NearMissReason::WrongExtension, right);
    let m = assert_miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0", NearMissReason::WrongExtension, right);
    assert!(m.message.contains("no .zip extension"), "{}", m.message);
    assert_miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zipx", NearMissReason::WrongExtension, right);
}

#[test]
fn renamed() {
    let right = Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    assert_miss("ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::Renamed, right);
    assert_miss("Cmf.Clickhouse.Backup.CDM.11.3.0.zip", NearMissReason::Renamed, right);
    assert_miss("Cmf_ClickHouse_FullBackup_CDM_11.3.0.zip", NearMissReason::Renamed, right);
    assert_miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0 .zip", NearMissReason::Renamed, right);
    assert_miss(" Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::Renamed, right);
    assert_miss("Cmf.ClickHouse.FullBackup. CDM.11.3.0.zip", NearMissReason::Renamed, right);
    let m = assert_miss("MES_CDM_backup.zip", NearMissReason::Renamed, None);
    assert!(m.message.contains("Cmf.ClickHouse.FullBackup.CDM.<version>.zip"), "{}", m.message);
    assert_miss("MESODS_backup_11.3.0.zip", NearMissReason::Renamed, Some("Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip"));
    // Two kinds mentioned: no guess.
    assert_miss("clickhouse_backup_cdm_ods.zip", NearMissReason::Renamed, None);
}

#[test]
fn bad_system_prefix() {
    let right = Some("MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    assert_miss("MES-Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::BadSystemPrefix, right);
    assert_miss("MES..Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::BadSystemPrefix, right);
    assert_miss("MES_Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::BadSystemPrefix, right);
    assert_miss("MESCmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::BadSystemPrefix, right);
    // Not fixable: the generic name is offered instead.
    let generic = Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip");
    let m = assert_miss("My-Plant.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::BadSystemPrefix, generic);
    assert!(m.message.contains("generic name"), "{}", m.message);
    assert_miss("MÉS.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::BadSystemPrefix, generic);
    assert_miss("1MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", NearMissReason::BadSystemPrefix, generic);
}

#[test]
fn several_problems_report_the_most_specific_and_fix_all() {
    let m = assert_miss(
        "cmf.clickhouse.fullbackup.cdm.v11.3.0 (1).ZIP",
        NearMissReason::BadVersion,
        Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
    );
    assert!(m.message.contains("(1)") && m.message.contains("lower-case .zip"), "{}", m.message);
    assert_miss(
        "cmf.clickhouse.fullbackup.cdm.11.3.0.zip.crdownload",
        NearMissReason::ExtraSuffix,
        Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"),
    );
    assert_miss("Cmf.ClickHouse.FullBackup.CDM (1).zip", NearMissReason::MissingVersion, None);
    assert_miss("MES-Cmf.ClickHouse.FullBackup.Full.11.3.0.zip", NearMissReason::BadSystemPrefix, None);
}

#[test]
fn messages_quote_hostile_names() {
    let m = miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0\u{1b}[31m.zip");
    assert!(!m.message.contains('\u{1b}'), "{}", m.message);
    let m = miss("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip\n");
    assert!(!m.message.contains('\n'), "{}", m.message);
    let reason = serde_json::to_string(&NearMissReason::BadSystemPrefix).unwrap();
    assert_eq!(reason, "\"bad_system_prefix\"");
}

// --- folder check -------------------------------------------------------------------------

#[test]
fn folder_with_seed_names_is_complete() {
    let names: Vec<&str> = SEED_NAMES.iter().map(|(n, _)| *n).collect();
    let r = check_folder(&names, "MES", "11.3.0").unwrap();
    assert!(r.complete());
    assert!(r.missing.is_empty() && r.ignored.is_empty() && r.near_misses.is_empty());
    let kinds: Vec<DatabaseKind> = r.kinds.iter().map(|k| k.kind).collect();
    assert_eq!(kinds, DatabaseKind::ALL);
    for k in &r.kinds {
        assert!(!k.system_specific);
        assert_eq!(k.chosen.as_ref(), Some(&k.expected_names[1]));
    }
    assert_eq!(
        r.kinds[0].expected_names,
        [
            "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip".to_owned(),
            "Cmf.ClickHouse.FullBackup.Online.11.3.0.zip".to_owned()
        ]
    );
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<FolderReport>(&json).unwrap(), r);
}

#[test]
fn folder_prefers_system_specific_and_lists_missing() {
    let names = [
        "Cmf.ClickHouse.FullBackup.Online.11.3.0.zip",
        "MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip",
    ];
    let r = check_folder(&names, "MES", "11.3.0").unwrap();
    let online = &r.kinds[0];
    assert_eq!(online.chosen.as_deref(), Some("MES.Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"));
    assert!(online.system_specific);
    assert_eq!(online.also_present_but_shadowed.as_deref(), Some("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip"));
    let cdm = &r.kinds[1];
    assert_eq!(cdm.chosen.as_deref(), Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip"));
    assert!(!cdm.system_specific && cdm.also_present_but_shadowed.is_none());
    assert_eq!(r.missing, [DatabaseKind::Ods, DatabaseKind::Dwh]);
    assert!(!r.complete());
}

#[test]
fn folder_ignored_and_near_misses() {
    let names = [
        "readme.txt",
        ".Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.swp",
        "Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip.mesbackup.json",
        "Cmf.ClickHouse.FullBackup.CDM.11.2.0.zip",
        "OTHER.Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip",
        "mes.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip",
        "Cmf.ClickHouse.FullBackup.Online.11.3.0 (1).zip",
        "MES_CDM_backup.zip",
        "cmf.clickhouse.fullbackup.ods.11.2.0.zip",
        "Cmf.ClickHouse.FullBackup.MAIN.11.3.0.zip",
    ];
    let r = check_folder(&names, "MES", "11.3.0").unwrap();
    assert_eq!(r.missing, DatabaseKind::ALL);
    let ignored: Vec<(&str, IgnoredReason)> = r.ignored.iter().map(|i| (i.file.as_str(), i.reason)).collect();
    assert_eq!(
        ignored,
        [
            ("Cmf.ClickHouse.FullBackup.CDM.11.2.0.zip", IgnoredReason::OtherVersion),
            ("OTHER.Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip", IgnoredReason::OtherSystem),
        ]
    );
    let near: Vec<(&str, NearMissReason, Option<&str>)> =
        r.near_misses.iter().map(|n| (n.file.as_str(), n.reason, n.expected.as_deref())).collect();
    assert_eq!(
        near,
        [
            ("Cmf.ClickHouse.FullBackup.MAIN.11.3.0.zip", NearMissReason::UnknownKind, None),
            (
                "Cmf.ClickHouse.FullBackup.Online.11.3.0 (1).zip",
                NearMissReason::ExtraSuffix,
                Some("Cmf.ClickHouse.FullBackup.Online.11.3.0.zip")
            ),
            ("MES_CDM_backup.zip", NearMissReason::Renamed, Some("Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip")),
            (
                "cmf.clickhouse.fullbackup.ods.11.2.0.zip",
                NearMissReason::WrongCase,
                Some("Cmf.ClickHouse.FullBackup.ODS.11.2.0.zip")
            ),
            (
                "mes.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip",
                NearMissReason::WrongCase,
                Some("MES.Cmf.ClickHouse.FullBackup.DWH.11.3.0.zip")
            ),
        ]
    );
    assert!(r.near_misses[2].message.contains("If it is the CDM backup for version 11.3.0"));
    assert!(r.near_misses[3].message.contains("Note that it is for version 11.2.0, not 11.3.0"));
    assert!(r.ignored[0].message.contains("version 11.2.0"));
}

#[test]
fn folder_rejects_bad_arguments_and_is_order_independent() {
    assert!(check_folder(&[], "bad system", "11.3.0").is_err());
    assert!(check_folder(&[], "MES", "v11.3.0").is_err());
    let a = ["MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip", "x.zip", "Cmf.ClickHouse.FullBackup.CDM.11.3.zip"];
    let mut b = a;
    b.reverse();
    assert_eq!(check_folder(&a, "MES", "11.3.0").unwrap(), check_folder(&b, "MES", "11.3.0").unwrap());
}

// --- properties -----------------------------------------------------------------------------

/// Names assembled from realistic damaged pieces, so every branch of the analysis is reached.
fn piecewise_name() -> impl Strategy<Value = String> {
    use prop::sample::select;
    (
        select(vec!["", "MES.", "mes.", "MES-", "MES..", "My Plant.", "Copy of ", " ", "Site_2.", "É.", "."]),
        select(vec![
            "Cmf.ClickHouse.FullBackup",
            "cmf.clickhouse.fullbackup",
            "CMF.CLICKHOUSE.FULLBACKUP",
            "ClickHouse.FullBackup",
            "Cmf.Clickhouse.Backup",
            "Cmf_ClickHouse_FullBackup",
            "MES_backup",
        ]),
        select(vec![".Online", ".CDM", ".ods", ".Dwh", ".MAIN", ".Full", ".MESCDM", ".MES", "", ".", "_CDM"]),
        select(vec![
            ".11.3.0",
            ".v11.3.0",
            ".11.x.0",
            "",
            ".11",
            ".11.3",
            ".1.2.3.4.5",
            ".11.3.0.",
            ". 11.3.0",
            ".11_3_0",
        ]),
        select(vec!["", " (1)", "-copy", " - Copy", " copy 2", " ", "(12)"]),
        select(vec![
            ".zip",
            ".ZIP",
            ".zip.zip",
            ".zip.part",
            ".zip.crdownload",
            ".7z",
            ".tar.gz",
            "",
            ".zip (1)",
            ".zipx",
        ]),
    )
        .prop_map(|(a, b, c, d, e, f)| format!("{a}{b}{c}{d}{e}{f}"))
}

/// A piecewise name with one arbitrary character inserted somewhere.
fn mutated_name() -> impl Strategy<Value = String> {
    (piecewise_name(), any::<char>(), any::<prop::sample::Index>()).prop_map(|(name, c, at)| {
        let boundaries: Vec<usize> = name.char_indices().map(|(i, _)| i).chain([name.len()]).collect();
        let at = boundaries[at.index(boundaries.len())];
        let mut out = name;
        out.insert(at, c);
        out
    })
}

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "\\PC{0,60}", "[\\x00-\\x7f]{0,60}", piecewise_name(), mutated_name()]
}

fn check_parse_invariants(name: &str) {
    match parse_package_name(name) {
        // Only canonical names are accepted.
        Ok(p) => assert_eq!(p.file_name(), name),
        Err(m) => {
            assert!(!m.message.is_empty());
            if let Some(expected) = &m.expected {
                assert_ne!(expected, name);
                let p = parse_package_name(expected)
                    .unwrap_or_else(|e| panic!("expected {expected:?} for {name:?} does not parse: {e}"));
                assert_eq!(&p.file_name(), expected);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics_and_expected_parses(name in any_name()) {
        check_parse_invariants(&name);
    }

    #[test]
    fn built_names_parse_back(
        system in proptest::option::of("[A-Za-z][A-Za-z0-9_]{0,63}"),
        kind in prop::sample::select(DatabaseKind::ALL.to_vec()),
        version in "[0-9]{1,9}(\\.[0-9]{1,9}){1,3}",
    ) {
        let name = installer_package_name(kind, &version, system.as_deref()).unwrap();
        let p = parse_package_name(&name).unwrap();
        prop_assert_eq!(p, PackageName { system, kind, version });
    }

    #[test]
    fn check_folder_never_panics(names in prop::collection::vec(any_name(), 0..12)) {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let r = check_folder(&refs, "MES", "11.3.0").unwrap();
        prop_assert_eq!(r.kinds.len(), 4);
        for k in &r.kinds {
            if let Some(chosen) = &k.chosen {
                prop_assert!(k.expected_names.contains(chosen));
            }
        }
        for n in &r.near_misses {
            if let Some(e) = &n.expected {
                prop_assert!(parse_package_name(e).is_ok());
            }
        }
    }
}
