//! A plan's commercial terms beside its limits: its type (free, trial, paid, custom), the
//! trial length, the price billing will charge (exact money: integer minor units and an
//! ISO 4217 currency) and its entitlements. [`check_terms`] is the one validation, called
//! by every handler that writes a plan; each refusal is a 422 naming the member.

use crate::admin::fields::Table;
use crate::admin::plan_price::check_price;
pub use crate::admin::plan_price::{Price, PriceInterval};
use crate::audit::Actor;
use crate::error::AppError;
use crate::tenancy::scope::visible;
use serde::{Deserialize, Serialize};
use tollgate_core::entitlement::parse_operation;
use utoipa::ToSchema;

/// Longest trial.
pub const MAX_TRIAL_DAYS: u64 = 365;
/// Most entries in one entitlement list.
const MAX_ENTRIES: usize = 100;

/// What kind of plan: `free`, `trial` (ends after `trial_days`), `paid` or `custom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlanType {
    Free,
    Trial,
    Paid,
    #[default]
    Custom,
}

impl PlanType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanType::Free => "free",
            PlanType::Trial => "trial",
            PlanType::Paid => "paid",
            PlanType::Custom => "custom",
        }
    }

    /// Parses a stored name (`None`, from before plan types: `custom`).
    pub fn parse(stored: Option<&str>) -> PlanType {
        match stored {
            Some("free") => PlanType::Free,
            Some("trial") => PlanType::Trial,
            Some("paid") => PlanType::Paid,
            _ => PlanType::Custom,
        }
    }
}

/// What a plan's keys may call. Each list is a whitelist; leave a list out to allow all.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Entitlements {
    /// API ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apis: Option<Vec<String>>,
    /// Major versions, e.g. `[1, 2]` (APIs without versions are not restricted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<u64>>,
    /// `METHOD /path/{param}` (after the base path and `/v{major}`) or an OpenAPI operationId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Sent to the upstream in `x-tollgate-features` (each 1–64 of `a-z0-9._:-`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

impl Entitlements {
    /// Whether the edge has anything to enforce or carry for this plan.
    pub fn is_empty(&self) -> bool {
        self.apis.is_none()
            && self.versions.is_none()
            && self.operations.is_none()
            && self.features.is_empty()
    }
}

/// A plan's terms as written by the operator.
#[derive(Debug, Clone, Default)]
pub struct PlanTerms {
    pub plan_type: Option<PlanType>,
    pub trial_days: Option<u64>,
    pub price: Option<Price>,
    pub entitlements: Option<Entitlements>,
}

pub(crate) fn invalid(field: &str, detail: impl Into<String>) -> AppError {
    AppError::invalid(field, detail)
}

fn check_list<T: Ord>(field: &str, list: Option<Vec<T>>) -> Result<Option<Vec<T>>, AppError> {
    let Some(mut list) = list else {
        return Ok(None);
    };
    if list.is_empty() {
        return Err(invalid(
            field,
            "must not be empty; leave it out to allow all",
        ));
    }
    if list.len() > MAX_ENTRIES {
        return Err(invalid(field, format!("at most {MAX_ENTRIES} entries")));
    }
    list.sort();
    list.dedup();
    Ok(Some(list))
}

async fn check_entitlements(
    db: &crate::db::Db,
    actor: &Actor,
    e: Entitlements,
) -> Result<Entitlements, AppError> {
    let apis = check_list("entitlements.apis", e.apis)?;
    for id in apis.iter().flatten() {
        if !visible(db, Table::Apis, id, actor).await? {
            return Err(invalid(
                "entitlements.apis",
                format!("no API has the id `{id}`"),
            ));
        }
    }
    let versions = check_list("entitlements.versions", e.versions)?;
    if versions.iter().flatten().any(|&m| m > 1_000_000) {
        return Err(invalid(
            "entitlements.versions",
            "a major version is at most 1000000",
        ));
    }
    let mut operations = check_list("entitlements.operations", e.operations)?;
    for op in operations.iter_mut().flatten() {
        // Normalised (`get  /x` → `GET /x`) so equal rules compare equal.
        *op = match parse_operation(op) {
            Ok(tollgate_core::entitlement::OperationRef::Route { method, path }) => {
                format!("{method} {path}")
            }
            Ok(tollgate_core::entitlement::OperationRef::OperationId(id)) => id,
            Err(err) => {
                return Err(invalid(
                    "entitlements.operations",
                    format!("`{}`: {err}", op.chars().take(80).collect::<String>()),
                ))
            }
        };
    }
    let features = check_list(
        "entitlements.features",
        Some(e.features).filter(|f| !f.is_empty()),
    )?
    .unwrap_or_default();
    let ok = |f: &str| {
        !f.is_empty()
            && f.len() <= 64
            && f.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._:-".contains(&b))
    };
    if let Some(bad) = features.iter().find(|f| !ok(f)) {
        let shown: String = bad.chars().take(80).collect();
        return Err(invalid(
            "entitlements.features",
            format!("`{shown}` is not a feature: use 1–64 of a-z, 0-9, `.`, `_`, `:`, `-`"),
        ));
    }
    Ok(Entitlements {
        apis,
        versions,
        operations,
        features,
    })
}

/// Checks and normalises a plan's terms: the type defaults to `custom`; a `trial` plan
/// needs `trial_days`; `free` and `trial` plans have no price, `paid` ones must have one.
pub async fn check_terms(
    db: &crate::db::Db,
    actor: &Actor,
    terms: PlanTerms,
) -> Result<PlanTerms, AppError> {
    let plan_type = terms.plan_type.unwrap_or_default();
    match (plan_type, terms.trial_days) {
        (PlanType::Trial, None) => {
            return Err(invalid(
                "trial_days",
                "a trial plan needs its length in days",
            ))
        }
        (PlanType::Free, Some(_)) => return Err(invalid("trial_days", "a free plan has no trial")),
        (_, Some(d)) if !(1..=MAX_TRIAL_DAYS).contains(&d) => {
            return Err(invalid(
                "trial_days",
                format!("must be between 1 and {MAX_TRIAL_DAYS}"),
            ))
        }
        _ => {}
    }
    let price = check_price(plan_type, terms.price)?;
    let entitlements = match terms.entitlements {
        Some(e) => Some(check_entitlements(db, actor, e).await?).filter(|e| !e.is_empty()),
        None => None,
    };
    Ok(PlanTerms {
        plan_type: Some(plan_type),
        trial_days: terms.trial_days,
        price,
        entitlements,
    })
}
