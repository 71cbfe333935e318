//! What a plan costs, for billing: a flat amount per interval plus an optional unit
//! price beyond an included allowance. Money is exact: integer minor units and an ISO 4217
//! currency code, stored as BIGINT columns.

use crate::admin::plan_terms::{invalid, PlanType};
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Largest amount in minor units (10^13: a hundred billion of a two-decimal currency).
pub const MAX_MINOR: u64 = 10_000_000_000_000;

/// How often the flat amount is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PriceInterval {
    Month,
    Year,
}

/// What a plan costs, for billing. Money is integer minor units (`4900` EUR is 49.00 EUR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// ISO 4217 code, upper case, e.g. `EUR`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// The flat amount charged every `interval`, in minor units.
    #[schema(minimum = 0, maximum = 10_000_000_000_000_u64)]
    pub amount_minor: u64,
    pub interval: PriceInterval,
    /// Price of each `unit_size` requests beyond `included_units`, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10_000_000_000_000_u64)]
    pub unit_price_minor: Option<u64>,
    /// Requests per priced unit (default 1), e.g. `1000` to price per thousand calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub unit_size: Option<u64>,
    /// Requests per interval the flat amount includes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10_000_000_000_000_u64)]
    pub included_units: Option<u64>,
    /// How usage beyond `included_units` is priced (default `per_unit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_model: Option<UsageModel>,
    /// Tiers of a `graduated` or `volume` usage model, ascending; the last has no `up_to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 32)]
    pub tiers: Option<Vec<PriceTier>>,
    /// The least a period costs, in minor units (a minimum commitment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10_000_000_000_000_u64)]
    pub minimum_minor: Option<u64>,
}

/// How usage is priced: every unit alike (`per_unit`), packages of `unit_size` rounded up
/// (`package`), each tier its own units (`graduated`) or the tier reached all units (`volume`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageModel {
    PerUnit,
    Package,
    Graduated,
    Volume,
}

/// One usage tier: requests up to and including `up_to` at `unit_price_minor` per
/// `unit_size`, plus `flat_minor` once the tier is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceTier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10_000_000_000_000_u64)]
    pub up_to: Option<u64>,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_u64)]
    pub unit_price_minor: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub unit_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10_000_000_000_000_u64)]
    pub flat_minor: Option<u64>,
}

/// The members of a price beyond the original columns, stored as one JSON column.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PriceExtra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    usage_model: Option<UsageModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tiers: Option<Vec<PriceTier>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minimum_minor: Option<u64>,
}

impl PriceInterval {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceInterval::Month => "month",
            PriceInterval::Year => "year",
        }
    }
}

/// A price as stored in the plan's columns.
pub struct PriceColumns {
    pub currency: Option<String>,
    pub amount_minor: Option<i64>,
    pub interval: Option<String>,
    pub unit_price_minor: Option<i64>,
    pub unit_size: Option<i64>,
    pub included_units: Option<i64>,
    /// Usage model, tiers and minimum commitment as JSON (`price_extra_json`).
    pub extra_json: Option<String>,
}

impl PriceColumns {
    /// The columns of a price (all NULL for none).
    pub fn of(price: Option<&Price>) -> PriceColumns {
        let minor = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
        PriceColumns {
            currency: price.map(|p| p.currency.clone()),
            amount_minor: minor(price.map(|p| p.amount_minor)),
            interval: price.map(|p| p.interval.as_str().to_owned()),
            unit_price_minor: minor(price.and_then(|p| p.unit_price_minor)),
            unit_size: minor(price.and_then(|p| p.unit_size)),
            included_units: minor(price.and_then(|p| p.included_units)),
            extra_json: price
                .map(|p| PriceExtra {
                    usage_model: p.usage_model,
                    tiers: p.tiers.clone(),
                    minimum_minor: p.minimum_minor,
                })
                .filter(|e| {
                    e.usage_model.is_some() || e.tiers.is_some() || e.minimum_minor.is_some()
                })
                .and_then(|e| serde_json::to_string(&e).ok()),
        }
    }

