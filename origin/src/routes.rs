//! The origin's HTTP surface in one place: which path goes to which handler, and the
//! layers (auth, body limit, tracing, problem fallbacks) around them.

use crate::admin::spec_upload::MAX_SPEC_BYTES;
use crate::admin::{api_settings, api_updates, certificates, plan_updates};
use crate::admin::{apis, consumers, key_lifecycle, key_views, keys, limits, plans, shedding};
use crate::admin::{policies, subscription_changes, subscriptions};
use crate::admin::{upstream_auth, usage, version_docs, version_lifecycle, versions};
use crate::db::Db;
use crate::error::{log_failures, method_not_allowed, no_route};
use crate::extract::MAX_BODY_BYTES;
use crate::oauth::{client_revocation, clients as oauth_clients, discovery, key_admin, token};
use crate::secrets::{AdminToken, EdgeSecret};
use crate::vault::MasterKeyring;
use crate::{audit, auth, edge_api, health, openapi, tenancy, webhooks};
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{delete, get, post};
use axum::Router;
use std::sync::Arc;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// The usage ledger's writer side (ingestion, folds, catch-up).
    pub ledger: Arc<crate::usage::ledger::Ledger>,
    pub admin_token: Arc<AdminToken>,
    pub edge_secret: Arc<EdgeSecret>,
    pub master_keys: Arc<MasterKeyring>,
    /// The payment provider, if one is configured.
    pub payments: crate::payments::Payments,
}

