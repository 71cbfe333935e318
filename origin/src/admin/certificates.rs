//! mTLS client certificates of consumers: a binding of a certificate's SHA-256
//! fingerprint to a consumer and an API (optionally a subscription), stored as a key whose
//! hash is `tollgate_core::mtls` (SHA-256 of `mtls:<hex>`), so the edge authenticates
//! certificate callers through the key look-up, caches, revocation feed and limits.
//! The display prefix holds `mtls:<fingerprint>` (a fingerprint is not a secret).

use crate::admin::key_lifecycle::revoke_in;
use crate::admin::key_owner::{key_owner, KeyOwner};
use crate::admin::keys::CreateKey;
use crate::audit::{self, Actor};
use crate::clock::{format_rfc3339, now_ms};
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::ids::prefixed_id;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use tollgate_core::mtls::CertFingerprint;
use utoipa::ToSchema;

const PREFIX: &str = "mtls:";

/// Body of `POST /admin/v1/consumers/{id}/certificates`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCertificate {
    /// SHA-256 fingerprint of the client certificate: 64 hex characters, optionally as
    /// `AB:CD:…` pairs (`openssl x509 -noout -fingerprint -sha256`).
    #[schema(min_length = 64, max_length = 95)]
    pub fingerprint_sha256: String,
    /// The API the certificate opens (optional when `subscription_id` is given).
    #[serde(default)]
    pub api_id: Option<String>,
    /// A live subscription of the consumer: the certificate follows its plan and end.
    #[serde(default)]
    pub subscription_id: Option<String>,
}

/// A registered certificate.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Certificate {
    pub id: String,
    pub consumer_id: String,
    pub api_id: String,
    pub plan_id: Option<String>,
    pub subscription_id: Option<String>,
    /// Lower-case hex.
    pub fingerprint_sha256: String,
    /// `active` or `revoked`.
    #[schema(pattern = "^(active|revoked)$")]
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    pub revoked_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CertRow {
    id: String,
    consumer_id: String,
    api_id: String,
    plan_id: Option<String>,
    subscription_id: Option<String>,
    display_prefix: String,
    status: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<CertRow> for Certificate {
    fn from(r: CertRow) -> Certificate {
        Certificate {
            id: r.id,
            consumer_id: r.consumer_id,
            api_id: r.api_id,
            plan_id: r.plan_id,
            subscription_id: r.subscription_id,
            fingerprint_sha256: r.display_prefix.trim_start_matches(PREFIX).to_owned(),
            status: r.status,
            created_at: format_rfc3339(r.created_at),
            revoked_at: r.revoked_at.map(format_rfc3339),
        }
    }
}

const SELECT_CERTS: &str = "SELECT id, consumer_id, api_id, plan_id, subscription_id, display_prefix, status, created_at, revoked_at FROM keys";

/// The owner of the binding: the subscription's consumer and API, or the path's consumer
/// and the named API; refusals name the member.
async fn owner_of(
    state: &AppState,
    actor: &Actor,
    consumer_id: &str,
    body: &RegisterCertificate,
    now: i64,
) -> Result<KeyOwner, AppError> {
    let ask = CreateKey {
        subscription_id: body.subscription_id.clone(),
        consumer_id: body
            .subscription_id
            .is_none()
            .then(|| consumer_id.to_owned()),
        api_id: if body.subscription_id.is_none() {
            body.api_id.clone()
        } else {
            None
        },
        plan_id: None,
        expires_at: None,
        scopes: Vec::new(),
    };
    let owner = key_owner(state, actor, &ask, now).await?;
    if owner.consumer_id != consumer_id {
        return Err(AppError::invalid(
            "subscription_id",
            "belongs to another consumer",
        ));
    }
    if body.api_id.as_ref().is_some_and(|api| *api != owner.api_id) {
        return Err(AppError::invalid(
            "api_id",
            "differs from the subscription's API",
        ));
    }
    Ok(owner)
}

/// Registers a client certificate for a consumer.
#[utoipa::path(
    post,
    path = "/admin/v1/consumers/{id}/certificates",
    tag = "consumers",
    params(("id" = String, Path, description = "Consumer id")),
    request_body = RegisterCertificate,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Registered", body = Certificate),
        (status = 400, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "This fingerprint is already registered, or the subscription is not live", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A member is missing, invalid or names nothing (named in `field`)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn register_certificate(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(consumer_id): Path<String>,
    Json(body): Json<RegisterCertificate>,
) -> Result<(StatusCode, axum::Json<Certificate>), AppError> {
    let fingerprint = CertFingerprint::parse(&body.fingerprint_sha256)
        .map_err(|e| AppError::invalid("fingerprint_sha256", e.to_string()))?;
    let now = now_ms();
    let owner = owner_of(&state, &actor, &consumer_id, &body, now).await?;
    let id = prefixed_id("crt");
    let display = format!("{PREFIX}{}", fingerprint.as_str());
    let mut tx = crate::db::begin(&state.db).await?;
    let inserted = sqlx::query(
        "INSERT INTO keys (id, consumer_id, api_id, plan_id, key_hash, display_prefix, status, created_at, expires_at, identity_id, scopes_json, org_id, subscription_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, NULL, $1, NULL, (SELECT org_id FROM consumers WHERE id = $2), $8)",
    )
    .bind(&id)
    .bind(&owner.consumer_id)
    .bind(&owner.api_id)
    .bind(owner.plan_id.as_deref())
    .bind(fingerprint.key_hash().as_str())
    .bind(&display)
    .bind(now)
    .bind(owner.subscription_id.as_deref())
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        return Err(if crate::admin::fields::is_unique_violation(&e) {
            AppError::Conflict("this certificate is already registered (possibly revoked); a certificate binds to one consumer and API".into())
        } else {
            e.into()
        });
    }
    // A new binding may replace a cached negative answer at the edge; bumping the version
    // is not needed for that (negative answers expire in seconds), so none here.
    let cert = Certificate {
        id: id.clone(),
        consumer_id: owner.consumer_id,
        api_id: owner.api_id,
        plan_id: owner.plan_id,
        subscription_id: owner.subscription_id,
        fingerprint_sha256: fingerprint.as_str().to_owned(),
        status: "active".into(),
        created_at: format_rfc3339(now),
        revoked_at: None,
    };
    let change = audit::Change {
        action: "certificate.register",
        target_type: "key",
        target_id: &id,
        before: None,
        after: audit::snapshot_of(&cert),
    };
    audit::record(&mut tx, &actor, now, change).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(cert)))
}

