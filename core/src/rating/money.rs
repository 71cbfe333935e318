//! Exact money: integer minor units of an ISO 4217 currency, the half-even rounding every
//! division in rating uses, and the plain-language rendering of amounts and unit prices
//! that invoice explanations quote. No floats anywhere, so a figure never drifts by a cent.

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency: its code and how many decimals its minor unit has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    /// Three upper-case letters, e.g. `EUR`.
    pub code: String,
    /// Decimals of the minor unit (2 for EUR, 0 for JPY, 3 for KWD).
    pub exponent: u32,
}

impl Currency {
    /// The currency of `code`, with its ISO 4217 exponent; `None` unless three upper-case
    /// ASCII letters.
    pub fn of(code: &str) -> Option<Currency> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let exponent = match code {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        };
        Some(Currency {
            code: code.to_owned(),
            exponent,
        })
    }

    fn symbol(&self) -> Option<&'static str> {
        match self.code.as_str() {
            "USD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            "JPY" => Some("¥"),
            _ => None,
        }
    }

    /// `amount_minor` as people write it: `$0.50`, `€1,234.00`, `12.50 CHF`.
    pub fn format(&self, amount_minor: i128) -> String {
        self.format_scaled(amount_minor, self.exponent)
    }

    /// A unit price of `minor` per `per` units, as a price of one unit when that is exact
    /// (`$0.002`) and as `$2.00 per 1,000` otherwise.
    pub fn format_unit_price(&self, minor: i64, per: u64) -> String {
        let mut scaled = i128::from(minor);
        let mut decimals = self.exponent;
        let mut rest = per;
        while rest > 1 && rest.is_multiple_of(10) && decimals < 30 {
            rest /= 10;
            decimals += 1;
        }
        if rest == 1 {
            // Drop trailing zeros beyond the minor unit: $0.0020 reads as $0.002.
            while decimals > self.exponent && scaled % 10 == 0 {
                scaled /= 10;
                decimals -= 1;
            }
            return self.format_scaled(scaled, decimals);
        }
        format!(
            "{} per {}",
            self.format(i128::from(minor)),
            group(u128::from(per))
        )
    }

    fn format_scaled(&self, value: i128, decimals: u32) -> String {
        let sign = if value < 0 { "-" } else { "" };
        let abs = value.unsigned_abs();
        let unit = 10u128.pow(decimals);
        let whole = group(abs / unit);
        let number = if decimals == 0 {
            whole
        } else {
            format!("{whole}.{:0width$}", abs % unit, width = decimals as usize)
        };
        match self.symbol() {
            Some(symbol) => format!("{sign}{symbol}{number}"),
            None => format!("{sign}{number} {}", self.code),
        }
    }
}

/// `n` with thousands separators: `1,250`.
pub fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `num / den` rounded half to even (banker's rounding), for `num >= 0`, `den > 0`:
/// ties go to the even neighbour so rounding errors do not accumulate one way.
pub fn div_half_even(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
        std::cmp::Ordering::Less => q,
    }
}

/// `ceil(num / den)` for `num >= 0`, `den > 0`.
pub fn div_ceil(num: i128, den: i128) -> i128 {
    (num + den - 1) / den
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_write_them() {
        let usd = Currency::of("USD").unwrap();
        assert_eq!(usd.format(50), "$0.50");
        assert_eq!(usd.format(123_456_789), "$1,234,567.89");
        assert_eq!(usd.format(-5), "-$0.05");
        assert_eq!(Currency::of("JPY").unwrap().format(1500), "¥1,500");
        assert_eq!(Currency::of("KWD").unwrap().format(1500), "1.500 KWD");
        assert_eq!(Currency::of("CHF").unwrap().format(1250), "12.50 CHF");
        assert!(Currency::of("usd").is_none() && Currency::of("EURO").is_none());
    }

    #[test]
    fn unit_prices_are_exact() {
        let usd = Currency::of("USD").unwrap();
        assert_eq!(usd.format_unit_price(2, 10), "$0.002");
        assert_eq!(usd.format_unit_price(150, 1), "$1.50");
        assert_eq!(usd.format_unit_price(5, 100), "$0.0005");
        assert_eq!(usd.format_unit_price(2, 1000), "$0.00002");
        assert_eq!(usd.format_unit_price(500, 1000), "$0.005");
        assert_eq!(usd.format_unit_price(200, 3), "$2.00 per 3");
    }

    #[test]
    fn half_even_rounds_ties_to_even() {
        assert_eq!(div_half_even(5, 2), 2);
        assert_eq!(div_half_even(7, 2), 4);
        assert_eq!(div_half_even(26, 10), 3);
        assert_eq!(div_half_even(24, 10), 2);
        assert_eq!(div_half_even(0, 7), 0);
        assert_eq!(div_ceil(1001, 1000), 2);
        assert_eq!(div_ceil(1000, 1000), 1);
        assert_eq!(group(1_250), "1,250");
        assert_eq!(group(999), "999");
    }
}
