//! Developer-portal account rules: what a sign-up form may contain and when log-ins from
//! one email and address are throttled. Pure, so the origin's handlers only do I/O.

use thiserror::Error;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask 10).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes: bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Failed log-ins allowed per email and client address within [`THROTTLE_WINDOW_MS`].
pub const MAX_LOGIN_FAILURES: usize = 5;
/// The window failed log-ins are counted in: 15 minutes.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// A sign-up field that was refused, with a message to show beside it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignUpError {
    #[error("enter an email address like ada@example.com")]
    Email,
    #[error("enter your name (1 to 100 characters, no control characters)")]
    Name,
    #[error("use at least {MIN_PASSWORD_CHARS} characters (at most {MAX_PASSWORD_BYTES} bytes)")]
    PasswordLength,
    #[error("the password must not be your email address")]
    PasswordIsEmail,
}

impl SignUpError {
    /// The form field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            SignUpError::Email => "email",
            SignUpError::Name => "name",
            SignUpError::PasswordLength | SignUpError::PasswordIsEmail => "password",
        }
    }
}

/// A sign-up that passed every check: the email lower-cased and names trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUp {
    pub email: String,
    pub name: String,
}

/// Normalises an email for look-ups: trimmed and lower-cased.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks a sign-up form.
pub fn check_sign_up(email: &str, name: &str, password: &str) -> Result<SignUp, SignUpError> {
    let email = normalise_email(email);
    let plausible = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if !plausible || email.matches('@').count() != 1 {
        return Err(SignUpError::Email);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(SignUpError::Name);
    }
    check_password(&email, password)?;
    Ok(SignUp {
        email,
        name: name.to_owned(),
    })
}

/// Checks a new password for the account with `email` (sign-up and password reset).
pub fn check_password(email: &str, password: &str) -> Result<(), SignUpError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(SignUpError::PasswordLength);
    }
    if normalise_email(password) == normalise_email(email) {
        return Err(SignUpError::PasswordIsEmail);
    }
    Ok(())
}

/// Whether a log-in attempt may be checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginVerdict {
    Allow,
    /// Too many recent failures: try again in this many seconds.
    Throttled {
        retry_after_secs: u64,
    },
}

/// Decides from the times (unix ms) of recent failed log-ins for one email and address.
pub fn check_login(failures_ms: &[i64], now_ms: i64) -> LoginVerdict {
    let since = now_ms - THROTTLE_WINDOW_MS;
    // A failure stamped in the future (clock skew between origins) counts as now.
    let mut recent: Vec<i64> = failures_ms
        .iter()
        .map(|t| (*t).min(now_ms))
        .filter(|t| *t > since)
        .collect();
    if recent.len() < MAX_LOGIN_FAILURES {
        return LoginVerdict::Allow;
    }
    recent.sort_unstable();
    // Allowed again once enough of the oldest failures have left the window.
    let freeing = recent[recent.len() - MAX_LOGIN_FAILURES];
    let wait_ms = (freeing + THROTTLE_WINDOW_MS - now_ms).max(1_000);
    LoginVerdict::Throttled {
        retry_after_secs: (wait_ms as u64).div_ceil(1_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_good_sign_up_is_normalised() {
        let s = check_sign_up(" Ada@Example.COM ", "  Ada Lovelace ", "correct horse").unwrap();
        assert_eq!(s.email, "ada@example.com");
        assert_eq!(s.name, "Ada Lovelace");
    }

    #[test]
    fn careless_and_hostile_sign_ups_name_their_field() {
        let cases = [
            ("", "Ada", "long enough pw", "email"),
            ("ada", "Ada", "long enough pw", "email"),
            ("a@@b.c", "Ada", "long enough pw", "email"),
            ("<script>@x.io", "Ada", "long enough pw", "email"),
            ("ada@localhost", "Ada", "long enough pw", "email"),
            ("ada@x.io", "   ", "long enough pw", "name"),
            ("ada@x.io", "Ada\u{0}", "long enough pw", "name"),
            ("ada@x.io", "Ada", "short", "password"),
            ("ada@x.io", "Ada", &"x".repeat(300), "password"),
            ("adalovelace@x.io", "Ada", "ADALOVELACE@x.io", "password"),
        ];
        for (email, name, password, field) in cases {
            let err = check_sign_up(email, name, password).unwrap_err();
            assert_eq!(err.field(), field, "{email:?} {name:?}");
        }
    }

    #[test]
    fn script_in_a_name_is_allowed_the_page_escapes_it() {
        assert!(check_sign_up("x@y.io", "<script>alert(1)</script>", "long enough pw").is_ok());
    }

    #[test]
    fn the_sixth_failure_in_fifteen_minutes_is_throttled_until_the_oldest_expires() {
        let now = 10_000_000;
        let four: Vec<i64> = (0..4).map(|i| now - i * 1000).collect();
        assert_eq!(check_login(&four, now), LoginVerdict::Allow);
        let five: Vec<i64> = (0..5).map(|i| now - 60_000 * i).collect();
        assert_eq!(
            check_login(&five, now),
            LoginVerdict::Throttled {
                retry_after_secs: 11 * 60
            }
        );
        let old: Vec<i64> = (0..20).map(|i| now - THROTTLE_WINDOW_MS - i).collect();
        assert_eq!(check_login(&old, now), LoginVerdict::Allow);
    }

    proptest! {
        #[test]
        fn throttling_never_waits_past_the_window(times in proptest::collection::vec(0i64..2_000_000, 0..40), now in 1_000_000i64..3_000_000) {
            match check_login(&times, now) {
                LoginVerdict::Allow => {}
                LoginVerdict::Throttled { retry_after_secs } => {
                    prop_assert!(retry_after_secs >= 1);
                    prop_assert!(retry_after_secs <= (THROTTLE_WINDOW_MS / 1000) as u64);
                }
            }
        }

        #[test]
        fn sign_up_checks_never_panic(email in ".{0,80}", name in ".{0,120}", pw in ".{0,300}") {
            let _ = check_sign_up(&email, &name, &pw);
        }
    }
}