/// Lists a consumer's client certificates.
#[utoipa::path(
    get,
    path = "/admin/v1/consumers/{id}/certificates",
    tag = "consumers",
    params(("id" = String, Path, description = "Consumer id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The certificates, oldest first", body = Vec<Certificate>),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_certificates(
    State(state): State<AppState>,
    Path(consumer_id): Path<String>,
) -> Result<axum::Json<Vec<Certificate>>, AppError> {
    let rows: Vec<CertRow> = sqlx::query_as(&format!(
        "{SELECT_CERTS} WHERE consumer_id = $1 AND display_prefix LIKE 'mtls:%' ORDER BY created_at, id"
    ))
    .bind(consumer_id)
    .fetch_all(&state.db)
    .await?;
    Ok(axum::Json(
        rows.into_iter().map(Certificate::from).collect(),
    ))
}

/// Revokes a certificate: the edge refuses it within the refresh window. Idempotent.
#[utoipa::path(
    delete,
    path = "/admin/v1/consumers/{id}/certificates/{cert_id}",
    tag = "consumers",
    params(("id" = String, Path, description = "Consumer id"), ("cert_id" = String, Path, description = "Certificate id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "The consumer has no certificate with this id", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_certificate(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((consumer_id, cert_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let found: Option<CertRow> = sqlx::query_as(&format!(
        "{SELECT_CERTS} WHERE id = $1 AND consumer_id = $2 AND display_prefix LIKE 'mtls:%'"
    ))
    .bind(&cert_id)
    .bind(&consumer_id)
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_none() {
        return Err(AppError::NotFound {
            what: "certificate",
            id: cert_id,
        });
    }
    if revoke_in(&mut tx, &cert_id, now).await? {
        let change = audit::Change {
            action: "certificate.revoke",
            target_type: "key",
            target_id: &cert_id,
            before: Some(serde_json::json!({ "status": "active" })),
            after: Some(serde_json::json!({ "status": "revoked", "revoked_at": now })),
        };
        audit::record(&mut tx, &actor, now, change).await?;
    }
    // `revoke_in` bumped the config version: the hash rides the `revoked` feed.
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
