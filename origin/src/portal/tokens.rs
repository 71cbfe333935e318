//! Single-use account tokens in `portal_tokens`: 32 random bytes sent in a mailed link,
//! stored only as their SHA-256 (a database leak yields no usable link), each for one
//! purpose and redeemed at most once even under concurrent requests. The mail-request log
//! that throttles how often such mails go out lives here too.

use crate::db::Db;
use rand::Rng;
use sha2::{Digest, Sha256};
use tollgate_core::account_token::{
    check_mail_request, check_token, is_well_formed, MailVerdict, TokenError, TokenPurpose,
    MAIL_WINDOW_MS,
};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a token for `user_id`; returns the value to put in the link.
pub async fn issue(
    tx: &mut Tx,
    user_id: &str,
    purpose: TokenPurpose,
    now: i64,
) -> Result<String, sqlx::Error> {
    if purpose == TokenPurpose::ResetPassword {
        // Only the newest reset link works: an older mail lying around is no way in.
        sqlx::query("DELETE FROM portal_tokens WHERE user_id = $1 AND purpose = $2")
            .bind(user_id)
            .bind(purpose.as_str())
            .execute(&mut **tx)
            .await?;
    }
    let token = hex::encode(rand::thread_rng().gen::<[u8; 32]>());
    sqlx::query(
        "INSERT INTO portal_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash(&token))
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(now)
    .bind(now + purpose.ttl_ms())
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// The token's user, if it could be redeemed now (does not use it up).
pub async fn peek(
    db: &Db,
    token: &str,
    purpose: TokenPurpose,
    now: i64,
) -> Result<Result<String, TokenError>, sqlx::Error> {
    if !is_well_formed(token) {
        return Ok(Err(TokenError::Unknown));
    }
    let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT user_id, expires_at, used_at FROM portal_tokens WHERE token_hash = $1 AND purpose = $2",
    )
    .bind(hash(token))
    .bind(purpose.as_str())
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Err(TokenError::Unknown),
        Some((user_id, expires_at, used_at)) => {
            check_token(expires_at, used_at, now).map(|()| user_id)
        }
    })
}

/// Uses the token up inside `tx` and returns its user; of two concurrent redemptions only
/// one succeeds.
pub async fn redeem(
    tx: &mut Tx,
    token: &str,
    purpose: TokenPurpose,
    now: i64,
) -> Result<Result<String, TokenError>, sqlx::Error> {
    if !is_well_formed(token) {
        return Ok(Err(TokenError::Unknown));
    }
    let row: Option<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT user_id, expires_at, used_at FROM portal_tokens WHERE token_hash = $1 AND purpose = $2",
    )
    .bind(hash(token))
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((user_id, expires_at, used_at)) = row else {
        return Ok(Err(TokenError::Unknown));
    };
    if let Err(e) = check_token(expires_at, used_at, now) {
        return Ok(Err(e));
    }
    let used = sqlx::query(
        "UPDATE portal_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(hash(token))
    .execute(&mut **tx)
    .await?;
    if used.rows_affected() != 1 {
        return Ok(Err(TokenError::Used));
    }
    Ok(Ok(user_id))
}

/// Whether another mail of `purpose` may go to `email` at the request of `client_ip`;
/// when it may, the request is counted.
pub async fn allow_mail(
    db: &Db,
    purpose: TokenPurpose,
    email: &str,
    client_ip: &str,
    now: i64,
) -> Result<MailVerdict, sqlx::Error> {
    let kind = purpose.as_str();
    let client = format!("ip:{client_ip}");
    let since = now - MAIL_WINDOW_MS;
    let times = |who: String| async move {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT at_ms FROM portal_mail_requests WHERE kind = $1 AND who = $2 AND at_ms > $3",
        )
        .bind(kind)
        .bind(who)
        .bind(since)
        .fetch_all(db)
        .await?;
        Ok::<Vec<i64>, sqlx::Error>(rows.into_iter().map(|(t,)| t).collect())
    };
    let verdict = check_mail_request(
        &times(email.to_owned()).await?,
        &times(client.clone()).await?,
        now,
    );
    if verdict == MailVerdict::Send {
        sqlx::query("DELETE FROM portal_mail_requests WHERE at_ms <= $1")
            .bind(since)
            .execute(db)
            .await?;
        for who in [email.to_owned(), client] {
            sqlx::query("INSERT INTO portal_mail_requests (kind, who, at_ms) VALUES ($1, $2, $3)")
                .bind(kind)
                .bind(who)
                .bind(now)
                .execute(db)
                .await?;
        }
    }
    Ok(verdict)
}
