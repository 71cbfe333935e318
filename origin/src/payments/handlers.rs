//! `POST /admin/v1/invoices/{id}/sync`: sends a finalized invoice to the payment provider,
//! or retries a failed send (idempotent: a synced invoice is answered as it is).

use crate::audit::Actor;
use crate::core_schemas::ProblemDoc;
use crate::error::AppError;
use crate::extract::Path;
use crate::invoices::store::Invoice;
use crate::routes::AppState;
use axum::extract::State;
use axum::Extension;

/// Sends a finalized invoice to the payment provider or resumes a failed send. The answer's
/// `payment.sync_state` says how it went (`failed` with `payment.last_error` when the
/// provider refused or could not be reached; call again to retry).
#[utoipa::path(
    post,
    path = "/admin/v1/invoices/{id}/sync",
    tag = "invoices",
    params(("id" = String, Path, description = "Invoice id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The invoice with its payment sync state", body = Invoice),
        (status = 401, description = "No or wrong admin token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No invoice has this id", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "No payment provider is configured, the invoice is not finalized, or a send is under way", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn sync_invoice(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<axum::Json<Invoice>, AppError> {
    super::sync::sync_invoice(&state, &actor, &id)
        .await
        .map(axum::Json)
}

/// The admin routes of payments, merged into the admin router.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/admin/v1/invoices/{id}/sync",
        axum::routing::post(sync_invoice),
    )
}
