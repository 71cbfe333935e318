//! The line builders of [`super::rate`]: the prorated flat amount, usage under each price
//! model, and the minimum-commitment top-up, each with its explanation.

use super::money::{div_ceil, div_half_even, group};
use super::{LineItem, LineKind, PriceModel, RatingError, Tier, UnitPrice, UsagePrice};

const DAY_MS: i128 = 86_400_000;

/// The chargeable share of the period: `num / den` milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    pub num: i128,
    pub den: i128,
}

impl Share {
    fn whole(self) -> bool {
        self.num == self.den
    }

    /// `amount` prorated, rounded half-even.
    fn of(self, amount: i128) -> i128 {
        if self.whole() {
            amount
        } else {
            div_half_even(amount * self.num, self.den)
        }
    }

    /// ` for 15 of 30 days` (or milliseconds when not whole days); empty when whole.
    fn phrase(self) -> String {
        if self.whole() {
            String::new()
        } else if self.num % DAY_MS == 0 && self.den % DAY_MS == 0 {
            format!(" for {} of {} days", self.num / DAY_MS, self.den / DAY_MS)
        } else {
            format!(
                " for {} of {} ms",
                group(self.num.unsigned_abs()),
                group(self.den.unsigned_abs())
            )
        }
    }
}

fn minor(value: i128) -> Result<i64, RatingError> {
    i64::try_from(value).map_err(|_| RatingError::Overflow)
}

/// `units × price`, rounded half-even to the minor unit.
fn cost(units: u64, price: UnitPrice) -> i128 {
    div_half_even(
        i128::from(units) * i128::from(price.minor),
        i128::from(price.per),
    )
}

pub fn flat(model: &PriceModel, share: Share) -> Result<LineItem, RatingError> {
    let c = &model.currency;
    let amount = share.of(i128::from(model.flat_minor));
    let explanation = if share.whole() {
        format!("{} flat fee: {}", model.plan_name, c.format(amount))
    } else {
        format!(
            "{} flat fee {}{}, prorated: {}",
            model.plan_name,
            c.format(i128::from(model.flat_minor)),
            share.phrase(),
            c.format(amount)
        )
    };
    Ok(LineItem {
        kind: LineKind::Flat,
        quantity: 1,
        unit_price_minor: model.flat_minor,
        unit_per: 1,
        amount_minor: minor(amount)?,
        explanation,
    })
}

fn line(
    units: u64,
    price: UnitPrice,
    amount: i128,
    explanation: String,
) -> Result<LineItem, RatingError> {
    Ok(LineItem {
        kind: LineKind::Usage,
        quantity: units,
        unit_price_minor: price.minor,
        unit_per: price.per,
        amount_minor: minor(amount)?,
        explanation,
    })
}

fn tier_range(lower: u64, tier: &Tier) -> String {
    match tier.up_to {
        Some(up) => format!("{}–{}", group(u128::from(lower) + 1), group(u128::from(up))),
        None => format!("{} and above", group(u128::from(lower) + 1)),
    }
}

