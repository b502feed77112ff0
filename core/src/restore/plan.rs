//! The restore plan: given a package's [`Inspection`] and what the target ClickHouse reports
//! (`system.storage_policies`, `system.disks`, `system.databases` / `system.tables`), list what
//! would make `RESTORE DATABASE` fail, before anything touches the server: a storage policy or
//! disk the target lacks (ClickHouse's UNKNOWN_POLICY / UNKNOWN_DISK, which it reports late), a
//! non-empty target database, a name clash. Every problem names the policy, disk or database and
//! says what to do (`--as NAME`, `--storage-policy POLICY`).
//!
//! Pure: the caller runs the queries ([`FACTS_QUERIES`]) and the statement ([`RestorePlan::sql`]).

use serde::{Deserialize, Serialize};

use crate::package::Inspection;

/// One storage policy of the target (`system.storage_policies`, grouped by policy).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TargetPolicy {
    /// The policy's name (`policy_name`), as a table's `SETTINGS storage_policy` names it.
    pub policy: String,
    /// Its volumes (`volume_name`), in the order the rows listed them, without repeats.
    pub volumes: Vec<String>,
    /// The disks of all its volumes, without repeats.
    pub disks: Vec<String>,
}

/// One database of the target and how many tables it holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TargetDatabase {
    /// The database's name, exact case.
    pub name: String,
    /// How many tables `system.tables` lists in it; 0 when it lists none.
    pub tables: u64,
}

/// What the target ClickHouse reports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TargetFacts {
    /// The storage policies the target defines, one entry per policy.
    pub storage_policies: Vec<TargetPolicy>,
    /// The names of the disks the target lists (`system.disks`).
    pub disks: Vec<String>,
    /// The databases that exist on the target, system databases included.
    pub databases: Vec<TargetDatabase>,
}

/// The queries whose JSONEachRow rows [`TargetFacts::from_rows`] reads, in order:
/// policies (one row per volume), disks, databases, table counts per database.
pub const FACTS_QUERIES: [&str; 4] = [
    "SELECT policy_name, volume_name, disks FROM system.storage_policies",
    "SELECT name FROM system.disks",
    "SELECT name FROM system.databases",
    "SELECT database, count() AS tables FROM system.tables GROUP BY database",
];

fn str_field<'a>(row: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    row.get(key).and_then(|v| v.as_str())
}

/// A JSON number, or a 64-bit integer quoted as a string (ClickHouse's
/// `output_format_json_quote_64bit_integers`).
pub fn json_u64(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

impl TargetFacts {
    /// Builds the facts from the rows of the four [`FACTS_QUERIES`].
    pub fn from_rows(
        policies: &[serde_json::Value],
        disks: &[serde_json::Value],
        databases: &[serde_json::Value],
        table_counts: &[serde_json::Value],
    ) -> TargetFacts {
        let mut facts = TargetFacts::default();
        for row in policies {
            let Some(name) = str_field(row, "policy_name") else {
                continue;
            };
            let idx = match facts.storage_policies.iter().position(|p| p.policy == name) {
                Some(i) => i,
                None => {
                    facts.storage_policies.push(TargetPolicy { policy: name.to_owned(), ..Default::default() });
                    facts.storage_policies.len() - 1
                }
            };
            let p = &mut facts.storage_policies[idx];
            if let Some(v) = str_field(row, "volume_name") {
                if !p.volumes.iter().any(|x| x == v) {
                    p.volumes.push(v.to_owned());
                }
            }
            if let Some(list) = row.get("disks").and_then(|d| d.as_array()) {
                for d in list.iter().filter_map(|d| d.as_str()) {
                    if !p.disks.iter().any(|x| x == d) {
                        p.disks.push(d.to_owned());
                    }
                }
            }
        }
        facts.disks = disks.iter().filter_map(|r| str_field(r, "name")).map(str::to_owned).collect();
        for row in databases {
            if let Some(name) = str_field(row, "name") {
                let tables = table_counts
                    .iter()
                    .find(|r| str_field(r, "database") == Some(name))
                    .and_then(|r| r.get("tables"))
                    .and_then(json_u64)
                    .unwrap_or(0);
                facts.databases.push(TargetDatabase { name: name.to_owned(), tables });
            }
        }
        facts
    }

    /// The target's storage policy named exactly `name` (case-sensitive), if it has one.
    pub fn policy(&self, name: &str) -> Option<&TargetPolicy> {
        self.storage_policies.iter().find(|p| p.policy == name)
    }
    /// The target's database named exactly `name` (case-sensitive), if it has one.
    pub fn database(&self, name: &str) -> Option<&TargetDatabase> {
        self.databases.iter().find(|d| d.name == name)
    }
}

/// What would make the restore fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The package does not hold the database asked for.
    UnknownDatabase,
    /// A name that cannot be used (empty, control characters).
    InvalidName,
    /// A storage policy a table needs (or the `--storage-policy` override) is not on the target.
    MissingPolicy,
    /// A disk a table is pinned to is not on the target.
    MissingDisk,
    /// The target database exists and holds tables.
    NonEmptyTarget,
    /// The target database exists (empty) and the restore was not asked to go into an existing one.
    ExistingTarget,
    /// The target name is a system database, or differs only in case from an existing one.
    NameClash,
}

