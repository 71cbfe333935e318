//! Wall-clock time and its two wire forms: unix milliseconds in the database and at the
//! edge, RFC 3339 in the admin API. The clock is read only at request entry points;
//! everything below takes `now` as an argument so it can be tested.

use std::time::{SystemTime, UNIX_EPOCH};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, Time};

/// Milliseconds since the unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Seconds since the unix epoch, now (what edge signatures carry).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn datetime(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn millis(dt: OffsetDateTime) -> i64 {
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Renders unix milliseconds as RFC 3339 in UTC, e.g. `2025-03-01T00:00:00Z`.
pub fn format_rfc3339(ms: i64) -> String {
    datetime(ms)
        .format(&Rfc3339)
        .unwrap_or_else(|_| ms.to_string())
}

/// Parses an RFC 3339 timestamp (any offset) into unix milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339).ok().map(millis)
}

/// The billing period containing `now_ms`: the current calendar month in UTC, as
/// `[start, end)` in unix milliseconds.
pub fn calendar_month(now_ms: i64) -> (i64, i64) {
    let date = datetime(now_ms).date();
    let first = |year: i32, month: Month| {
        Date::from_calendar_date(year, month, 1)
            .map(|d| millis(d.with_time(Time::MIDNIGHT).assume_utc()))
            .unwrap_or(0)
    };
    let (next_year, next_month) = match date.month() {
        Month::December => (date.year() + 1, Month::January),
        m => (date.year(), m.next()),
    };
    (
        first(date.year(), date.month()),
        first(next_year, next_month),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_through_milliseconds() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        let ms = 1_740_787_200_123; // 2025-03-01T00:00:00.123Z
        assert_eq!(format_rfc3339(ms), "2025-03-01T00:00:00.123Z");
        assert_eq!(parse_rfc3339("2025-03-01T00:00:00.123Z"), Some(ms));
        assert_eq!(
            parse_rfc3339("2025-03-01T01:00:00+01:00"),
            Some(1_740_787_200_000)
        );
        assert_eq!(parse_rfc3339("next tuesday"), None);
    }

    #[test]
    fn the_billing_period_is_the_calendar_month() {
        let mid_february = parse_rfc3339("2024-02-15T12:34:56Z").unwrap();
        let (start, end) = calendar_month(mid_february);
        assert_eq!(format_rfc3339(start), "2024-02-01T00:00:00Z");
        assert_eq!(format_rfc3339(end), "2024-03-01T00:00:00Z");
        let december = parse_rfc3339("2024-12-31T23:59:59Z").unwrap();
        let (start, end) = calendar_month(december);
        assert_eq!(format_rfc3339(start), "2024-12-01T00:00:00Z");
        assert_eq!(format_rfc3339(end), "2025-01-01T00:00:00Z");
        assert_eq!(
            calendar_month(start),
            (start, end),
            "the first instant belongs to its month"
        );
    }

    #[test]
    fn the_clock_is_after_2024() {
        assert!(now_ms() > 1_704_067_200_000);
        assert!(now_secs() > 1_704_067_200);
    }
}