    /// The price these columns hold.
    pub fn price(self) -> Option<Price> {
        let unsigned = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
        let interval = match self.interval.as_deref()? {
            "year" => PriceInterval::Year,
            _ => PriceInterval::Month,
        };
        let extra: PriceExtra = self
            .extra_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        Some(Price {
            usage_model: extra.usage_model,
            tiers: extra.tiers,
            minimum_minor: extra.minimum_minor,
            currency: self.currency?,
            amount_minor: unsigned(self.amount_minor).unwrap_or(0),
            interval,
            unit_price_minor: unsigned(self.unit_price_minor),
            unit_size: unsigned(self.unit_size),
            included_units: unsigned(self.included_units),
        })
    }
}

/// Checks a plan's price against its type: `paid` needs one that charges something,
/// `free` and `trial` have none.
pub fn check_price(plan_type: PlanType, price: Option<Price>) -> Result<Option<Price>, AppError> {
    let Some(mut price) = price else {
        return match plan_type {
            PlanType::Paid => Err(invalid("price", "a paid plan needs a price")),
            _ => Ok(None),
        };
    };
    if matches!(plan_type, PlanType::Free | PlanType::Trial) {
        let kind = plan_type.as_str();
        return Err(invalid(
            "price",
            format!("a {kind} plan has no price; leave `price` out or use type `paid`"),
        ));
    }
    if price.currency.len() != 3 || !price.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            "price.currency",
            "must be an ISO 4217 code of three upper-case letters, e.g. `EUR`",
        ));
    }
    for (field, value) in [
        ("price.amount_minor", Some(price.amount_minor)),
        ("price.unit_price_minor", price.unit_price_minor),
        ("price.included_units", price.included_units),
    ] {
        if value.is_some_and(|v| v > MAX_MINOR) {
            return Err(invalid(field, format!("must be at most {MAX_MINOR}")));
        }
    }
    match (price.unit_price_minor, price.unit_size) {
        (None, Some(_)) => {
            return Err(invalid(
                "price.unit_size",
                "applies with `unit_price_minor` only",
            ))
        }
        (Some(_), Some(size)) if !(1..=1_000_000_000).contains(&size) => {
            return Err(invalid(
                "price.unit_size",
                "must be between 1 and 1000000000",
            ))
        }
        (Some(_), None) => price.unit_size = Some(1),
        _ => {}
    }
    crate::invoices::pricing::check_usage_price(&price)?;
    let charges = price.minimum_minor.is_some_and(|m| m > 0)
        || price.tiers.is_some()
        || price.amount_minor > 0
        || price.unit_price_minor.is_some_and(|p| p > 0);
    if plan_type == PlanType::Paid && !charges {
        return Err(invalid(
            "price.amount_minor",
            "a paid plan charges a flat amount or a unit price above 0",
        ));
    }
    Ok(Some(price))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(currency: &str, amount: u64) -> Price {
        Price {
            currency: currency.into(),
            amount_minor: amount,
            interval: PriceInterval::Month,
            unit_price_minor: None,
            unit_size: None,
            included_units: None,
            usage_model: None,
            tiers: None,
            minimum_minor: None,
        }
    }

    fn field(r: Result<Option<Price>, AppError>) -> String {
        r.unwrap_err().problem().field.unwrap_or_default()
    }

    #[test]
    fn prices_follow_the_plan_type() {
        assert_eq!(
            check_price(PlanType::Paid, Some(price("EUR", 4900)))
                .unwrap()
                .unwrap()
                .amount_minor,
            4900
        );
        assert_eq!(field(check_price(PlanType::Paid, None)), "price");
        assert_eq!(
            field(check_price(PlanType::Free, Some(price("EUR", 1)))),
            "price"
        );
        assert_eq!(
            field(check_price(PlanType::Paid, Some(price("eur", 1)))),
            "price.currency"
        );
        assert_eq!(
            field(check_price(PlanType::Paid, Some(price("EUR", 0)))),
            "price.amount_minor"
        );
        assert_eq!(
            field(check_price(
                PlanType::Custom,
                Some(price("EUR", MAX_MINOR + 1))
            )),
            "price.amount_minor"
        );
        let mut metered = price("USD", 0);
        metered.unit_price_minor = Some(2);
        assert_eq!(
            check_price(PlanType::Paid, Some(metered))
                .unwrap()
                .unwrap()
                .unit_size,
            Some(1)
        );
    }
}