pub fn usage(model: &PriceModel, share: Share, usage: u64) -> Result<Vec<LineItem>, RatingError> {
    let c = &model.currency;
    let included = u64::try_from(share.of(i128::from(model.included_units))).unwrap_or(u64::MAX);
    let billable = usage.saturating_sub(included);
    let mut head = format!("{} requests", group(u128::from(usage)));
    if included > 0 {
        let first = group(u128::from(included.min(usage)));
        head.push_str(&format!(": first {first} included{}", share.phrase()));
    }
    let Some(price) = &model.usage else {
        if usage == 0 {
            return Ok(Vec::new());
        }
        let free = UnitPrice { minor: 0, per: 1 };
        return Ok(vec![line(
            usage,
            free,
            0,
            format!("{head}, no usage price"),
        )?]);
    };
    let sep = if included > 0 { "," } else { ":" };
    let items = match price {
        UsagePrice::PerUnit { price } => {
            let amount = cost(billable, *price);
            let text = format!(
                "{head}{sep} {} × {} = {}",
                group(u128::from(billable)),
                c.format_unit_price(price.minor, price.per),
                c.format(amount)
            );
            vec![line(billable, *price, amount, text)?]
        }
        UsagePrice::Package { size, price_minor } => {
            let packages = u64::try_from(div_ceil(i128::from(billable), i128::from(*size)))
                .map_err(|_| RatingError::Overflow)?;
            let amount = i128::from(packages) * i128::from(*price_minor);
            let text = format!(
                "{head}{sep} {} in packages of {}, rounded up to {} × {} = {}",
                group(u128::from(billable)),
                group(u128::from(*size)),
                group(u128::from(packages)),
                c.format(i128::from(*price_minor)),
                c.format(amount)
            );
            let unit = UnitPrice {
                minor: *price_minor,
                per: 1,
            };
            vec![line(packages, unit, amount, text)?]
        }
        UsagePrice::Graduated { tiers } => graduated(model, tiers, billable, &head, sep)?,
        UsagePrice::Volume { tiers } => {
            let mut lower = 0;
            let mut pick = &tiers[tiers.len() - 1];
            for tier in tiers {
                match tier.up_to {
                    Some(up) if billable > up => lower = up,
                    _ => {
                        pick = tier;
                        break;
                    }
                }
            }
            let fee = if billable > 0 {
                i128::from(pick.flat_minor)
            } else {
                0
            };
            let amount = cost(billable, pick.price) + fee;
            let mut text = format!(
                "{head}{sep} {} in the volume tier {}, all at {} = {}",
                group(u128::from(billable)),
                tier_range(lower, pick),
                c.format_unit_price(pick.price.minor, pick.price.per),
                c.format(amount)
            );
            if fee > 0 {
                text.push_str(&format!(" (with a {} tier fee)", c.format(fee)));
            }
            vec![line(billable, pick.price, amount, text)?]
        }
    };
    Ok(items)
}

/// One line per tier the billable units reach (at least one), each priced on its own.
fn graduated(
    model: &PriceModel,
    tiers: &[Tier],
    billable: u64,
    head: &str,
    sep: &str,
) -> Result<Vec<LineItem>, RatingError> {
    let c = &model.currency;
    let mut items = Vec::new();
    let mut lower = 0u64;
    for (i, tier) in tiers.iter().enumerate() {
        let upper = tier.up_to.unwrap_or(u64::MAX);
        let units = billable.min(upper).saturating_sub(lower);
        if units == 0 && i > 0 {
            break;
        }
        let fee = if units > 0 {
            i128::from(tier.flat_minor)
        } else {
            0
        };
        let amount = cost(units, tier.price) + fee;
        let mut text = format!(
            "tier {} ({}): {} × {} = {}",
            i + 1,
            tier_range(lower, tier),
            group(u128::from(units)),
            c.format_unit_price(tier.price.minor, tier.price.per),
            c.format(amount)
        );
        if fee > 0 {
            text.push_str(&format!(" (with a {} tier fee)", c.format(fee)));
        }
        if i == 0 {
            text = format!(
                "{head}{sep} {} billable, graduated; {text}",
                group(u128::from(billable))
            );
        }
        items.push(line(units, tier.price, amount, text)?);
        lower = upper;
    }
    Ok(items)
}

pub fn minimum(
    model: &PriceModel,
    share: Share,
    total: i64,
) -> Result<Option<LineItem>, RatingError> {
    let c = &model.currency;
    let floor = share.of(i128::from(model.minimum_minor));
    let top_up = floor - i128::from(total);
    if top_up <= 0 {
        return Ok(None);
    }
    Ok(Some(LineItem {
        kind: LineKind::Minimum,
        quantity: 1,
        unit_price_minor: minor(top_up)?,
        unit_per: 1,
        amount_minor: minor(top_up)?,
        explanation: format!(
            "charges of {} are below the minimum commitment of {}{}: {} added",
            c.format(i128::from(total)),
            c.format(floor),
            share.phrase(),
            c.format(top_up)
        ),
    }))
}
