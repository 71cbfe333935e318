//! Parsing HTTP dates (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and
//! asctime forms a recipient must accept. Needed for `Expires`, `Date`,
//! `Last-Modified` and `If-Modified-Since`.
//!
//! Days from a civil date use Howard Hinnant's `days_from_civil`
//! (<https://howardhinnant.github.io/date_algorithms.html>).

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn month_number(name: &str) -> Option<i64> {
    MONTHS
        .iter()
        .position(|m| *m == name)
        .and_then(|i| i64::try_from(i + 1).ok())
}

fn number(s: &str, digits: std::ops::RangeInclusive<usize>) -> Option<i64> {
    if !digits.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn time_of_day(s: &str) -> Option<i64> {
    let mut parts = s.split(':');
    let h = number(parts.next()?, 2..=2)?;
    let m = number(parts.next()?, 2..=2)?;
    let sec = number(parts.next()?, 2..=2)?;
    if parts.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(h * 3_600 + m * 60 + sec)
}

fn assemble(year: i64, month: i64, day: i64, secs: i64) -> Option<u64> {
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) {
        return None;
    }
    u64::try_from(days_from_civil(year, month, day) * 86_400 + secs).ok()
}

/// Unix seconds of an HTTP date, or `None` when it is not one (callers treat an invalid
/// `Expires` as already past, as RFC 9111 §5.3 asks).
pub fn parse_http_date(value: &str) -> Option<u64> {
    let v = value.trim();
    let words: Vec<&str> = v.split_ascii_whitespace().collect();
    match words.as_slice() {
        // Sun, 06 Nov 1994 08:49:37 GMT
        [_, day, month, year, time, "GMT"] if v.contains(',') => assemble(
            number(year, 4..=4)?,
            month_number(month)?,
            number(day, 2..=2)?,
            time_of_day(time)?,
        ),
        // Sunday, 06-Nov-94 08:49:37 GMT
        [_, date, time, "GMT"] => {
            let mut d = date.split('-');
            let day = number(d.next()?, 2..=2)?;
            let month = month_number(d.next()?)?;
            let yy = number(d.next()?, 2..=2)?;
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            assemble(year, month, day, time_of_day(time)?)
        }
        // Sun Nov  6 08:49:37 1994
        [_, month, day, time, year] => assemble(
            number(year, 4..=4)?,
            month_number(month)?,
            number(day, 1..=2)?,
            time_of_day(time)?,
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_date::format_http_date;

    #[test]
    fn the_three_rfc_forms_parse_to_the_same_instant() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
    }

    #[test]
    fn garbage_is_not_a_date() {
        for bad in [
            "",
            "0",
            "-1",
            "tomorrow",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 36 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn formatting_then_parsing_is_the_identity(secs in 0u64..253_402_300_799) {
            proptest::prop_assert_eq!(parse_http_date(&format_http_date(secs)), Some(secs));
        }

        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = parse_http_date(&s);
        }
    }
}
