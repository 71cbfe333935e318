//! Every price model against figures computed by hand, proration and trials, and the
//! properties rating must keep for any input: no panic or overflow, graduated totals
//! monotone in usage and equal to the sum of their tiers.

use super::*;
use proptest::prelude::*;

const DAY: i64 = 86_400_000;
const MAY: Period = Period {
    start_ms: 0,
    end_ms: 30 * DAY,
};

fn model(usage: Option<UsagePrice>) -> PriceModel {
    PriceModel {
        currency: Currency::of("USD").unwrap(),
        plan_name: "Pro".into(),
        flat_minor: 0,
        included_units: 0,
        usage,
        minimum_minor: 0,
    }
}

fn unit(minor: i64, per: u64) -> UnitPrice {
    UnitPrice { minor, per }
}

fn tier(up_to: Option<u64>, minor: i64, per: u64) -> Tier {
    Tier {
        up_to,
        price: unit(minor, per),
        flat_minor: 0,
    }
}

fn rated(usage: u64, m: &PriceModel) -> Vec<LineItem> {
    rate(usage, m, MAY, &Coverage::whole(MAY)).unwrap()
}

fn amounts(items: &[LineItem]) -> Vec<i64> {
    items.iter().map(|l| l.amount_minor).collect()
}

#[test]
fn flat_recurring_charges_the_period() {
    let mut m = model(None);
    m.flat_minor = 4900;
    let items = rated(0, &m);
    assert_eq!(amounts(&items), [4900]);
    assert_eq!(items[0].explanation, "Pro flat fee: $49.00");
}

#[test]
fn per_unit_with_allowance_explains_the_overage() {
    let mut m = model(Some(UsagePrice::PerUnit { price: unit(2, 10) }));
    m.included_units = 1000;
    let items = rated(1250, &m);
    assert_eq!(amounts(&items), [50]);
    assert_eq!(
        items[0].explanation,
        "1,250 requests: first 1,000 included, 250 × $0.002 = $0.50"
    );
    assert_eq!(items[0].quantity, 250);
    // Under the allowance nothing is billed.
    assert_eq!(amounts(&rated(999, &m)), [0]);
}

#[test]
fn per_unit_rounds_half_even_to_the_cent() {
    let m = model(Some(UsagePrice::PerUnit { price: unit(1, 2) }));
    // 5 × $0.005 = 2.5 cents → 2; 7 × $0.005 = 3.5 cents → 4.
    assert_eq!(amounts(&rated(5, &m)), [2]);
    assert_eq!(amounts(&rated(7, &m)), [4]);
}

#[test]
fn graduated_prices_each_tier_on_its_own() {
    let tiers = vec![
        tier(Some(1000), 0, 1),
        tier(Some(10_000), 2, 10),
        tier(None, 1, 10),
    ];
    let m = model(Some(UsagePrice::Graduated { tiers }));
    // 1,000 free; 9,000 × $0.002 = $18.00; 2,000 × $0.001 = $2.00.
    let items = rated(12_000, &m);
    assert_eq!(amounts(&items), [0, 1800, 200]);
    assert_eq!(
        items[1].explanation,
        "tier 2 (1,001–10,000): 9,000 × $0.002 = $18.00"
    );
    assert!(items[0]
        .explanation
        .starts_with("12,000 requests: 12,000 billable, graduated; tier 1"));
    assert_eq!(amounts(&rated(500, &m)), [0]);
}

#[test]
fn volume_prices_every_unit_at_the_tier_reached() {
    let mut tiers = vec![tier(Some(1000), 10, 1), tier(None, 5, 1)];
    tiers[1].flat_minor = 100;
    let m = model(Some(UsagePrice::Volume { tiers }));
    assert_eq!(amounts(&rated(1000, &m)), [10_000]);
    // 1,001 × $0.05 + $1.00 tier fee: a volume discount may lower the total.
    let items = rated(1001, &m);
    assert_eq!(amounts(&items), [5005 + 100]);
    assert!(items[0]
        .explanation
        .contains("volume tier 1,001 and above, all at $0.05"));
    assert_eq!(amounts(&rated(0, &m)), [0]);
}

