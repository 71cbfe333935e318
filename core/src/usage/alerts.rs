//! Quota alerts: which thresholds (80 % "warning", 100 % "exhausted") a quota's use has
//! reached. Pure and exact (integer arithmetic, no rounding), so the origin can re-check
//! after every ingested batch and let a unique row make each alert fire once.

use super::event::billable;
use super::rollup::Sample;
use crate::limits::calendar::{period_bounds, Period};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A share of a quota worth telling the developer about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Threshold {
    /// 80 % used.
    Warning,
    /// 100 % used.
    Exhausted,
}

impl Threshold {
    /// Every threshold, lowest first.
    pub const ALL: [Threshold; 2] = [Threshold::Warning, Threshold::Exhausted];

    /// The percentage of the quota.
    pub fn percent(self) -> u8 {
        match self {
            Threshold::Warning => 80,
            Threshold::Exhausted => 100,
        }
    }

    /// The webhook event (audit action) type.
    pub fn event_type(self) -> &'static str {
        match self {
            Threshold::Warning => "quota.warning",
            Threshold::Exhausted => "quota.exhausted",
        }
    }
}

/// The thresholds `used` units of a `quota`-unit quota have reached, lowest first.
/// A zero quota has no thresholds (plans refuse one anyway).
pub fn reached_thresholds(used: u64, quota: u64) -> Vec<Threshold> {
    if quota == 0 {
        return Vec::new();
    }
    Threshold::ALL
        .into_iter()
        .filter(|t| u128::from(used) * 100 >= u128::from(quota) * u128::from(t.percent()))
        .collect()
}

/// The billable use one fold saw of a key on a plan: its earliest and latest event. The
/// quota periods these span are the ones whose thresholds may have been reached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeySpan {
    pub consumer_id: String,
    pub key_id: String,
    pub plan_id: String,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// The spans of the billable samples that name a consumer, a key and a plan (only those
/// can count against a plan's quota).
pub fn key_spans<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Vec<KeySpan> {
    let mut spans: BTreeMap<(&str, &str, &str), (i64, i64)> = BTreeMap::new();
    for s in samples {
        if s.consumer_id.is_empty() || s.key_id.is_empty() || s.plan_id.is_empty() {
            continue;
        }
        if !billable(s.status) {
            continue;
        }
        let span = spans
            .entry((&s.consumer_id, &s.key_id, &s.plan_id))
            .or_insert((s.time_ms, s.time_ms));
        span.0 = span.0.min(s.time_ms);
        span.1 = span.1.max(s.time_ms);
    }
    spans
        .into_iter()
        .map(|((c, k, p), (first_ms, last_ms))| KeySpan {
            consumer_id: c.to_owned(),
            key_id: k.to_owned(),
            plan_id: p.to_owned(),
            first_ms,
            last_ms,
        })
        .collect()
}

/// Most periods one span is checked in; events arrive at most a grace window late, so a
/// real span crosses a handful.
pub const MAX_SPANNED_PERIODS: usize = 1_000;

/// The `[start, end)` bounds of every quota period from the one holding `first_ms` to the
/// one holding `last_ms`, at most [`MAX_SPANNED_PERIODS`] of them.
pub fn periods_spanned(
    period: Period,
    anchor_ms: i64,
    first_ms: i64,
    last_ms: i64,
) -> Vec<(i64, i64)> {
    let mut out = vec![period_bounds(period, anchor_ms, first_ms)];
    while out.len() < MAX_SPANNED_PERIODS {
        let (_, end) = out[out.len() - 1];
        if last_ms < end {
            break;
        }
        let next = period_bounds(period, anchor_ms, end);
        if next.0 < end {
            break;
        }
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(key: &str, plan: &str, status: u16, time_ms: i64) -> Sample {
        Sample {
            time_ms,
            api_id: "api".into(),
            consumer_id: "con".into(),
            key_id: key.into(),
            plan_id: plan.into(),
            status,
            ..Sample::default()
        }
    }

    #[test]
    fn spans_cover_billable_samples_of_a_key_on_a_plan() {
        let samples = [
            sample("k1", "p", 200, 50),
            sample("k1", "p", 200, 10),
            sample("k1", "p", 429, 5),
            sample("k1", "p", 500, 99),
            sample("k2", "p", 204, 7),
            sample("k3", "", 200, 7),
            sample("", "p", 200, 7),
        ];
        let spans = key_spans(&samples);
        let got: Vec<_> = spans
            .iter()
            .map(|s| (s.key_id.as_str(), s.first_ms, s.last_ms))
            .collect();
        assert_eq!(got, vec![("k1", 10, 50), ("k2", 7, 7)]);
    }

    #[test]
    fn periods_spanned_walks_from_the_first_to_the_last_period() {
        const HOUR: i64 = 3_600_000;
        assert_eq!(periods_spanned(Period::Hour, 0, 10, 20), vec![(0, HOUR)]);
        assert_eq!(
            periods_spanned(Period::Hour, 0, HOUR - 1, 2 * HOUR),
            vec![(0, HOUR), (HOUR, 2 * HOUR), (2 * HOUR, 3 * HOUR)]
        );
        assert_eq!(
            periods_spanned(Period::Hour, 0, 0, i64::MAX / 2).len(),
            MAX_SPANNED_PERIODS
        );
    }

    #[test]
    fn eighty_percent_warns_and_a_full_quota_is_exhausted() {
        assert_eq!(reached_thresholds(7, 10), vec![]);
        assert_eq!(reached_thresholds(8, 10), vec![Threshold::Warning]);
        assert_eq!(
            reached_thresholds(10, 10),
            vec![Threshold::Warning, Threshold::Exhausted]
        );
        assert_eq!(reached_thresholds(12, 10).len(), 2);
        // 80 % of 3 is 2.4: two calls are not yet 80 %, three are.
        assert_eq!(reached_thresholds(2, 3), vec![]);
        assert_eq!(reached_thresholds(3, 3).len(), 2);
        assert_eq!(reached_thresholds(5, 0), vec![]);
        assert_eq!(reached_thresholds(u64::MAX, u64::MAX).len(), 2);
    }

    proptest! {
        #[test]
        fn thresholds_only_grow_with_use(quota in 1u64..1_000_000, used in 0u64..2_000_000) {
            let now = reached_thresholds(used, quota);
            let later = reached_thresholds(used + 1, quota);
            prop_assert!(later.len() >= now.len());
            prop_assert_eq!(now.contains(&Threshold::Exhausted), used >= quota);
        }
    }
}
