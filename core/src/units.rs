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
