//! Usage charts: sparse roll-up rows (bucket, label, requests) turned into dense series
//! over a fixed window of buckets — every bucket present, zero where nothing was called —
//! which is what a chart (uPlot wants one x array and one y array per series) and a table
//! need. Pure, so the portal's JSON and its no-JavaScript tables agree by construction.

use serde::Serialize;
use std::collections::BTreeMap;

/// One line of a chart: a label and one value per bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub label: String,
    pub values: Vec<i64>,
}

/// A window of `count` buckets of `width_ms` ending with the bucket holding `now_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first_ms: i64,
    pub width_ms: i64,
    pub count: usize,
}

impl Window {
    /// The last `count` buckets of `width_ms` up to and including the one holding `now_ms`.
    pub fn ending_at(now_ms: i64, width_ms: i64, count: usize) -> Window {
        let current = now_ms - now_ms.rem_euclid(width_ms);
        let span = width_ms.saturating_mul(i64::try_from(count).unwrap_or(i64::MAX) - 1);
        Window {
            first_ms: current.saturating_sub(span),
            width_ms,
            count,
        }
    }

    /// Start of every bucket, oldest first.
    pub fn starts(&self) -> Vec<i64> {
        (0..self.count)
            .map(|i| self.first_ms + self.width_ms * i as i64)
            .collect()
    }

    /// The index of the bucket starting at `start`, if it is in the window and aligned.
    fn index(&self, start: i64) -> Option<usize> {
        let offset = start.checked_sub(self.first_ms)?;
        if offset < 0 || offset % self.width_ms != 0 {
            return None;
        }
        usize::try_from(offset / self.width_ms)
            .ok()
            .filter(|i| *i < self.count)
    }
}

/// Dense series by label (sorted by label) from `(bucket_start, label, requests)` rows;
/// rows of one bucket and label add up, rows outside the window are left out.
pub fn dense_series(
    window: Window,
    rows: impl IntoIterator<Item = (i64, String, i64)>,
) -> Vec<Series> {
    let mut by_label: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (start, label, requests) in rows {
        let Some(i) = window.index(start) else {
            continue;
        };
        let values = by_label
            .entry(label)
            .or_insert_with(|| vec![0; window.count]);
        values[i] = values[i].saturating_add(requests);
    }
    by_label
        .into_iter()
        .map(|(label, values)| Series { label, values })
        .collect()
}

/// Share of `limit` used, in whole percent, capped at 100 (for a quota bar's width).
pub fn percent_used(used: i64, limit: i64) -> u8 {
    if limit <= 0 {
        return 100;
    }
    let pct = used.max(0).saturating_mul(100) / limit;
    u8::try_from(pct.min(100)).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_window_ends_with_the_current_bucket() {
        let w = Window::ending_at(10 * HOUR + 5, HOUR, 3);
        assert_eq!(w.starts(), vec![8 * HOUR, 9 * HOUR, 10 * HOUR]);
    }

    #[test]
    fn sparse_rows_become_dense_sorted_series_and_strays_are_dropped() {
        let w = Window::ending_at(10 * HOUR, HOUR, 3);
        let rows = vec![
            (10 * HOUR, "b".to_owned(), 2),
            (8 * HOUR, "a".to_owned(), 1),
            (10 * HOUR, "b".to_owned(), 3),
            (7 * HOUR, "a".to_owned(), 100),     // before the window
            (11 * HOUR, "a".to_owned(), 100),    // after it
            (9 * HOUR + 1, "a".to_owned(), 100), // not a bucket start
        ];
        let series = dense_series(w, rows);
        assert_eq!(
            series,
            vec![
                Series {
                    label: "a".into(),
                    values: vec![1, 0, 0]
                },
                Series {
                    label: "b".into(),
                    values: vec![0, 0, 5]
                },
            ]
        );
        assert!(dense_series(w, Vec::new()).is_empty());
    }

    #[test]
    fn quota_bars_are_capped_and_survive_odd_limits() {
        assert_eq!(percent_used(0, 100), 0);
        assert_eq!(percent_used(50, 200), 25);
        assert_eq!(percent_used(500, 100), 100);
        assert_eq!(percent_used(-5, 100), 0);
        assert_eq!(percent_used(5, 0), 100);
        assert_eq!(percent_used(i64::MAX, 3), 100);
    }
}
