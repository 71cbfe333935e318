//! The `format`s tollgate checks: `date-time` and `date` (RFC 3339), `email` (a pragmatic
//! `local@domain` shape, not RFC 5322's full grammar), `uuid`, `uri` (a scheme and no
//! spaces) and the `int32`/`int64` ranges. Other formats are annotations.

use super::schema::Format;
use serde_json::Value;

fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

fn num(s: &[u8]) -> u32 {
    s.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
}

/// `YYYY-MM-DD` with a real day of the month.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (y, m, d) = (&b[0..4], &b[5..7], &b[8..10]);
    if !(digits(y) && digits(m) && digits(d)) {
        return false;
    }
    let (y, m, d) = (num(y), num(m), num(d));
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// `HH:MM:SS[.frac](Z|±HH:MM)`, leap second allowed.
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (h, m, sec) = (&b[0..2], &b[3..5], &b[6..8]);
    if !(digits(h) && digits(m) && digits(sec)) || num(h) > 23 || num(m) > 59 || num(sec) > 60 {
        return false;
    }
    let mut rest = &b[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let (h, m) = ([*h1, *h2], [*m1, *m2]);
            digits(&h) && digits(&m) && num(&h) <= 23 && num(&m) <= 59
        }
        _ => false,
    }
}

fn is_date_time(s: &str) -> bool {
    match s.find(['T', 't']) {
        Some(i) => is_date(&s[..i]) && is_time(&s[i + 1..]),
        None => false,
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80)
        })
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Checks `value` against `format`; the error is the reason shown to the caller.
pub fn check_format(format: Format, value: &Value) -> Result<(), String> {
    let ok = match (format, value) {
        (Format::DateTime, Value::String(s)) => is_date_time(s),
        (Format::Date, Value::String(s)) => is_date(s),
        (Format::Email, Value::String(s)) => is_email(s),
        (Format::Uuid, Value::String(s)) => is_uuid(s),
        (Format::Uri, Value::String(s)) => is_uri(s),
        (Format::Int32, Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i32::try_from(i).is_ok(),
            (None, Some(f)) => {
                f.fract() != 0.0 || (f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX))
            }
            _ => true,
        },
        (Format::Int64, Value::Number(n)) => {
            n.is_i64()
                || (!n.is_u64()
                    && n.as_f64()
                        .is_some_and(|f| f.fract() != 0.0 || (-9.2e18..=9.2e18).contains(&f)))
        }
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(match format {
        Format::DateTime => "must be an RFC 3339 date-time, e.g. 2026-11-29T12:00:00Z".into(),
        Format::Date => "must be an RFC 3339 date, e.g. 2026-11-29".into(),
        Format::Email => "must be an email address".into(),
        Format::Uuid => "must be a UUID, e.g. 123e4567-e89b-12d3-a456-426614174000".into(),
        Format::Uri => "must be an absolute URI".into(),
        Format::Int32 => "must fit a 32-bit signed integer".into(),
        Format::Int64 => "must fit a 64-bit signed integer".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_accept_good_and_refuse_bad_values() {
        let ok = |f, v: Value| check_format(f, &v).is_ok();
        assert!(ok(Format::DateTime, json!("2026-11-29T12:00:00Z")));
        assert!(ok(Format::DateTime, json!("2024-02-29T23:59:60.5+01:00")));
        assert!(!ok(Format::DateTime, json!("2023-02-29T12:00:00Z")));
        assert!(!ok(Format::DateTime, json!("2026-11-29 12:00:00")));
        assert!(ok(Format::Date, json!("2026-11-29")));
        assert!(!ok(Format::Date, json!("2026-13-01")));
        assert!(!ok(Format::Date, json!("2026-1-01")));
        assert!(ok(Format::Email, json!("ada@example.com")));
        assert!(!ok(Format::Email, json!("ada@")));
        assert!(!ok(Format::Email, json!("a da@example.com")));
        assert!(ok(
            Format::Uuid,
            json!("123e4567-e89b-12d3-a456-426614174000")
        ));
        assert!(!ok(Format::Uuid, json!("123e4567e89b12d3a456426614174000")));
        assert!(ok(Format::Uri, json!("https://example.com/x?y=1")));
        assert!(!ok(Format::Uri, json!("/relative")));
        assert!(ok(Format::Int32, json!(2147483647)));
        assert!(!ok(Format::Int32, json!(2147483648_i64)));
        assert!(ok(Format::Int64, json!(-9223372036854775808_i64)));
        assert!(!ok(Format::Int64, json!(18446744073709551615_u64)));
        assert!(!ok(Format::Int64, json!(1e300)));
        assert!(ok(Format::Uuid, json!(12)));
    }
}
