//! Service-level objective status of an API over a window of traffic (issue 7's "SLO
//! status"): availability is the share of requests not answered with a 5xx, the error
//! budget is how many 5xx the objective allows, and the status says whether the budget
//! still holds. Comparisons are exact integer maths in `i128` (no overflow, no rounding
//! at the thresholds); only the shown percentages are floating point.

/// The window the portal assesses: the last 30 days.
pub const WINDOW_DAYS: i64 = 30;
/// Objective when none is configured: 99.9 % of requests without a server error.
pub const DEFAULT_AVAILABILITY_PPM: i64 = 999_000;
/// Below this share of the error budget left, the status is "at risk" (in percent).
pub const AT_RISK_BUDGET_PERCENT: i64 = 25;

const PPM: i64 = 1_000_000;

/// An availability objective in parts per million (99.9 % = 999,000), strictly between
/// 0 and 100 % so there is always some error budget to divide by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective {
    ppm: i64,
}

impl Default for Objective {
    fn default() -> Objective {
        Objective {
            ppm: DEFAULT_AVAILABILITY_PPM,
        }
    }
}

impl Objective {
    /// Parses a percentage such as `99.9` or `99.95 %`; `Err` says what is accepted.
    pub fn parse(text: &str) -> Result<Objective, String> {
        let t = text.trim().trim_end_matches('%').trim();
        let refuse = || {
            format!(
                "`{}` is not an availability objective: give a percentage above 0 and below \
                 100 with at most 4 decimals, e.g. 99.9",
                text.trim()
            )
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty()
            || whole.len() > 3
            || frac.len() > 4
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(refuse());
        }
        let whole: i64 = whole.parse().map_err(|_| refuse())?;
        let frac: i64 = format!("{frac:0<4}").parse().map_err(|_| refuse())?;
        let ppm = whole * 10_000 + frac;
        if ppm <= 0 || ppm >= PPM {
            return Err(refuse());
        }
        Ok(Objective { ppm })
    }

    /// The objective as shown, e.g. `99.9 %`.
    pub fn text(self) -> String {
        let frac = format!("{:04}", self.ppm % 10_000);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            format!("{} %", self.ppm / 10_000)
        } else {
            format!("{}.{frac} %", self.ppm / 10_000)
        }
    }
}

/// What the window's traffic was (sums over the roll-ups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub requests: i64,
    pub server_errors: i64,
    pub latency_ms_sum: i64,
}

/// The SLO's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SloStatus {
    /// Availability meets the objective with at least a quarter of the budget left.
    Meeting,
    /// Still meeting it, but less than a quarter of the error budget is left.
    AtRisk,
    /// More server errors than the objective allows.
    Breached,
    /// No request in the window: nothing to assess.
    NoTraffic,
}

impl SloStatus {
    /// The words shown (the status is never told by colour alone).
    pub fn as_str(self) -> &'static str {
        match self {
            SloStatus::Meeting => "meeting",
            SloStatus::AtRisk => "at risk",
            SloStatus::Breached => "breached",
            SloStatus::NoTraffic => "no traffic",
        }
    }

    /// A CSS class name for the badge.
    pub fn class(self) -> &'static str {
        match self {
            SloStatus::Meeting => "slo-meeting",
            SloStatus::AtRisk => "slo-at-risk",
            SloStatus::Breached => "slo-breached",
            SloStatus::NoTraffic => "slo-none",
        }
    }
}

/// The assessment of one window against an objective. Percentages are cut, not rounded
/// (99.9996 % never shows as 100.000 %), and computed exactly from integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SloReport {
    pub status: SloStatus,
    /// Requests without a server error, in thousandths of a percent (99.95 % = 99,950);
    /// `None` without traffic.
    pub availability_milli_percent: Option<i64>,
    /// Error budget left in whole percent, 0–100; `None` without traffic.
    pub budget_remaining_percent: Option<i64>,
    /// Mean latency in milliseconds; `None` without traffic.
    pub average_latency_ms: Option<f64>,
}

impl SloReport {
    /// Availability as shown, e.g. `99.950 %`.
    pub fn availability_text(&self) -> Option<String> {
        self.availability_milli_percent
            .map(|m| format!("{}.{:03} %", m / 1000, m % 1000))
    }
}

/// Assesses `traffic` against `objective`. Negative or inconsistent sums (more errors than
/// requests) are clamped rather than trusted.
pub fn assess_slo(traffic: Traffic, objective: Objective) -> SloReport {
    let requests = i128::from(traffic.requests.max(0));
    if requests == 0 {
        return SloReport {
            status: SloStatus::NoTraffic,
            availability_milli_percent: None,
            budget_remaining_percent: None,
            average_latency_ms: None,
        };
    }
    let errors = i128::from(traffic.server_errors.max(0)).min(requests);
    // Errors allowed, scaled by PPM: requests × (1 − objective); never 0 (objective < 100 %).
    let allowed_ppm = requests * i128::from(PPM - objective.ppm);
    let errors_ppm = errors * i128::from(PPM);
    let status = if errors_ppm > allowed_ppm {
        SloStatus::Breached
    } else if errors_ppm * 100 > allowed_ppm * i128::from(100 - AT_RISK_BUDGET_PERCENT) {
        SloStatus::AtRisk
    } else {
        SloStatus::Meeting
    };
    let left = ((allowed_ppm - errors_ppm).max(0) * 100 / allowed_ppm).min(100);
    let milli = (requests - errors) * 100_000 / requests;
    SloReport {
        status,
        availability_milli_percent: Some(clamp_i64(milli)),
        budget_remaining_percent: Some(clamp_i64(left)),
        average_latency_ms: Some(traffic.latency_ms_sum.max(0) as f64 / requests as f64),
    }
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[path = "slo_tests.rs"]
mod tests;
