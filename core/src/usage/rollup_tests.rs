use super::*;
use crate::usage::event::{UsageData, UsageEvent, EVENT_TYPE};
use proptest::prelude::*;

fn event(i: usize, time_ms: i64, status: u16, key: &str, tokens: u64) -> ValidEvent {
    ValidEvent {
        event: UsageEvent {
            specversion: "1.0".into(),
            id: format!("e{i}"),
            source: "t".into(),
            kind: EVENT_TYPE.into(),
            time: String::new(),
            subject: None,
            datacontenttype: None,
            data: UsageData {
                api_id: "api".into(),
                version: None,
                operation: None,
                consumer_id: Some("con".into()),
                key_id: Some(key.into()),
                plan_id: None,
                status,
                billable: false,
                bytes_in: 1,
                bytes_out: 2,
                latency_ms: i as u64,
                cache: None,
                meters: BTreeMap::from([("tokens".to_string(), tokens)]),
            },
        },
        time_ms,
    }
}

#[test]
fn buckets_are_aligned() {
    assert_eq!(
        bucket_start(3_600_000 + 59_999, Granularity::Minute),
        3_600_000
    );
    assert_eq!(
        bucket_start(3_600_000 * 25 + 5, Granularity::Hour),
        3_600_000 * 25
    );
    assert_eq!(
        bucket_start(86_400_000 * 2 - 1, Granularity::Day),
        86_400_000
    );
    assert_eq!(bucket_start(-1, Granularity::Hour), -3_600_000);
}

#[test]
fn late_and_future_events_have_reasons() {
    let now = 1_000 * 3_600_000;
    assert!(admit_time(now - GRACE_MS, now, GRACE_MS).is_ok());
    assert!(admit_time(now - GRACE_MS - 1, now, GRACE_MS)
        .unwrap_err()
        .contains("grace"));
    assert!(admit_time(now + MAX_SKEW_MS + 1, now, GRACE_MS)
        .unwrap_err()
        .contains("future"));
}

#[test]
fn refused_requests_count_but_are_not_billed() {
    let evs = [
        event(0, 0, 200, "k", 5),
        event(1, 10, 429, "k", 7),
        event(2, 20, 500, "k", 9),
    ];
    let r = rollup(&evs);
    let hour = r
        .iter()
        .find(|(k, _)| k.granularity == Granularity::Hour)
        .map(|(_, t)| t);
    let t = hour.expect("an hour bucket");
    assert_eq!((t.requests, t.billable), (3, 1));
    assert_eq!(t.meters.get("tokens"), Some(&(5, 5)));
    assert_eq!(t.latency_ms_max, 2);
}

#[test]
fn server_errors_are_statuses_of_500_and_up() {
    let evs = [
        event(0, 0, 499, "k", 0),
        event(1, 10, 500, "k", 0),
        event(2, 20, 503, "k", 0),
        event(3, 30, 200, "k", 0),
    ];
    let r = rollup(&evs);
    for g in Granularity::ALL {
        let t = r.iter().find(|(k, _)| k.granularity == g).map(|(_, t)| t);
        assert_eq!(t.map(|t| (t.requests, t.server_errors)), Some((4, 2)));
    }
    let mut merged = Totals {
        server_errors: i64::MAX - 1,
        ..Totals::default()
    };
    merged.merge(&r.values().next().cloned().unwrap_or_default());
    assert_eq!(merged.server_errors, i64::MAX, "sums saturate, never wrap");
}

proptest! {
    #[test]
    fn rollup_of_a_batch_equals_merged_rollups_of_its_parts(
        raw in prop::collection::vec((0i64..400_000_000, 100u16..600, 0usize..3, 0u64..1_000), 0..60),
        split in 0usize..60,
    ) {
        let evs: Vec<ValidEvent> = raw.iter().enumerate()
            .map(|(i, (t, s, k, m))| event(i, *t, *s, ["a", "b", "c"][*k], *m)).collect();
        let split = split.min(evs.len());
        let whole = rollup(&evs);
        let mut parts = rollup(&evs[..split]);
        for (k, t) in rollup(&evs[split..]) {
            parts.entry(k).or_default().merge(&t);
        }
        prop_assert_eq!(&whole, &parts);
        for g in Granularity::ALL {
            let billed: i64 = whole.iter().filter(|(k, _)| k.granularity == g).map(|(_, t)| t.billable).sum();
            let expected = evs.iter().filter(|e| billable(e.event.data.status)).count() as i64;
            prop_assert_eq!(billed, expected);
            let errors: i64 = whole.iter().filter(|(k, _)| k.granularity == g).map(|(_, t)| t.server_errors).sum();
            prop_assert_eq!(errors, evs.iter().filter(|e| e.event.data.status >= 500).count() as i64);
            prop_assert!(whole.keys().filter(|k| k.granularity == g).all(|k| k.bucket_start % g.width_ms() == 0));
        }
    }
}
