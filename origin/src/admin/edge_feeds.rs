//! What the snapshot tells the edge about plans and subscriptions: each plan's
//! entitlements (with OpenAPI operationIds resolved into method + path rules scoped to the
//! API and major that declare them), and the feed of subscriptions changed recently.

use crate::admin::plan_terms::Entitlements;
use crate::admin::subscriptions::{SubscriptionRow, SELECT_SUBSCRIPTIONS};
use crate::error::AppError;
use serde_json::Value;
use std::collections::HashMap;
use tollgate_core::entitlement::{parse_operation, OperationRef, OperationRule, PlanEntitlements};
use tollgate_core::openapi::operations::METHODS;
use tollgate_core::subscription::SubscriptionChange;
use tollgate_core::{ApiId, PlanId};

/// operationId → rules, per organisation (`None`: the platform's own APIs).
type OperationIndex = HashMap<(Option<String>, String), Vec<OperationRule>>;

/// Indexes the operationIds of every live version's document.
async fn index_operations(db: &crate::db::Db) -> Result<OperationIndex, AppError> {
    let rows: Vec<(String, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT v.api_id, v.major, v.spec, a.org_id FROM api_versions v JOIN apis a ON a.id = v.api_id \
         WHERE v.status IN ('published', 'deprecated') ORDER BY v.api_id, v.version",
    )
    .fetch_all(db)
    .await?;
    let mut index = OperationIndex::new();
    for (api_id, major, spec, org) in rows {
        let Ok(doc) = serde_json::from_str::<Value>(&spec) else {
            continue;
        };
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            continue;
        };
        for (template, item) in paths {
            for method in METHODS {
                let Some(id) = item
                    .get(method)
                    .and_then(|op| op.get("operationId"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                index
                    .entry((org.clone(), id.to_owned()))
                    .or_default()
                    .push(OperationRule {
                        method: method.to_ascii_uppercase(),
                        path: template.clone(),
                        api_id: Some(ApiId(api_id.clone())),
                        major: u64::try_from(major).ok(),
                    });
            }
        }
    }
    Ok(index)
}

/// Every plan's entitlements as the edge enforces them (plans without any are left out).
/// An operationId no live version declares allows nothing.
pub async fn load_entitlements(db: &crate::db::Db) -> Result<Vec<PlanEntitlements>, AppError> {
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, name, entitlements_json, org_id FROM plans WHERE entitlements_json IS NOT NULL ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await?;
    let mut index: Option<OperationIndex> = None;
    let mut out = Vec::with_capacity(rows.len());
    for (id, name, json, org) in rows {
        let Ok(e) = serde_json::from_str::<Entitlements>(&json) else {
            tracing::error!(plan_id = %id, "stored entitlements do not parse; plan left unrestricted");
            continue;
        };
        let mut operations = None;
        if let Some(ops) = &e.operations {
            let mut rules = Vec::new();
            for op in ops {
                match parse_operation(op) {
                    Ok(OperationRef::Route { method, path }) => rules.push(OperationRule {
                        method,
                        path,
                        api_id: None,
                        major: None,
                    }),
                    Ok(OperationRef::OperationId(op_id)) => {
                        if index.is_none() {
                            index = Some(index_operations(db).await?);
                        }
                        let found = index.as_ref().and_then(|i| i.get(&(org.clone(), op_id)));
                        rules.extend(found.into_iter().flatten().cloned());
                    }
                    Err(_) => {
                        tracing::error!(plan_id = %id, "stored operation `{op}` does not parse; it allows nothing")
                    }
                }
            }
            operations = Some(rules);
        }
        out.push(PlanEntitlements {
            plan_id: PlanId(id),
            name,
            apis: e.apis.map(|a| a.into_iter().map(ApiId).collect()),
            versions: e.versions,
            operations,
            features: e.features,
        });
    }
    Ok(out)
}

/// Subscriptions whose plan changed or that were canceled since `since_ms`.
pub async fn load_subscription_feed(
    db: &crate::db::Db,
    since_ms: i64,
) -> Result<Vec<SubscriptionChange>, AppError> {
    let rows: Vec<SubscriptionRow> = sqlx::query_as(&format!(
        "{SELECT_SUBSCRIPTIONS} WHERE s.changed_at >= $1 ORDER BY s.changed_at, s.id"
    ))
    .bind(since_ms)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| SubscriptionChange {
            ends_at_ms: row
                .times()
                .effective_end()
                .and_then(|ms| u64::try_from(ms).ok()),
            id: row.id,
            plan_id: PlanId(row.plan_id),
        })
        .collect())
}