#[test]
fn packages_round_up() {
    let m = model(Some(UsagePrice::Package {
        size: 1000,
        price_minor: 500,
    }));
    let items = rated(1250, &m);
    assert_eq!(amounts(&items), [1000]);
    assert_eq!(items[0].quantity, 2);
    assert_eq!(
        items[0].explanation,
        "1,250 requests: 1,250 in packages of 1,000, rounded up to 2 × $5.00 = $10.00"
    );
    assert_eq!(amounts(&rated(1000, &m)), [500]);
    assert_eq!(amounts(&rated(0, &m)), [0]);
}

#[test]
fn minimum_commitment_tops_up() {
    let mut m = model(Some(UsagePrice::PerUnit { price: unit(1, 1) }));
    m.minimum_minor = 1000;
    let items = rated(300, &m);
    assert_eq!(amounts(&items), [300, 700]);
    assert_eq!(items[1].kind, LineKind::Minimum);
    assert_eq!(
        items[1].explanation,
        "charges of $3.00 are below the minimum commitment of $10.00: $7.00 added"
    );
    assert_eq!(amounts(&rated(1500, &m)), [1500]);
}

#[test]
fn a_mid_period_change_prorates_by_the_millisecond() {
    let mut m = model(None);
    m.flat_minor = 4900;
    m.included_units = 1000;
    let half = Coverage {
        from_ms: 15 * DAY,
        to_ms: 30 * DAY,
        trial_ends_at_ms: None,
    };
    let items = rate(700, &m, MAY, &half).unwrap();
    assert_eq!(amounts(&items), [2450, 0]);
    assert_eq!(
        items[0].explanation,
        "Pro flat fee $49.00 for 15 of 30 days, prorated: $24.50"
    );
    assert!(items[1]
        .explanation
        .starts_with("700 requests: first 500 included for 15 of 30 days"));
    // One third of $1.00 is 33.33… cents → 33; 1 ms keeps exact milliseconds in the text.
    m.flat_minor = 100;
    let third = Coverage {
        from_ms: 0,
        to_ms: 10 * DAY,
        trial_ends_at_ms: None,
    };
    assert_eq!(amounts(&rate(0, &m, MAY, &third).unwrap())[0], 33);
    m.flat_minor = 1;
    let tie = Coverage {
        from_ms: 0,
        to_ms: 15 * DAY,
        trial_ends_at_ms: None,
    };
    // 0.5 cent ties to the even 0.
    assert_eq!(amounts(&rate(0, &m, MAY, &tie).unwrap())[0], 0);
    let odd = Coverage {
        from_ms: 0,
        to_ms: 1,
        trial_ends_at_ms: None,
    };
    assert!(rate(0, &m, MAY, &odd).unwrap()[0]
        .explanation
        .contains("1 of 2,592,000,000 ms"));
}

#[test]
fn trials_charge_nothing() {
    let mut m = model(Some(UsagePrice::PerUnit { price: unit(1, 1) }));
    m.flat_minor = 4900;
    m.minimum_minor = 10_000;
    let trialing = Coverage {
        trial_ends_at_ms: Some(40 * DAY),
        ..Coverage::whole(MAY)
    };
    let items = rate(0, &m, MAY, &trialing).unwrap();
    assert_eq!((amounts(&items), items[0].kind), (vec![0], LineKind::Trial));
    // A trial ending on day 10 leaves 20 chargeable days.
    let ends = Coverage {
        trial_ends_at_ms: Some(10 * DAY),
        ..Coverage::whole(MAY)
    };
    assert_eq!(ends.chargeable(MAY), (10 * DAY, 30 * DAY));
    let items = rate(100, &m, MAY, &ends).unwrap();
    assert_eq!(amounts(&items), [3267, 100, 6667 - 3367]);
}

