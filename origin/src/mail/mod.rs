//! Mail the origin sends (account verification, password reset): every mail is written to
//! the `mail_outbox` table first — the development outbox the platform operator reads at
//! `GET /admin/v1/mail/outbox` or with `tollgate mail outbox` — and, when
//! `TOLLGATE_SMTP_URL` is set, also delivered by SMTP in the background. A failed delivery
//! never loses the mail: the outbox keeps it with the error.

pub mod outbox;
mod smtp;

use crate::clock::now_ms;
use crate::db::Db;
use crate::ids::prefixed_id;
use smtp::SmtpSender;

/// The sender used when `TOLLGATE_MAIL_FROM` is not set.
pub const DEFAULT_FROM: &str = "tollgate <no-reply@tollgate.localhost>";

/// One mail to send: plain text, to one address.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How mail leaves the origin: the outbox always, SMTP when configured.
#[derive(Clone)]
pub struct Mailer {
    /// `None`: outbox only. `Some(Err)`: SMTP was configured but the URL is unusable, so
    /// every mail is kept as failed with that reason.
    smtp: Option<Result<SmtpSender, String>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SMTP URL may carry a password: never printed.
        let mode = match &self.smtp {
            None => "outbox only",
            Some(Ok(_)) => "outbox and SMTP",
            Some(Err(_)) => "outbox; SMTP misconfigured",
        };
        f.debug_struct("Mailer").field("mode", &mode).finish()
    }
}

impl Mailer {
    /// From `TOLLGATE_SMTP_URL` (e.g. `smtps://user:pass@mail.example.com`,
    /// `smtp://127.0.0.1:2525`) and `TOLLGATE_MAIL_FROM`.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Mailer {
        let var = |n: &str| var(n).filter(|v| !v.trim().is_empty());
        let from = var("TOLLGATE_MAIL_FROM").unwrap_or_else(|| DEFAULT_FROM.into());
        Mailer::new(var("TOLLGATE_SMTP_URL").as_deref(), &from)
    }

    /// A mailer delivering by SMTP to `smtp_url` (when given) as `from`.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Mailer {
        let smtp = smtp_url.map(|url| {
            SmtpSender::new(url, from).inspect_err(|e| {
                tracing::error!(error = %e, "TOLLGATE_SMTP_URL or TOLLGATE_MAIL_FROM is unusable; mail stays in the outbox");
            })
        });
        Mailer { smtp }
    }

    /// Writes the mail to the outbox and, with SMTP, starts its delivery; returns its id.
    pub async fn send(&self, db: &Db, mail: Mail) -> Result<String, sqlx::Error> {
        let id = prefixed_id("mail");
        let (status, error) = match &self.smtp {
            None => ("outbox", None),
            Some(Ok(_)) => ("sending", None),
            Some(Err(e)) => ("failed", Some(e.clone())),
        };
        sqlx::query(
            "INSERT INTO mail_outbox (id, to_addr, subject, body, status, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&mail.to)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(status)
        .bind(error)
        .bind(now_ms())
        .execute(db)
        .await?;
        if let Some(Ok(sender)) = &self.smtp {
            let (sender, db, id) = (sender.clone(), db.clone(), id.clone());
            tokio::spawn(async move {
                let outcome = sender.deliver(&mail).await;
                if let Err(e) = record_delivery(&db, &id, outcome).await {
                    tracing::error!(mail_id = %id, error = %e, "recording a mail delivery");
                }
            });
        }
        Ok(id)
    }
}

/// Marks a mail sent (dropping its body: the links in it are live secrets the recipient now
/// has) or failed with the SMTP server's reason.
async fn record_delivery(
    db: &Db,
    id: &str,
    outcome: Result<(), String>,
) -> Result<(), sqlx::Error> {
    match outcome {
        Ok(()) => {
            tracing::info!(mail_id = %id, "mail delivered by SMTP");
            sqlx::query("UPDATE mail_outbox SET status = 'sent', body = NULL, error = NULL, sent_at = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(id)
                .execute(db)
                .await?;
        }
        Err(e) => {
            tracing::warn!(mail_id = %id, error = %e, "SMTP delivery failed; the mail stays in the outbox");
            sqlx::query("UPDATE mail_outbox SET status = 'failed', error = $1 WHERE id = $2")
                .bind(e)
                .bind(id)
                .execute(db)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailer_is_outbox_only_without_smtp_and_never_prints_its_url() {
        let m = Mailer::from_lookup(|_| None);
        assert!(m.smtp.is_none());
        let m = Mailer::from_lookup(|n| {
            (n == "TOLLGATE_SMTP_URL").then(|| "smtp://user:hunter2@127.0.0.1:2525".to_owned())
        });
        assert!(matches!(m.smtp, Some(Ok(_))));
        assert!(!format!("{m:?}").contains("hunter2"));
        let m = Mailer::from_lookup(|n| (n == "TOLLGATE_SMTP_URL").then(|| "ftp://x".to_owned()));
        assert!(matches!(m.smtp, Some(Err(_))));
    }
}
