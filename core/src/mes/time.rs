//! HTTP dates (RFC 9110 section 5.6.7) and RFC 3339 timestamps, with pure integer arithmetic.
//!
//! No clock is read here (`std::time::SystemTime::now` panics on wasm32-unknown-unknown): callers
//! pass Unix times in and get Unix times out.

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The UTC calendar date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_date(days_since_epoch: i64) -> (i64, u32, u32) {
    civil_from_days(days_since_epoch)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Seconds since the epoch of a UTC date and time, validated; `None` before 1970.
fn unix_seconds(year: i64, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // 60 is a leap second (RFC 9110 and RFC 3339 allow it); it counts as the next minute's :00.
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    if !(0..=999_999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec))
}

/// Exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// One or two ASCII digits (a day of the month).
fn day_digits(s: &str) -> Option<u32> {
    digits(s, 2).or_else(|| digits(s, 1))
}

fn month_number(s: &str) -> Option<u32> {
    MONTH_NAMES.iter().position(|m| m.eq_ignore_ascii_case(s)).map(|i| i as u32 + 1)
}

/// `HH:MM:SS`.
fn time_of_day(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = s.split(':');
    let h = digits(parts.next()?, 2)?;
    let m = digits(parts.next()?, 2)?;
    let sec = digits(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    Some((h, m, sec))
}

fn is_gmt(s: &str) -> bool {
    s.eq_ignore_ascii_case("GMT") || s.eq_ignore_ascii_case("UTC")
}

/// Parses an HTTP date into Unix seconds: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
/// obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37
/// 1994`). Names are matched case-insensitively; the day name is checked to be a day name but not
/// against the date. A two-digit RFC 850 year is 19xx from 70 and 20xx below. `None` for anything
/// else or for a time before 1970.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    let secs = match tokens.as_slice() {
        // IMF-fixdate: "Sun," "06" "Nov" "1994" "08:49:37" "GMT"
        [wd, day, mon, year, time, zone] => {
            let wd = wd.strip_suffix(',')?;
            if !DAY_NAMES.iter().any(|d| d.eq_ignore_ascii_case(wd)) || !is_gmt(zone) {
                return None;
            }
            let (h, m, s) = time_of_day(time)?;
            unix_seconds(i64::from(digits(year, 4)?), month_number(mon)?, day_digits(day)?, h, m, s)?
        }
        // RFC 850: "Sunday," "06-Nov-94" "08:49:37" "GMT"
        [wd, date, time, zone] => {
            let wd = wd.strip_suffix(',')?;
            if !LONG_DAY_NAMES.iter().any(|d| d.eq_ignore_ascii_case(wd)) || !is_gmt(zone) {
                return None;
            }
            let mut parts = date.split('-');
            let day = day_digits(parts.next()?)?;
            let mon = month_number(parts.next()?)?;
            let year_text = parts.next()?;
            if parts.next().is_some() {
                return None;
            }
            let year = match digits(year_text, 2) {
                Some(y) if y >= 70 => 1900 + y,
                Some(y) => 2000 + y,
                None => digits(year_text, 4)?,
            };
            let (h, m, s) = time_of_day(time)?;
            unix_seconds(i64::from(year), mon, day, h, m, s)?
        }
        // asctime: "Sun" "Nov" "6" "08:49:37" "1994"
        [wd, mon, day, time, year] => {
            if !DAY_NAMES.iter().any(|d| d.eq_ignore_ascii_case(wd)) {
                return None;
            }
            let (h, m, s) = time_of_day(time)?;
            unix_seconds(i64::from(digits(year, 4)?), month_number(mon)?, day_digits(day)?, h, m, s)?
        }
        _ => return None,
    };
    u64::try_from(secs).ok()
}

/// Formats Unix seconds as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn format_http_date(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let weekday = ((days + 4) % 7) as usize; // 1970-01-01 was a Thursday
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAY_NAMES[weekday],
        day,
        MONTH_NAMES[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats Unix milliseconds as RFC 3339 UTC with milliseconds: `2026-11-25T14:09:38.123Z`.
pub fn format_rfc3339_millis(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let millis = unix_ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        year,
        month,
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis
    )
}

