//! Linking a provider-verified identity (issuer, subject) to a portal user: the user it
//! was linked to before, else the account with the same address when the provider verified
//! it (dropping a password nobody proved the address for: account pre-hijacking), else a
//! new account without a password.

use super::accounts::create_account;
use super::pages::PortalError;
use super::session::{self, User};
use crate::audit::{self, Actor};
use crate::clock::now_ms;
use crate::routes::AppState;
use crate::tenancy::Tenant;
use tollgate_core::oidc::OidcIdentity;

/// The user this identity signs in as, linking or creating one; `Err` is why not.
pub async fn link_identity(
    state: &AppState,
    who: &OidcIdentity,
) -> Result<Result<User, String>, PortalError> {
    let now = now_ms();
    let mut tx = crate::db::begin(&state.db).await?;
    let linked: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2")
            .bind(&who.issuer)
            .bind(&who.subject)
            .fetch_optional(&mut *tx)
            .await?;
    let user_id = match linked {
        Some((user_id,)) => user_id,
        None => {
            let existing: Option<(String, Option<i64>, Option<String>)> = sqlx::query_as(
                "SELECT id, email_verified_at, consumer_id FROM users WHERE email = $1",
            )
            .bind(&who.email)
            .fetch_optional(&mut *tx)
            .await?;
            let verified_at = who.email_verified.then_some(now);
            let (user_id, action) = match existing {
                Some((_, _, None)) => {
                    tx.rollback().await?;
                    return Ok(Err(format!(
                        "{} belongs to an operator account, not a developer account of the portal",
                        who.email
                    )));
                }
                Some(_) if !who.email_verified => {
                    tx.rollback().await?;
                    return Ok(Err(format!(
                        "an account with {} exists, and your provider has not verified that address, \
                         so it cannot be linked — log in with your password instead",
                        who.email
                    )));
                }
                Some((user_id, local_verified, Some(_))) => {
                    if local_verified.is_none() {
                        // Nobody proved this address before: whoever set the password may not
                        // own it (account pre-hijacking), so the password and sessions go.
                        sqlx::query("UPDATE users SET password_hash = NULL WHERE id = $1")
                            .bind(&user_id)
                            .execute(&mut *tx)
                            .await?;
                        session::end_all(&mut tx, &user_id).await?;
                    }
                    sqlx::query("UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2")
                        .bind(now)
                        .bind(&user_id)
                        .execute(&mut *tx)
                        .await?;
                    (user_id, "portal.sso_link")
                }
                None => {
                    let name = who.name.clone().unwrap_or_else(|| who.email.clone());
                    let (user_id, _) =
                        create_account(&mut tx, &name, &who.email, None, verified_at).await?;
                    (user_id, "portal.sso_sign_up")
                }
            };
            sqlx::query("INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&who.issuer)
                .bind(&who.subject)
                .bind(&user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let actor = Actor {
                who: format!("portal:{user_id}"),
                tenant: Tenant::Platform,
            };
            let change = audit::Change {
                action,
                target_type: "user",
                target_id: &user_id,
                before: None,
                after: Some(
                    serde_json::json!({"issuer": who.issuer, "subject": who.subject, "email": who.email}),
                ),
            };
            audit::record(&mut tx, &actor, now, change).await?;
            user_id
        }
    };
    let row: Option<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT name, consumer_id, email_verified_at FROM users WHERE id = $1")
            .bind(&user_id)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    match row {
        Some((name, Some(consumer_id), verified_at)) => Ok(Ok(User {
            id: user_id,
            name,
            consumer_id,
            verified: verified_at.is_some(),
        })),
        _ => Ok(Err(
            "this account is not a developer account of the portal".into()
        )),
    }
}
