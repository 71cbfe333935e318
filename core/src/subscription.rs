//! Subscriptions: a consumer on a plan for an API. Their status is derived from their
//! times on every read (never stored), so a trial that ran out is `expired` without a job
//! having to notice; and the snapshot's subscription feed lets the edge apply a plan
//! change or a cancellation to key records it already holds, within the refresh window.

use crate::{KeyRecord, PlanId, Problem, ProblemKind};
use serde::{Deserialize, Serialize};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionStatus {
    /// In its trial: keys work, nothing is billed yet.
    Trialing,
    /// Running: keys work.
    Active,
    /// Ended by a cancellation: keys stop working.
    Canceled,
    /// Ended by reaching its end (or its trial plan's trial end): keys stop working.
    Expired,
}

impl SubscriptionStatus {
    /// The serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Expired => "expired",
        }
    }

    /// Whether keys of a subscription in this state work.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Trialing | SubscriptionStatus::Active
        )
    }
}

/// The moments (unix ms) a subscription's status follows from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubscriptionTimes {
    pub trial_ends_at_ms: Option<i64>,
    /// The end asked for when subscribing, if any.
    pub ends_at_ms: Option<i64>,
    pub canceled_at_ms: Option<i64>,
    /// The plan is a `trial` plan: the subscription ends with the trial.
    pub trial_plan: bool,
}

impl SubscriptionTimes {
    /// When keys stop working: the earliest of the asked end, a trial plan's trial end
    /// and the cancellation.
    pub fn effective_end(&self) -> Option<i64> {
        let trial_end = self.trial_ends_at_ms.filter(|_| self.trial_plan);
        [self.ends_at_ms, trial_end, self.canceled_at_ms]
            .into_iter()
            .flatten()
            .min()
    }

    /// The status at `now_ms`.
    pub fn status(&self, now_ms: i64) -> SubscriptionStatus {
        if self.canceled_at_ms.is_some() {
            SubscriptionStatus::Canceled
        } else if self.effective_end().is_some_and(|end| now_ms >= end) {
            SubscriptionStatus::Expired
        } else if self.trial_ends_at_ms.is_some_and(|t| now_ms < t) {
            SubscriptionStatus::Trialing
        } else {
            SubscriptionStatus::Active
        }
    }
}

/// One entry of the snapshot's subscription feed: a subscription whose plan changed or
/// that ended recently. The edge lays it over the key records it has cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionChange {
    pub id: String,
    pub plan_id: PlanId,
    /// Unix ms when its keys stop (or stopped) working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at_ms: Option<u64>,
}

/// Applies a feed entry to a key record of that subscription (others are left alone).
pub fn apply_change(record: &mut KeyRecord, change: &SubscriptionChange) {
    if record.subscription_id.as_deref() != Some(change.id.as_str()) {
        return;
    }
    record.plan_id = Some(change.plan_id.clone());
    record.subscription_ends_at_ms = match (record.subscription_ends_at_ms, change.ends_at_ms) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// The 403 for a key whose subscription has ended at `now_ms`, if it has.
pub fn check_subscription(record: &KeyRecord, now_ms: u64) -> Result<(), Problem> {
    match (&record.subscription_id, record.subscription_ends_at_ms) {
        (Some(id), Some(end)) if now_ms >= end => Err(Problem::new(
            ProblemKind::NotEntitled,
            format!("the subscription `{id}` of this key has ended (canceled or expired); subscribe again to keep calling this API"),
        )
        .with_field("subscription")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use SubscriptionStatus::*;

    fn times(
        trial: Option<i64>,
        ends: Option<i64>,
        canceled: Option<i64>,
        trial_plan: bool,
    ) -> SubscriptionTimes {
        SubscriptionTimes {
            trial_ends_at_ms: trial,
            ends_at_ms: ends,
            canceled_at_ms: canceled,
            trial_plan,
        }
    }

    #[test]
    fn a_paid_trial_turns_active_a_trial_plan_expires() {
        let paid = times(Some(100), None, None, false);
        assert_eq!(paid.status(99), Trialing);
        assert_eq!(paid.status(100), Active);
        assert_eq!(paid.effective_end(), None);
        let trial = times(Some(100), None, None, true);
        assert_eq!(trial.status(99), Trialing);
        assert_eq!(trial.status(100), Expired);
        assert_eq!(times(None, Some(50), None, false).status(50), Expired);
        assert_eq!(times(Some(100), None, Some(10), false).status(11), Canceled);
        assert_eq!(
            times(Some(100), Some(80), Some(10), true).effective_end(),
            Some(10)
        );
    }

    #[test]
    fn the_feed_moves_plan_and_end_of_that_subscription_only() {
        let mut record: KeyRecord = serde_json::from_value(serde_json::json!({
            "key_id": "key_1", "key_hash": "a".repeat(64), "consumer_id": "c", "api_id": "a",
            "plan_id": "plan_old", "status": "active", "subscription_id": "sub_1",
            "subscription_ends_at_ms": 500
        }))
        .unwrap();
        let other = SubscriptionChange {
            id: "sub_2".into(),
            plan_id: PlanId::from("p"),
            ends_at_ms: Some(1),
        };
        apply_change(&mut record, &other);
        assert_eq!(record.plan_id, Some(PlanId::from("plan_old")));
        let change = SubscriptionChange {
            id: "sub_1".into(),
            plan_id: PlanId::from("plan_new"),
            ends_at_ms: Some(200),
        };
        apply_change(&mut record, &change);
        assert_eq!(record.plan_id, Some(PlanId::from("plan_new")));
        assert!(check_subscription(&record, 199).is_ok());
        let refused = check_subscription(&record, 200).unwrap_err();
        assert_eq!(refused.status, 403);
        assert!(refused.detail.contains("sub_1"));
    }

    proptest! {
        #[test]
        fn canceled_wins_and_live_means_before_the_end(
            trial in proptest::option::of(0i64..1_000),
            ends in proptest::option::of(0i64..1_000),
            canceled in proptest::option::of(0i64..1_000),
            trial_plan in any::<bool>(),
            now in 0i64..1_000,
        ) {
            let t = times(trial, ends, canceled, trial_plan);
            let status = t.status(now);
            prop_assert_eq!(status == Canceled, canceled.is_some());
            if status.is_live() {
                prop_assert!(t.effective_end().is_none_or(|end| now < end));
            }
            if status == Trialing {
                prop_assert!(trial.is_some_and(|t| now < t));
            }
        }
    }
}
