//! Rating benchmark (`make bench-rating`): a month of 1,000,000 usage events for 10,000
//! consumers, aggregated in memory into hourly counts (the shape of `usage_counts`), then
//! rated into explained line items under a mix of price models. The baseline is summing
//! the usage alone; the table gives seconds per pass and the ratio to that baseline.
// A benchmark reads the clock by definition; core's logic never does.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;
use tollgate_core::rating::{
    rate, total, Coverage, Currency, Period, PriceModel, Tier, UnitPrice, UsagePrice,
};

const EVENTS: u64 = 1_000_000;
const CONSUMERS: usize = 10_000;
const HOURS: u64 = 30 * 24;
const HOUR_MS: i64 = 3_600_000;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn seconds(runs: usize, mut f: impl FnMut() -> u64) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Hourly counts per consumer: `(consumer, hour, count)` rows as `usage_counts` holds them.
fn aggregate() -> Vec<(usize, u64, u64)> {
    let mut counts = vec![0u64; CONSUMERS * HOURS as usize];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..EVENTS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let consumer = (x % CONSUMERS as u64) as usize;
        let hour = (x >> 32) % HOURS;
        counts[consumer * HOURS as usize + hour as usize] += 1;
    }
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, c)| (i / HOURS as usize, (i % HOURS as usize) as u64, *c))
        .collect()
}

fn models() -> Vec<PriceModel> {
    let usd = Currency::of("USD").unwrap();
    let base = |usage| PriceModel {
        currency: usd.clone(),
        plan_name: "Pro".into(),
        flat_minor: 4900,
        included_units: 50,
        usage,
        minimum_minor: 5000,
    };
    let tiers = vec![
        Tier {
            up_to: Some(50),
            price: UnitPrice { minor: 2, per: 10 },
            flat_minor: 0,
        },
        Tier {
            up_to: Some(100),
            price: UnitPrice { minor: 1, per: 10 },
            flat_minor: 0,
        },
        Tier {
            up_to: None,
            price: UnitPrice { minor: 5, per: 100 },
            flat_minor: 0,
        },
    ];
    vec![
        base(Some(UsagePrice::PerUnit {
            price: UnitPrice { minor: 2, per: 10 },
        })),
        base(Some(UsagePrice::Graduated {
            tiers: tiers.clone(),
        })),
        base(Some(UsagePrice::Volume { tiers })),
        base(Some(UsagePrice::Package {
            size: 25,
            price_minor: 100,
        })),
    ]
}

fn main() {
    let rows = aggregate();
    let period = Period {
        start_ms: 0,
        end_ms: HOURS as i64 * HOUR_MS,
    };
    let models = models();
    let sum = |rows: &[(usize, u64, u64)]| {
        let mut per = vec![0u64; CONSUMERS];
        for (c, _, n) in rows {
            per[*c] += n;
        }
        per
    };
    let baseline = seconds(5, || sum(&rows).iter().sum());
    let aggregate_s = seconds(3, || aggregate().len() as u64);
    let mut lines = 0;
    let rating = seconds(5, || {
        let mut invoiced = 0u64;
        lines = 0;
        for (c, usage) in sum(&rows).into_iter().enumerate() {
            // One consumer in ten changed plan mid-month: two prorated segments.
            let model = &models[c % models.len()];
            let items = if c % 10 == 0 {
                let half = period.end_ms / 2;
                let mut a = rate(
                    usage / 2,
                    model,
                    period,
                    &Coverage {
                        from_ms: 0,
                        to_ms: half,
                        trial_ends_at_ms: None,
                    },
                )
                .unwrap();
                a.extend(
                    rate(
                        usage - usage / 2,
                        &models[(c + 1) % models.len()],
                        period,
                        &Coverage {
                            from_ms: half,
                            to_ms: period.end_ms,
                            trial_ends_at_ms: None,
                        },
                    )
                    .unwrap(),
                );
                a
            } else {
                rate(usage, model, period, &Coverage::whole(period)).unwrap()
            };
            lines += items.len();
            invoiced += total(&items).unwrap() as u64;
        }
        invoiced
    });
    println!("Rating a month: {EVENTS} events, {CONSUMERS} consumers, {} hourly rows, {lines} line items\n", rows.len());
    println!("| pass | seconds | vs baseline |");
    println!("|---|---:|---:|");
    println!("| baseline: sum usage per consumer | {baseline:.4} | 1.0× |");
    println!(
        "| sum + rate into explained line items | {rating:.4} | {:.1}× |",
        rating / baseline
    );
    println!(
        "| aggregate 1,000,000 raw events into hourly counts | {aggregate_s:.4} | {:.1}× |",
        aggregate_s / baseline
    );
}
