//! Each API's SLO status as the catalog shows it: the last 30 days of the usage ledger's
//! day roll-ups (requests, 5xx answers, latency), assessed by core's `assess_slo` against
//! the objective from `TOLLGATE_SLO_AVAILABILITY`.

use crate::usage::ledger::Ledger;
use std::collections::HashMap;
use tollgate_core::slo::{assess_slo, Objective, SloReport, Traffic, WINDOW_DAYS};
use tollgate_core::usage::rollup::{bucket_start, Granularity};

/// The variable holding the availability objective in percent.
pub const OBJECTIVE_VAR: &str = "TOLLGATE_SLO_AVAILABILITY";

/// The objective from `value` (unset or blank: the default); an invalid value is logged
/// as a start-up warning naming the variable (once: the portal and the console both read
/// the settings), and the default is used.
pub fn objective_from(value: Option<&str>) -> Objective {
    static WARNED: std::sync::Once = std::sync::Once::new();
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Objective::default(),
        Some(v) => Objective::parse(v).unwrap_or_else(|why| {
            WARNED.call_once(|| {
                tracing::warn!(
                    "{OBJECTIVE_VAR}: {why}; using the default objective {}",
                    Objective::default().text()
                )
            });
            Objective::default()
        }),
    }
}

/// One API's SLO, ready for a template.
pub struct SloBadge {
    /// The status in words: meeting, at risk, breached, no traffic.
    pub status: &'static str,
    /// CSS class of the badge (the words carry the meaning; colour only repeats it).
    pub class: &'static str,
    /// e.g. `99.950 %`; empty without traffic.
    pub availability: String,
    /// Error budget left, e.g. `80 %`; empty without traffic.
    pub budget_left: String,
    /// Mean latency, e.g. `12.5 ms`; empty without traffic.
    pub latency: String,
    /// The objective, e.g. `99.9 %`.
    pub objective: String,
    /// Requests in the window.
    pub requests: i64,
}

impl SloBadge {
    fn of(report: SloReport, objective: Objective, requests: i64) -> SloBadge {
        SloBadge {
            status: report.status.as_str(),
            class: report.status.class(),
            availability: report.availability_text().unwrap_or_default(),
            budget_left: report
                .budget_remaining_percent
                .map(|p| format!("{p} %"))
                .unwrap_or_default(),
            latency: report
                .average_latency_ms
                .map(|l| format!("{l:.1} ms"))
                .unwrap_or_default(),
            objective: objective.text(),
            requests,
        }
    }

    /// Whether there was traffic to assess.
    pub fn has_traffic(&self) -> bool {
        self.requests > 0
    }
}

/// Sums of the day roll-ups per API since the first day of the window. Latency is summed
/// as a float: one hostile event can put a bucket's latency sum at `i64::MAX`, and an
/// integer `SUM()` fails on overflow in SQLite and PostgreSQL (a 500 for the catalog);
/// counts grow by one per event and cannot reach it.
async fn traffic_by_api(
    ledger: &Ledger,
    now_ms: i64,
    only: Option<&str>,
) -> Result<HashMap<String, Traffic>, sqlx::Error> {
    crate::usage::fold::catch_up(ledger).await?;
    let db = ledger.db();
    let day = Granularity::Day;
    let since = bucket_start(now_ms, day) - (WINDOW_DAYS - 1) * day.width_ms();
    let filter = if only.is_some() {
        " AND api_id = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT api_id, CAST(SUM(requests) AS BIGINT), CAST(SUM(server_errors) AS BIGINT), \
         SUM(CAST(latency_ms_sum AS DOUBLE PRECISION)) FROM usage_rollups \
         WHERE granularity = 'day' AND bucket_start >= $1{filter} GROUP BY api_id"
    );
    let mut q = sqlx::query_as::<_, (String, i64, i64, f64)>(&sql).bind(since);
    if let Some(api) = only {
        q = q.bind(api);
    }
    Ok(q.fetch_all(db)
        .await?
        .into_iter()
        .map(|(api, requests, server_errors, latency)| {
            let t = Traffic {
                requests,
                server_errors,
                // `as` saturates (and maps NaN to 0): the mean is shown, never trusted.
                latency_ms_sum: latency as i64,
            };
            (api, t)
        })
        .collect())
}

/// The SLO of every API with traffic; an API missing from the map had none.
pub struct SloBoard {
    traffic: HashMap<String, Traffic>,
    objective: Objective,
}

impl SloBoard {
    /// Folds pending usage in, then reads the window's roll-ups (of one API, or all).
    pub async fn load(
        ledger: &Ledger,
        now_ms: i64,
        objective: Objective,
        only: Option<&str>,
    ) -> Result<SloBoard, sqlx::Error> {
        Ok(SloBoard {
            traffic: traffic_by_api(ledger, now_ms, only).await?,
            objective,
        })
    }

    /// The badge of `api_id`.
    pub fn badge(&self, api_id: &str) -> SloBadge {
        let t = self.traffic.get(api_id).copied().unwrap_or_default();
        SloBadge::of(assess_slo(t, self.objective), self.objective, t.requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_falls_back_to_the_default() {
        assert_eq!(objective_from(None), Objective::default());
        assert_eq!(objective_from(Some("  ")), Objective::default());
        assert_eq!(objective_from(Some("abc")), Objective::default());
        assert_eq!(objective_from(Some("100")), Objective::default());
        assert_eq!(objective_from(Some("99.5")).text(), "99.5 %");
    }
}
