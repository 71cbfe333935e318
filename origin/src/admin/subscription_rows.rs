//! Subscriptions as stored and as shown: the row (with its plan's type, which the status
//! depends on), the answer shape with the status at the time of the answer, and look-ups.

use crate::admin::plan_terms::PlanType;
use crate::clock::format_rfc3339;
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};
use tollgate_core::subscription::SubscriptionTimes;
use utoipa::ToSchema;

/// A subscription as the admin API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Subscription {
    pub id: String,
    pub consumer_id: String,
    pub api_id: String,
    pub plan_id: String,
    /// `trialing`, `active`, `canceled` or `expired` (at the time of the answer).
    #[schema(pattern = "^(trialing|active|canceled|expired)$")]
    pub status: String,
    /// RFC 3339 timestamps.
    pub started_at: String,
    pub trial_ends_at: Option<String>,
    /// When its keys stop working: the asked end, a trial plan's trial end or the cancellation.
    pub ends_at: Option<String>,
    pub canceled_at: Option<String>,
    pub created_at: String,
}

/// A stored subscription with its plan's type.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: String,
    pub consumer_id: String,
    pub api_id: String,
    pub plan_id: String,
    pub started_at: i64,
    pub trial_ends_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub created_at: i64,
    pub plan_type: Option<String>,
}

/// Subscriptions joined with their plan's type.
pub const SELECT_SUBSCRIPTIONS: &str =
    "SELECT s.id, s.consumer_id, s.api_id, s.plan_id, s.started_at, \
     s.trial_ends_at, s.ends_at, s.canceled_at, s.created_at, p.plan_type \
     FROM subscriptions s JOIN plans p ON p.id = s.plan_id";

impl SubscriptionRow {
    /// The times its status follows from.
    pub fn times(&self) -> SubscriptionTimes {
        SubscriptionTimes {
            trial_ends_at_ms: self.trial_ends_at,
            ends_at_ms: self.ends_at,
            canceled_at_ms: self.canceled_at,
            trial_plan: PlanType::parse(self.plan_type.as_deref()) == PlanType::Trial,
        }
    }

    /// The answer shape at `now`.
    pub fn view(&self, now: i64) -> Subscription {
        let times = self.times();
        Subscription {
            id: self.id.clone(),
            consumer_id: self.consumer_id.clone(),
            api_id: self.api_id.clone(),
            plan_id: self.plan_id.clone(),
            status: times.status(now).as_str().to_owned(),
            started_at: format_rfc3339(self.started_at),
            trial_ends_at: self.trial_ends_at.map(format_rfc3339),
            ends_at: times.effective_end().map(format_rfc3339),
            canceled_at: self.canceled_at.map(format_rfc3339),
            created_at: format_rfc3339(self.created_at),
        }
    }
}

/// One subscription by id.
pub async fn load<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<SubscriptionRow>, AppError> {
    Ok(
        sqlx::query_as(&format!("{SELECT_SUBSCRIPTIONS} WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}
