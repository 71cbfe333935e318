//! A plan's stored [`Price`] as the core's rating [`PriceModel`], and the validation of
//! the usage members of a price when a plan is saved (so rating never meets a bad model).

use crate::admin::plan_price::{Price, PriceInterval, UsageModel};
use crate::error::AppError;
use tollgate_core::rating::money::div_half_even;
use tollgate_core::rating::{Currency, PriceModel, RatingError, Tier, UnitPrice, UsagePrice};

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The rating model of `price` for a monthly period (a yearly price is charged as a
/// twelfth per month, rounded half-even). Fails on members that do not fit together.
pub fn price_model(price: &Price, plan_name: &str) -> Result<PriceModel, AppError> {
    let invalid = |field: &str, detail: &str| AppError::invalid(format!("price.{field}"), detail);
    let currency = Currency::of(&price.currency)
        .ok_or_else(|| invalid("currency", "must be an ISO 4217 code, e.g. `EUR`"))?;
    let unit = UnitPrice {
        minor: signed(price.unit_price_minor.unwrap_or(0)),
        per: price.unit_size.unwrap_or(1),
    };
    let usage = match (price.usage_model, &price.tiers) {
        (Some(UsageModel::Graduated | UsageModel::Volume), None) => {
            return Err(invalid(
                "tiers",
                "a graduated or volume usage model needs `tiers`",
            ))
        }
        (None | Some(UsageModel::PerUnit | UsageModel::Package), Some(_)) => {
            return Err(invalid(
                "tiers",
                "apply with `usage_model` `graduated` or `volume` only",
            ))
        }
        (Some(model @ (UsageModel::Graduated | UsageModel::Volume)), Some(tiers)) => {
            let tiers = tiers
                .iter()
                .map(|t| Tier {
                    up_to: t.up_to,
                    price: UnitPrice {
                        minor: signed(t.unit_price_minor),
                        per: t.unit_size.unwrap_or(1),
                    },
                    flat_minor: signed(t.flat_minor.unwrap_or(0)),
                })
                .collect();
            Some(if model == UsageModel::Graduated {
                UsagePrice::Graduated { tiers }
            } else {
                UsagePrice::Volume { tiers }
            })
        }
        (Some(UsageModel::Package), None) => {
            if price.unit_price_minor.is_none() {
                return Err(invalid(
                    "unit_price_minor",
                    "a package usage model needs a package price",
                ));
            }
            Some(UsagePrice::Package {
                size: unit.per,
                price_minor: unit.minor,
            })
        }
        (Some(UsageModel::PerUnit) | None, None) => price
            .unit_price_minor
            .map(|_| UsagePrice::PerUnit { price: unit }),
    };
    let flat = match price.interval {
        PriceInterval::Month => signed(price.amount_minor),
        PriceInterval::Year => {
            i64::try_from(div_half_even(i128::from(price.amount_minor), 12)).unwrap_or(i64::MAX)
        }
    };
    let model = PriceModel {
        currency,
        plan_name: plan_name.to_owned(),
        flat_minor: flat,
        included_units: price.included_units.unwrap_or(0),
        usage,
        minimum_minor: signed(price.minimum_minor.unwrap_or(0)),
    };
    model.check().map_err(|e| match e {
        RatingError::Invalid { field, reason } => invalid(field, &reason),
        other => invalid("tiers", &other.to_string()),
    })?;
    Ok(model)
}

/// Checks the usage members of a price being saved.
pub fn check_usage_price(price: &Price) -> Result<(), AppError> {
    price_model(price, "plan").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(json: serde_json::Value) -> Price {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn stored_prices_become_rating_models() {
        let yearly =
            price(serde_json::json!({"currency": "EUR", "amount_minor": 1000, "interval": "year"}));
        assert_eq!(price_model(&yearly, "Y").unwrap().flat_minor, 83);
        let package = price(
            serde_json::json!({"currency": "EUR", "amount_minor": 0, "interval": "month",
            "unit_price_minor": 500, "unit_size": 1000, "usage_model": "package"}),
        );
        assert_eq!(
            price_model(&package, "P").unwrap().usage,
            Some(UsagePrice::Package {
                size: 1000,
                price_minor: 500
            })
        );
        let field = |json| {
            check_usage_price(&price(json))
                .unwrap_err()
                .problem()
                .field
                .unwrap_or_default()
        };
        assert_eq!(
            field(
                serde_json::json!({"currency": "EUR", "amount_minor": 1, "interval": "month",
            "tiers": [{"unit_price_minor": 1}]})
            ),
            "price.tiers"
        );
        assert_eq!(
            field(
                serde_json::json!({"currency": "EUR", "amount_minor": 1, "interval": "month",
            "usage_model": "volume"})
            ),
            "price.tiers"
        );
        assert_eq!(
            field(
                serde_json::json!({"currency": "EUR", "amount_minor": 1, "interval": "month",
            "usage_model": "graduated", "tiers": [{"up_to": 5, "unit_price_minor": 1}]})
            ),
            "price.tiers"
        );
        assert_eq!(
            field(
                serde_json::json!({"currency": "EUR", "amount_minor": 1, "interval": "month",
            "usage_model": "package"})
            ),
            "price.unit_price_minor"
        );
    }
}
