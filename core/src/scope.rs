//! Key scopes: what a key may do, e.g. `weather:read`. One grammar for the origin that
//! stores them and the edge that will match them against operations.

/// Most scopes one key carries.
pub const MAX_SCOPES: usize = 50;

/// Why a list of scopes is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("at most {MAX_SCOPES} scopes per key")]
    TooMany,
    #[error("`{0}` is not a scope: use 1–64 of a-z, 0-9, `:`, `.`, `_`, `-`")]
    Malformed(String),
}

/// Whether `s` is a well-formed scope.
pub fn is_scope(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b":._-".contains(&b))
}

/// Checks and normalises a key's scopes: sorted, without duplicates.
pub fn parse_scopes(mut scopes: Vec<String>) -> Result<Vec<String>, ScopeError> {
    if scopes.len() > MAX_SCOPES {
        return Err(ScopeError::TooMany);
    }
    if let Some(bad) = scopes.iter().find(|s| !is_scope(s)) {
        return Err(ScopeError::Malformed(bad.clone()));
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scopes_are_sorted_deduplicated_and_checked() {
        let got = parse_scopes(vec!["b:read".into(), "a.write".into(), "b:read".into()]);
        assert_eq!(got, Ok(vec!["a.write".into(), "b:read".into()]));
        for bad in ["", "Upper", "has space", &"a".repeat(65)] {
            assert_eq!(
                parse_scopes(vec![bad.into()]),
                Err(ScopeError::Malformed(bad.into())),
                "{bad:?}"
            );
        }
        let many = (0..51).map(|i| format!("s{i}")).collect();
        assert_eq!(parse_scopes(many), Err(ScopeError::TooMany));
    }

    proptest! {
        #[test]
        fn normalising_twice_changes_nothing(scopes in proptest::collection::vec("[a-z0-9:._-]{1,8}", 0..10)) {
            let once = parse_scopes(scopes).unwrap();
            prop_assert_eq!(parse_scopes(once.clone()).unwrap(), once);
        }
    }
}
