//! Quota alerts from the ledger: after a batch of usage commits, every (key, plan, period)
//! it touched is re-counted from `usage_events` (billable events, the plan's quota
//! period) and each threshold reached (80 %, 100 %) is inserted once into `usage_alerts`
//! (unique on consumer, key, limit, period, threshold). A new alert is written to the audit
//! log in the same transaction, under the consumer's organisation, so the webhook task
//! delivers it signed as `quota.warning` / `quota.exhausted` to that organisation's
//! endpoints.

use crate::admin::plan_limits::anchor_ms;
use crate::admin::plans::{Quota, QuotaPeriod};
use crate::audit::{self, Actor, Change};
use crate::clock::{format_rfc3339, now_ms};
use crate::db::{self, Db};
use crate::error::AppError;
use crate::ids::prefixed_id;
use crate::tenancy::Tenant;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use tollgate_core::limits::calendar::Period;
use tollgate_core::rbac::Role;
use tollgate_core::usage::alerts::{periods_spanned, reached_thresholds, KeySpan, Threshold};
use tollgate_core::usage::cover::cover;
use utoipa::ToSchema;

/// Who the audit log names for alerts.
pub const ALERT_ACTOR: &str = "usage-meter";

/// One alert, as listed and as sent in webhooks (`data.after`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotaAlert {
    pub id: String,
    /// `quota.warning` (80 %) or `quota.exhausted` (100 %).
    #[serde(rename = "type")]
    pub kind: String,
    pub consumer_id: String,
    pub key_id: String,
    pub plan_id: String,
    /// The enforced policy, `<plan id>.quota`.
    pub limit_id: String,
    pub period_start: String,
    pub period_end: String,
    /// 80 or 100.
    pub threshold: i64,
    /// Billable requests in the period when the alert fired.
    pub used: i64,
    pub quota: i64,
    pub created_at: String,
}

/// The columns [`QuotaAlert::from_row`] reads, in order.
pub const ALERT_COLUMNS: &str = "id, consumer_id, key_id, plan_id, limit_id, period_start, \
     period_end, threshold, used, quota, created_at";

type AlertRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

impl QuotaAlert {
    /// From a row of [`ALERT_COLUMNS`].
    pub fn from_row(r: AlertRow) -> QuotaAlert {
        let (id, consumer_id, key_id, plan_id, limit_id, start, end, threshold, used, quota, at) =
            r;
        QuotaAlert {
            id,
            kind: if threshold >= 100 {
                Threshold::Exhausted
            } else {
                Threshold::Warning
            }
            .event_type()
            .to_owned(),
            consumer_id,
            key_id,
            plan_id,
            limit_id,
            period_start: format_rfc3339(start),
            period_end: format_rfc3339(end),
            threshold,
            used,
            quota,
            created_at: format_rfc3339(at),
        }
    }
}

/// Lists alerts, newest first; `consumer_id` and `org_id` narrow it.
pub async fn list_alerts(
    ledger: &super::ledger::Ledger,
    consumer_id: Option<&str>,
    org_id: Option<&str>,
    limit: i64,
) -> Result<Vec<QuotaAlert>, sqlx::Error> {
    // Alerts are checked as events are folded: fold what is pending so none is missing.
    super::fold::catch_up(ledger).await?;
    let db = ledger.db();
    let mut sql = format!("SELECT {ALERT_COLUMNS} FROM usage_alerts WHERE 1 = 1");
    let mut binds = Vec::new();
    for (col, v) in [("consumer_id", consumer_id), ("org_id", org_id)] {
        if let Some(v) = v {
            binds.push(v.to_owned());
            sql.push_str(&format!(" AND {col} = ${}", binds.len()));
        }
    }
    sql.push_str(&format!(
        " ORDER BY created_at DESC, threshold DESC, id LIMIT ${}",
        binds.len() + 1
    ));
    let mut q = sqlx::query_as::<_, AlertRow>(&sql);
    for b in binds {
        q = q.bind(b);
    }
    let rows = q.bind(limit).fetch_all(db).await?;
    Ok(rows.into_iter().map(QuotaAlert::from_row).collect())
}

/// A quota use to re-count: one key on one plan in one period.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Use {
    consumer_id: String,
    key_id: String,
    plan_id: String,
    start: i64,
    end: i64,
}

fn core_period(p: QuotaPeriod) -> Period {
    match p {
        QuotaPeriod::Hour => Period::Hour,
        QuotaPeriod::Day => Period::Day,
        QuotaPeriod::Month => Period::Month,
    }
}

async fn plan_quota(db: &Db, plan_id: &str) -> Result<Option<Quota>, AppError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT quota_json FROM plans WHERE id = $1")
            .bind(plan_id)
            .fetch_optional(db)
            .await?;
    Ok(row
        .and_then(|(json,)| json)
        .and_then(|j| serde_json::from_str(&j).ok()))
}

/// Re-checks the quotas of the keys of just-folded events (their spans); records new
/// alerts. Errors are logged, never returned: the events are already safely in the ledger
/// and the aggregates, and the next fold for the same key re-checks (thresholds are
/// "reached", not "crossed").
pub async fn check_quotas(db: &Db, spans: &[KeySpan]) {
    if let Err(e) = try_check_quotas(db, spans).await {
        tracing::warn!(error = %e, "quota alert check failed; the next batch re-checks");
    }
}

