//! Retention planning, grandfather-father-son: which backups of one database stay and why.
//!
//! The rules are restic's `forget` rules: `keep_last` keeps the newest N; `keep_daily`,
//! `keep_weekly` and `keep_monthly` keep, for each of the last N days (weeks, months) that have a
//! backup, the newest backup of that period. A backup kept by several rules is kept once, with every
//! reason listed. Periods are calendar periods in UTC (ISO weeks, Monday first): the sidecar times
//! are UTC, and a plan must not change with the zone of the machine that runs it.
//!
//! Two protections go beyond restic: the newest *verified* backup is never deleted (whatever the
//! rules say), and when the caller says this run's backup of the database failed, nothing is deleted
//! at all: the old backups may be all there is.
//!
//! Pure: the caller lists the backups with their times; nothing here reads a clock or a folder.

use serde::Serialize;

use crate::error::Error;

/// How many generations to keep. A rule at 0 keeps nothing by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetentionPolicy {
    /// The newest N backups.
    pub keep_last: u32,
    /// The newest backup of each of the last N days that have one.
    pub keep_daily: u32,
    /// The newest backup of each of the last N ISO weeks that have one.
    pub keep_weekly: u32,
    /// The newest backup of each of the last N months that have one.
    pub keep_monthly: u32,
}

impl RetentionPolicy {
    /// Only the newest `n` (the `prune --keep N` of earlier versions).
    pub fn last(n: u32) -> RetentionPolicy {
        RetentionPolicy { keep_last: n, ..RetentionPolicy::default() }
    }

    /// A policy that keeps nothing would delete every backup: refused. `what` names the rules as
    /// the caller spells them (for messages).
    pub fn check(&self, what: &str) -> Result<(), Error> {
        if self.keep_last == 0 && self.keep_daily == 0 && self.keep_weekly == 0 && self.keep_monthly == 0 {
            return Err(Error::invalid_argument(format!(
                "{what}: set at least one of keep_last, keep_daily, keep_weekly, keep_monthly above 0: \
                 retention never deletes every backup"
            )));
        }
        Ok(())
    }

    /// `last 7, daily 7, weekly 4, monthly 6` (rules at 0 left out), for plans shown to people.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("last", self.keep_last),
            ("daily", self.keep_daily),
            ("weekly", self.keep_weekly),
            ("monthly", self.keep_monthly),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
        parts.join(", ")
    }
}

/// Why a backup stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// Among the newest `keep_last`.
    Last,
    /// The newest of one of the last `keep_daily` days.
    Daily,
    /// The newest of one of the last `keep_weekly` ISO weeks.
    Weekly,
    /// The newest of one of the last `keep_monthly` months.
    Monthly,
    /// The newest backup known to be sound: never deleted.
    NewestVerified,
    /// Its time is unknown: never deleted by a rule that cannot place it.
    Undated,
    /// This run's backup of the database failed: nothing of it is deleted.
    BackupFailed,
}

/// One backup of a database, as the planner needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// When it finished, Unix milliseconds (UTC); `None` when no time is known.
    pub time_ms: Option<u64>,
    /// Known to be sound (verified by this run, or intact beside its sidecar).
    pub verified: bool,
}

/// The decision for one backup: kept when `reasons` is not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Why it stays; empty: it goes.
    pub reasons: Vec<KeepReason>,
}

