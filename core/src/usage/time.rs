//! RFC 3339 timestamps for usage events (`time`): parsed to and formatted from Unix
//! milliseconds, UTC, with no dependency (civil-date arithmetic from `limits::calendar`).

use crate::limits::calendar::{civil_from_days, days_from_civil};

const DAY_MS: i64 = 86_400_000;

/// Formats Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (min, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1_000, rest % 1_000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an RFC 3339 date-time (`2026-11-29T10:00:00Z`, fractional seconds and a
/// `±HH:MM` offset allowed) to Unix milliseconds; `None` when it is not one.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    if !s.is_ascii() || s.len() < 20 || s.len() > 40 {
        return None;
    }
    let b = s.as_bytes();
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    let (h, mi, se) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    if !(1..=12).contains(&mo) || d < 1 || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let (y, mo, d32) = (y, mo as u32, d as u32);
    let next_month = if mo == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, mo + 1, 1)
    };
    if days_from_civil(y, mo, 1) + i64::from(d32) > next_month {
        return None;
    }
    let mut rest = &s[19..];
    let mut milli = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if end == 0 || end > 9 {
            return None;
        }
        let first3 = &frac[..end.min(3)];
        milli = digits(first3)? * 10_i64.pow(3 - first3.len() as u32);
        rest = &frac[end..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 60 + om)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d32) * 86_400 + h * 3_600 + mi * 60 + se.min(59);
    Some(secs * 1_000 + milli - offset_min * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2026-11-29T10:00:00.250+01:00"),
            parse_rfc3339_ms("2026-11-29T09:00:00.25Z")
        );
        assert_eq!(format_rfc3339_ms(1_500), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn refuses_non_timestamps() {
        for bad in [
            "",
            "2026-11-29",
            "2026-02-30T00:00:00Z",
            "2026-11-29T24:00:00Z",
            "2026-11-29T10:00:00",
            "2026-11-29T10:00:00.Z",
            "2026-11-29T10:00:00+1:00",
            "２０２６-11-29T10:00:00Z",
            "2026-11-29T10:00:00Zjunk",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ms in -62_000_000_000_000_i64..250_000_000_000_000) {
            prop_assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms)), Some(ms));
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,48}") {
            let _ = parse_rfc3339_ms(&s);
        }
    }
}
