//! The OpenAPI 3 document of every origin endpoint, generated from the handlers'
//! annotations so it changes with the code.

use crate::admin::{api_settings, api_updates, certificates, plan_updates};
use crate::admin::{apis, consumers, key_lifecycle, key_views, keys, limits, plans, shedding};
use crate::admin::{policies, subscription_changes, subscriptions};
use crate::admin::{upstream_auth, usage, version_docs, version_lifecycle, versions};
use crate::oauth::{client_revocation, clients as oauth_clients, discovery, key_admin, token};
use crate::{audit, edge_api, health, tenancy, webhooks};
use axum::Json;
use tollgate_core::edge_auth::EDGE_SIGNATURE_HEADER;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The origin's API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "tollgate origin",
        description = "Admin API (operators, `Authorization: Bearer $TOLLGATE_ADMIN_TOKEN`) and \
                       edge-facing API (tollgate edges, HMAC-signed). Errors are RFC 9457 \
                       `application/problem+json`."
    ),
    paths(
        health::healthz,
        apis::create_api,
        apis::list_apis,
        apis::get_api,
        api_updates::put_api,
        api_updates::delete_api,
        api_settings::get_upstream_auth,
        api_settings::check_upstream_auth,
        api_settings::get_shedding,
        upstream_auth::set_upstream_auth,
        upstream_auth::delete_upstream_auth,
        versions::create_version,
        versions::list_api_versions,
        versions::get_api_version,
        version_lifecycle::publish_version,
        version_lifecycle::deprecate_version,
        version_lifecycle::retire_version,
        version_docs::get_version_spec,
        version_docs::get_version_changelog,
        version_docs::get_migration_guide,
        consumers::create_consumer,
        consumers::list_consumers,
        consumers::get_consumer,
        certificates::register_certificate,
        certificates::list_certificates,
        certificates::revoke_certificate,
        plans::create_plan,
        plans::list_plans,
        plans::get_plan,
        plan_updates::put_plan,
        plan_updates::delete_plan,
        keys::create_key,
        key_views::list_keys,
        key_views::get_key,
        keys::revoke_key,
        key_lifecycle::rotate_key,
        key_lifecycle::revoke_by_value,
        subscriptions::create_subscription,
        subscriptions::list_subscriptions,
        subscriptions::get_subscription,
        subscription_changes::change_plan,
        subscription_changes::cancel_subscription,
        usage::get_usage,
        crate::invoices::handlers::generate_invoice,
        crate::invoices::handlers::list_invoices,
        crate::invoices::handlers::get_invoice,
        crate::invoices::handlers::finalize_invoice,
        crate::invoices::handlers::pay_invoice,
        crate::invoices::handlers::void_invoice,
        crate::invoices::handlers::create_credit_note,
        crate::invoices::handlers::invoice_html,
        crate::payments::handlers::sync_invoice,
        crate::payments::webhook::stripe_webhook,
        crate::usage::aggregates::get_aggregates,
        crate::usage::alerts_api::get_alerts,
        crate::usage::reconcile::get_reconciliation,
        audit::api::list_audit,
        crate::mail::outbox::list_outbox,
        tenancy::admin::create_org,
        tenancy::admin::list_orgs,
        tenancy::admin::create_user,
        tenancy::admin::add_member,
        tenancy::admin::list_members,
        tenancy::admin::issue_user_token,
        tenancy::teams::list_team_subscriptions,
        tenancy::teams::list_team_keys,
        tenancy::teams::create_team_key,
        tenancy::teams::revoke_team_key,
        webhooks::endpoints::create_webhook,
        webhooks::endpoints::list_webhooks,
        webhooks::endpoints::get_webhook,
        webhooks::endpoints::delete_webhook,
        webhooks::endpoints::rotate_webhook_secret,
        limits::create_limit,
        limits::list_limits,
        limits::delete_limit,
        shedding::put_shedding,
        shedding::delete_shedding,
        crate::admin::validation::put_validation,
        crate::admin::validation::get_validation,
        crate::admin::validation::delete_validation,
        crate::admin::cache::put_cache,
        crate::admin::cache::get_cache,
        crate::admin::cache::delete_cache,
        crate::admin::cache_purge::purge_cache,
        policies::put_policies,
        policies::get_policies,
        policies::delete_policies,
        edge_api::get_snapshot,
        edge_api::get_key_record,
        crate::usage::ingest::ingest_usage,
        oauth_clients::create_client,
        oauth_clients::list_clients,
        client_revocation::revoke_client,
        key_admin::list_signing_keys,
        key_admin::rotate_signing_keys,
        token::issue_token,
        discovery::get_jwks,
        discovery::get_openid_configuration,
        discovery::get_authorization_server_metadata,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "apis", description = "APIs the edge routes"),
        (name = "versions", description = "API versions: OpenAPI documents, lifecycle, changelogs"),
        (name = "consumers", description = "Who calls the APIs"),
        (name = "plans", description = "Types, prices, trials, entitlements, rate limits and quotas"),
        (name = "subscriptions", description = "Consumers on plans for APIs; their keys follow them"),
        (name = "keys", description = "API keys issued to consumers"),
        (name = "usage", description = "Billable usage"),
        (name = "invoices", description = "Invoices per consumer per month: rating, life cycle, credit notes"),
        (name = "payments", description = "The payment provider's (Stripe's) signed webhooks"),
        (name = "mail", description = "The mail outbox: every mail the origin sent, with its SMTP delivery status"),
        (name = "audit", description = "Who changed what, as a verifiable hash chain"),
        (name = "tenancy", description = "Organisations, users, roles and user tokens"),
        (name = "teams", description = "Consumer teams: their subscriptions and shared keys"),
        (name = "webhooks", description = "Endpoints receiving the organisation's audit events, signed (Standard Webhooks)"),
        (name = "oauth", description = "OAuth2 client credentials: clients, signing keys, token endpoint, discovery"),
        (name = "edge", description = "Called only by tollgate edges"),
        (name = "health", description = "Liveness"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("TOLLGATE_ADMIN_TOKEN"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "edge_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                EDGE_SIGNATURE_HEADER,
                "`t=<unix seconds>,s=<hex HMAC-SHA256>` over the edge secret (docs/EDGE_API.md)",
            ))),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("OAuth client id and secret (client_secret_basic)"))
                    .build(),
            ),
        );
        add_access_answers(openapi);
    }
}

