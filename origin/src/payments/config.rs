//! Payment provider settings from the environment: `TOLLGATE_STRIPE_SECRET_KEY` turns the
//! Stripe adapter on, `TOLLGATE_STRIPE_API_BASE` points it elsewhere (a mock in tests),
//! `TOLLGATE_STRIPE_WEBHOOK_SECRET` lets `POST /payments/stripe/webhook` verify events.
//! Secrets never show in `Debug`.

use std::fmt;

/// Stripe's API.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";

/// A secret string (API key or webhook secret) that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderSecret(String);

impl ProviderSecret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> ProviderSecret {
        ProviderSecret(value.into())
    }

    /// The value, for the one place that sends or uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ProviderSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProviderSecret(…)")
    }
}

/// How to reach Stripe.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `sk_live_…`/`sk_test_…`/`rk_…`, sent as a Bearer token.
    pub secret_key: ProviderSecret,
    /// Without a trailing slash.
    pub api_base: String,
    /// `whsec_…`; without it incoming webhooks are refused.
    pub webhook_secret: Option<ProviderSecret>,
}

/// Which provider, if any.
#[derive(Debug, Clone, Default)]
pub struct PaymentsConfig {
    pub stripe: Option<StripeConfig>,
}

impl PaymentsConfig {
    /// Reads the settings through `var` (which already drops empty values).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<PaymentsConfig> {
        let Some(key) = var("TOLLGATE_STRIPE_SECRET_KEY") else {
            if var("TOLLGATE_STRIPE_WEBHOOK_SECRET").is_some() {
                anyhow::bail!(
                    "TOLLGATE_STRIPE_WEBHOOK_SECRET is set but TOLLGATE_STRIPE_SECRET_KEY is not: \
                     set both to use Stripe, or neither"
                );
            }
            return Ok(PaymentsConfig::default());
        };
        let api_base = var("TOLLGATE_STRIPE_API_BASE")
            .unwrap_or_else(|| DEFAULT_STRIPE_API_BASE.into())
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let parsed = url::Url::parse(&api_base).map_err(|e| {
            anyhow::anyhow!("TOLLGATE_STRIPE_API_BASE `{api_base}` is not a URL: {e}")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("TOLLGATE_STRIPE_API_BASE must be an http(s) URL");
        }
        Ok(PaymentsConfig {
            stripe: Some(StripeConfig {
                secret_key: ProviderSecret::new(key.trim()),
                api_base,
                webhook_secret: var("TOLLGATE_STRIPE_WEBHOOK_SECRET")
                    .map(|s| ProviderSecret::new(s.trim())),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> anyhow::Result<PaymentsConfig> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PaymentsConfig::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn unconfigured_means_no_provider() {
        assert!(read(&[]).unwrap().stripe.is_none());
        assert!(read(&[("TOLLGATE_STRIPE_WEBHOOK_SECRET", "whsec_x")]).is_err());
    }

    #[test]
    fn stripe_settings_are_read_and_secrets_hidden() {
        let config = read(&[
            ("TOLLGATE_STRIPE_SECRET_KEY", "sk_test_123"),
            ("TOLLGATE_STRIPE_API_BASE", "http://127.0.0.1:4010/"),
            ("TOLLGATE_STRIPE_WEBHOOK_SECRET", "whsec_abc"),
        ])
        .unwrap();
        let stripe = config.stripe.unwrap();
        assert_eq!(stripe.api_base, "http://127.0.0.1:4010");
        assert_eq!(stripe.secret_key.expose(), "sk_test_123");
        let shown = format!("{stripe:?}");
        assert!(!shown.contains("sk_test_123") && !shown.contains("whsec_abc"));
        let default = read(&[("TOLLGATE_STRIPE_SECRET_KEY", "sk_test_123")]).unwrap();
        assert_eq!(default.stripe.unwrap().api_base, DEFAULT_STRIPE_API_BASE);
        assert!(read(&[
            ("TOLLGATE_STRIPE_SECRET_KEY", "sk"),
            ("TOLLGATE_STRIPE_API_BASE", "ftp://x")
        ])
        .is_err());
    }
}
