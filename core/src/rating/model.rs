//! How a plan prices a period: a flat recurring amount, an included allowance, a usage
//! price (per unit, graduated tiers, volume tiers or packages) and a minimum commitment.
//! [`PriceModel::check`] is the one validation the origin runs when a plan is saved, so a
//! model that reaches [`super::rate`] is always well formed.

use super::money::Currency;
use super::RatingError;
use serde::{Deserialize, Serialize};

/// Largest amount or count a price may name (10^13), so every product fits in `i128`.
pub const MAX_VALUE: u64 = 10_000_000_000_000;

/// `minor` minor units per `per` units: `2` per `1000` is $0.002 a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPrice {
    pub minor: i64,
    pub per: u64,
}

/// One tier: units up to and including `up_to` (the last tier has none) at `price`,
/// plus an optional flat fee for reaching it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub up_to: Option<u64>,
    pub price: UnitPrice,
    #[serde(default)]
    pub flat_minor: i64,
}

/// How billable units (beyond the allowance) are priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum UsagePrice {
    /// Every unit at one price.
    PerUnit { price: UnitPrice },
    /// Each tier prices the units that fall in it (graduated).
    Graduated { tiers: Vec<Tier> },
    /// The tier the total reaches prices every unit (volume).
    Volume { tiers: Vec<Tier> },
    /// Units in packages of `size`, a started package is a whole one.
    Package { size: u64, price_minor: i64 },
}

/// A plan's complete price for one billing period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceModel {
    pub currency: Currency,
    /// The plan's name, quoted in explanations.
    pub plan_name: String,
    /// Flat recurring amount per period.
    pub flat_minor: i64,
    /// Units per period the flat amount includes.
    pub included_units: u64,
    pub usage: Option<UsagePrice>,
    /// The period's total is raised to at least this.
    pub minimum_minor: i64,
}

fn bounded(field: &'static str, value: i64) -> Result<(), RatingError> {
    if value < 0 || value.unsigned_abs() > MAX_VALUE {
        return Err(RatingError::Invalid {
            field,
            reason: format!("must be between 0 and {MAX_VALUE}"),
        });
    }
    Ok(())
}

fn check_unit(field: &'static str, price: UnitPrice) -> Result<(), RatingError> {
    bounded(field, price.minor)?;
    if !(1..=1_000_000_000).contains(&price.per) {
        return Err(RatingError::Invalid {
            field,
            reason: "the unit count a price is for must be between 1 and 1000000000".into(),
        });
    }
    Ok(())
}

/// Tiers ascend strictly, every tier but the last has an `up_to`, the last has none.
fn check_tiers(tiers: &[Tier]) -> Result<(), RatingError> {
    let invalid = |reason: &str| RatingError::Invalid {
        field: "tiers",
        reason: reason.to_owned(),
    };
    if tiers.is_empty() || tiers.len() > 32 {
        return Err(invalid("between 1 and 32 tiers are needed"));
    }
    let mut floor = 0u64;
    for (i, tier) in tiers.iter().enumerate() {
        check_unit("tiers.price", tier.price)?;
        bounded("tiers.flat_minor", tier.flat_minor)?;
        let last = i + 1 == tiers.len();
        match (tier.up_to, last) {
            (None, true) => {}
            (None, false) => return Err(invalid("only the last tier may have no `up_to`")),
            (Some(_), true) => return Err(invalid("the last tier must have no `up_to`")),
            (Some(up), false) if up <= floor || up > MAX_VALUE => {
                return Err(invalid(
                    "each `up_to` must be above the previous one (and above 0)",
                ))
            }
            (Some(up), false) => floor = up,
        }
    }
    Ok(())
}

impl PriceModel {
    /// Whether this model can be rated; the error names the member at fault.
    pub fn check(&self) -> Result<(), RatingError> {
        bounded("flat_minor", self.flat_minor)?;
        bounded("minimum_minor", self.minimum_minor)?;
        if self.included_units > MAX_VALUE {
            return Err(RatingError::Invalid {
                field: "included_units",
                reason: format!("must be at most {MAX_VALUE}"),
            });
        }
        match &self.usage {
            None => Ok(()),
            Some(UsagePrice::PerUnit { price }) => check_unit("unit_price", *price),
            Some(UsagePrice::Graduated { tiers } | UsagePrice::Volume { tiers }) => {
                check_tiers(tiers)
            }
            Some(UsagePrice::Package { size, price_minor }) => {
                bounded("package.price_minor", *price_minor)?;
                check_unit(
                    "package.size",
                    UnitPrice {
                        minor: 0,
                        per: *size,
                    },
                )
            }
        }
    }
}
