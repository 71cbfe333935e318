//! Calendar periods for quotas: hours, days and months (UTC), each anchored to a moment
//! such as a subscription's billing date, so "monthly" means "from the 15th at 09:30 to
//! the next 15th at 09:30", clamped to the month's last day (a 31st anchor gives the
//! 30th in April and the 28th/29th in February).
//!
//! Civil-date arithmetic follows Howard Hinnant's `days_from_civil`/`civil_from_days`
//! (<https://howardhinnant.github.io/date_algorithms.html>): exact for any proleptic
//! Gregorian date, no tables, no dependency.

use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Longest window a rate policy may state (366 days).
pub const MAX_SPAN_MS: u64 = 366 * DAY_MS as u64;

/// How long a quota runs before it resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Hour,
    Day,
    Month,
}

impl Period {
    /// Nominal length in seconds (the `w` of `RateLimit-Policy`; months count 30 days).
    pub fn nominal_secs(self) -> u64 {
        match self {
            Period::Hour => 3_600,
            Period::Day => 86_400,
            Period::Month => 30 * 86_400,
        }
    }
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as u32
}

/// Start of the anchored month period beginning in month `(y, m)`.
fn month_start(y: i64, m: u32, anchor_day: u32, anchor_time_ms: i64) -> i64 {
    let d = anchor_day.min(days_in_month(y, m));
    days_from_civil(y, m, d) * DAY_MS + anchor_time_ms
}

fn add_months(y: i64, m: u32, delta: i64) -> (i64, u32) {
    let index = y * 12 + i64::from(m) - 1 + delta;
    (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32)
}

/// The period `[start, end)` (unix ms) that contains `now_ms`.
pub fn period_bounds(period: Period, anchor_ms: i64, now_ms: i64) -> (i64, i64) {
    match period {
        Period::Hour | Period::Day => {
            let len = if period == Period::Hour {
                HOUR_MS
            } else {
                DAY_MS
            };
            let start = now_ms - (now_ms - anchor_ms).rem_euclid(len);
            (start, start + len)
        }
        Period::Month => {
            let (_, _, anchor_day) = civil_from_days(anchor_ms.div_euclid(DAY_MS));
            let anchor_time = anchor_ms.rem_euclid(DAY_MS);
            let (y, m, _) = civil_from_days(now_ms.div_euclid(DAY_MS));
            let mut start = month_start(y, m, anchor_day, anchor_time);
            let (mut sy, mut sm) = (y, m);
            if start > now_ms {
                (sy, sm) = add_months(y, m, -1);
                start = month_start(sy, sm, anchor_day, anchor_time);
            }
            let (ny, nm) = add_months(sy, sm, 1);
            (start, month_start(ny, nm, anchor_day, anchor_time))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(y: i64, m: u32, d: u32, h: i64) -> i64 {
        days_from_civil(y, m, d) * DAY_MS + h * HOUR_MS
    }

    #[test]
    fn civil_dates_round_trip_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
    }

    #[test]
    fn months_follow_the_billing_day_clamped_to_short_months() {
        let anchor = ms(2026, 1, 31, 9);
        let (s, e) = period_bounds(Period::Month, anchor, ms(2026, 2, 10, 0));
        assert_eq!((s, e), (ms(2026, 1, 31, 9), ms(2026, 2, 28, 9)));
        let (s, e) = period_bounds(Period::Month, anchor, ms(2026, 2, 28, 10));
        assert_eq!((s, e), (ms(2026, 2, 28, 9), ms(2026, 3, 31, 9)));
        let (s, e) = period_bounds(Period::Month, anchor, ms(2026, 12, 31, 8));
        assert_eq!((s, e), (ms(2026, 11, 30, 9), ms(2026, 12, 31, 9)));
        // The default anchor (0) gives calendar months in UTC.
        let (s, e) = period_bounds(Period::Month, 0, ms(2026, 11, 28, 4));
        assert_eq!((s, e), (ms(2026, 11, 1, 0), ms(2026, 12, 1, 0)));
    }

    #[test]
    fn hours_and_days_keep_the_anchor_phase() {
        let anchor = ms(2026, 1, 1, 0) + 90_000;
        let now = ms(2026, 5, 5, 13) + 10_000;
        assert_eq!(
            period_bounds(Period::Hour, anchor, now),
            (ms(2026, 5, 5, 12) + 90_000, ms(2026, 5, 5, 13) + 90_000)
        );
        assert_eq!(
            period_bounds(Period::Day, 0, now),
            (ms(2026, 5, 5, 0), ms(2026, 5, 6, 0))
        );
    }

    proptest! {
        #[test]
        fn days_round_trip(z in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(z);
            prop_assert_eq!(days_from_civil(y, m, d), z);
        }

        #[test]
        fn every_moment_lies_in_its_period(
            now in 0i64..4_102_444_800_000,
            anchor in 0i64..4_102_444_800_000,
            p in prop_oneof![Just(Period::Hour), Just(Period::Day), Just(Period::Month)],
        ) {
            let (s, e) = period_bounds(p, anchor, now);
            prop_assert!(s <= now && now < e, "{s} {now} {e}");
            // Consecutive periods tile time: the next one starts where this one ends.
            prop_assert_eq!(period_bounds(p, anchor, e).0, e);
        }
    }
}
