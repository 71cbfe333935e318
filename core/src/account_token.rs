//! Single-use account tokens (email verification, password reset) and the throttle on the
//! mails that carry them: when a token may be redeemed and when another mail may be sent.
//! Pure, so the origin's handlers only do I/O.

use thiserror::Error;

/// How long an email-verification link works: 24 hours.
pub const VERIFY_TTL_MS: i64 = 24 * 3600 * 1000;
/// How long a password-reset link works: 1 hour.
pub const RESET_TTL_MS: i64 = 3600 * 1000;
/// Mails of one kind sent to one address within [`MAIL_WINDOW_MS`].
pub const MAX_MAILS_PER_EMAIL: usize = 3;
/// Mail requests of one kind from one client address within [`MAIL_WINDOW_MS`].
pub const MAX_MAILS_PER_CLIENT: usize = 20;
/// The window mail requests are counted in: 1 hour.
pub const MAIL_WINDOW_MS: i64 = 3600 * 1000;
/// Length of a token as sent in links: 32 random bytes, hex.
pub const TOKEN_HEX_LEN: usize = 64;

/// What a token is for; a token of one purpose never redeems the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    /// The name stored beside the token.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }

    /// How long a fresh token of this purpose works.
    pub fn ttl_ms(self) -> i64 {
        match self {
            TokenPurpose::VerifyEmail => VERIFY_TTL_MS,
            TokenPurpose::ResetPassword => RESET_TTL_MS,
        }
    }
}

/// Why a token was refused; each message tells the user what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("this link is not valid: copy the whole link from the mail, or ask for a new one")]
    Unknown,
    #[error("this link has been used already: ask for a new one if you still need it")]
    Used,
    #[error("this link has expired: ask for a new one")]
    Expired,
}

/// Whether a link's token is shaped like one we issue (checked before any look-up).
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_HEX_LEN && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Decides whether a stored token (its expiry and use time, unix ms) may be redeemed now.
pub fn check_token(
    expires_at_ms: i64,
    used_at_ms: Option<i64>,
    now_ms: i64,
) -> Result<(), TokenError> {
    if used_at_ms.is_some() {
        return Err(TokenError::Used);
    }
    if now_ms >= expires_at_ms {
        return Err(TokenError::Expired);
    }
    Ok(())
}

/// Whether another mail may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailVerdict {
    Send,
    /// Too many recent requests: try again in this many seconds.
    Throttled {
        retry_after_secs: u64,
    },
}

/// Decides from the times (unix ms) of recent requests for one address and from one client.
pub fn check_mail_request(
    for_email_ms: &[i64],
    from_client_ms: &[i64],
    now_ms: i64,
) -> MailVerdict {
    let wait = |times: &[i64], max: usize| -> Option<i64> {
        let since = now_ms - MAIL_WINDOW_MS;
        let mut recent: Vec<i64> = times
            .iter()
            .map(|t| (*t).min(now_ms))
            .filter(|t| *t > since)
            .collect();
        if recent.len() < max {
            return None;
        }
        recent.sort_unstable();
        Some(recent[recent.len() - max] + MAIL_WINDOW_MS - now_ms)
    };
    let longest = [
        wait(for_email_ms, MAX_MAILS_PER_EMAIL),
        wait(from_client_ms, MAX_MAILS_PER_CLIENT),
    ]
    .into_iter()
    .flatten()
    .max();
    match longest {
        None => MailVerdict::Send,
        Some(ms) => MailVerdict::Throttled {
            retry_after_secs: (ms.max(1_000) as u64).div_ceil(1_000),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn tokens_work_once_and_until_they_expire() {
        assert_eq!(check_token(NOW + 1, None, NOW), Ok(()));
        assert_eq!(check_token(NOW, None, NOW), Err(TokenError::Expired));
        assert_eq!(
            check_token(NOW + 1, Some(NOW - 5), NOW),
            Err(TokenError::Used)
        );
        // A used and expired token says used: the more useful of the two answers.
        assert_eq!(
            check_token(NOW - 1, Some(NOW - 5), NOW),
            Err(TokenError::Used)
        );
        assert_eq!(TokenPurpose::ResetPassword.ttl_ms(), 3_600_000);
        assert_eq!(TokenPurpose::VerifyEmail.ttl_ms(), 86_400_000);
    }

    #[test]
    fn only_64_hex_digits_are_tokens() {
        assert!(is_well_formed(&"ab".repeat(32)));
        for bad in [
            "",
            "zz",
            &"a".repeat(63),
            &"a".repeat(65),
            &"g".repeat(64),
            &format!("{}'", "a".repeat(63)),
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn the_fourth_mail_in_an_hour_waits_for_the_oldest_to_leave_the_window() {
        let three = [NOW - 50 * 60_000, NOW - 10 * 60_000, NOW - 60_000];
        assert_eq!(check_mail_request(&three[..2], &[], NOW), MailVerdict::Send);
        assert_eq!(
            check_mail_request(&three, &[], NOW),
            MailVerdict::Throttled {
                retry_after_secs: 600
            }
        );
        // Requests older than the window no longer count.
        let old = [NOW - 70 * 60_000; 10];
        assert_eq!(check_mail_request(&old, &old, NOW), MailVerdict::Send);
        // One client asking for many addresses is throttled too.
        let many = vec![NOW - 1_000; MAX_MAILS_PER_CLIENT];
        assert!(matches!(
            check_mail_request(&[], &many, NOW),
            MailVerdict::Throttled { .. }
        ));
    }

    proptest! {
        #[test]
        fn throttled_waits_are_positive_and_within_the_window(
            email in proptest::collection::vec(NOW - 2 * MAIL_WINDOW_MS..NOW + 60_000, 0..10),
            client in proptest::collection::vec(NOW - 2 * MAIL_WINDOW_MS..NOW + 60_000, 0..30),
        ) {
            if let MailVerdict::Throttled { retry_after_secs } = check_mail_request(&email, &client, NOW) {
                prop_assert!(retry_after_secs >= 1);
                prop_assert!(retry_after_secs <= (MAIL_WINDOW_MS / 1000) as u64);
            }
        }
    }
}
