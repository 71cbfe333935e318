//! Counting a time range from the aggregates: which whole hours, whole minutes and raw
//! edges make up `[from, to)`. Billing periods and quota periods start wherever a
//! subscription started, so their first and last hours are partial; the whole hours and
//! minutes inside come from the roll-ups and only the edges (under two minutes in all)
//! from the ledger, which is indexed by time alone.

use super::rollup::Granularity;

/// One piece of a range: from the roll-ups of a granularity, or (`None`) from the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub granularity: Option<Granularity>,
    pub from: i64,
    pub to: i64,
}

/// The pieces of `[from, to)`, in order: whole hours, then whole minutes, then raw edges.
pub fn cover(from: i64, to: i64) -> Vec<Segment> {
    let mut out = Vec::new();
    cover_with(
        &[Granularity::Hour, Granularity::Minute],
        from,
        to,
        &mut out,
    );
    out
}

fn cover_with(levels: &[Granularity], from: i64, to: i64, out: &mut Vec<Segment>) {
    if from >= to {
        return;
    }
    let Some((&g, finer)) = levels.split_first() else {
        out.push(Segment {
            granularity: None,
            from,
            to,
        });
        return;
    };
    let w = g.width_ms();
    let first = from.div_euclid(w) * w + if from.rem_euclid(w) == 0 { 0 } else { w };
    let last = to.div_euclid(w) * w;
    if first < last {
        cover_with(finer, from, first, out);
        out.push(Segment {
            granularity: Some(g),
            from: first,
            to: last,
        });
        cover_with(finer, last, to, out);
    } else {
        cover_with(finer, from, to, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_range_from_mid_minute_to_mid_minute_uses_hours_minutes_and_edges() {
        let from = 10 * HOUR - 2 * MIN - 5_000;
        let to = 12 * HOUR + 3 * MIN + 7_000;
        let got: Vec<_> = cover(from, to)
            .iter()
            .map(|s| (s.granularity, s.from, s.to))
            .collect();
        assert_eq!(
            got,
            vec![
                (None, from, 10 * HOUR - 2 * MIN),
                (Some(Granularity::Minute), 10 * HOUR - 2 * MIN, 10 * HOUR),
                (Some(Granularity::Hour), 10 * HOUR, 12 * HOUR),
                (Some(Granularity::Minute), 12 * HOUR, 12 * HOUR + 3 * MIN),
                (None, 12 * HOUR + 3 * MIN, to),
            ]
        );
        assert_eq!(cover(5, 5), vec![]);
        assert_eq!(cover(9, 5), vec![]);
        assert_eq!(
            cover(0, HOUR),
            vec![Segment {
                granularity: Some(Granularity::Hour),
                from: 0,
                to: HOUR
            }]
        );
    }

    proptest! {
        #[test]
        fn pieces_are_aligned_contiguous_and_cover_the_range(
            from in -10 * HOUR..10 * HOUR,
            len in 0i64..5 * HOUR,
        ) {
            let to = from + len;
            let pieces = cover(from, to);
            let mut at = from;
            let mut raw = 0;
            for p in &pieces {
                prop_assert_eq!(p.from, at);
                prop_assert!(p.from < p.to);
                match p.granularity {
                    Some(g) => {
                        prop_assert_eq!(p.from.rem_euclid(g.width_ms()), 0);
                        prop_assert_eq!(p.to.rem_euclid(g.width_ms()), 0);
                    }
                    None => raw += p.to - p.from,
                }
                at = p.to;
            }
            // A range holding no whole minute is one raw piece; otherwise each edge is
            // under a minute.
            prop_assert!(raw < 2 * MIN);
            prop_assert_eq!(at, if len > 0 { to } else { from });
            prop_assert!(pieces.iter().filter(|p| p.granularity.is_none()).count() <= 2);
        }
    }
}