#[test]
fn malformed_models_and_periods_are_refused() {
    let bad = model(Some(UsagePrice::Graduated {
        tiers: vec![tier(Some(10), 1, 1), tier(Some(5), 1, 1), tier(None, 1, 1)],
    }));
    assert!(matches!(
        rated_err(&bad),
        RatingError::Invalid { field: "tiers", .. }
    ));
    let open = model(Some(UsagePrice::Volume {
        tiers: vec![tier(Some(10), 1, 1)],
    }));
    assert!(matches!(
        rated_err(&open),
        RatingError::Invalid { field: "tiers", .. }
    ));
    let zero = model(Some(UsagePrice::PerUnit { price: unit(1, 0) }));
    assert!(matches!(rated_err(&zero), RatingError::Invalid { .. }));
    let mut neg = model(None);
    neg.flat_minor = -1;
    assert!(matches!(
        rated_err(&neg),
        RatingError::Invalid {
            field: "flat_minor",
            ..
        }
    ));
    let backwards = Period {
        start_ms: 10,
        end_ms: 10,
    };
    assert_eq!(
        rate(0, &model(None), backwards, &Coverage::whole(backwards)),
        Err(RatingError::EmptyPeriod)
    );
}

fn rated_err(m: &PriceModel) -> RatingError {
    rate(1, m, MAY, &Coverage::whole(MAY)).unwrap_err()
}

fn tiers_strategy() -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec(
        (1u64..1_000_000, 0i64..10_000, 1u64..10_000, 0i64..1000),
        1..6,
    )
    .prop_map(|raw| {
        let mut up = 0;
        let n = raw.len();
        raw.into_iter()
            .enumerate()
            .map(|(i, (step, minor, per, flat))| {
                up += step;
                Tier {
                    up_to: (i + 1 < n).then_some(up),
                    price: UnitPrice { minor, per },
                    flat_minor: flat,
                }
            })
            .collect()
    })
}

fn graduated_total(tiers: &[Tier], usage: u64) -> i64 {
    let m = model(Some(UsagePrice::Graduated {
        tiers: tiers.to_vec(),
    }));
    total(&rated(usage, &m)).unwrap()
}

proptest! {
    #[test]
    fn rating_never_panics(
        usage in any::<u64>(),
        flat in any::<i64>(),
        included in any::<u64>(),
        minimum in any::<i64>(),
        tiers in tiers_strategy(),
        from in any::<i64>(),
        to in any::<i64>(),
        start in any::<i64>(),
        len in 0i64..i64::MAX,
        kind in 0u8..5,
    ) {
        let usage_price = match kind {
            0 => None,
            1 => Some(UsagePrice::PerUnit { price: tiers[0].price }),
            2 => Some(UsagePrice::Graduated { tiers }),
            3 => Some(UsagePrice::Volume { tiers }),
            _ => Some(UsagePrice::Package { size: tiers[0].price.per, price_minor: tiers[0].price.minor }),
        };
        let mut m = model(usage_price);
        (m.flat_minor, m.included_units, m.minimum_minor) = (flat % 10_000_000_000_001, included, minimum);
        let period = Period { start_ms: start, end_ms: start.saturating_add(len) };
        let coverage = Coverage { from_ms: from, to_ms: to, trial_ends_at_ms: None };
        if let Ok(items) = rate(usage, &m, period, &coverage) {
            prop_assert!(items.iter().all(|l| l.amount_minor >= 0));
        }
    }

    #[test]
    fn graduated_total_is_monotone_in_usage(tiers in tiers_strategy(), a in 0u64..10_000_000, b in 0u64..10_000_000) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(graduated_total(&tiers, lo) <= graduated_total(&tiers, hi));
    }

    #[test]
    fn graduated_equals_the_sum_of_its_tiers(tiers in tiers_strategy(), usage in 0u64..10_000_000) {
        let mut expected = 0i128;
        let mut lower = 0u64;
        for t in &tiers {
            let upper = t.up_to.unwrap_or(u64::MAX);
            let units = usage.min(upper).saturating_sub(lower);
            if units > 0 {
                let exact = i128::from(units) * i128::from(t.price.minor);
                expected += money::div_half_even(exact, i128::from(t.price.per)) + i128::from(t.flat_minor);
            }
            lower = upper;
        }
        prop_assert_eq!(i128::from(graduated_total(&tiers, usage)), expected);
    }
}
