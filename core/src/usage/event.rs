//! The usage event (CloudEvents 1.0, JSON format) and the check of one event, with a
//! reason a caller can act on. Billability: 1xx–3xx are billable; 4xx (429 included) are
//! the caller's own refusals and 5xx are failures of the service, so neither is billed.

use super::meters::{valid_meter_name, MAX_METERS, MAX_METER_VALUE};
use super::time::parse_rfc3339_ms;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// CloudEvents `type` of a request's usage event.
pub const EVENT_TYPE: &str = "dev.tollgate.request";
/// CloudEvents version the events follow.
pub const SPEC_VERSION: &str = "1.0";
/// Longest id, key, consumer, plan, API or version identifier accepted.
pub const MAX_ID_LEN: usize = 128;
/// Longest `source`, `subject` or `operation` accepted.
pub const MAX_TEXT_LEN: usize = 512;

/// The statuses that are billed: 1xx–3xx yes; 4xx (429 included) no, the request was
/// refused; 5xx no, the consumer got no service.
pub const BILLABLE_STATUSES: std::ops::Range<u16> = 100..400;

/// Whether an answer with this status is billed (see [`BILLABLE_STATUSES`]).
pub fn billable(status: u16) -> bool {
    BILLABLE_STATUSES.contains(&status)
}

/// A usage event id that sorts by time: `evt_`, the milliseconds since the epoch as 12
/// hex digits, then 20 hex digits of randomness. The ledger's primary-key index then grows
/// at its end, as a time index does, instead of taking each new id on a random page.
pub fn time_ordered_id(now_ms: u64, random: [u8; 10]) -> String {
    use std::fmt::Write;
    let mut id = format!("evt_{:012x}", now_ms & 0xffff_ffff_ffff);
    for b in random {
        let _ = write!(id, "{b:02x}");
    }
    id
}

/// One request's usage, as a CloudEvents 1.0 event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub specversion: String,
    /// Unique per request; ingestion is idempotent on it.
    pub id: String,
    /// Who produced it, e.g. `tollgate-edge`.
    pub source: String,
    /// Always [`EVENT_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// When the answer was known (RFC 3339).
    pub time: String,
    /// The consumer, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacontenttype: Option<String>,
    pub data: UsageData,
}

/// What was called, by whom, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageData {
    pub api_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `METHOD /path` below the API's base path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    pub status: u16,
    /// Informational: the origin bills by [`billable`] of `status`.
    #[serde(default)]
    pub billable: bool,
    #[serde(default)]
    pub bytes_in: u64,
    #[serde(default)]
    pub bytes_out: u64,
    #[serde(default)]
    pub latency_ms: u64,
    /// `hit`, `miss`, … when the API caches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meters: BTreeMap<String, u64>,
}

/// An event that passed [`validate`], with its instant in Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    pub event: UsageEvent,
    pub time_ms: i64,
}

fn check_id(field: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > MAX_ID_LEN || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "`{field}` must be 1..={MAX_ID_LEN} printable ASCII characters without spaces"
        ));
    }
    Ok(())
}

fn check_opt_id(field: &str, v: &Option<String>) -> Result<(), String> {
    v.as_deref().map_or(Ok(()), |v| check_id(field, v))
}

fn check_text(field: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > MAX_TEXT_LEN || v.chars().any(char::is_control) {
        return Err(format!(
            "`{field}` must be 1..={MAX_TEXT_LEN} bytes without control characters"
        ));
    }
    Ok(())
}

/// Longest latency an event may report: a day (no request through the edge lasts that long).
pub const MAX_LATENCY_MS: u64 = 86_400_000;
/// Most bytes in or out an event may report: 1 TiB. With the latency bound, this keeps every
/// roll-up sum far inside 64 bits (a row would need 2^23 such events to overflow).
pub const MAX_BYTES: u64 = 1 << 40;

