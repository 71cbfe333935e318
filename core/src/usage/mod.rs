//! Usage metering: one CloudEvents 1.0 event per request the edge answers, what makes it
//! billable, how one event is validated, and how events roll up into minute, hour and day
//! buckets (late events inside a grace window included). Pure functions; the edge builds
//! events, the origin ingests them idempotently (by event id) and stores the roll-ups.

pub mod alerts;
pub mod cover;
pub mod event;
pub mod meters;
pub mod rollup;
pub mod series;
pub mod time;

pub use event::{
    billable, time_ordered_id, validate, UsageData, UsageEvent, ValidEvent, BILLABLE_STATUSES,
    EVENT_TYPE,
};
pub use meters::parse_meter_header;
pub use rollup::{
    admit_time, bucket_start, rollup, rollup_samples, Granularity, RollupKey, Sample, Totals,
};