/// The whole origin as a router, ready to serve or to call in tests.
pub fn app(state: AppState) -> Router {
    let admin = Router::new()
        .route(
            "/admin/v1/apis",
            get(apis::list_apis).post(apis::create_api),
        )
        .route(
            "/admin/v1/apis/{id}",
            get(apis::get_api)
                .put(api_updates::put_api)
                .delete(api_updates::delete_api),
        )
        .route(
            "/admin/v1/apis/{id}/upstream-auth/check",
            post(api_settings::check_upstream_auth),
        )
        .route(
            "/admin/v1/apis/{id}/upstream-auth",
            get(api_settings::get_upstream_auth)
                .put(upstream_auth::set_upstream_auth)
                .delete(upstream_auth::delete_upstream_auth),
        )
        .route(
            "/admin/v1/apis/{id}/versions",
            get(versions::list_api_versions)
                .post(versions::create_version)
                .layer(DefaultBodyLimit::max(MAX_SPEC_BYTES)),
        )
        .route(
            "/admin/v1/apis/{id}/versions/{version}",
            get(versions::get_api_version),
        )
        .route(
            "/admin/v1/apis/{id}/versions/{version}/publish",
            post(version_lifecycle::publish_version),
        )
        .route(
            "/admin/v1/apis/{id}/versions/{version}/deprecate",
            post(version_lifecycle::deprecate_version),
        )
        .route(
            "/admin/v1/apis/{id}/versions/{version}/retire",
            post(version_lifecycle::retire_version),
        )
        .route(
            "/admin/v1/apis/{id}/versions/{version}/spec",
            get(version_docs::get_version_spec),
        )
        .route(
            "/admin/v1/apis/{id}/versions/{version}/changelog",
            get(version_docs::get_version_changelog),
        )
        .route(
            "/admin/v1/apis/{id}/versions/{version}/migration-guide",
            get(version_docs::get_migration_guide),
        )
        .route(
            "/admin/v1/consumers",
            get(consumers::list_consumers).post(consumers::create_consumer),
        )
        .route("/admin/v1/consumers/{id}", get(consumers::get_consumer))
        .route(
            "/admin/v1/consumers/{id}/certificates",
            get(certificates::list_certificates).post(certificates::register_certificate),
        )
        .route(
            "/admin/v1/consumers/{id}/certificates/{cert_id}",
            delete(certificates::revoke_certificate),
        )
        .route(
            "/admin/v1/plans",
            get(plans::list_plans).post(plans::create_plan),
        )
        .route(
            "/admin/v1/plans/{id}",
            get(plans::get_plan)
                .put(plan_updates::put_plan)
                .delete(plan_updates::delete_plan),
        )
        .route(
            "/admin/v1/keys",
            get(key_views::list_keys).post(keys::create_key),
        )
        .route(
            "/admin/v1/keys/revoke-by-value",
            post(key_lifecycle::revoke_by_value),
        )
        .route(
            "/admin/v1/keys/{id}/rotate",
            post(key_lifecycle::rotate_key),
        )
        .route(
            "/admin/v1/keys/{id}",
            get(key_views::get_key).delete(keys::revoke_key),
        )
        .route(
            "/admin/v1/subscriptions",
            get(subscriptions::list_subscriptions).post(subscriptions::create_subscription),
        )
        .route(
            "/admin/v1/subscriptions/{id}",
            get(subscriptions::get_subscription),
        )
        .route(
            "/admin/v1/subscriptions/{id}/change-plan",
            post(subscription_changes::change_plan),
        )
        .route(
            "/admin/v1/subscriptions/{id}/cancel",
            post(subscription_changes::cancel_subscription),
        )
        .route("/admin/v1/usage", get(usage::get_usage))
        .merge(crate::invoices::handlers::routes())
        .merge(crate::payments::handlers::routes())
        .route(
            "/admin/v1/usage/aggregates",
            get(crate::usage::aggregates::get_aggregates),
        )
        .route(
            "/admin/v1/usage/alerts",
            get(crate::usage::alerts_api::get_alerts),
        )
        .route(
            "/admin/v1/usage/reconciliation",
            get(crate::usage::reconcile::get_reconciliation),
        )
        .route("/admin/v1/audit", get(audit::list_audit))
        .merge(crate::mail::outbox::routes())
        .route(
            "/admin/v1/orgs",
            get(tenancy::admin::list_orgs).post(tenancy::admin::create_org),
        )
        .route(
            "/admin/v1/orgs/{id}/members",
            get(tenancy::admin::list_members).post(tenancy::admin::add_member),
        )
        .route("/admin/v1/users", post(tenancy::admin::create_user))
        .route(
            "/admin/v1/webhooks",
            get(webhooks::endpoints::list_webhooks).post(webhooks::endpoints::create_webhook),
        )
        .route(
            "/admin/v1/webhooks/{id}",
            get(webhooks::endpoints::get_webhook).delete(webhooks::endpoints::delete_webhook),
        )
        .route(
            "/admin/v1/webhooks/{id}/rotate-secret",
            post(webhooks::endpoints::rotate_webhook_secret),
        )
        .route(
            "/admin/v1/teams/{team_id}/subscriptions",
            get(tenancy::teams::list_team_subscriptions),
        )
        .route(
            "/admin/v1/teams/{team_id}/keys",
            get(tenancy::teams::list_team_keys).post(tenancy::teams::create_team_key),
        )
        .route(
            "/admin/v1/teams/{team_id}/keys/{key_id}",
            delete(tenancy::teams::revoke_team_key),
        )
        .route(
            "/admin/v1/users/{id}/tokens",
            post(tenancy::admin::issue_user_token),
        )
        .route(
            "/admin/v1/limits",
            get(limits::list_limits).post(limits::create_limit),
        )
        .route("/admin/v1/limits/{id}", delete(limits::delete_limit))
        .route(
            "/admin/v1/apis/{id}/policies",
            get(policies::get_policies)
                .put(policies::put_policies)
                .delete(policies::delete_policies),
        )
        .route(
            "/admin/v1/apis/{id}/shedding",
            get(api_settings::get_shedding)
                .put(shedding::put_shedding)
                .delete(shedding::delete_shedding),
        )
        .route(
            "/admin/v1/oauth/clients",
            get(oauth_clients::list_clients).post(oauth_clients::create_client),
        )
        .route(
            "/admin/v1/oauth/clients/{client_id}",
            delete(client_revocation::revoke_client),
        )
        .route(
            "/admin/v1/oauth/signing-keys",
            get(key_admin::list_signing_keys),
        )
        .route(
            "/admin/v1/oauth/signing-keys/rotate",
            post(key_admin::rotate_signing_keys),
        )
        .route(
            "/admin/v1/apis/{id}/validation",
            get(crate::admin::validation::get_validation)
                .put(crate::admin::validation::put_validation)
                .delete(crate::admin::validation::delete_validation),
        )
        .route(
            "/admin/v1/apis/{id}/cache",
            get(crate::admin::cache::get_cache)
                .put(crate::admin::cache::put_cache)
                .delete(crate::admin::cache::delete_cache),
        )
        .route(
            "/admin/v1/apis/{id}/cache/purge",
            post(crate::admin::cache_purge::purge_cache),
        )
        .method_not_allowed_fallback(method_not_allowed)
        // Outermost runs first: authenticate, then check role and tenant ownership.
        .route_layer(from_fn_with_state(
            state.clone(),
            tenancy::access::authorize,
        ))
        .route_layer(from_fn_with_state(state.clone(), auth::require_admin));
    let edge = Router::new()
        .route("/edge/v1/snapshot", get(edge_api::get_snapshot))
        .route("/edge/v1/keys/{key_hash}", get(edge_api::get_key_record))
        .route(
            "/edge/v1/usage",
            post(crate::usage::ingest::ingest_usage).layer(DefaultBodyLimit::disable()),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(from_fn_with_state(
            state.clone(),
            auth::require_edge_signature,
        ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/oauth/token", post(token::issue_token))
        .route(
            "/payments/stripe/webhook",
            post(crate::payments::webhook::stripe_webhook),
        )
        .route("/.well-known/jwks.json", get(discovery::get_jwks))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::get_openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::get_authorization_server_metadata),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .merge(admin)
        .merge(edge)
        .merge(crate::portal::router())
        .merge(crate::console::router())
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(log_failures))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MasterKey;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn test_app() -> (Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let state = AppState {
            ledger: crate::usage::ledger::Ledger::open(db.clone())
                .await
                .unwrap(),
            db,
            admin_token: Arc::new(AdminToken::new("admin")),
            edge_secret: Arc::new(EdgeSecret::new("edge")),
            master_keys: Arc::new(MasterKeyring::new(MasterKey::from_bytes([7; 32]), vec![])),
            payments: Default::default(),
        };
        (app(state), dir)
    }

    #[tokio::test]
    async fn routes_answer_without_a_socket() {
        let (router, _dir) = test_app().await;
        let health = Request::get("/healthz").body(Body::empty()).unwrap();
        let response = router.clone().oneshot(health).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let nowhere = Request::get("/nowhere").body(Body::empty()).unwrap();
        let response = router.oneshot(nowhere).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}