impl Decision {
    /// Stays.
    pub fn keep(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// The decision for each of `generations` (same order) of one database under `policy`. With
/// `backup_failed`, every one is kept (reason [`KeepReason::BackupFailed`]).
pub fn plan_retention(generations: &[Generation], policy: &RetentionPolicy, backup_failed: bool) -> Vec<Decision> {
    let mut decisions: Vec<Decision> = generations.iter().map(|_| Decision { reasons: Vec::new() }).collect();
    if backup_failed {
        for d in &mut decisions {
            d.reasons.push(KeepReason::BackupFailed);
        }
        return decisions;
    }
    // Newest first; equal times keep their input order, so the plan is deterministic.
    let mut order: Vec<usize> = (0..generations.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(generations[i].time_ms));

    for (rank, &i) in order.iter().enumerate() {
        if generations[i].time_ms.is_none() {
            decisions[i].reasons.push(KeepReason::Undated);
        } else if rank < policy.keep_last as usize {
            decisions[i].reasons.push(KeepReason::Last);
        }
    }
    let buckets: [(u32, KeepReason, PeriodOf); 3] = [
        (policy.keep_daily, KeepReason::Daily, day_of),
        (policy.keep_weekly, KeepReason::Weekly, week_of),
        (policy.keep_monthly, KeepReason::Monthly, month_of),
    ];
    for (count, reason, period_of) in buckets {
        let mut left = count;
        let mut last_period: Option<i64> = None;
        for &i in &order {
            if left == 0 {
                break;
            }
            let Some(t) = generations[i].time_ms else { continue };
            let period = period_of(t);
            if last_period != Some(period) {
                last_period = Some(period);
                decisions[i].reasons.push(reason);
                left -= 1;
            }
        }
    }
    if let Some(&newest_verified) = order.iter().find(|&&i| generations[i].verified && generations[i].time_ms.is_some())
    {
        decisions[newest_verified].reasons.push(KeepReason::NewestVerified);
    }
    for d in &mut decisions {
        d.reasons.sort();
    }
    decisions
}

/// The calendar period (day, week, month) a time falls in, as an ordered number.
type PeriodOf = fn(u64) -> i64;

const DAY_MS: u64 = 86_400_000;

/// Days since 1970-01-01 (UTC).
fn day_of(ms: u64) -> i64 {
    (ms / DAY_MS) as i64
}

/// The ISO week (Monday first) as the day number of its Monday: unique per week, ordered.
fn week_of(ms: u64) -> i64 {
    let day = day_of(ms);
    // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on a Monday.
    day - (day + 3).rem_euclid(7)
}

/// Months since January 1970 (UTC).
fn month_of(ms: u64) -> i64 {
    let (year, month, _) = crate::mes::civil_date(day_of(ms));
    year * 12 + i64::from(month) - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mes::parse_rfc3339;

    fn at(text: &str) -> Generation {
        Generation { time_ms: Some(parse_rfc3339(text).unwrap()), verified: true }
    }

    /// The times kept, for a folder given as RFC 3339 times.
    fn kept(times: &[&str], policy: RetentionPolicy) -> Vec<String> {
        let gens: Vec<Generation> = times.iter().map(|t| at(t)).collect();
        let plan = plan_retention(&gens, &policy, false);
        times.iter().zip(&plan).filter(|(_, d)| d.keep()).map(|(t, _)| (*t).to_owned()).collect()
    }

    /// A nightly backup at 02:00 UTC from 2026-01-01 to 2026-03-31 (90 days), oldest first.
    fn nightly() -> Vec<String> {
        let start = crate::mes::parse_rfc3339("2026-01-01T02:00:00Z").unwrap();
        (0..90).map(|d| crate::mes::format_rfc3339_millis(start + d * DAY_MS)).collect()
    }

    #[test]
    fn keep_last_keeps_the_newest_n() {
        let times = ["2026-03-01T02:00:00Z", "2026-03-03T02:00:00Z", "2026-03-02T02:00:00Z"];
        assert_eq!(kept(&times, RetentionPolicy::last(2)), ["2026-03-03T02:00:00Z", "2026-03-02T02:00:00Z"]);
    }

    #[test]
    fn daily_keeps_the_newest_of_each_day_not_two_of_one_day() {
        let times = [
            "2026-03-01T02:00:00Z",
            "2026-03-01T14:00:00Z",
            "2026-03-02T02:00:00Z",
            "2026-03-02T23:59:59Z",
            "2026-03-03T00:00:00Z",
        ];
        let policy = RetentionPolicy { keep_daily: 2, ..Default::default() };
        assert_eq!(kept(&times, policy), ["2026-03-02T23:59:59Z", "2026-03-03T00:00:00Z"]);
    }

    #[test]
    fn grandfather_father_son_over_ninety_nightly_backups() {
        let all = nightly();
        let times: Vec<&str> = all.iter().map(String::as_str).collect();
        let policy = RetentionPolicy { keep_last: 2, keep_daily: 7, keep_weekly: 4, keep_monthly: 3 };
        let mut got = kept(&times, policy);
        got.sort();
        // daily: Mar 25..31; last 2: Mar 30, 31 (within the dailies); weekly (ISO weeks, the newest
        // of each): Tue Mar 31, Sun Mar 29, Sun Mar 22, Sun Mar 15; monthly: Mar 31, Feb 28, Jan 31.
        let expected = [
            "2026-01-31T02:00:00.000Z",
            "2026-02-28T02:00:00.000Z",
            "2026-03-15T02:00:00.000Z",
            "2026-03-22T02:00:00.000Z",
            "2026-03-25T02:00:00.000Z",
            "2026-03-26T02:00:00.000Z",
            "2026-03-27T02:00:00.000Z",
            "2026-03-28T02:00:00.000Z",
            "2026-03-29T02:00:00.000Z",
            "2026-03-30T02:00:00.000Z",
            "2026-03-31T02:00:00.000Z",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn reasons_are_all_listed() {
        let all = nightly();
        let gens: Vec<Generation> = all.iter().map(|t| at(t)).collect();
        let policy = RetentionPolicy { keep_last: 1, keep_daily: 1, keep_weekly: 1, keep_monthly: 1 };
        let plan = plan_retention(&gens, &policy, false);
        assert_eq!(
            plan[89].reasons,
            [KeepReason::Last, KeepReason::Daily, KeepReason::Weekly, KeepReason::Monthly, KeepReason::NewestVerified]
        );
        assert_eq!(plan.iter().filter(|d| d.keep()).count(), 1);
    }

    #[test]
    fn periods_without_a_backup_are_skipped_not_counted() {
        // restic: "the last N periods that have a backup", so a gap does not shorten the history.
        let times = ["2026-01-15T02:00:00Z", "2026-04-15T02:00:00Z", "2026-06-15T02:00:00Z"];
        let policy = RetentionPolicy { keep_monthly: 3, ..Default::default() };
        assert_eq!(kept(&times, policy).len(), 3);
    }

    #[test]
    fn iso_weeks_start_on_monday() {
        // 2026-03-01 is a Sunday, 2026-03-02 a Monday.
        let times = ["2026-02-28T10:00:00Z", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z"];
        let policy = RetentionPolicy { keep_weekly: 2, ..Default::default() };
        assert_eq!(kept(&times, policy), ["2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z"]);
        // Across a year boundary: Mon 2025-12-29 .. Sun 2026-01-04 are one ISO week.
        let times = ["2025-12-29T10:00:00Z", "2026-01-04T10:00:00Z"];
        let policy = RetentionPolicy { keep_weekly: 5, ..Default::default() };
        assert_eq!(kept(&times, policy), ["2026-01-04T10:00:00Z"]);
    }

    #[test]
    fn the_newest_verified_backup_is_never_deleted() {
        let mut gens = vec![at("2026-03-01T02:00:00Z"), at("2026-03-02T02:00:00Z"), at("2026-03-03T02:00:00Z")];
        gens[2].verified = false; // the newest is damaged
        gens[1].verified = false;
        let plan = plan_retention(&gens, &RetentionPolicy::last(1), false);
        assert!(plan[2].keep(), "the newest, by keep_last");
        assert!(!plan[1].keep());
        assert_eq!(plan[0].reasons, [KeepReason::NewestVerified]);
    }

    #[test]
    fn a_failed_backup_deletes_nothing() {
        let gens: Vec<Generation> = nightly().iter().map(|t| at(t)).collect();
        let plan = plan_retention(&gens, &RetentionPolicy::last(1), true);
        assert!(plan.iter().all(|d| d.keep() && d.reasons == [KeepReason::BackupFailed]));
    }

    #[test]
    fn undated_backups_are_kept_and_do_not_use_up_keep_last() {
        let gens =
            vec![Generation { time_ms: None, verified: false }, at("2026-03-01T02:00:00Z"), at("2026-03-02T02:00:00Z")];
        let plan = plan_retention(&gens, &RetentionPolicy::last(1), false);
        assert_eq!(plan[0].reasons, [KeepReason::Undated]);
        assert!(!plan[1].keep());
        assert!(plan[2].keep());
    }

    #[test]
    fn a_policy_that_keeps_nothing_is_refused() {
        assert!(RetentionPolicy::default().check("retention").is_err());
        assert!(RetentionPolicy::last(1).check("retention").is_ok());
        assert_eq!(
            RetentionPolicy { keep_last: 3, keep_monthly: 6, ..Default::default() }.describe(),
            "last 3, monthly 6"
        );
    }
}