/// Every admin operation can answer 403 (the caller's role lacks the permission) and 404
/// (an id in the path belongs to nothing the caller can see); the access middleware
/// answers them before the handler runs, so they are documented here, once.
fn add_access_answers(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for (path, item) in openapi
        .paths
        .paths
        .iter_mut()
        .filter(|(p, _)| p.starts_with("/admin/"))
    {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            responses
                .entry("403".into())
                .or_insert_with(|| problem("Your role does not allow this").into());
            if path.contains('{') {
                responses.entry("404".into()).or_insert_with(|| {
                    problem("An id in the path names nothing you can see").into()
                });
            }
        }
    }
}

/// Serves the document.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_its_security() {
        let doc = ApiDoc::openapi();
        let json = serde_json::to_value(&doc).unwrap();
        for path in [
            "/healthz",
            "/admin/v1/apis",
            "/admin/v1/apis/{id}",
            "/admin/v1/apis/{id}/versions",
            "/admin/v1/apis/{id}/versions/{version}",
            "/admin/v1/apis/{id}/versions/{version}/publish",
            "/admin/v1/apis/{id}/versions/{version}/deprecate",
            "/admin/v1/apis/{id}/versions/{version}/retire",
            "/admin/v1/apis/{id}/versions/{version}/spec",
            "/admin/v1/apis/{id}/versions/{version}/changelog",
            "/admin/v1/apis/{id}/versions/{version}/migration-guide",
            "/admin/v1/consumers",
            "/admin/v1/consumers/{id}",
            "/admin/v1/plans",
            "/admin/v1/plans/{id}",
            "/admin/v1/keys",
            "/admin/v1/keys/{id}",
            "/admin/v1/usage",
            "/admin/v1/invoices/generate",
            "/admin/v1/invoices/{id}/credit-notes",
            "/admin/v1/usage/aggregates",
            "/admin/v1/usage/alerts",
            "/admin/v1/usage/reconciliation",
            "/edge/v1/usage",
            "/admin/v1/limits",
            "/admin/v1/limits/{id}",
            "/admin/v1/apis/{id}/shedding",
            "/admin/v1/apis/{id}/validation",
            "/admin/v1/apis/{id}/policies",
            "/edge/v1/snapshot",
            "/edge/v1/keys/{key_hash}",
        ] {
            assert!(json["paths"][path].is_object(), "{path} is not documented");
        }
        assert_eq!(
            json["paths"]["/admin/v1/apis"]["post"]["security"][0]["admin_token"],
            serde_json::json!([])
        );
        assert_eq!(
            json["components"]["securitySchemes"]["admin_token"]["scheme"],
            "bearer"
        );
        for schema in [
            "Problem",
            "CreateApi",
            "Api",
            "IssuedKey",
            "ConfigSnapshot",
            "KeyRecord",
            "AuthPolicy",
            "ApiVersion",
            "CreateVersion",
            "DeprecateVersion",
            "VersionChangelog",
            "VersionRoute",
            "CreateLimit",
            "Shedding",
            "ApiPolicies",
            "RateLimit",
        ] {
            assert!(
                json["components"]["schemas"][schema].is_object(),
                "{schema} missing"
            );
        }
    }
}
