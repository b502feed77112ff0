//! Durations as administrators write them, shared by the CLI's options and the config file.

/// `30s`, `5m`, `4h`, `250ms`, `1d`, or combined `1h30m`, to milliseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let hint = "use a number with a unit, e.g. 250ms, 30s, 5m, 4h, 1d or 1h30m";
    if t.is_empty() {
        return Err(format!("empty duration; {hint}"));
    }
    let mut total: u64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("{t:?} is not a duration; {hint}"));
        }
        let n: u64 = rest[..digits].parse().map_err(|_| format!("{t:?} is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("{t:?} has no unit; {hint}")),
            other => return Err(format!("unknown unit {other:?} in {t:?}; {hint}")),
        };
        rest = &rest[unit_len..];
        total = total.saturating_add(n.saturating_mul(factor));
    }
    if total == 0 {
        return Err(format!("{t:?} is zero; {hint}"));
    }
    Ok(total)
}

/// `50GiB`, `500MB`, `1TiB`, `1048576` (bytes): binary (KiB, MiB, GiB, TiB) and decimal (KB, MB, GB,
/// TB) units, case-insensitive, an optional space before the unit.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let hint = "use a number with a unit, e.g. 500MiB, 50GiB, 1TiB or 100GB";
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(format!("{t:?} is not a size; {hint}"));
    }
    let n: u64 = t[..digits].parse().map_err(|_| format!("{t:?} is too large"))?;
    let factor: u64 = match t[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "tib" | "t" => 1 << 40,
        other => return Err(format!("unknown unit {other:?} in {t:?}; {hint}")),
    };
    n.checked_mul(factor).ok_or_else(|| format!("{t:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        assert_eq!(parse_size("50GiB"), Ok(50 << 30));
        assert_eq!(parse_size("50 gib"), Ok(50 << 30));
        assert_eq!(parse_size("100GB"), Ok(100_000_000_000));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("5 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_size("99999999999TiB").unwrap_err().contains("too large"));
    }
}
