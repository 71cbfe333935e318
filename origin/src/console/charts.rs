//! Bar charts as inline SVG geometry, computed on the server so the overview needs no
//! JavaScript and no chart library: the template draws one `<rect>` per bar from these
//! numbers (labels stay text, escaped by the template like every other value).

/// The drawing area of every chart, in SVG user units.
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 200;
/// Room for the axis labels under and left of the bars.
const LEFT: u32 = 56;
const BOTTOM: u32 = 24;
const TOP: u32 = 8;

/// One bar, ready to draw (SVG user units, to a tenth).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Under the bar (only every few bars get one, so they do not overlap).
    pub label: String,
    /// The tooltip: label and value.
    pub title: String,
}

/// A chart: its bars, its largest value (the top of the axis) and a text summary for
/// screen readers and text browsers.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub bars: Vec<Bar>,
    pub max_label: String,
    pub total_label: String,
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub baseline: u32,
}

fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Lays out `points` (label, value) as bars scaled to the largest value; `format`
/// writes values for people (e.g. money). Negative values draw as zero.
pub fn bar_chart(points: &[(String, i64)], format: impl Fn(i64) -> String) -> BarChart {
    let plot_w = f64::from(WIDTH - LEFT);
    let plot_h = f64::from(HEIGHT - BOTTOM - TOP);
    let baseline = HEIGHT - BOTTOM;
    let max = points.iter().map(|(_, v)| (*v).max(0)).max().unwrap_or(0);
    let slot = plot_w / points.len().max(1) as f64;
    let width = slot * 0.75;
    let label_every = (points.len() / 6).max(1);
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let value = (*value).max(0);
            let mut height = if max == 0 {
                0.0
            } else {
                (value as f64 / max as f64 * plot_h).round()
            };
            if value > 0 && height < 1.0 {
                // At least one unit for a non-zero value, so small days stay visible.
                height = 1.0;
            }
            Bar {
                x: tenth(f64::from(LEFT) + i as f64 * slot + (slot - width) / 2.0),
                y: f64::from(baseline) - height,
                width: tenth(width),
                height,
                label: if i % label_every == 0 {
                    label.clone()
                } else {
                    String::new()
                },
                title: format!("{label}: {}", format(value)),
            }
        })
        .collect();
    let total: i64 = points.iter().map(|(_, v)| (*v).max(0)).sum();
    BarChart {
        bars,
        max_label: format(max),
        total_label: format(total),
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        baseline,
    }
}

/// Minor units as `12.34` (two decimals; currencies with other exponents are rare here).
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    format!("{sign}{}.{:02}", minor / 100, minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[i64]) -> Vec<(String, i64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("d{i}"), *v))
            .collect()
    }

    #[test]
    fn bars_scale_to_the_largest_value_and_sit_on_the_baseline() {
        let chart = bar_chart(&points(&[0, 500, 1000, 1]), |v| v.to_string());
        let plot_h = f64::from(HEIGHT - BOTTOM - TOP);
        assert_eq!(chart.bars[2].height, plot_h);
        assert_eq!(chart.bars[1].height, plot_h / 2.0);
        assert_eq!(chart.bars[0].height, 0.0);
        assert_eq!(chart.bars[3].height, 1.0, "a small value stays visible");
        for b in &chart.bars {
            assert_eq!(b.y + b.height, f64::from(chart.baseline));
            assert!(b.x >= f64::from(LEFT) && b.x + b.width <= f64::from(WIDTH));
        }
        assert_eq!(chart.max_label, "1000");
        assert_eq!(chart.total_label, "1501");
        assert_eq!(chart.bars[1].title, "d1: 500");
    }

    #[test]
    fn empty_and_negative_series_draw_nothing_and_do_not_panic() {
        let chart = bar_chart(&[], |v| v.to_string());
        assert!(chart.bars.is_empty());
        let chart = bar_chart(&points(&[-5, 0]), |v| v.to_string());
        assert!(chart.bars.iter().all(|b| b.height == 0.0));
        let many = bar_chart(&points(&[1; 1000]), |v| v.to_string());
        assert_eq!(many.bars.len(), 1000);
        assert!(many
            .bars
            .iter()
            .all(|b| b.width > 0.0 && b.x + b.width <= f64::from(WIDTH)));
    }

    #[test]
    fn only_some_bars_are_labelled_when_there_are_many() {
        let chart = bar_chart(&points(&[1; 30]), |v| v.to_string());
        let labelled = chart.bars.iter().filter(|b| !b.label.is_empty()).count();
        assert!((5..=7).contains(&labelled), "{labelled}");
    }

    #[test]
    fn money_has_two_decimals_and_a_sign() {
        assert_eq!(money(0), "0.00");
        assert_eq!(money(1234), "12.34");
        assert_eq!(money(-5), "-0.05");
    }
}