/// Parses an RFC 3339 timestamp into Unix milliseconds: `YYYY-MM-DDTHH:MM:SS[.fraction]` then `Z`
/// or `+hh:mm` / `-hh:mm` (`t`, `z` and a space separator accepted too). Fractions beyond
/// milliseconds are truncated. `None` when malformed or before 1970.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let s = text.trim();
    if !s.is_ascii() || s.len() < 20 {
        return None;
    }
    let b = s.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&s[0..4], 4)?;
    let month = digits(&s[5..7], 2)?;
    let day = digits(&s[8..10], 2)?;
    let hour = digits(&s[11..13], 2)?;
    let min = digits(&s[14..16], 2)?;
    let sec = digits(&s[17..19], 2)?;
    let mut rest = &s[19..];
    let mut millis: i64 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        for (i, c) in frac.bytes().take(3).enumerate() {
            if i < n {
                millis += i64::from(c - b'0') * [100, 10, 1][i];
            }
        }
        rest = &frac[n..];
    }
    let offset_secs: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let (sign, hm) = match rest.as_bytes().first()? {
                b'+' => (1, &rest[1..]),
                b'-' => (-1, &rest[1..]),
                _ => return None,
            };
            if hm.len() != 5 || hm.as_bytes()[2] != b':' {
                return None;
            }
            let oh = digits(&hm[0..2], 2)?;
            let om = digits(&hm[3..5], 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (i64::from(oh) * 3600 + i64::from(om) * 60)
        }
    };
    let local = unix_seconds(i64::from(year), month, day, hour, min, sec)?;
    let ms = (local - offset_secs) * 1000 + millis;
    u64::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T1994: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn httpdate_three_formats() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(T1994));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(T1994));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(T1994));
        assert_eq!(parse_http_date("  sun, 06 NOV 1994 08:49:37 gmt "), Some(T1994));
        assert_eq!(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT"), Some(T1994));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Wednesday, 25-Nov-26 14:09:38 GMT"), Some(1_795_615_778));
        assert_eq!(parse_http_date("Wed, 25 Nov 2026 14:09:38 GMT"), Some(1_795_615_778));
        assert_eq!(parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
        assert_eq!(parse_http_date("Tue, 19 Jan 2038 03:14:08 GMT"), Some(1 << 31));
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Xyz Nov  6 08:49:37 1994",
            "Sun Nov  6 08:49 1994",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "1994-11-06T08:49:37Z",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn httpdate_format() {
        assert_eq!(format_http_date(T1994), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(format_http_date(951_825_600), "Tue, 29 Feb 2000 12:00:00 GMT");
        assert_eq!(format_http_date(1_795_615_778), "Wed, 25 Nov 2026 14:09:38 GMT");
        assert_eq!(format_http_date(253_402_300_799), "Fri, 31 Dec 9999 23:59:59 GMT");
        let _ = format_http_date(u64::MAX); // no panic
    }

    #[test]
    fn httpdate_rfc3339() {
        assert_eq!(format_rfc3339_millis(1_795_615_778_123), "2026-11-25T14:09:38.123Z");
        assert_eq!(format_rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339_millis(951_825_600_007), "2000-02-29T12:00:00.007Z");
        let _ = format_rfc3339_millis(u64::MAX);
        assert_eq!(parse_rfc3339("2026-11-25T14:09:38.123Z"), Some(1_795_615_778_123));
        assert_eq!(parse_rfc3339("2026-11-25T14:09:38Z"), Some(1_795_615_778_000));
        assert_eq!(parse_rfc3339("2026-11-25t14:09:38.1z"), Some(1_795_615_778_100));
        assert_eq!(parse_rfc3339("2026-11-25 14:09:38.123456789Z"), Some(1_795_615_778_123));
        assert_eq!(parse_rfc3339("2026-11-25T15:09:38.123+01:00"), Some(1_795_615_778_123));
        assert_eq!(parse_rfc3339("2026-11-25T09:39:38.123-04:30"), Some(1_795_615_778_123));
        assert_eq!(parse_rfc3339("2026-11-25T14:09:38.123+00:00"), Some(1_795_615_778_123));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        for bad in [
            "",
            "2026-11-25",
            "2026-11-25T14:09:38",
            "2026-11-25T14:09:38.Z",
            "2026-11-25T14:09:38+0100",
            "2026-11-25T14:09:38+24:00",
            "2026-13-25T14:09:38Z",
            "2026-02-29T14:09:38Z",
            "2026-11-25T14:09:38.123ZZ",
            "2026/11/25T14:09:38Z",
            "1970-01-01T00:30:00+01:00",
            "+026-11-25T14:09:38Z",
            "2026-11-25T14:09:38€",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn httpdate_civil_matches_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for d in -800_000..800_000i64 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    /// 2200-01-01T00:00:00Z.
    const Y2200: u64 = 7_258_118_400;

    proptest! {
        #[test]
        fn httpdate_round_trip_1970_2200(secs in 0..Y2200) {
            let text = format_http_date(secs);
            prop_assert_eq!(text.len(), 29);
            prop_assert_eq!(parse_http_date(&text), Some(secs));
            // The other two forms of the same instant.
            let (y, m, d) = civil_from_days((secs / 86_400) as i64);
            let wd = ((secs / 86_400 + 4) % 7) as usize;
            let hms = &text[17..25];
            let asctime = format!("{} {} {:>2} {} {}", DAY_NAMES[wd], MONTH_NAMES[m as usize - 1], d, hms, y);
            prop_assert_eq!(parse_http_date(&asctime), Some(secs));
            if (1970..2070).contains(&y) {
                let rfc850 = format!("{}, {:02}-{}-{:02} {} GMT", LONG_DAY_NAMES[wd], d, MONTH_NAMES[m as usize - 1], y % 100, hms);
                prop_assert_eq!(parse_http_date(&rfc850), Some(secs));
            }
        }

        #[test]
        fn httpdate_rfc3339_round_trip(ms in 0..Y2200 * 1000) {
            prop_assert_eq!(parse_rfc3339(&format_rfc3339_millis(ms)), Some(ms));
        }

        #[test]
        fn httpdate_parsers_never_panic(s in ".*") {
            let _ = parse_http_date(&s);
            let _ = parse_rfc3339(&s);
        }
    }
}