/// One reason the restore would fail, found before anything touches the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlanProblem {
    /// What would make the restore fail.
    pub kind: ProblemKind,
    /// The policy, disk or database the problem is about.
    pub name: String,
    /// Tables concerned (`db.table`), when the problem is about tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// What is wrong and what to do about it.
    pub message: String,
}

/// What `plan_restore` decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RestorePlan {
    /// The database in the package.
    pub source_database: String,
    /// The database it will be restored as.
    pub target_database: String,
    /// Empty when the restore can go ahead.
    pub problems: Vec<PlanProblem>,
    /// Things worth knowing that do not stop the restore.
    pub notes: Vec<String>,
    /// RESTORE settings, as (name, value) with values unquoted.
    pub settings: Vec<(String, String)>,
    /// Expected row count per table of the database (from the package), to compare after.
    pub tables: Vec<(String, u64)>,
}

impl RestorePlan {
    /// Whether the restore can go ahead (no problems): check it before running [`RestorePlan::sql`];
    /// when `false`, [`RestorePlan::problems_message`] says why.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// `RESTORE DATABASE `X` AS `Y` FROM File('<backup_path>') SETTINGS ... ASYNC`.
    pub fn sql(&self, backup_path: &str) -> String {
        let mut s = format!("RESTORE DATABASE {}", quote_ident(&self.source_database));
        if self.target_database != self.source_database {
            s.push_str(&format!(" AS {}", quote_ident(&self.target_database)));
        }
        s.push_str(&format!(" FROM File({})", quote_string(backup_path)));
        if !self.settings.is_empty() {
            let list: Vec<String> = self.settings.iter().map(|(k, v)| format!("{k} = {}", quote_string(v))).collect();
            s.push_str(&format!(" SETTINGS {}", list.join(", ")));
        }
        s.push_str(" ASYNC");
        s
    }

    /// One message naming every problem (for an error).
    pub fn problems_message(&self) -> String {
        self.problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ")
    }
}

/// A ClickHouse identifier in backquotes, backslashes and backquotes escaped.
pub fn quote_ident(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 2);
    s.push('`');
    for c in name.chars() {
        match c {
            '`' => s.push_str("\\`"),
            '\\' => s.push_str("\\\\"),
            _ => s.push(c),
        }
    }
    s.push('`');
    s
}

/// A ClickHouse string literal in single quotes, backslashes and quotes escaped.
pub fn quote_string(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('\'');
    for c in value.chars() {
        match c {
            '\'' => s.push_str("\\'"),
            '\\' => s.push_str("\\\\"),
            _ => s.push(c),
        }
    }
    s.push('\'');
    s
}

/// The prefix of `test-restore`'s throwaway databases unless another is given.
pub const DEFAULT_THROWAWAY_PREFIX: &str = "mesbackup_testrestore_";

/// The throwaway database one `test-restore` of one package restores into and drops:
/// `<prefix><database>_<suffix>`, the suffix random per package and run, so that two runs, or a
/// database somebody keeps under the old fixed name, never share it. The prefix is what tells an
/// administrator (and [`is_throwaway`]) what the database is: it may not be empty, nor make the
/// name equal to a database of the package.
pub fn throwaway_database_name(
    prefix: &str,
    database: &str,
    suffix: &str,
    package_databases: &[&str],
) -> Result<String, crate::Error> {
    if prefix.trim().is_empty() {
        return Err(crate::Error::invalid_argument(
            "test-restore needs a non-empty --prefix for its throwaway databases (default mesbackup_testrestore_): \
             without one, the throwaway database could be the production database, and test-restore drops it",
        ));
    }
    if prefix.chars().any(|c| c.is_control() || c == '`') {
        return Err(crate::Error::invalid_argument(format!(
            "the --prefix {} holds characters a database name should not: use letters, digits and _",
            crate::error::quote_untrusted(prefix, 60)
        )));
    }
    let name = format!("{prefix}{database}_{suffix}");
    if package_databases.iter().any(|d| d.eq_ignore_ascii_case(&name)) {
        return Err(crate::Error::invalid_argument(format!(
            "the throwaway database name '{name}' is a database of the package itself: choose another --prefix"
        )));
    }
    Ok(name)
}

