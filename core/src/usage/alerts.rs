//! Quota alerts: which thresholds (80 % "warning", 100 % "exhausted") a quota's use has
//! reached. Pure and exact (integer arithmetic, no rounding), so the origin can re-check
//! after every ingested batch and let a unique row make each alert fire once.

use serde::{Deserialize, Serialize};

/// A share of a quota worth telling the developer about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Threshold {
    /// 80 % used.
    Warning,
    /// 100 % used.
    Exhausted,
}

impl Threshold {
    /// Every threshold, lowest first.
    pub const ALL: [Threshold; 2] = [Threshold::Warning, Threshold::Exhausted];

    /// The percentage of the quota.
    pub fn percent(self) -> u8 {
        match self {
            Threshold::Warning => 80,
            Threshold::Exhausted => 100,
        }
    }

    /// The webhook event (audit action) type.
    pub fn event_type(self) -> &'static str {
        match self {
            Threshold::Warning => "quota.warning",
            Threshold::Exhausted => "quota.exhausted",
        }
    }
}

/// The thresholds `used` units of a `quota`-unit quota have reached, lowest first.
/// A zero quota has no thresholds (plans refuse one anyway).
pub fn reached_thresholds(used: u64, quota: u64) -> Vec<Threshold> {
    if quota == 0 {
        return Vec::new();
    }
    Threshold::ALL
        .into_iter()
        .filter(|t| u128::from(used) * 100 >= u128::from(quota) * u128::from(t.percent()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn eighty_percent_warns_and_a_full_quota_is_exhausted() {
        assert_eq!(reached_thresholds(7, 10), vec![]);
        assert_eq!(reached_thresholds(8, 10), vec![Threshold::Warning]);
        assert_eq!(
            reached_thresholds(10, 10),
            vec![Threshold::Warning, Threshold::Exhausted]
        );
        assert_eq!(reached_thresholds(12, 10).len(), 2);
        // 80 % of 3 is 2.4: two calls are not yet 80 %, three are.
        assert_eq!(reached_thresholds(2, 3), vec![]);
        assert_eq!(reached_thresholds(3, 3).len(), 2);
        assert_eq!(reached_thresholds(5, 0), vec![]);
        assert_eq!(reached_thresholds(u64::MAX, u64::MAX).len(), 2);
    }

    proptest! {
        #[test]
        fn thresholds_only_grow_with_use(quota in 1u64..1_000_000, used in 0u64..2_000_000) {
            let now = reached_thresholds(used, quota);
            let later = reached_thresholds(used + 1, quota);
            prop_assert!(later.len() >= now.len());
            prop_assert_eq!(now.contains(&Threshold::Exhausted), used >= quota);
        }
    }
}
