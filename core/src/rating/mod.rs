//! Rating: turning a period's billable units and a plan's [`PriceModel`] into invoice
//! [`LineItem`]s, each with a plain-language explanation of how its number was computed.
//!
//! Money is integer minor units (`i64` at rest, `i128` while computing, so no product of
//! bounded inputs can overflow). Sub-minor unit prices ($0.002 a request) are exact as
//! `minor` per `per` units, so no decimal type is needed. Every division rounds half to
//! even to the minor unit, once per line.
//!
//! Proration: a plan that covers only part of the period (a mid-period plan change, a
//! subscription starting or ending, a trial ending) charges its flat amount, its included
//! allowance and its minimum commitment in proportion to the exact milliseconds it was
//! chargeable: `amount × chargeable_ms / period_ms`, rounded half-even. Tier bounds are
//! not prorated. Time in a trial is not chargeable and its usage is not billed.

mod lines;
pub mod model;
pub mod money;
#[cfg(test)]
mod tests;

pub use model::{PriceModel, Tier, UnitPrice, UsagePrice};
pub use money::Currency;
use serde::{Deserialize, Serialize};

/// A billing period `[start_ms, end_ms)`, unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The part of a period one plan applies to and the subscription's trial end: the plan
/// priced `[from_ms, to_ms)` of the period, nothing before `trial_ends_at_ms` is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    pub from_ms: i64,
    pub to_ms: i64,
    pub trial_ends_at_ms: Option<i64>,
}

impl Coverage {
    /// A plan covering the whole period, no trial.
    pub fn whole(period: Period) -> Coverage {
        Coverage {
            from_ms: period.start_ms,
            to_ms: period.end_ms,
            trial_ends_at_ms: None,
        }
    }

    /// The window whose usage is billed, `[from, to)` inside the period; empty (`from ==
    /// to`) when the plan was trialing all along. Callers sum usage over exactly this window.
    pub fn chargeable(&self, period: Period) -> (i64, i64) {
        let to = self.to_ms.min(period.end_ms);
        let from = self
            .from_ms
            .max(period.start_ms)
            .max(self.trial_ends_at_ms.unwrap_or(i64::MIN))
            .min(to);
        (from, to.max(from))
    }
}

/// What a line charges for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The flat recurring amount.
    Flat,
    /// Usage beyond the allowance.
    Usage,
    /// Raising the total to the minimum commitment.
    Minimum,
    /// Time in a trial: nothing charged.
    Trial,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub kind: LineKind,
    /// Units (requests, packages, or 1 for a flat amount).
    pub quantity: u64,
    /// Price of `unit_per` units, in minor units.
    pub unit_price_minor: i64,
    pub unit_per: u64,
    pub amount_minor: i64,
    /// How the amount was computed, e.g. `1,250 requests: first 1,000 included, 250 ×
    /// $0.002 = $0.50`.
    pub explanation: String,
}

/// Why a period could not be rated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    /// The price model is malformed (the origin rejects it when the plan is saved).
    #[error("`{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The period ends before it starts.
    #[error("the billing period must end after it starts")]
    EmptyPeriod,
    /// An amount does not fit in 64 bits of minor units.
    #[error("an amount exceeds the largest representable sum")]
    Overflow,
}

/// Rates `usage` billable units counted in `coverage.chargeable(period)` under `model`.
/// Lines come in order: flat amount, usage, minimum commitment; a plan trialing for its
/// whole coverage yields one zero [`LineKind::Trial`] line, a coverage outside the
/// period none.
pub fn rate(
    usage: u64,
    model: &PriceModel,
    period: Period,
    coverage: &Coverage,
) -> Result<Vec<LineItem>, RatingError> {
    model.check()?;
    if period.end_ms <= period.start_ms {
        return Err(RatingError::EmptyPeriod);
    }
    let (from, to) = coverage.chargeable(period);
    let share = lines::Share {
        num: i128::from(to) - i128::from(from),
        den: i128::from(period.end_ms) - i128::from(period.start_ms),
    };
    if share.num == 0 {
        let trialing = coverage
            .trial_ends_at_ms
            .is_some_and(|t| t > coverage.from_ms.max(period.start_ms));
        if !trialing {
            return Ok(Vec::new());
        }
        return Ok(vec![LineItem {
            kind: LineKind::Trial,
            quantity: usage,
            unit_price_minor: 0,
            unit_per: 1,
            amount_minor: 0,
            explanation: format!(
                "{}: in trial for this part of the period, so nothing is charged",
                model.plan_name
            ),
        }]);
    }
    let mut items = Vec::new();
    if model.flat_minor > 0 {
        items.push(lines::flat(model, share)?);
    }
    items.extend(lines::usage(model, share, usage)?);
    let total = items
        .iter()
        .try_fold(0i64, |sum, l| sum.checked_add(l.amount_minor))
        .ok_or(RatingError::Overflow)?;
    if let Some(top_up) = lines::minimum(model, share, total)? {
        items.push(top_up);
    }
    Ok(items)
}

/// The sum of `items`' amounts, or `None` on overflow.
pub fn total(items: &[LineItem]) -> Option<i64> {
    items
        .iter()
        .try_fold(0i64, |sum, l| sum.checked_add(l.amount_minor))
}
