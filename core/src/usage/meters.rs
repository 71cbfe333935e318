//! Custom meters an upstream reports in its answer: `tollgate-meter: tokens=120, images=3`.
//! Structured-field-like (a list of `name=integer`), bounded: at most [`MAX_METERS`]
//! entries, names of `[a-z0-9_.-]{1,64}` starting with a letter, values `0..=MAX_METER_VALUE`;
//! anything else is skipped (an upstream's mistake must never fail the request).

use std::collections::BTreeMap;

/// The response header the upstream sets.
pub const METER_HEADER: &str = "tollgate-meter";
/// Most meters one event carries.
pub const MAX_METERS: usize = 16;
/// Largest value of one meter on one request.
pub const MAX_METER_VALUE: u64 = 1_000_000_000_000;
/// Longest header value read.
pub const MAX_METER_HEADER_BYTES: usize = 1_024;

/// Whether `name` is an acceptable meter name.
pub fn valid_meter_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
        })
}

/// Reads the meters of a `tollgate-meter` header value; the first of a repeated name wins.
pub fn parse_meter_header(value: &str) -> BTreeMap<String, u64> {
    let mut meters = BTreeMap::new();
    if value.len() > MAX_METER_HEADER_BYTES {
        return meters;
    }
    for item in value.split(',') {
        if meters.len() >= MAX_METERS {
            break;
        }
        let Some((name, number)) = item.trim().split_once('=') else {
            continue;
        };
        let (name, number) = (name.trim(), number.trim());
        if !valid_meter_name(name)
            || number.is_empty()
            || !number.bytes().all(|b| b.is_ascii_digit())
        {
            continue;
        }
        match number.parse::<u64>() {
            Ok(n) if n <= MAX_METER_VALUE => {
                meters.entry(name.to_string()).or_insert(n);
            }
            _ => continue,
        }
    }
    meters
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_well_formed_meters() {
        let m = parse_meter_header("name=3, tokens=120");
        assert_eq!(m.get("name"), Some(&3));
        assert_eq!(m.get("tokens"), Some(&120));
    }

    #[test]
    fn skips_careless_entries() {
        let m = parse_meter_header(
            "Tokens=1, a=-1, b=1.5, c=, =4, d=99999999999999999999, e=7, e=8, f",
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m.get("e"), Some(&7));
        assert!(parse_meter_header(&"a=1,".repeat(400)).is_empty());
    }

    proptest! {
        #[test]
        fn always_bounded(s in ".{0,600}") {
            let m = parse_meter_header(&s);
            prop_assert!(m.len() <= MAX_METERS);
            prop_assert!(m.iter().all(|(k, v)| valid_meter_name(k) && *v <= MAX_METER_VALUE));
        }
    }
}