/// Checks one event; `Err` is the reason it is refused.
pub fn validate(event: UsageEvent) -> Result<ValidEvent, String> {
    if event.specversion != SPEC_VERSION {
        return Err(format!("`specversion` must be \"{SPEC_VERSION}\""));
    }
    check_id("id", &event.id)?;
    check_text("source", &event.source)?;
    if event.kind != EVENT_TYPE {
        return Err(format!("`type` must be \"{EVENT_TYPE}\""));
    }
    let time_ms = parse_rfc3339_ms(&event.time)
        .ok_or_else(|| "`time` must be an RFC 3339 date-time".to_string())?;
    if let Some(s) = &event.subject {
        check_text("subject", s)?;
    }
    let d = &event.data;
    check_id("data.api_id", &d.api_id)?;
    check_opt_id("data.version", &d.version)?;
    check_opt_id("data.consumer_id", &d.consumer_id)?;
    check_opt_id("data.key_id", &d.key_id)?;
    check_opt_id("data.plan_id", &d.plan_id)?;
    if let Some(op) = &d.operation {
        check_text("data.operation", op)?;
    }
    if let Some(c) = &d.cache {
        check_text("data.cache", c)?;
    }
    if !(100..=599).contains(&d.status) {
        return Err("`data.status` must be an HTTP status (100..=599)".into());
    }
    if d.latency_ms > MAX_LATENCY_MS {
        return Err(format!(
            "`data.latency_ms` must be at most {MAX_LATENCY_MS} (a day)"
        ));
    }
    if d.bytes_in > MAX_BYTES || d.bytes_out > MAX_BYTES {
        return Err(format!(
            "`data.bytes_in` and `data.bytes_out` must be at most {MAX_BYTES} (1 TiB)"
        ));
    }
    if d.meters.len() > MAX_METERS {
        return Err(format!("`data.meters` has more than {MAX_METERS} meters"));
    }
    if let Some((name, _)) = d
        .meters
        .iter()
        .find(|(k, v)| !valid_meter_name(k) || **v > MAX_METER_VALUE)
    {
        return Err(format!(
            "meter `{}` must be named [a-z][a-z0-9_.-]{{0,63}} and be at most {MAX_METER_VALUE}",
            name.chars().take(64).collect::<String>()
        ));
    }
    Ok(ValidEvent { event, time_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ordered_ids_sort_by_time_and_are_valid_ids() {
        let early = time_ordered_id(1_700_000_000_000, [0xff; 10]);
        let late = time_ordered_id(1_700_000_000_001, [0; 10]);
        assert!(early < late);
        assert_eq!(early.len(), 4 + 12 + 20);
        assert_eq!(early, "evt_018bcfe56800ffffffffffffffffffff");
        assert!(check_id("id", &late).is_ok());
    }

    /// A well-formed event at `time`.
    pub fn sample(id: &str, time: &str) -> UsageEvent {
        UsageEvent {
            specversion: "1.0".into(),
            id: id.into(),
            source: "tollgate-edge".into(),
            kind: EVENT_TYPE.into(),
            time: time.into(),
            subject: Some("con_1".into()),
            datacontenttype: Some("application/json".into()),
            data: UsageData {
                api_id: "api_1".into(),
                version: None,
                operation: Some("GET /x".into()),
                consumer_id: Some("con_1".into()),
                key_id: Some("key_1".into()),
                plan_id: None,
                status: 200,
                billable: true,
                bytes_in: 0,
                bytes_out: 10,
                latency_ms: 3,
                cache: None,
                meters: BTreeMap::from([("tokens".to_string(), 120)]),
            },
        }
    }

    #[test]
    fn billability_by_status() {
        assert!(billable(200) && billable(304) && billable(101));
        assert!(!billable(401) && !billable(429) && !billable(404));
        assert!(!billable(500) && !billable(503));
    }

    #[test]
    fn accepts_a_well_formed_event() {
        let v = validate(sample("e1", "2026-11-29T10:00:00Z")).expect("valid");
        assert_eq!(v.time_ms, 1_795_946_400_000);
    }

    #[test]
    fn each_defect_has_its_reason() {
        type Mutation = Box<dyn Fn(&mut UsageEvent)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|e| e.id = String::new()), "`id`"),
            (Box::new(|e| e.id = "a b".into()), "`id`"),
            (Box::new(|e| e.kind = "other".into()), "`type`"),
            (Box::new(|e| e.specversion = "0.3".into()), "`specversion`"),
            (Box::new(|e| e.time = "yesterday".into()), "`time`"),
            (Box::new(|e| e.data.status = 42), "`data.status`"),
            (
                Box::new(|e| e.data.api_id = "x".repeat(200)),
                "`data.api_id`",
            ),
            (
                Box::new(|e| {
                    e.data.meters.insert("Bad".into(), 1);
                }),
                "meter `Bad`",
            ),
            (Box::new(|e| e.source = "a\nb".into()), "`source`"),
            (
                Box::new(|e| e.data.latency_ms = MAX_LATENCY_MS + 1),
                "`data.latency_ms`",
            ),
            (Box::new(|e| e.data.bytes_in = u64::MAX), "`data.bytes_in`"),
            (
                Box::new(|e| e.data.bytes_out = MAX_BYTES + 1),
                "`data.bytes_out`",
            ),
        ];
        for (mutate, reason) in cases {
            let mut e = sample("e1", "2026-11-29T10:00:00Z");
            mutate(&mut e);
            let err = validate(e).expect_err(reason);
            assert!(err.contains(reason), "{err} should mention {reason}");
        }
    }
}