async fn try_check_quotas(db: &Db, spans: &[KeySpan]) -> Result<(), AppError> {
    let mut quotas: HashMap<String, Option<Quota>> = HashMap::new();
    let mut uses = BTreeSet::new();
    for span in spans {
        let plan = &span.plan_id;
        if !quotas.contains_key(plan) {
            quotas.insert(plan.clone(), plan_quota(db, plan).await?);
        }
        let Some(quota) = &quotas[plan] else { continue };
        let anchor = anchor_ms(quota.anchor.as_ref()).unwrap_or(0);
        let period = core_period(quota.period);
        for (start, end) in periods_spanned(period, anchor, span.first_ms, span.last_ms) {
            uses.insert(Use {
                consumer_id: span.consumer_id.clone(),
                key_id: span.key_id.clone(),
                plan_id: plan.clone(),
                start,
                end,
            });
        }
    }
    for u in uses {
        let Some(quota) = quotas[&u.plan_id].as_ref() else {
            continue;
        };
        let (fired,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM usage_alerts WHERE consumer_id = $1 AND key_id = $2 \
             AND limit_id = $3 AND period_start = $4",
        )
        .bind(&u.consumer_id)
        .bind(&u.key_id)
        .bind(format!("{}.quota", u.plan_id))
        .bind(u.start)
        .fetch_one(db)
        .await?;
        if fired >= Threshold::ALL.len() as i64 {
            continue;
        }
        let used = used_in_period(db, &u).await?;
        let reached = reached_thresholds(u64::try_from(used).unwrap_or(0), quota.requests);
        if !reached.is_empty() {
            record_alerts(db, &u, used, quota.requests, &reached).await?;
        }
    }
    Ok(())
}

/// Billable events of the key on the plan in `[start, end)`: whole hours and minutes from
/// the roll-ups (current: this runs after the fold), the edges under a minute (anchored
/// periods) from the ledger itself.
async fn used_in_period(db: &Db, u: &Use) -> Result<i64, AppError> {
    let mut total: i64 = 0;
    for piece in cover(u.start, u.end) {
        let sql = match piece.granularity {
            Some(g) => format!(
                "SELECT CAST(COALESCE(SUM(billable), 0) AS BIGINT) FROM usage_rollups \
                 WHERE granularity = '{}' AND consumer_id = $1 AND key_id = $2 AND plan_id = $3 \
                 AND bucket_start >= $4 AND bucket_start < $5",
                g.as_str()
            ),
            None => "SELECT COUNT(*) FROM usage_events WHERE consumer_id = $1 AND key_id = $2 \
                     AND plan_id = $3 AND billable = 1 AND time_ms >= $4 AND time_ms < $5"
                .to_owned(),
        };
        let (n,): (i64,) = sqlx::query_as(&sql)
            .bind(&u.consumer_id)
            .bind(&u.key_id)
            .bind(&u.plan_id)
            .bind(piece.from)
            .bind(piece.to)
            .fetch_one(db)
            .await?;
        total = total.saturating_add(n);
    }
    Ok(total)
}

async fn record_alerts(
    db: &Db,
    u: &Use,
    used: i64,
    quota: u64,
    reached: &[Threshold],
) -> Result<(), AppError> {
    let mut tx = db::begin(db).await?;
    let org: Option<(Option<String>,)> =
        sqlx::query_as("SELECT org_id FROM consumers WHERE id = $1")
            .bind(&u.consumer_id)
            .fetch_optional(&mut *tx)
            .await?;
    let org = org.and_then(|(o,)| o);
    let actor = Actor {
        who: ALERT_ACTOR.to_owned(),
        tenant: match &org {
            Some(id) => Tenant::Org {
                id: id.clone(),
                role: Role::Viewer,
            },
            None => Tenant::Platform,
        },
    };
    let now = now_ms();
    let limit_id = format!("{}.quota", u.plan_id);
    let quota = i64::try_from(quota).unwrap_or(i64::MAX);
    for t in reached {
        let id = prefixed_id("qal");
        let inserted: Option<(String,)> = sqlx::query_as(
            "INSERT INTO usage_alerts (id, consumer_id, key_id, plan_id, limit_id, period_start, \
             period_end, threshold, used, quota, created_at, org_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (consumer_id, key_id, limit_id, period_start, threshold) DO NOTHING RETURNING id",
        )
        .bind(&id)
        .bind(&u.consumer_id)
        .bind(&u.key_id)
        .bind(&u.plan_id)
        .bind(&limit_id)
        .bind(u.start)
        .bind(u.end)
        .bind(i64::from(t.percent()))
        .bind(used)
        .bind(quota)
        .bind(now)
        .bind(org.as_deref())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            continue;
        }
        let alert = QuotaAlert::from_row((
            id.clone(),
            u.consumer_id.clone(),
            u.key_id.clone(),
            u.plan_id.clone(),
            limit_id.clone(),
            u.start,
            u.end,
            i64::from(t.percent()),
            used,
            quota,
            now,
        ));
        audit::record(
            &mut tx,
            &actor,
            now,
            Change {
                action: t.event_type(),
                target_type: "consumer",
                target_id: &u.consumer_id,
                before: None,
                after: audit::snapshot_of(&alert),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
