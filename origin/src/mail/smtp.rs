//! SMTP delivery with lettre (tokio, rustls): `smtp://host:port` in the clear (a local
//! relay), `smtp://…?tls=required` for STARTTLS, `smtps://` for implicit TLS; credentials
//! from the URL's user and password.

use super::Mail;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one delivery may take before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// A configured SMTP relay and the sender address.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    /// Parses the relay URL and the sender; the error names what to fix.
    pub fn new(url: &str, from: &str) -> Result<SmtpSender, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("TOLLGATE_SMTP_URL is not a usable smtp:// or smtps:// URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("TOLLGATE_MAIL_FROM is not a mail address: {e}"))?;
        Ok(SmtpSender { transport, from })
    }

    /// Delivers one mail; the error is the reason to keep in the outbox.
    pub async fn deliver(&self, mail: &Mail) -> Result<(), String> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| format!("the recipient is not a mail address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| format!("building the message: {e}"))?;
        match tokio::time::timeout(SMTP_TIMEOUT * 2, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("SMTP: {e}")),
            Err(_) => Err(format!(
                "SMTP: no answer within {} s",
                (SMTP_TIMEOUT * 2).as_secs()
            )),
        }
    }
}
