use super::*;
use proptest::prelude::*;

fn traffic(requests: i64, server_errors: i64) -> Traffic {
    Traffic {
        requests,
        server_errors,
        latency_ms_sum: requests * 20,
    }
}

#[test]
fn objectives_parse_as_percentages() {
    assert_eq!(Objective::parse("99.9"), Ok(Objective::default()));
    assert_eq!(
        Objective::parse(" 99.9 % ").map(Objective::text),
        Ok("99.9 %".into())
    );
    assert_eq!(
        Objective::parse("99.95").map(Objective::text),
        Ok("99.95 %".into())
    );
    assert_eq!(
        Objective::parse("99").map(Objective::text),
        Ok("99 %".into())
    );
    assert_eq!(
        Objective::parse("0.0001").map(Objective::text),
        Ok("0.0001 %".into())
    );
    for bad in [
        "", "%", "100", "100.0", "0", "0.00", "-99", "99.99999", "abc", "9e1", "99,9", ".9",
        "1000", "NaN", "inf", "99.9.9", "+99",
    ] {
        let err = Objective::parse(bad).unwrap_err();
        assert!(err.contains("e.g. 99.9"), "{bad}: {err}");
    }
}

#[test]
fn no_traffic_is_its_own_status() {
    for t in [Traffic::default(), traffic(-5, 3)] {
        let r = assess_slo(t, Objective::default());
        assert_eq!(r.status, SloStatus::NoTraffic);
        assert_eq!(r.availability_text(), None);
        assert_eq!(r.budget_remaining_percent, None);
        assert_eq!(r.average_latency_ms, None);
    }
}

#[test]
fn statuses_at_their_thresholds() {
    let o = Objective::default(); // 99.9 %: 10 errors allowed in 10,000 requests
    let cases = [
        (0, SloStatus::Meeting, 100, "100.000 %"),
        (7, SloStatus::Meeting, 30, "99.930 %"),
        (8, SloStatus::AtRisk, 20, "99.920 %"),
        (10, SloStatus::AtRisk, 0, "99.900 %"),
        (11, SloStatus::Breached, 0, "99.890 %"),
        (10_000, SloStatus::Breached, 0, "0.000 %"),
    ];
    for (errors, status, left, shown) in cases {
        let r = assess_slo(traffic(10_000, errors), o);
        assert_eq!(r.status, status, "{errors} errors");
        assert_eq!(r.budget_remaining_percent, Some(left), "{errors} errors");
        assert_eq!(r.availability_text().as_deref(), Some(shown));
        assert_eq!(r.average_latency_ms, Some(20.0));
    }
    // Exactly 25 % left is still meeting; 2.5 of 10 errors can't happen, so use 40 of 160.
    let r = assess_slo(traffic(160_000, 120), o);
    assert_eq!(
        (r.status, r.budget_remaining_percent),
        (SloStatus::Meeting, Some(25))
    );
    let r = assess_slo(traffic(160_000, 121), o);
    assert_eq!(
        (r.status, r.budget_remaining_percent),
        (SloStatus::AtRisk, Some(24))
    );
}

#[test]
fn availability_is_cut_not_rounded_up() {
    let r = assess_slo(traffic(1_000_000, 4), Objective::default());
    assert_eq!(r.availability_text().as_deref(), Some("99.999 %"));
    let r = assess_slo(traffic(3, 1), Objective::default());
    assert_eq!(r.availability_text().as_deref(), Some("66.666 %"));
}

#[test]
fn extreme_sums_neither_overflow_nor_lie() {
    let big = Traffic {
        requests: i64::MAX,
        server_errors: i64::MAX / 1000,
        latency_ms_sum: i64::MAX,
    };
    let r = assess_slo(big, Objective::default());
    assert_eq!(r.status, SloStatus::AtRisk);
    assert_eq!(r.availability_text().as_deref(), Some("99.900 %"));
    assert_eq!(r.average_latency_ms, Some(1.0));
    // More errors than requests (inconsistent rows) count as every request failing.
    let r = assess_slo(traffic(10, 50), Objective::default());
    assert_eq!(
        (r.status, r.availability_milli_percent),
        (SloStatus::Breached, Some(0))
    );
    // Negative errors count as none.
    let r = assess_slo(traffic(10, -50), Objective::default());
    assert_eq!(
        (r.status, r.budget_remaining_percent),
        (SloStatus::Meeting, Some(100))
    );
}

#[test]
fn statuses_read_as_words() {
    let words: Vec<&str> = [
        SloStatus::Meeting,
        SloStatus::AtRisk,
        SloStatus::Breached,
        SloStatus::NoTraffic,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    assert_eq!(words, ["meeting", "at risk", "breached", "no traffic"]);
}

proptest! {
    #[test]
    fn status_agrees_with_budget_and_availability(
        requests in 1i64..=i64::MAX,
        errors in 0i64..=i64::MAX,
        ppm in 1i64..1_000_000,
    ) {
        let o = Objective { ppm };
        let r = assess_slo(Traffic { requests, server_errors: errors, latency_ms_sum: 0 }, o);
        let left = r.budget_remaining_percent.unwrap();
        let milli = r.availability_milli_percent.unwrap();
        prop_assert!((0..=100).contains(&left));
        prop_assert!((0..=100_000).contains(&milli));
        match r.status {
            SloStatus::Breached => prop_assert_eq!(left, 0),
            SloStatus::AtRisk => prop_assert!(left < 25),
            SloStatus::Meeting => prop_assert!(left >= 25),
            SloStatus::NoTraffic => prop_assert!(false, "there was traffic"),
        }
        // Breached exactly when availability is below the objective.
        let below = (i128::from(requests) - i128::from(errors.min(requests))) * 1_000_000
            < i128::from(requests) * i128::from(ppm);
        prop_assert_eq!(r.status == SloStatus::Breached, below);
    }
}
