//! Aggregation rules: which minute, hour and day bucket an event counts in, whether it
//! is too late (older than the grace window) or too far in the future to count, and the
//! roll-up of a batch of events into per-bucket totals (count, billable count, sums and
//! maxima, server errors, per meter sum and max), keyed by consumer, key, API and plan.

use super::event::{billable, ValidEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Events older than this (by their `time`) are refused: their periods may be invoiced.
pub const GRACE_MS: i64 = 48 * 3_600_000;
/// Events further than this in the future are refused (clock skew allowance).
pub const MAX_SKEW_MS: i64 = 5 * 60_000;

/// Width of an aggregate bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Minute,
    Hour,
    Day,
}

impl Granularity {
    /// Every granularity stored.
    pub const ALL: [Granularity; 3] = [Granularity::Minute, Granularity::Hour, Granularity::Day];

    /// Width in milliseconds.
    pub fn width_ms(self) -> i64 {
        match self {
            Granularity::Minute => 60_000,
            Granularity::Hour => 3_600_000,
            Granularity::Day => 86_400_000,
        }
    }

    /// The name stored and accepted in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Minute => "minute",
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }
}

/// First millisecond of the bucket of width `g` holding `time_ms` (UTC).
pub fn bucket_start(time_ms: i64, g: Granularity) -> i64 {
    time_ms - time_ms.rem_euclid(g.width_ms())
}

/// Whether an event at `time_ms` still counts at `now_ms`; `Err` is the reason it does not.
pub fn admit_time(time_ms: i64, now_ms: i64, grace_ms: i64) -> Result<(), String> {
    if time_ms < now_ms.saturating_sub(grace_ms) {
        return Err(format!(
            "the event is older than the {} h grace window; its usage can no longer be counted",
            grace_ms / 3_600_000
        ));
    }
    if time_ms > now_ms.saturating_add(MAX_SKEW_MS) {
        return Err("the event's `time` is more than 5 minutes in the future".into());
    }
    Ok(())
}

/// Who and what one aggregate row is about ("" where the event had none).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub granularity: Granularity,
    pub bucket_start: i64,
    pub consumer_id: String,
    pub key_id: String,
    pub api_id: String,
    pub plan_id: String,
}

/// Totals of one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: i64,
    pub billable: i64,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub latency_ms_sum: i64,
    pub latency_ms_max: i64,
    /// Requests answered with a status of 500 or more (the SLO's errors).
    pub server_errors: i64,
    /// Per meter: (sum, max) over billable events.
    pub meters: BTreeMap<String, (i64, i64)>,
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Totals {
    /// Adds `other` in (sums add, maxima take the larger).
    pub fn merge(&mut self, other: &Totals) {
        self.requests = self.requests.saturating_add(other.requests);
        self.billable = self.billable.saturating_add(other.billable);
        self.bytes_in = self.bytes_in.saturating_add(other.bytes_in);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
        self.latency_ms_sum = self.latency_ms_sum.saturating_add(other.latency_ms_sum);
        self.latency_ms_max = self.latency_ms_max.max(other.latency_ms_max);
        self.server_errors = self.server_errors.saturating_add(other.server_errors);
        for (name, (sum, max)) in &other.meters {
            let e = self.meters.entry(name.clone()).or_insert((0, 0));
            e.0 = e.0.saturating_add(*sum);
            e.1 = e.1.max(*max);
        }
    }

    fn of(s: &Sample) -> Totals {
        let is_billable = billable(s.status);
        Totals {
            requests: 1,
            billable: i64::from(is_billable),
            bytes_in: clamp(s.bytes_in),
            bytes_out: clamp(s.bytes_out),
            latency_ms_sum: clamp(s.latency_ms),
            latency_ms_max: clamp(s.latency_ms),
            server_errors: i64::from(s.status >= 500),
            meters: if is_billable {
                s.meters
                    .iter()
                    .map(|(k, v)| (k.clone(), (clamp(*v), clamp(*v))))
                    .collect()
            } else {
                BTreeMap::new()
            },
        }
    }
}

/// What aggregation needs of one event: when, who, what, and the measures. The origin
/// keeps it (in `usage_pending`) between recording an event and folding it in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    pub time_ms: i64,
    pub api_id: String,
    /// "" when the event had none (so for the three below).
    pub consumer_id: String,
    pub key_id: String,
    pub plan_id: String,
    pub status: u16,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub latency_ms: u64,
    pub meters: BTreeMap<String, u64>,
}

impl From<&ValidEvent> for Sample {
    fn from(v: &ValidEvent) -> Sample {
        let d = &v.event.data;
        Sample {
            time_ms: v.time_ms,
            api_id: d.api_id.clone(),
            consumer_id: d.consumer_id.clone().unwrap_or_default(),
            key_id: d.key_id.clone().unwrap_or_default(),
            plan_id: d.plan_id.clone().unwrap_or_default(),
            status: d.status,
            bytes_in: d.bytes_in,
            bytes_out: d.bytes_out,
            latency_ms: d.latency_ms,
            meters: d.meters.clone(),
        }
    }
}

/// Rolls events up into every granularity's buckets.
pub fn rollup<'a>(events: impl IntoIterator<Item = &'a ValidEvent>) -> BTreeMap<RollupKey, Totals> {
    let samples: Vec<Sample> = events.into_iter().map(Sample::from).collect();
    rollup_samples(&samples)
}

/// Rolls samples up into every granularity's buckets.
pub fn rollup_samples<'a>(
    samples: impl IntoIterator<Item = &'a Sample>,
) -> BTreeMap<RollupKey, Totals> {
    let mut out: BTreeMap<RollupKey, Totals> = BTreeMap::new();
    for s in samples {
        let one = Totals::of(s);
        for g in Granularity::ALL {
            let key = RollupKey {
                granularity: g,
                bucket_start: bucket_start(s.time_ms, g),
                consumer_id: s.consumer_id.clone(),
                key_id: s.key_id.clone(),
                api_id: s.api_id.clone(),
                plan_id: s.plan_id.clone(),
            };
            out.entry(key).or_default().merge(&one);
        }
    }
    out
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;