/// Whether `name` looks like a throwaway database of `test-restore` with `prefix`.
pub fn is_throwaway(name: &str, prefix: &str) -> bool {
    !prefix.is_empty() && name.starts_with(prefix)
}

const SYSTEM_DATABASES: [&str; 3] = ["system", "information_schema", "INFORMATION_SCHEMA"];

fn bad_name(name: &str) -> bool {
    name.is_empty() || name.chars().any(|c| c.is_control())
}

/// What the administrator asks of a restore, besides the package and the target's facts.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions<'a> {
    /// Restore under this name (`--as`); the package's own name otherwise.
    pub target_name: Option<&'a str>,
    /// Restore every table with this storage policy (`--storage-policy`).
    pub storage_policy: Option<&'a str>,
    /// Restore into a database that already exists (it must still be empty: `--into-existing`).
    /// Without it an existing target is refused, and RESTORE itself is told to create the
    /// database (`create_database = 'create'`), so a database made by someone else between the
    /// plan and the statement makes it fail instead of receiving the tables.
    pub into_existing: bool,
}

/// Checks a restore of `database` (as named in the package) into the target described by `facts`.
pub fn plan_restore(
    inspection: &Inspection,
    database: &str,
    options: PlanOptions<'_>,
    facts: &TargetFacts,
) -> RestorePlan {
    let PlanOptions { target_name, storage_policy: storage_policy_override, into_existing } = options;
    let target = target_name.unwrap_or(database).to_owned();
    let mut plan = RestorePlan {
        source_database: database.to_owned(),
        target_database: target.clone(),
        problems: Vec::new(),
        notes: Vec::new(),
        settings: Vec::new(),
        tables: Vec::new(),
    };
    let mut problem = |kind, name: &str, tables: Vec<String>, message: String| {
        plan.problems.push(PlanProblem { kind, name: name.to_owned(), tables, message });
    };

    let Some(db) = inspection.databases.iter().find(|d| d.name == database) else {
        let have: Vec<&str> = inspection.databases.iter().map(|d| d.name.as_str()).collect();
        problem(
            ProblemKind::UnknownDatabase,
            database,
            vec![],
            format!(
                "the package holds no database '{database}' (it holds: {})",
                if have.is_empty() { "none".to_owned() } else { have.join(", ") }
            ),
        );
        return plan;
    };

    if bad_name(&target) {
        problem(
            ProblemKind::InvalidName,
            &target,
            vec![],
            format!("'{target}' cannot be a database name: choose another with --as NAME"),
        );
    } else if SYSTEM_DATABASES.iter().any(|s| s.eq_ignore_ascii_case(&target)) {
        problem(
            ProblemKind::NameClash,
            &target,
            vec![],
            format!("'{target}' is a system database of the target: restore under another name with --as NAME"),
        );
    } else if let Some(existing) = facts.database(&target) {
        if existing.tables > 0 {
            problem(
                ProblemKind::NonEmptyTarget,
                &target,
                vec![],
                format!(
                    "database '{target}' already exists on the target with {} table(s): restore under another name with --as NAME, or drop it first",
                    existing.tables
                ),
            );
        } else if into_existing {
            plan.notes.push(format!(
                "database '{target}' exists on the target and is empty: the tables are restored into it"
            ));
        } else {
            problem(
                ProblemKind::ExistingTarget,
                &target,
                vec![],
                format!(
                    "database '{target}' already exists on the target (empty): restore under another name with --as NAME, or into it with --into-existing"
                ),
            );
        }
    } else if let Some(other) = facts.databases.iter().find(|d| d.name.eq_ignore_ascii_case(&target)) {
        problem(
            ProblemKind::NameClash,
            &target,
            vec![],
            format!(
                "the target has a database '{}' that differs from '{target}' only in case: choose an unambiguous name with --as NAME",
                other.name
            ),
        );
    }

    // Storage policies.
    let available = || {
        let v: Vec<&str> = facts.storage_policies.iter().map(|p| p.policy.as_str()).collect();
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    match storage_policy_override {
        Some(p) => {
            if bad_name(p) {
                problem(ProblemKind::InvalidName, p, vec![], format!("'{p}' cannot be a storage policy name"));
            } else if facts.policy(p).is_none() {
                problem(
                    ProblemKind::MissingPolicy,
                    p,
                    vec![],
                    format!(
                        "the target has no storage policy '{p}' given with --storage-policy (it has: {})",
                        available()
                    ),
                );
            } else {
                plan.settings.push(("storage_policy".to_owned(), p.to_owned()));
            }
        }
        None => {
            let mut needed: Vec<(String, Vec<String>)> = Vec::new();
            for t in db.tables.iter() {
                if let Some(p) = &t.required_policy {
                    let name = format!("{}.{}", t.database, t.name);
                    match needed.iter_mut().find(|(q, _)| q == p) {
                        Some((_, v)) => v.push(name),
                        None => needed.push((p.clone(), vec![name])),
                    }
                }
            }
            for (p, tables) in needed {
                match facts.policy(&p) {
                    None => problem(
                        ProblemKind::MissingPolicy,
                        &p,
                        tables.clone(),
                        format!(
                            "the target has no storage policy '{p}', needed by {} (it has: {}): create it on the target, or override it with --storage-policy POLICY",
                            tables.join(", "),
                            available()
                        ),
                    ),
                    Some(tp) => {
                        let missing: Vec<&String> = tp.disks.iter().filter(|d| !facts.disks.contains(d)).collect();
                        if !missing.is_empty() && !facts.disks.is_empty() {
                            let m: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                            problem(
                                ProblemKind::MissingDisk,
                                m[0],
                                tables.clone(),
                                format!("storage policy '{p}' of the target names disk(s) {} that the target does not list", m.join(", ")),
                            );
                        }
                    }
                }
            }
        }
    }

    // Disks tables are pinned to.
    for t in db.tables.iter() {
        if let Some(d) = &t.disk {
            if d.contains('(') {
                plan.notes.push(format!("{}.{} defines its disk inline ({d}): not checked", t.database, t.name));
                continue;
            }
            if !facts.disks.iter().any(|x| x == d) {
                problem(
                    ProblemKind::MissingDisk,
                    d,
                    vec![format!("{}.{}", t.database, t.name)],
                    format!(
                        "the target has no disk '{d}', needed by {}.{} (it has: {}): add the disk to the target's configuration",
                        t.database,
                        t.name,
                        if facts.disks.is_empty() { "none".to_owned() } else { facts.disks.join(", ") }
                    ),
                );
            }
        }
    }

    if !into_existing {
        plan.settings.push(("create_database".to_owned(), "create".to_owned()));
    }

    plan.tables = db
        .tables
        .iter()
        .filter(|t| {
            t.kind == "table"
                && t.engine_name
                    .as_deref()
                    .is_some_and(|e| e.ends_with("MergeTree") || e == "Log" || e == "TinyLog" || e == "StripeLog")
        })
        .map(|t| (t.name.clone(), t.rows))
        .collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Verifier;
    use crate::package::{DatabaseInfo, TableInfo};

    fn table(name: &str, policy: Option<&str>, disk: Option<&str>, rows: u64) -> TableInfo {
        TableInfo {
            database: "MESCDM".into(),
            name: name.into(),
            kind: "table".into(),
            engine: Some("MergeTree".into()),
            engine_name: Some("MergeTree".into()),
            order_by: None,
            partition_by: None,
            primary_key: None,
            storage_policy: policy.map(Into::into),
            disk: disk.map(Into::into),
            required_policy: if disk.is_some() { None } else { Some(policy.unwrap_or("default").into()) },
            uuid: None,
            parts: 1,
            rows,
            bytes: 10,
        }
    }

    fn inspection(tables: Vec<TableInfo>) -> Inspection {
        Inspection {
            databases: vec![DatabaseInfo {
                name: "MESCDM".into(),
                engine: Some("Atomic".into()),
                uuid: None,
                tables,
                parts: 0,
                rows: 0,
                bytes: 0,
            }],
            ..Default::default()
        }
    }

    fn facts(policies: &[&str], dbs: &[(&str, u64)]) -> TargetFacts {
        TargetFacts {
            storage_policies: policies
                .iter()
                .map(|p| TargetPolicy {
                    policy: p.to_string(),
                    volumes: vec!["main".into()],
                    disks: vec!["default".into()],
                })
                .collect(),
            disks: vec!["default".into()],
            databases: dbs.iter().map(|(n, t)| TargetDatabase { name: n.to_string(), tables: *t }).collect(),
        }
    }

    fn opts<'a>(target_name: Option<&'a str>, storage_policy: Option<&'a str>) -> PlanOptions<'a> {
        PlanOptions { target_name, storage_policy, into_existing: false }
    }

    #[test]
    fn clean_plan_and_sql() {
        let i = inspection(vec![table("A", None, None, 5)]);
        let p = plan_restore(&i, "MESCDM", opts(Some("MESCDM_copy"), None), &facts(&["default"], &[("system", 100)]));
        assert!(p.is_ok(), "{:?}", p.problems);
        assert_eq!(p.tables, vec![("A".to_string(), 5)]);
        assert_eq!(
            p.sql("/srv/backups/x"),
            "RESTORE DATABASE `MESCDM` AS `MESCDM_copy` FROM File('/srv/backups/x') SETTINGS create_database = 'create' ASYNC"
        );
    }

    #[test]
    fn missing_policy_is_named_with_its_tables_and_the_way_out() {
        let i = inspection(vec![table("A", Some("hot_cold"), None, 5), table("B", None, None, 1)]);
        let p = plan_restore(&i, "MESCDM", opts(None, None), &facts(&["default"], &[]));
        assert_eq!(p.problems.len(), 1);
        let pr = &p.problems[0];
        assert_eq!(pr.kind, ProblemKind::MissingPolicy);
        assert_eq!(pr.name, "hot_cold");
        assert_eq!(pr.tables, vec!["MESCDM.A"]);
        assert!(pr.message.contains("'hot_cold'") && pr.message.contains("--storage-policy"), "{}", pr.message);
        // The override fixes it and shows up in the SQL.
        let p = plan_restore(&i, "MESCDM", opts(None, Some("default")), &facts(&["default"], &[]));
        assert!(p.is_ok());
        assert_eq!(
            p.sql("/b"),
            "RESTORE DATABASE `MESCDM` FROM File('/b') SETTINGS storage_policy = 'default', create_database = 'create' ASYNC"
        );
        // An override the target lacks is named too.
        let p = plan_restore(&i, "MESCDM", opts(None, Some("ssd")), &facts(&["default"], &[]));
        assert_eq!(p.problems[0].kind, ProblemKind::MissingPolicy);
        assert_eq!(p.problems[0].name, "ssd");
    }

    #[test]
    fn missing_disk() {
        let i = inspection(vec![table("A", None, Some("s3"), 5)]);
        let p = plan_restore(&i, "MESCDM", opts(None, None), &facts(&["default"], &[]));
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].kind, ProblemKind::MissingDisk);
        assert_eq!(p.problems[0].name, "s3");
    }

    #[test]
    fn target_database_checks() {
        let i = inspection(vec![table("A", None, None, 5)]);
        let f = facts(&["default"], &[("MESCDM", 3), ("Empty", 0), ("mixed", 1)]);
        let p = plan_restore(&i, "MESCDM", opts(None, None), &f);
        assert_eq!(p.problems[0].kind, ProblemKind::NonEmptyTarget);
        assert!(p.problems[0].message.contains("--as"));
        // An existing empty database: refused unless asked, then restored into without the
        // create_database setting (the database is there by choice).
        let p = plan_restore(&i, "MESCDM", opts(Some("Empty"), None), &f);
        assert_eq!(p.problems[0].kind, ProblemKind::ExistingTarget);
        assert!(p.problems[0].message.contains("--into-existing"), "{}", p.problems[0].message);
        let into = PlanOptions { target_name: Some("Empty"), storage_policy: None, into_existing: true };
        let p = plan_restore(&i, "MESCDM", into, &f);
        assert!(p.is_ok(), "{:?}", p.problems);
        assert_eq!(p.notes.len(), 1);
        assert!(!p.sql("/b").contains("create_database"), "{}", p.sql("/b"));
        // --into-existing never makes a non-empty database acceptable.
        let into = PlanOptions { target_name: None, storage_policy: None, into_existing: true };
        assert_eq!(plan_restore(&i, "MESCDM", into, &f).problems[0].kind, ProblemKind::NonEmptyTarget);
        let p = plan_restore(&i, "MESCDM", opts(Some("MIXED"), None), &f);
        assert_eq!(p.problems[0].kind, ProblemKind::NameClash);
        let p = plan_restore(&i, "MESCDM", opts(Some("system"), None), &f);
        assert_eq!(p.problems[0].kind, ProblemKind::NameClash);
        let p = plan_restore(&i, "MESCDM", opts(Some(""), None), &f);
        assert_eq!(p.problems[0].kind, ProblemKind::InvalidName);
        let p = plan_restore(&i, "NOPE", opts(None, None), &f);
        assert_eq!(p.problems[0].kind, ProblemKind::UnknownDatabase);
        assert!(p.problems[0].message.contains("MESCDM"));
    }

    #[test]
    fn throwaway_names_are_unique_and_never_production() {
        let n = throwaway_database_name(DEFAULT_THROWAWAY_PREFIX, "MESCDM", "1a2b3c4d", &["MESCDM"]).unwrap();
        assert_eq!(n, "mesbackup_testrestore_MESCDM_1a2b3c4d");
        assert!(is_throwaway(&n, DEFAULT_THROWAWAY_PREFIX));
        for empty in ["", "  "] {
            let e = throwaway_database_name(empty, "MESCDM", "1a2b3c4d", &["MESCDM"]).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::InvalidArgument);
            assert!(e.message.contains("--prefix"), "{}", e.message);
        }
        assert!(throwaway_database_name("x`", "MESCDM", "s", &[]).is_err());
        // A prefix that makes the name one of the package's databases.
        assert!(throwaway_database_name("MES", "CDM", "s", &["MESCDM_s"]).is_err());
        assert!(!is_throwaway("MESCDM", ""));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a`b\\c"), "`a\\`b\\\\c`");
        assert_eq!(quote_string("it's\\"), "'it\\'s\\\\'");
        let i = inspection(vec![]);
        let p = plan_restore(&i, "MESCDM", opts(Some("x` DROP"), None), &facts(&["default"], &[]));
        assert_eq!(
            p.sql("/b'x"),
            "RESTORE DATABASE `MESCDM` AS `x\\` DROP` FROM File('/b\\'x') SETTINGS create_database = 'create' ASYNC"
        );
    }

    #[test]
    fn facts_from_rows() {
        let v = |s: &str| -> Vec<serde_json::Value> { s.lines().map(|l| serde_json::from_str(l).unwrap()).collect() };
        let f = TargetFacts::from_rows(
            &v("{\"policy_name\":\"default\",\"volume_name\":\"default\",\"disks\":[\"default\"]}\n{\"policy_name\":\"tiered\",\"volume_name\":\"hot\",\"disks\":[\"ssd\"]}\n{\"policy_name\":\"tiered\",\"volume_name\":\"cold\",\"disks\":[\"hdd\"]}"),
            &v("{\"name\":\"default\"}"),
            &v("{\"name\":\"system\"}\n{\"name\":\"default\"}"),
            &v("{\"database\":\"system\",\"tables\":\"130\"}"),
        );
        assert_eq!(f.storage_policies.len(), 2);
        assert_eq!(f.policy("tiered").unwrap().volumes, vec!["hot", "cold"]);
        assert_eq!(f.database("system").unwrap().tables, 130);
        assert_eq!(f.database("default").unwrap().tables, 0);
    }

    fn fixture_inspection() -> Inspection {
        let bytes = include_bytes!("../../../tests/fixtures/clickhouse/mesfix_stored.zip");
        let mut v = Verifier::new();
        v.feed(bytes);
        v.finish_with_inspection().1
    }

    #[test]
    fn fixture_with_and_without_default_policy() {
        let i = fixture_inspection();
        let good = facts(&["default"], &[("system", 130), ("default", 0)]);
        let p = plan_restore(&i, "MESFIX", opts(Some("MESFIX_restored"), None), &good);
        assert!(p.is_ok(), "{:?}", p.problems);
        let mut rows: Vec<(String, u64)> = p.tables.clone();
        rows.sort();
        assert_eq!(
            rows,
            vec![
                ("EmptyTable".to_string(), 0),
                ("IoTEventData".to_string(), 1007),
                ("MaterialHistory".to_string(), 2121),
                ("ResourceStateHistory".to_string(), 1207)
            ]
        );
        let bad = facts(&["tiered"], &[]);
        let p = plan_restore(&i, "MESFIX", opts(None, None), &bad);
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].kind, ProblemKind::MissingPolicy);
        assert_eq!(p.problems[0].name, "default");
        assert!(p.problems[0].tables.contains(&"MESFIX.ResourceStateHistory".to_string()));
        assert!(plan_restore(&i, "MESFIX", opts(None, Some("tiered")), &bad).is_ok());
    }
}
